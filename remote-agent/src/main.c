// SPDX-License-Identifier: Apache-2.0
/*
 * bpf-agent: the only process of bpf-ide that calls bpf(). It reads JSON-line requests on
 * stdin, writes one reply per request and stream events on stdout (stderr is for humans),
 * and releases everything it created when stdin closes, on SIGTERM/SIGHUP/SIGINT or on
 * `shutdown`. See remote-agent/PROTOCOL.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include "agent.h"

/* A request line longer than this is refused (and skipped) with request_too_large. */
#define MAX_LINE (64u << 20)

volatile int g_stop;
static int epfd = -1;
static bool stdin_eof;
/* Liveness: with nothing read on stdin for this long (the client pings every few seconds), the client
 * is taken as gone (a silent network drop leaves the SSH channel open for hours) and everything is
 * released. 0: never. */
#define DEFAULT_IDLE_TIMEOUT_S 30
static long idle_timeout_s = DEFAULT_IDLE_TIMEOUT_S;
static struct timespec last_heard;
static bool idle_exit;
static void heard(void) { clock_gettime(CLOCK_MONOTONIC, &last_heard); }

static void do_ping(json_t *id, json_t *params);
static void do_shutdown(json_t *id, json_t *params);
static void do_cancel(json_t *id, json_t *params);

/* bpftool-style command table: method name -> handler. */
static const struct cmd {
	const char *name;
	cmd_fn fn;
} cmds[] = {
	{M_LOAD, do_load},
	{M_UNLOAD, do_unload},
	{M_ATTACH, do_attach},
	{M_DETACH, do_detach},
	{M_MAP_DUMP, do_map_dump},
	{M_MAP_UPDATE, do_map_update},
	{M_MAP_DELETE, do_map_delete},
	{M_MAP_WATCH, do_map_watch},
	{M_RINGBUF_SUBSCRIBE, do_ringbuf_subscribe},
	{M_PERFBUF_SUBSCRIBE, do_perfbuf_subscribe},
	{M_TRACE_SUBSCRIBE, do_trace_subscribe},
	{M_UNSUBSCRIBE, do_unsubscribe},
	{M_PROG_STATS, do_prog_stats},
	{M_LIST, do_list},
	{M_FEATURES, do_features},
	{M_BTF_DUMP, do_btf_dump},
	{M_PIN, do_pin},
	{M_UNPIN, do_unpin},
	{M_CANCEL, do_cancel},
	{M_PING, do_ping},
	{M_SHUTDOWN, do_shutdown},
	{M_EXEC, do_exec},
};

/* ---- event loop ---- */
int loop_add(struct watcher *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

int loop_mod(struct watcher *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	return epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

/* The batch epoll_wait returned, while it is being handled: a watcher removed by an earlier event of the
 * same batch (an unsubscribe or unload read from stdin) is struck out so that its callback is not called
 * on freed memory. */
static struct epoll_event *batch;
static int batch_n;

void loop_del(struct watcher *w)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
	for (int i = 0; i < batch_n; i++)
		if (batch[i].data.ptr == w)
			batch[i].data.ptr = NULL;
}

/* ---- misc helpers ---- */
bool is_mounted(const char *path, long magic)
{
	struct statfs st;
	return statfs(path, &st) == 0 && st.f_type == magic;
}

const char *tracefs_path(bool mount_if_missing)
{
	if (is_mounted("/sys/kernel/tracing", TRACEFS_MAGIC))
		return "/sys/kernel/tracing";
	if (is_mounted("/sys/kernel/debug/tracing", TRACEFS_MAGIC))
		return "/sys/kernel/debug/tracing";
	if (mount_if_missing && mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0) {
		emit_log("info", "mounted tracefs on /sys/kernel/tracing (it was not mounted)");
		return "/sys/kernel/tracing";
	}
	return NULL;
}

int ncpus_possible(void)
{
	static int n;
	if (!n)
		n = libbpf_num_possible_cpus();
	return n > 0 ? n : 1;
}

static bool has_cap(int cap)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {};
	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

/* Preconditions, checked up front and reported in hello. */
static void send_hello(void)
{
	struct utsname u;
	uname(&u);
	bool btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	json_t *caps = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (cmds[i].fn != do_exec || g_allow_exec)
			json_array_append_new(caps, json_string(cmds[i].name));
	bool cap_bpf = has_cap(39 /* CAP_BPF */), cap_admin = has_cap(CAP_SYS_ADMIN);
	bool cap_perfmon = has_cap(38 /* CAP_PERFMON */), cap_net = has_cap(CAP_NET_ADMIN);
	bool priv = cap_admin || cap_bpf;
	const char *tfs = tracefs_path(false);
	json_t *warnings = json_array();
	if (!priv)
		json_array_append_new(warnings, json_string("not privileged: loading needs root or CAP_BPF (+CAP_PERFMON, CAP_NET_ADMIN); run the agent with sudo"));
	if (!btf)
		json_array_append_new(warnings, json_string("no /sys/kernel/btf/vmlinux: CO-RE, tp_btf and btf_dump are unavailable (kernel built without CONFIG_DEBUG_INFO_BTF)"));
	if (!tfs)
		json_array_append_new(warnings, json_string(cap_admin ? "tracefs is not mounted; the agent mounts it on /sys/kernel/tracing when needed" : "tracefs is not mounted and cannot be mounted without CAP_SYS_ADMIN: trace_subscribe and tracepoint lists are unavailable"));
	json_t *hello = json_pack(
		"{s:s,s:i,s:s,s:{s:s,s:s,s:b,s:i},s:{s:i,s:b,s:b,s:b,s:b,s:b},s:{s:{s:s,s:b,s:b},s:{s:s?,s:b,s:b}},s:o,s:o,s:{s:i,s:i},s:i,s:I}",
		"event", EV_HELLO, "protocol", PROTOCOL_VERSION, "agent_version", AGENT_VERSION,
		"kernel", "release", u.release, "machine", u.machine, "btf", btf, "ncpus", ncpus_possible(),
		"privileges", "uid", (int)geteuid(), "privileged", priv, "cap_bpf", cap_bpf, "cap_sys_admin", cap_admin,
		"cap_perfmon", cap_perfmon, "cap_net_admin", cap_net,
		"fs", "bpffs", "path", "/sys/fs/bpf", "mounted", is_mounted("/sys/fs/bpf", BPF_FS_MAGIC), "mountable", cap_admin,
		"tracefs", "path", tfs, "mounted", tfs != NULL, "mountable", cap_admin,
		"capabilities", caps, "warnings", warnings,
		"libbpf", "major", LIBBPF_MAJOR_VERSION, "minor", LIBBPF_MINOR_VERSION, "pid", (int)getpid(),
		"idle_timeout_s", (json_int_t)idle_timeout_s);
	out_json(hello);
}

/* ---- requests ---- */
static void do_ping(json_t *id, json_t *params)
{
	(void)params;
	reply_result(id, json_pack("{s:b}", "pong", 1));
}

static void do_shutdown(json_t *id, json_t *params)
{
	(void)params;
	reply_result(id, json_pack("{s:b}", "ok", 1));
	g_stop = 1;
}

/* jansson's errors for a number it cannot represent (the line is otherwise JSON) */
static bool number_out_of_range(const json_error_t *e)
{
	return strstr(e->text, "too big") || strstr(e->text, "overflow");
}

static bool is_number_char(char c) { return c && strchr("0123456789eE+-.", c); }

/* Parses line with each number jansson cannot hold replaced by null (a copy; at most 64 of them), so
 * the request's id can be read. NULL when it still does not parse. */
static json_t *load_nulling_big_numbers(const char *line, size_t len)
{
	char *copy = malloc(len);
	if (!copy)
		return NULL;
	memcpy(copy, line, len);
	json_t *r = NULL;
	json_error_t e;
	for (int tries = 0; tries < 64; tries++) {
		r = json_loadb(copy, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);
		if (r || !number_out_of_range(&e))
			break;
		/* the token ends at (or just before) the error position: find its bounds */
		size_t pos = e.position > 0 ? (size_t)e.position : 0, end = pos < len ? pos : len;
		while (end > 0 && !is_number_char(copy[end - 1]))
			end--;
		size_t start = end;
		while (start > 0 && is_number_char(copy[start - 1]))
			start--;
		if (end - start < 4) /* "null" must fit in its place; such a number is at least 5 characters */
			break;
		memcpy(copy + start, "null", 4);
		memset(copy + start + 4, ' ', end - start - 4);
	}
	free(copy);
	return r;
}

static void handle_line(char *line, size_t len)
{
	json_error_t jerr;
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return; /* blank lines are ignored */
	/* \u0000 is allowed in strings: char arrays with bytes after a NUL are written back as map_dump shows them */
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!req && number_out_of_range(&jerr)) {
		/* valid JSON with a number jansson cannot hold: answer the request (its id) rather than no one */
		char column[32];
		snprintf(column, sizeof(column), "%d", jerr.column);
		json_t *r = load_nulling_big_numbers(line, len);
		json_t *rid = json_object_get(r, "id");
		if (json_is_integer(rid) || json_is_string(rid)) {
			reply_error(rid, E_INVALID_PARAMS, NULL,
				    "send integers beyond 64 bits as decimal strings (\"18446744073709551615\") or 0x strings",
				    "a number in the request (column %s) is beyond 64-bit integers or doubles", column);
			json_decref(r);
			return;
		}
		json_decref(r);
	}
	if (!req) {
		reply_error(NULL, E_PARSE_ERROR, NULL, "send one JSON object per line", "malformed JSON at column %d: %s",
			    jerr.column, jerr.text);
		return;
	}
	json_t *id = json_object_get(req, "id");
	if (!json_is_object(req) || !id || !(json_is_integer(id) || json_is_string(id))) {
		reply_error(NULL,
			    E_INVALID_REQUEST, NULL, "a request is {\"id\":N,\"method\":\"...\",\"params\":{...}}",
			    "request needs an integer or string \"id\"");
		goto cleanup;
	}
	json_t *method = json_object_get(req, "method");
	json_t *params = json_object_get(req, "params");
	if (!json_is_string(method)) {
		reply_error(id, E_INVALID_REQUEST, NULL, NULL, "request needs a string \"method\"");
		goto cleanup;
	}
	if (params && !json_is_object(params) && !json_is_null(params)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"params\" must be an object");
		goto cleanup;
	}
	json_t *empty = NULL;
	if (!params)
		params = empty = json_object();
	const char *m = json_string_value(method);
	size_t i;
	for (i = 0; i < ARRAY_SIZE(cmds); i++)
		if (!strcmp(cmds[i].name, m))
			break;
	if (i == ARRAY_SIZE(cmds)) {
		reply_error(id, E_UNKNOWN_METHOD, NULL, "see the hello line's \"capabilities\" for the methods this agent knows",
			    "unknown method '%s'", m);
	} else {
		libbpf_capture_reset();
		errno = 0;
		cmds[i].fn(id, params);
	}
	json_decref(empty);
cleanup:
	json_decref(req);
	heard(); /* the time a long request took is not the client's silence */
}

static struct sbuf inbuf;
static bool discarding;
/* Bytes read from stdin while a long request (a load) was running, looking for its cancel: they are
 * served, in order, once that request is done. */
static struct sbuf pending;
static size_t pending_scanned;
static bool stdin_pollable;
/* The ids of the last requests a cancel stopped, so the cancel's own reply can say so. */
static json_t *cancelled_ids;

static void idle_tick(struct watcher *w, uint32_t events)
{
	(void)events;
	uint64_t n;
	if (read(w->fd, &n, sizeof(n)) < 0)
		return;
	/* requests already waiting (queued while a long request ran) are not silence */
	int queued = 0;
	if (pending.len || (ioctl(0, FIONREAD, &queued) == 0 && queued > 0))
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double quiet = (now.tv_sec - last_heard.tv_sec) + (now.tv_nsec - last_heard.tv_nsec) / 1e9;
	if (quiet < idle_timeout_s)
		return;
	fprintf(stderr, "bpf-agent: nothing heard from the client for %.0f s (--idle-timeout %ld): releasing everything and exiting\n",
		quiet, idle_timeout_s);
	idle_exit = true;
	g_stop = 1;
}

/* Splits `n` bytes of stdin into lines and serves each. */
static void feed(char *chunk, size_t n)
{
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		if (chunk[i] != '\n')
			continue;
		if (discarding) {
			discarding = false;
		} else if (inbuf.len) {
			sb_putn(&inbuf, chunk + start, i - start);
			handle_line(inbuf.buf, inbuf.len);
			inbuf.len = 0;
			if (inbuf.cap > (4u << 20)) { /* a big request is done: give its memory back */
				sb_free(&inbuf);
				sb_init(&inbuf, 1 << 16);
			}
		} else {
			handle_line(chunk + start, i - start);
		}
		start = i + 1;
		if (g_stop)
			return;
	}
	if (start < n && !discarding) {
		if (inbuf.len + (n - start) > MAX_LINE) {
			reply_error(NULL, E_REQUEST_TOO_LARGE, NULL, "send large objects by path, or split the request",
				    "request line longer than %u bytes was skipped", MAX_LINE);
			discarding = true;
			inbuf.len = 0;
			if (inbuf.cap > (1u << 20)) {
				sb_free(&inbuf);
				sb_init(&inbuf, 1 << 16);
			}
		} else {
			sb_putn(&inbuf, chunk + start, n - start);
		}
	}
}

static void stdin_ready(struct watcher *w, uint32_t events)
{
	(void)events;
	char chunk[1 << 16];
	for (;;) {
		if (pending.len) {
			/* what arrived during the last long request comes first */
			struct sbuf take = pending;
			sb_init(&pending, 1 << 12);
			pending_scanned = 0;
			feed(take.buf, take.len);
			sb_free(&take);
			if (g_stop)
				return;
			continue;
		}
		ssize_t n = read(w->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			stdin_eof = true;
			g_stop = 1;
			return;
		}
		heard();
		feed(chunk, n);
		if (g_stop)
			return;
	}
}

bool request_cancelled(json_t *req_id)
{
	if (!stdin_pollable || stdin_eof)
		return stdin_eof;
	/* read what the client sent meanwhile (kept for later), without blocking */
	for (;;) {
		struct pollfd pfd = {.fd = 0, .events = POLLIN};
		if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP)))
			break;
		char chunk[1 << 16];
		ssize_t n = read(0, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			/* the client is gone: stop, and release what this request made */
			stdin_eof = true;
			g_stop = 1;
			return true;
		}
		if (!pending.buf)
			sb_init(&pending, 1 << 12);
		sb_putn(&pending, chunk, n);
	}
	/* look for {"method":"cancel","params":{"request":<req_id>}} among the complete lines */
	bool hit = false;
	while (!hit && pending_scanned < pending.len) {
		char *nl = memchr(pending.buf + pending_scanned, '\n', pending.len - pending_scanned);
		if (!nl)
			break;
		char *line = pending.buf + pending_scanned;
		size_t len = nl - line;
		pending_scanned += len + 1;
		if (!memmem(line, len, "\"" M_CANCEL "\"", sizeof(M_CANCEL) + 1))
			continue;
		json_t *req = json_loadb(line, len, 0, NULL);
		json_t *params = json_object_get(req, "params");
		hit = json_is_string(json_object_get(req, "method")) &&
		      !strcmp(json_string_value(json_object_get(req, "method")), M_CANCEL) &&
		      json_equal(json_object_get(params, "request"), req_id);
		json_decref(req);
	}
	if (hit) {
		if (!cancelled_ids)
			cancelled_ids = json_array();
		if (json_array_size(cancelled_ids) >= 16)
			json_array_remove(cancelled_ids, 0);
		json_array_append(cancelled_ids, req_id);
	}
	return hit;
}

/* cancel {request}: answered after the request it names (replies keep their order); says whether it stopped it. */
static void do_cancel(json_t *id, json_t *params)
{
	json_t *req = json_object_get(params, "request");
	if (!req || !(json_is_integer(req) || json_is_string(req))) {
		reply_error(id, E_INVALID_PARAMS, NULL, "give the id of the request to cancel", "\"request\" is required");
		return;
	}
	bool stopped = false;
	size_t i;
	json_t *v;
	json_array_foreach(cancelled_ids, i, v) stopped |= json_equal(v, req);
	reply_result(id, json_pack("{s:O,s:b}", "request", req, "cancelled", stopped));
}

static void signal_ready(struct watcher *w, uint32_t events)
{
	(void)events;
	struct signalfd_siginfo si;
	while (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		fprintf(stderr, "bpf-agent: signal %u, cleaning up\n", si.ssi_signo);
		g_stop = 1;
	}
}

/* One place releases everything: links first, then subscriptions, then programs and maps. */
static void cleanup_all(void)
{
	links_release_all();
	subs_release_all();
	handles_release_all();
	stats_release();
}

int main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("bpf-agent %s (protocol %d, libbpf %d.%d)\n", AGENT_VERSION, PROTOCOL_VERSION,
		       LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION);
		return 0;
	}
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: bpf-agent [--allow-exec] [--idle-timeout SECONDS]\n  speaks JSON lines on stdin/stdout; see PROTOCOL.md\n"
		       "  --allow-exec  serve the `exec` method (for bpf-ide's throwaway VM guests only)\n"
		       "  --idle-timeout SECONDS  release everything and exit when nothing was read on stdin for this long\n"
		       "                          (default %d; 0: never; bpf-ide's clients ping every few seconds)\n",
		       DEFAULT_IDLE_TIMEOUT_S);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		const char *v = !strcmp(argv[i], "--idle-timeout") ? (i + 1 < argc ? argv[++i] : "")
				: !strncmp(argv[i], "--idle-timeout=", 15) ? argv[i] + 15 : NULL;
		if (v) {
			char *end = NULL;
			long t = strtol(v, &end, 10);
			if (!*v || *end || t < 0 || t > 86400L * 365) {
				fprintf(stderr, "bpf-agent: --idle-timeout takes a number of seconds (0: never), not '%s'\n", v);
				return 2;
			}
			idle_timeout_s = t;
		} else if (!strcmp(argv[i], "--allow-exec")) {
			g_allow_exec = true;
		} else {
			fprintf(stderr, "bpf-agent: unknown option %s (see --help)\n", argv[i]);
			return 2;
		}
	}
	/* signals: TERM/HUP/INT through a signalfd, PIPE ignored (EPIPE ends the session) */
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	struct watcher sig_w = {.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC), .cb = signal_ready};
	loop_add(&sig_w, EPOLLIN);

	/* a bigger stdout pipe: fewer wakeups when a large map page or an event burst goes out */
	fcntl(1, F_SETPIPE_SZ, 1 << 20);
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	libbpf_capture_reset();
	sb_init(&inbuf, 1 << 16);
	send_hello();

	/* liveness: a check every second (a quarter of the timeout when shorter) */
	heard();
	struct watcher idle_w = {.fd = -1, .cb = idle_tick};
	if (idle_timeout_s > 0) {
		long ms = idle_timeout_s * 1000 / 4 < 1000 ? idle_timeout_s * 1000 / 4 : 1000;
		struct itimerspec its = {.it_value = {ms / 1000, (ms % 1000) * 1000000L},
					 .it_interval = {ms / 1000, (ms % 1000) * 1000000L}};
		idle_w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (idle_w.fd >= 0 && timerfd_settime(idle_w.fd, 0, &its, NULL) == 0)
			loop_add(&idle_w, EPOLLIN);
	}
	struct watcher in_w = {.fd = 0, .cb = stdin_ready};
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	stdin_pollable = loop_add(&in_w, EPOLLIN) == 0;
	if (!stdin_pollable) {
		/* stdin is a regular file (not pollable): read it to the end synchronously */
		fcntl(0, F_SETFL, fcntl(0, F_GETFL) & ~O_NONBLOCK);
		while (!g_stop)
			stdin_ready(&in_w, EPOLLIN);
		g_stop = 1;
	}
	/* poll: stdin, signals, ring buffers, trace_pipe, timers */
	while (!g_stop) {
		struct epoll_event evs[32];
		int n = epoll_wait(epfd, evs, ARRAY_SIZE(evs), -1);
		if (n < 0 && errno != EINTR)
			break;
		batch = evs;
		batch_n = n;
		for (int i = 0; i < n && !g_stop; i++) {
			struct watcher *w = evs[i].data.ptr;
			if (w)
				w->cb(w, evs[i].events);
		}
		batch_n = 0;
	}
	/* cleanup: release everything this agent created */
	cleanup_all();
	if (!stdin_eof)
		out_json(json_pack("{s:s,s:s}", "event", EV_BYE, "reason", idle_exit ? "idle_timeout" : "shutdown"));
	out_flush_blocking();
	return 0;
}
