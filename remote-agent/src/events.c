// SPDX-License-Identifier: Apache-2.0
/*
 * Streams: ringbuf_subscribe, perfbuf_subscribe (both -> ringbuf_event), trace_subscribe
 * (-> trace_line), and unsubscribe. Records are decoded with a BTF type when the client
 * names one. Nothing is dropped silently: perf's lost samples and the agent's own drops (a
 * client that does not keep up) are counted and reported in events_dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/timerfd.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include "agent.h"

static struct sub *subs;
static int next_sub = 1;

int sub_add(struct sub *s)
{
	s->id = next_sub++;
	s->next = subs;
	subs = s;
	return s->id;
}

bool sub_exists_kind(const char *kind)
{
	for (struct sub *s = subs; s; s = s->next)
		if (!strcmp(s->kind, kind))
			return true;
	return false;
}

/*
 * max_rate: the client asks the agent to forward at most this many events a second (a token bucket holding a
 * tenth of a second's worth, so a burst is cut and a steady stream is thinned evenly). What is not forwarded is
 * still consumed from the ring (the program's reservations keep succeeding) and counted as skipped: a busy
 * producer costs the client a bounded rate, never its responsiveness.
 */
struct rate_limit {
	int64_t max_rate; /* 0: no limit */
	double tokens;
	uint64_t last_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void rate_init(struct rate_limit *r, int64_t max_rate)
{
	r->max_rate = max_rate;
	r->tokens = max_rate > 10 ? max_rate / 10.0 : 1;
	r->last_ns = mono_ns();
}

/* true: forward this event; false: skip it (count it) */
static bool rate_take(struct rate_limit *r)
{
	if (r->max_rate <= 0)
		return true;
	uint64_t now = mono_ns();
	double burst = r->max_rate > 10 ? r->max_rate / 10.0 : 1;
	r->tokens += (double)(now - r->last_ns) * r->max_rate / 1e9;
	if (r->tokens > burst)
		r->tokens = burst;
	r->last_ns = now;
	if (r->tokens < 1)
		return false;
	r->tokens -= 1;
	return true;
}

void subs_release_all(void)
{
	while (subs) {
		struct sub *s = subs;
		subs = s->next;
		s->release(s);
	}
}

/* ---- ring buffer and perf buffer ---- */
struct stream {
	struct sub sub;
	struct watcher w;       /* the ring's epoll fd */
	struct watcher tick;    /* drop reports */
	struct watcher flush;   /* perf: consumes samples below the wakeup count */
	int map_fd;
	uint32_t map_id;
	bool perf;
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	struct btf *btf;
	bool btf_owned;
	uint32_t type_id;
	int64_t type_size;
	uint64_t delivered, dropped, lost, skipped, reported_dropped, reported_lost, reported_skipped;
	struct rate_limit rate;
	struct sbuf s;
};

static void record(struct stream *st, int cpu, const void *data, size_t size)
{
	if (!rate_take(&st->rate)) {
		st->skipped++;
		return;
	}
	struct sbuf *s = &st->s;
	s->len = 0;
	sb_printf(s, "{\"event\":\"%s\",\"subscription\":%d,\"map_id\":%u,\"source\":\"%s\",", EV_RINGBUF_EVENT,
		  st->sub.id, st->map_id, st->perf ? "perfbuf" : "ringbuf");
	if (cpu >= 0)
		sb_printf(s, "\"cpu\":%d,", cpu);
	sb_printf(s, "\"size\":%zu,\"data\":", size);
	if (st->type_id && (int64_t)size >= st->type_size)
		btf_value_json(s, st->btf, st->type_id, data, st->type_size);
	else
		sb_hex(s, data, size);
	sb_putc(s, '}');
	if (out_line(s->buf, s->len, true))
		st->delivered++;
	else
		st->dropped++;
}

static int on_ring(void *ctx, void *data, size_t size)
{
	record(ctx, -1, data, size);
	return 0;
}

/*
 * Perf buffers are opened raw so that the kernel wakes the agent once per PERF_WAKEUP_EVENTS samples per CPU
 * instead of once per sample (libbpf's default, and what made perf streams ~3x slower than ring buffers here);
 * a PERF_FLUSH_MS timer consumes what is left below that count, so a lone event still arrives within it.
 */
#define PERF_WAKEUP_EVENTS 64
#define PERF_FLUSH_MS 20

static enum bpf_perf_event_ret on_perf(void *ctx, int cpu, struct perf_event_header *ev)
{
	struct stream *st = ctx;
	if (ev->type == PERF_RECORD_SAMPLE) {
		const struct { struct perf_event_header h; uint32_t size; char data[]; } *s = (const void *)ev;
		record(st, cpu, s->data, s->size);
	} else if (ev->type == PERF_RECORD_LOST) {
		const struct { struct perf_event_header h; uint64_t id; uint64_t lost; } *l = (const void *)ev;
		st->lost += l->lost;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

static void stream_ready(struct watcher *w, uint32_t events)
{
	struct stream *st = w->data;
	out_batch_begin();
	if (st->perf)
		perf_buffer__consume(st->pb);
	else
		ring_buffer__consume(st->rb);
	out_batch_end();
}

static void report_drops(struct stream *st)
{
	if (st->dropped == st->reported_dropped && st->lost == st->reported_lost && st->skipped == st->reported_skipped)
		return;
	st->reported_dropped = st->dropped;
	st->reported_lost = st->lost;
	st->reported_skipped = st->skipped;
	out_json(json_pack("{s:s,s:i,s:I,s:I,s:I,s:I,s:I}", "event", EV_EVENTS_DROPPED, "subscription", st->sub.id, "map_id",
			   (json_int_t)st->map_id, "dropped", (json_int_t)st->dropped, "lost", (json_int_t)st->lost,
			   "delivered", (json_int_t)st->delivered, "skipped", (json_int_t)st->skipped));
}

static void stream_tick(struct watcher *w, uint32_t events)
{
	uint64_t n;
	if (read(w->fd, &n, sizeof(n)) > 0)
		report_drops(w->data);
}

static void stream_flush(struct watcher *w, uint32_t events)
{
	uint64_t n;
	if (read(w->fd, &n, sizeof(n)) > 0)
		stream_ready(&((struct stream *)w->data)->w, 0);
}

static int periodic_timer(long ms)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	struct itimerspec its = {.it_value = {ms / 1000, (ms % 1000) * 1000000L},
				 .it_interval = {ms / 1000, (ms % 1000) * 1000000L}};
	if (fd >= 0)
		timerfd_settime(fd, 0, &its, NULL);
	return fd;
}

static void stream_release(struct sub *s)
{
	struct stream *st = (struct stream *)s;
	/* cleanup: stop polling, free the ring, close our map fd */
	if (st->w.fd >= 0)
		loop_del(&st->w);
	if (st->tick.fd >= 0) {
		loop_del(&st->tick);
		close(st->tick.fd);
	}
	if (st->flush.fd >= 0) {
		loop_del(&st->flush);
		close(st->flush.fd);
	}
	ring_buffer__free(st->rb);
	perf_buffer__free(st->pb);
	if (st->btf_owned)
		btf__free(st->btf);
	if (st->map_fd >= 0)
		close(st->map_fd);
	sb_free(&st->s);
	free(st);
}

static void subscribe(json_t *id, json_t *params, bool perf)
{
	int64_t map_id, pages = 64, btf_id = 0, max_rate = 0;
	const char *type = NULL;
	if (!p_int(id, params, "map_id", true, 1, UINT32_MAX, &map_id) || !p_str(id, params, "type", false, &type) ||
	    !p_int(id, params, "btf_id", false, 1, UINT32_MAX, &btf_id) || !p_int(id, params, "pages", false, 1, 65536, &pages) ||
	    !p_int(id, params, "max_rate", false, 0, 100000000, &max_rate))
		return;
	if (pages & (pages - 1)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "pages must be a power of two");
		return;
	}
	struct stream *st = calloc(1, sizeof(*st));
	st->w.fd = st->tick.fd = st->flush.fd = -1;
	st->map_id = map_id;
	st->perf = perf;
	rate_init(&st->rate, max_rate);
	st->sub.kind = perf ? "perfbuf" : "ringbuf";
	st->sub.release = stream_release;
	sb_init(&st->s, 512);
	st->map_fd = bpf_map_get_fd_by_id(map_id);
	if (st->map_fd < 0) {
		reply_error(id, E_NOT_FOUND, NULL, "map ids come from load replies", "no map with id %lld: %s", (long long)map_id,
			    strerror(errno));
		goto fail;
	}
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	bpf_obj_get_info_by_fd(st->map_fd, &info, &len);
	uint32_t want = perf ? BPF_MAP_TYPE_PERF_EVENT_ARRAY : BPF_MAP_TYPE_RINGBUF;
	if (info.type != want) {
		reply_error(id, E_INVALID_PARAMS, NULL, perf ? "perfbuf_subscribe takes a perf_event_array map" : "ringbuf_subscribe takes a ringbuf map",
			    "map %lld is a %s", (long long)map_id, libbpf_bpf_map_type_str(info.type));
		goto fail;
	}
	/* the record type: from the loading object's BTF, a given BTF id, or the kernel's */
	if (type) {
		struct handle *h = handle_by_map_id(map_id);
		if (h && h->btf && btf_find_type(h->btf, type)) {
			/* a copy the stream owns: the handle's BTF is freed by its unload, while the stream (which
			 * holds its own map fd) lives on until unsubscribed and still drains the ring */
			uint32_t raw_size;
			const void *raw = btf__raw_data(h->btf, &raw_size);
			st->btf = raw ? btf__new(raw, raw_size) : NULL;
			st->btf_owned = st->btf != NULL;
			st->type_id = st->btf ? btf_find_type(st->btf, type) : 0;
		} else {
			st->btf = btf_id ? btf__load_from_kernel_by_id(btf_id) : btf__load_vmlinux_btf();
			st->btf_owned = st->btf != NULL;
			st->type_id = st->btf ? btf_find_type(st->btf, type) : 0;
		}
		if (!st->type_id) {
			reply_error(id, E_BTF_ERROR, NULL, "name the type as in C: \"struct event\"",
				    "type '%s' is not in the object's BTF%s", type, btf_id ? " nor in the given BTF" : " nor in the kernel's");
			goto fail;
		}
		st->type_size = btf__resolve_size(st->btf, st->type_id);
	}
	if (perf) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.config = PERF_COUNT_SW_BPF_OUTPUT,
			.sample_type = PERF_SAMPLE_RAW,
			.sample_period = 1,
			.wakeup_events = PERF_WAKEUP_EVENTS,
		};
		LIBBPF_OPTS(perf_buffer_raw_opts, ro);
		st->pb = perf_buffer__new_raw(st->map_fd, pages, &attr, on_perf, st, &ro);
		st->w.fd = st->pb ? perf_buffer__epoll_fd(st->pb) : -1;
	} else {
		st->rb = ring_buffer__new(st->map_fd, on_ring, st, NULL);
		st->w.fd = st->rb ? ring_buffer__epoll_fd(st->rb) : -1;
	}
	if (st->w.fd < 0) {
		reply_error(id, E_INTERNAL, json_pack("{s:s}", "libbpf_log", libbpf_capture_text()), NULL,
			    "cannot open the %s: %s", perf ? "perf buffer" : "ring buffer", strerror(errno));
		st->w.fd = -1;
		goto fail;
	}
	st->w.cb = stream_ready;
	st->w.data = st;
	loop_add(&st->w, EPOLLIN);
	/* drop reports once a second, only when something was dropped */
	st->tick.fd = periodic_timer(1000);
	st->tick.cb = stream_tick;
	st->tick.data = st;
	loop_add(&st->tick, EPOLLIN);
	if (perf) {
		st->flush.fd = periodic_timer(PERF_FLUSH_MS);
		st->flush.cb = stream_flush;
		st->flush.data = st;
		loop_add(&st->flush, EPOLLIN);
	}
	int sid = sub_add(&st->sub);
	reply_result(id, json_pack("{s:i,s:i,s:s,s:s?,s:I}", "subscription", sid, "map_id", (int)map_id, "source",
				   perf ? "perfbuf" : "ringbuf", "type", type, "max_rate", (json_int_t)max_rate));
	return;
fail:
	stream_release(&st->sub);
}

void do_ringbuf_subscribe(json_t *id, json_t *params) { subscribe(id, params, false); }
void do_perfbuf_subscribe(json_t *id, json_t *params) { subscribe(id, params, true); }

/* ---- trace_pipe ---- */
struct trace {
	struct sub sub;
	struct watcher w;
	char *filter;
	char tracing_on[300]; /* set when we switched tracing on, to switch it back off */
	struct sbuf out;
	struct watcher tick; /* drop/skip reports */
	struct rate_limit rate;
	uint64_t delivered, dropped, skipped, reported_dropped, reported_skipped;
};

static void trace_emit(struct trace *t, const char *l, size_t n)
{
	if (t->filter && !memmem(l, n, t->filter, strlen(t->filter)))
		return;
	if (!rate_take(&t->rate)) {
		t->skipped++;
		return;
	}
	struct sbuf *s = &t->out;
	s->len = 0;
	sb_printf(s, "{\"event\":\"%s\",\"subscription\":%d,\"line\":", EV_TRACE_LINE, t->sub.id);
	sb_json_strn(s, l, n);
	/*
	 * "  task-pid  [cpu] flags  timestamp: function: message", parsed on the entry's first line only: what
	 * follows a newline in the message is message text, whatever it looks like.
	 */
	const char *nl = memchr(l, '\n', n);
	size_t first = nl ? (size_t)(nl - l) : n;
	char task[64];
	int pid, cpu, off = 0;
	char flags[16];
	double ts;
	char *tmp = strndup(l, first);
	const char *p = tmp;
	while (*p == ' ')
		p++;
	const char *br = strstr(p, " [");
	if (br) {
		const char *dash = br;
		while (dash > p && dash[-1] != '-')
			dash--;
		if (dash > p && sscanf(dash, "%d [%d] %15s %lf: %n", &pid, &cpu, flags, &ts, &off) >= 4 && off) {
			snprintf(task, sizeof(task), "%.*s", (int)(dash - 1 - p), p);
			const char *rest = dash + off;
			const char *colon = strstr(rest, ": ");
			sb_puts(s, ",\"task\":");
			sb_json_str(s, task);
			sb_printf(s, ",\"pid\":%d,\"cpu\":%d,\"flags\":", pid, cpu);
			sb_json_str(s, flags);
			sb_printf(s, ",\"timestamp\":%.6f,\"function\":", ts);
			/* the message: the rest of the first line and every further line of this entry */
			const char *msg = colon ? colon + 2 : rest;
			if (colon)
				sb_json_strn(s, rest, colon - rest);
			else
				sb_puts(s, "null");
			sb_puts(s, ",\"message\":");
			sb_json_strn(s, l + (msg - tmp), n - (size_t)(msg - tmp));
		}
	}
	free(tmp);
	sb_putc(s, '}');
	if (out_line(s->buf, s->len, true))
		t->delivered++;
	else
		t->dropped++;
}

static void trace_tick(struct watcher *w, uint32_t events)
{
	struct trace *t = w->data;
	uint64_t n;
	if (read(w->fd, &n, sizeof(n)) <= 0)
		return;
	if (t->dropped == t->reported_dropped && t->skipped == t->reported_skipped)
		return;
	t->reported_dropped = t->dropped;
	t->reported_skipped = t->skipped;
	out_json(json_pack("{s:s,s:i,s:I,s:I,s:I,s:I}", "event", EV_EVENTS_DROPPED, "subscription", t->sub.id, "dropped",
			   (json_int_t)t->dropped, "lost", (json_int_t)0, "delivered", (json_int_t)t->delivered, "skipped",
			   (json_int_t)t->skipped));
}

/*
 * One trace entry at a time, framed by the kernel: trace_pipe prints entries into a buffer and hands out what is
 * left of it before printing more, so a 1-byte read prints exactly one entry and the next read returns the rest
 * of it. A newline inside a %s argument of bpf_printk stays part of that entry's message: a forged
 * "task-pid [cpu] flags time: ..." after it is text of the real entry, never a line of its own.
 */
static void trace_ready(struct watcher *w, uint32_t events)
{
	struct trace *t = w->data;
	char buf[65536];
	out_batch_begin();
	for (int entries = 0; entries < 4096; entries++) {
		ssize_t n = read(w->fd, buf, 1);
		if (n <= 0)
			break;
		ssize_t rest = read(w->fd, buf + 1, sizeof(buf) - 1);
		size_t len = 1 + (rest > 0 ? rest : 0);
		while (len && buf[len - 1] == '\n')
			len--;
		trace_emit(t, buf, len);
	}
	out_batch_end();
}

static int write_str(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = write(fd, v, strlen(v)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static void trace_release(struct sub *s)
{
	struct trace *t = (struct trace *)s;
	if (t->tracing_on[0])
		write_str(t->tracing_on, "0"); /* leave tracing as we found it */
	if (t->w.fd >= 0) {
		loop_del(&t->w);
		close(t->w.fd);
	}
	if (t->tick.fd >= 0) {
		loop_del(&t->tick);
		close(t->tick.fd);
	}
	free(t->filter);
	sb_free(&t->out);
	free(t);
}

void do_trace_subscribe(json_t *id, json_t *params)
{
	const char *filter = NULL;
	int64_t max_rate = 0;
	if (!p_str(id, params, "filter", false, &filter) || !p_int(id, params, "max_rate", false, 0, 100000000, &max_rate))
		return;
	if (sub_exists_kind("trace")) {
		reply_error(id, E_BUSY, NULL, "trace_pipe is a consuming reader: one subscription gets every line; unsubscribe first",
			    "this agent already reads trace_pipe");
		return;
	}
	const char *tfs = tracefs_path(true);
	if (!tfs) {
		reply_error(id, E_NOT_SUPPORTED, NULL, "mount it: mount -t tracefs tracefs /sys/kernel/tracing",
			    "tracefs is not mounted and could not be mounted");
		return;
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/trace_pipe", tfs);
	struct trace *t = calloc(1, sizeof(*t));
	t->sub.kind = "trace";
	t->sub.release = trace_release;
	t->tick.fd = -1;
	rate_init(&t->rate, max_rate);
	sb_init(&t->out, 512);
	t->filter = filter && *filter ? strdup(filter) : NULL;
	t->w.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->w.fd < 0) {
		int e = errno;
		reply_error(id, e == EBUSY ? E_BUSY : (e == EACCES || e == EPERM) ? E_PERMISSION_DENIED : E_IO_ERROR, NULL,
			    e == EBUSY ? "another process reads trace_pipe (the kernel allows one reader): stop it "
					 "(cat trace_pipe, bpftool prog tracelog, another agent) or try again"
				       : NULL,
			    "cannot open %s: %s", path, strerror(e));
		trace_release(&t->sub);
		return;
	}
	/* with tracing_on at 0 the kernel drops every bpf_printk line: switch it on while we read */
	char on_path[300], v[4] = "";
	snprintf(on_path, sizeof(on_path), "%s/tracing_on", tfs);
	FILE *f = fopen(on_path, "re");
	if (f) {
		if (!fgets(v, sizeof(v), f))
			v[0] = 0;
		fclose(f);
	}
	bool switched = v[0] == '0' && write_str(on_path, "1") == 0;
	if (switched)
		snprintf(t->tracing_on, sizeof(t->tracing_on), "%s", on_path);
	t->w.cb = trace_ready;
	t->w.data = t;
	loop_add(&t->w, EPOLLIN);
	/* drop and skip reports once a second, only when something was dropped or skipped */
	t->tick.fd = periodic_timer(1000);
	t->tick.cb = trace_tick;
	t->tick.data = t;
	loop_add(&t->tick, EPOLLIN);
	int sid = sub_add(&t->sub);
	reply_result(id, json_pack("{s:i,s:s,s:b,s:I}", "subscription", sid, "path", path, "tracing_switched_on", switched,
				   "max_rate", (json_int_t)max_rate));
}

void do_unsubscribe(json_t *id, json_t *params)
{
	int64_t sid;
	if (!p_int(id, params, "subscription", true, 1, INT32_MAX, &sid))
		return;
	for (struct sub **pp = &subs; *pp; pp = &(*pp)->next) {
		if ((*pp)->id != sid)
			continue;
		struct sub *s = *pp;
		*pp = s->next;
		json_t *res = json_pack("{s:i,s:s}", "subscription", (int)sid, "kind", s->kind);
		if (!strcmp(s->kind, "ringbuf") || !strcmp(s->kind, "perfbuf")) {
			struct stream *st = (struct stream *)s;
			/* deliver what is already in the ring before saying how much was dropped */
			stream_ready(&st->w, EPOLLIN);
			json_object_set_new(res, "delivered", json_integer(st->delivered));
			json_object_set_new(res, "dropped", json_integer(st->dropped));
			json_object_set_new(res, "lost", json_integer(st->lost));
			json_object_set_new(res, "skipped", json_integer(st->skipped));
		} else if (!strcmp(s->kind, "trace")) {
			struct trace *t = (struct trace *)s;
			json_object_set_new(res, "delivered", json_integer(t->delivered));
			json_object_set_new(res, "dropped", json_integer(t->dropped));
			json_object_set_new(res, "skipped", json_integer(t->skipped));
		}
		s->release(s);
		reply_result(id, res);
		return;
	}
	reply_error(id, E_NOT_FOUND, NULL, "subscription ids come from *_subscribe and map_watch replies",
		    "no subscription %lld", (long long)sid);
}
