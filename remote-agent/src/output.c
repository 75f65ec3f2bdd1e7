// SPDX-License-Identifier: Apache-2.0
/* JSON lines out: a non-blocking stdout queue, replies and coded errors (bpftool's p_err, as
 * JSON objects with strerror text and a hint), libbpf's messages, and request params. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/uio.h>
#include "agent.h"

/* ---- stdout queue ---- */
/* Stream events are dropped once this much output waits for a slow client. */
#define OUT_DROP_LIMIT (64u << 20)

static struct sbuf outq;
static size_t outq_off;
static struct watcher out_w = {.fd = 1};
static bool out_polled, out_dead, out_batching;

static void out_try(void);

static void out_ready(struct watcher *w, uint32_t events)
{
	(void)w;
	(void)events;
	out_try();
}

static void out_try(void)
{
	while (outq_off < outq.len) {
		ssize_t n = write(1, outq.buf + outq_off, outq.len - outq_off);
		if (n > 0) {
			outq_off += n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (!out_polled) {
				out_w.cb = out_ready;
				if (loop_add(&out_w, EPOLLOUT) == 0)
					out_polled = true;
				else
					continue; /* not pollable: spin on blocking-ish writes */
			}
			return;
		}
		/* EPIPE or similar: the client is gone, which is the same as stdin closing */
		out_dead = true;
		g_stop = 1;
		outq.len = outq_off = 0;
		return;
	}
	outq.len = outq_off = 0;
	if (outq.cap > (8u << 20)) {
		/* a burst is over: give the big buffer back */
		sb_free(&outq);
		sb_init(&outq, 1 << 16);
	}
	if (out_polled) {
		loop_del(&out_w);
		out_polled = false;
	}
}

bool out_line(const char *p, size_t n, bool droppable)
{
	if (out_dead)
		return false;
	if (!outq.buf) {
		sb_init(&outq, 1 << 16);
		fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
	}
	if (droppable && outq.len - outq_off > OUT_DROP_LIMIT)
		return false;
	/* fast path for big replies: nothing queued, write straight from the caller's buffer */
	if (!out_polled && !out_batching && outq.len == outq_off && n > (1u << 16)) {
		struct iovec iov[2] = {{(void *)p, n}, {"\n", 1}};
		size_t done = 0;
		for (;;) {
			ssize_t w = writev(1, iov, 2);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			done += w;
			if (done == n + 1)
				return true;
			size_t adv = w;
			for (int k = 0; k < 2; k++) {
				size_t take = adv < iov[k].iov_len ? adv : iov[k].iov_len;
				iov[k].iov_base = (char *)iov[k].iov_base + take;
				iov[k].iov_len -= take;
				adv -= take;
			}
		}
		/* the pipe is full: queue the rest */
		if (done < n)
			sb_putn(&outq, p + done, n - done);
		sb_putc(&outq, '\n');
		out_try();
		return true;
	}
	if (outq_off > (1u << 20) && outq_off * 2 > outq.len) {
		memmove(outq.buf, outq.buf + outq_off, outq.len - outq_off);
		outq.len -= outq_off;
		outq_off = 0;
	}
	sb_putn(&outq, p, n);
	sb_putc(&outq, '\n');
	if (!out_polled && (!out_batching || outq.len - outq_off > (1u << 20)))
		out_try();
	return true;
}

void out_batch_begin(void) { out_batching = true; }

void out_batch_end(void)
{
	out_batching = false;
	if (!out_polled && outq.len > outq_off)
		out_try();
}

void out_flush_blocking(void)
{
	while (!out_dead && outq.buf && outq_off < outq.len) {
		struct pollfd pfd = {.fd = 1, .events = POLLOUT};
		out_try();
		if (outq_off < outq.len && poll(&pfd, 1, 1000) < 0 && errno != EINTR)
			break;
	}
}

void out_json(json_t *j)
{
	struct sbuf s;
	sb_init(&s, 256);
	sb_json(&s, j);
	out_line(s.buf, s.len, false);
	sb_free(&s);
	json_decref(j);
}

void reply_result(json_t *id, json_t *result)
{
	json_t *r = json_object();
	json_object_set(r, "id", id ? id : json_null());
	json_object_set_new(r, "result", result ? result : json_object());
	out_json(r);
}

void sb_reply_begin(struct sbuf *s, json_t *id)
{
	sb_puts(s, "{\"id\":");
	if (id)
		sb_json(s, id);
	else
		sb_puts(s, "null");
	sb_puts(s, ",\"result\":");
}

void reply_result_raw(json_t *id, const char *result_json, size_t n)
{
	struct sbuf s;
	sb_init(&s, n + 64);
	sb_puts(&s, "{\"id\":");
	if (id)
		sb_json(&s, id);
	else
		sb_puts(&s, "null");
	sb_puts(&s, ",\"result\":");
	sb_putn(&s, result_json, n);
	sb_putc(&s, '}');
	out_line(s.buf, s.len, false);
	sb_free(&s);
}

void reply_error(json_t *id, const char *code, json_t *extra, const char *hint, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *e = json_object();
	json_object_set_new(e, "code", json_string(code));
	json_object_set_new(e, "message", json_string(msg));
	if (hint)
		json_object_set_new(e, "hint", json_string(hint));
	if (extra) {
		json_object_update(e, extra);
		json_decref(extra);
	}
	json_t *r = json_object();
	json_object_set(r, "id", id ? id : json_null());
	json_object_set_new(r, "error", e);
	out_json(r);
}

void emit_log(const char *level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bpf-agent: %s: %s\n", level, msg);
	json_t *j = json_pack("{s:s,s:s,s:s}", "event", EV_LOG, "level", level, "message", msg);
	out_json(j);
}

/* ---- libbpf messages ---- */
static struct sbuf cap;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	if (!cap.buf)
		sb_init(&cap, 1024);
	if (cap.len < (1u << 16))
		sb_puts(&cap, line);
	return 0;
}

void libbpf_capture_reset(void)
{
	libbpf_set_print(libbpf_print);
	if (!cap.buf)
		sb_init(&cap, 1024);
	cap.len = 0;
	cap.buf[0] = 0;
}

const char *libbpf_capture_text(void) { return cap.buf ? cap.buf : ""; }

/* ---- params ---- */
bool p_int(json_t *id, json_t *params, const char *key, bool required, int64_t min, int64_t max, int64_t *out)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (!v || json_is_null(v)) {
		if (required) {
			reply_error(id, E_INVALID_PARAMS, NULL, NULL, "missing parameter '%s'", key);
			return false;
		}
		return true;
	}
	if (!json_is_integer(v)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "parameter '%s' must be an integer", key);
		return false;
	}
	int64_t x = json_integer_value(v);
	if (x < min || x > max) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "parameter '%s' = %lld is out of range [%lld, %lld]", key,
			    (long long)x, (long long)min, (long long)max);
		return false;
	}
	*out = x;
	return true;
}

bool p_str(json_t *id, json_t *params, const char *key, bool required, const char **out)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (!v || json_is_null(v)) {
		if (required) {
			reply_error(id, E_INVALID_PARAMS, NULL, NULL, "missing parameter '%s'", key);
			return false;
		}
		return true;
	}
	if (!json_is_string(v)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "parameter '%s' must be a string", key);
		return false;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		/* a path or name with a NUL in it would be cut there by every C call that takes it */
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "parameter '%s' must not contain a NUL character", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

bool p_bool(json_t *id, json_t *params, const char *key, bool *out)
{
	json_t *v = params ? json_object_get(params, key) : NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_boolean(v)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "parameter '%s' must be a boolean", key);
		return false;
	}
	*out = json_is_true(v);
	return true;
}
