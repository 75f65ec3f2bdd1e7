// SPDX-License-Identifier: Apache-2.0
/*
 * load / unload. An object is opened once to create its maps, then every selected program
 * is loaded from its own bpf_object that reuses those maps: each program gets its own
 * verifier log and verdict, and one program the kernel refuses does not sink the others.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include "agent.h"

#define LOG_MIN 128u
#define LOG_MAX (256u << 20)
/* a rejected program's truncated log is fetched whole only up to this size */
#define LOG_MAX_REJECTED (64u << 20)
#define MAX_OBJECT (128u << 20)

static struct handle *handles;
static int next_handle = 1;

struct handle *handle_find(int id)
{
	for (struct handle *h = handles; h; h = h->next)
		if (h->id == id)
			return h;
	return NULL;
}

struct handle *handle_next(struct handle *h) { return h ? h->next : handles; }

struct handle *handle_by_map_id(uint32_t map_id)
{
	for (struct handle *h = handles; h; h = h->next) {
		struct bpf_map *m;
		bpf_object__for_each_map(m, h->maps_obj)
		{
			struct bpf_map_info info = {};
			uint32_t len = sizeof(info);
			if (bpf_map__fd(m) >= 0 && !bpf_obj_get_info_by_fd(bpf_map__fd(m), &info, &len) && info.id == map_id)
				return h;
		}
	}
	return NULL;
}

struct prog_rec *prog_find(struct handle *h, const char *name)
{
	for (int i = 0; i < h->nprogs; i++)
		if (!strcmp(h->progs[i].name, name))
			return &h->progs[i];
	return NULL;
}

static void handle_free(struct handle *h)
{
	/* cleanup: programs (their objects), then the maps' object */
	for (int i = 0; i < h->nprogs; i++) {
		bpf_object__close(h->progs[i].obj);
		free(h->progs[i].name);
		free(h->progs[i].section);
	}
	free(h->progs);
	bpf_object__close(h->maps_obj);
	free(h->elf);
	free(h);
}

void handles_release_all(void)
{
	while (handles) {
		struct handle *h = handles;
		handles = h->next;
		handle_free(h);
	}
}

/* ---- base64 ---- */
static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decodes standard or URL-safe base64 (padding optional); returns length or -1. */
static ssize_t b64_decode(const char *in, size_t n, unsigned char **out)
{
	while (n && (in[n - 1] == '=' || in[n - 1] == '\n'))
		n--;
	if (n % 4 == 1)
		return -1;
	unsigned char *o = malloc(n / 4 * 3 + 3);
	if (!o)
		return -1;
	size_t j = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64val(in[i]);
		if (v < 0) {
			free(o);
			return -1;
		}
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[j++] = (acc >> bits) & 0xff;
		}
	}
	*out = o;
	return j;
}

/* ---- the verifier's time bound ---- */
static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1; /* the verifier sees signal_pending() and stops with EAGAIN */
}

static void timer_arm(unsigned ms)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: interrupt bpf() */
	sigaction(SIGALRM, &sa, NULL);
	alarm_fired = 0;
	/* after the deadline keep firing so libbpf's EAGAIN retries end quickly too */
	struct itimerval it = {.it_value = {ms / 1000, (ms % 1000) * 1000}, .it_interval = {0, 5000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

static void timer_disarm(void)
{
	struct itimerval it = {};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- verifier statistics, parsed from the log ---- */
static json_t *parse_stats(const char *log, uint32_t verified_insns)
{
	long processed = -1, total = -1, peak = -1, usec = -1, stack = -1;
	const char *p;
	if ((p = strstr(log, "processed ")))
		for (const char *q = p; q; q = strstr(q + 1, "processed "))
			p = q;
	if (p)
		sscanf(p, "processed %ld insns (limit %*d) max_states_per_insn %*d total_states %ld peak_states %ld",
		       &processed, &total, &peak);
	if ((p = strstr(log, "verification time ")))
		sscanf(p, "verification time %ld usec", &usec);
	if ((p = strstr(log, "stack depth "))) {
		p += strlen("stack depth ");
		stack = 0;
		while (*p >= '0' && *p <= '9') {
			stack += strtol(p, (char **)&p, 10);
			if (*p == '+')
				p++;
		}
	}
	if (processed < 0 && verified_insns)
		processed = verified_insns;
#define N(v) ((v) >= 0 ? json_integer(v) : json_null())
	return json_pack("{s:o,s:o,s:o,s:o,s:o}", "processed_insns", N(processed), "total_states", N(total),
			 "peak_states", N(peak), "time_usec", N(usec), "stack_depth", N(stack));
#undef N
}

/* ---- one program ---- */
struct load_opts {
	int log_level;       /* as asked by the client */
	size_t log_size;     /* first buffer size */
	unsigned timeout_ms;
};

struct verdict {
	int err;             /* 0 or -errno */
	bool timeout;
	char *log;
	size_t log_size;     /* the buffer size that produced log */
	bool truncated;
	int retries;
	json_t *notes;
	char *libbpf_text;
	struct bpf_object *obj; /* on success */
	struct bpf_program *prog;
};

static struct bpf_object *open_obj(struct handle *h, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "bpf_ide_obj");
	struct bpf_object *obj = bpf_object__open_mem(h->elf, h->elf_size, &oo);
	if (!obj) {
		int e = errno;
		libbpf_strerror(e, err, errlen); /* knows libbpf's own codes (4000+) too */
	}
	return obj;
}

/*
 * libbpf 1.1 can crash on malformed ELF/BTF (e.g. a corrupted BTF map definition). Objects
 * come from the network, so the first parse runs in a forked child: if it dies, the object
 * is refused and the agent keeps serving. Returns 0, or the signal that killed the parser.
 */
static int sandbox_open(struct handle *h)
{
	pid_t pid = fork();
	if (pid < 0)
		return 0; /* cannot fork: parse in-process as before */
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(20); /* a parser that loops forever dies too */
		LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "bpf_ide_obj");
		struct bpf_object *obj = bpf_object__open_mem(h->elf, h->elf_size, &oo);
		_exit(obj ? 0 : 1);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void load_one(struct handle *h, const char *name, const struct load_opts *o, struct verdict *v)
{
	size_t size = o->log_size;
	int level = o->log_level | 4; /* always ask for the stats lines */
	char err[256];
	memset(v, 0, sizeof(*v));
	v->notes = json_array();
	for (;;) {
		libbpf_capture_reset();
		struct bpf_object *obj = open_obj(h, err, sizeof(err));
		if (!obj) {
			v->err = -EINVAL;
			break;
		}
		/* share the maps created by the handle's first object */
		struct bpf_map *m;
		bpf_object__for_each_map(m, obj)
		{
			struct bpf_map *pm = bpf_object__find_map_by_name(h->maps_obj, bpf_map__name(m));
			if (pm && bpf_map__fd(pm) >= 0)
				bpf_map__reuse_fd(m, bpf_map__fd(pm));
		}
		struct bpf_program *p, *target = NULL;
		bpf_object__for_each_program(p, obj)
		{
			bool me = !strcmp(bpf_program__name(p), name);
			bpf_program__set_autoload(p, me);
			if (me)
				target = p;
		}
		free(v->log);
		v->log = calloc(1, size);
		v->log_size = size;
		bpf_program__set_log_buf(target, v->log, size);
		bpf_program__set_log_level(target, level);
		timer_arm(o->timeout_ms);
		int e = bpf_object__load(obj);
		int saved = errno;
		timer_disarm();
		v->err = e ? (saved ? -saved : e) : 0;
		if (e && alarm_fired && (saved == EAGAIN || saved == EINTR || e == -EAGAIN || e == -EINTR)) {
			v->timeout = true;
			v->err = -ETIME;
		}
		v->truncated = strlen(v->log) >= size - 1;
		free(v->libbpf_text);
		v->libbpf_text = strdup(libbpf_capture_text());
		if (!e) {
			v->obj = obj;
			v->prog = target;
			if (level != (o->log_level | 4))
				v->truncated = true;
			break;
		}
		bpf_object__close(obj);
		if (v->timeout)
			break;
		/* a too-small buffer: the kernel keeps the tail and a valid program fails with ENOSPC */
		bool nospc = saved == ENOSPC || e == -ENOSPC;
		size_t cap = nospc ? LOG_MAX : LOG_MAX_REJECTED;
		if ((nospc || v->truncated) && (level & 3) && size < cap) {
			size_t ns = size * 8 > cap ? cap : size * 8;
			char note[160];
			snprintf(note, sizeof(note), "verifier log did not fit in %zu bytes; retried with %zu", size, ns);
			json_array_append_new(v->notes, json_string(note));
			size = ns;
			v->retries++;
			continue;
		}
		if (nospc && (level & 3)) {
			json_array_append_new(v->notes, json_string("verifier log still too large at the maximum buffer; "
								   "loaded again with statistics only"));
			level = 4;
			size = 1 << 16;
			v->retries++;
			continue;
		}
		/* a rejected program at level 0: fetch the reason at level 1 */
		if (!(level & 3) && !nospc) {
			json_array_append_new(v->notes, json_string("load failed at log level 0; loaded again at level 1 "
								   "for the verifier's reason"));
			level = 1 | 4;
			size = size < (1u << 20) ? 1u << 20 : size;
			v->retries++;
			continue;
		}
		break;
	}
	if (v->err == -EINVAL && !v->log)
		v->libbpf_text = strdup(err);
}

static json_t *verifier_json(struct verdict *v, uint32_t verified_insns)
{
	return json_pack("{s:s,s:b,s:o,s:I,s:i,s:O}", "log", v->log ? v->log : "", "truncated", v->truncated, "stats",
			 parse_stats(v->log ? v->log : "", verified_insns), "log_buffer_bytes", (json_int_t)v->log_size,
			 "retries", v->retries, "notes", v->notes);
}

static void verdict_free(struct verdict *v)
{
	free(v->log);
	free(v->libbpf_text);
	json_decref(v->notes);
}

static bool log_has_reason(const char *log)
{
	/* more than the statistics lines that BPF_LOG_STATS always adds */
	for (const char *l = log; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (n && strncmp(l, "processed ", 10) && strncmp(l, "verification time", 17) && strncmp(l, "stack depth", 11))
			return true;
		l = nl ? nl + 1 : NULL;
	}
	return false;
}

static const char *failure_code(struct verdict *v)
{
	if (v->timeout)
		return E_VERIFIER_TIMEOUT;
	return log_has_reason(v->log) ? E_VERIFIER_REJECTED : E_LOAD_FAILED;
}

static const char *failure_hint(struct verdict *v, const char *type)
{
	int e = -v->err;
	if (v->timeout)
		return "verification took longer than timeout_ms: look for loops the verifier must unroll, or raise timeout_ms";
	if (e == EPERM && (!v->log || !v->log[0]))
		return (type && (strstr(type, "tracing") || strstr(type, "lsm") || strstr(type, "ext")))
			       ? "this kernel refuses BPF trampolines (fentry/fexit/fmod_ret/lsm); use tp_btf or a tracepoint"
			       : "needs root or CAP_BPF+CAP_PERFMON (CAP_NET_ADMIN for networking types)";
	if (e == ESRCH || e == ENOENT)
		return "the attach target (function, tracepoint or BTF type) does not exist on this kernel";
	if (e == E2BIG)
		return "the program is too large or too complex: split it, or bound its loops more tightly";
	if (e == EACCES || e == EINVAL)
		return "read the verifier log from the end: the last lines name the failing instruction and source line";
	return NULL;
}

/* ---- load ---- */
static json_t *map_json(const struct bpf_map *m, const struct btf *btf)
{
	struct bpf_map_info info = {};
	uint32_t len = sizeof(info);
	int fd = bpf_map__fd(m);
	bpf_obj_get_info_by_fd(fd, &info, &len);
	const char *t = libbpf_bpf_map_type_str(bpf_map__type(m));
	char *kt = btf && bpf_map__btf_key_type_id(m) ? btf_type_str(btf, bpf_map__btf_key_type_id(m)) : NULL;
	char *vt = btf && bpf_map__btf_value_type_id(m) ? btf_type_str(btf, bpf_map__btf_value_type_id(m)) : NULL;
	json_t *j = json_pack("{s:s,s:I,s:s,s:I,s:I,s:I,s:I,s:s?,s:s?}", "name", bpf_map__name(m), "id",
			      (json_int_t)info.id, "type", t ? t : "unknown", "key_size", (json_int_t)info.key_size,
			      "value_size", (json_int_t)info.value_size, "max_entries", (json_int_t)info.max_entries,
			      "flags", (json_int_t)info.map_flags, "key_type", kt, "value_type", vt);
	free(kt);
	free(vt);
	return j;
}

static json_t *prog_json(struct prog_rec *r, struct verdict *v)
{
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	bpf_obj_get_info_by_fd(r->fd, &info, &len);
	char tag[17];
	for (int i = 0; i < 8; i++)
		snprintf(tag + 2 * i, 3, "%02x", info.tag[i]);
	r->id = info.id;
	const char *t = libbpf_bpf_prog_type_str(bpf_program__type(r->prog));
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:I,s:I,s:I,s:o}", "name", r->name, "section", r->section, "type",
			 t ? t : "unknown", "id", (json_int_t)info.id, "tag", tag, "verified_insns",
			 (json_int_t)info.verified_insns, "xlated_insns", (json_int_t)(info.xlated_prog_len / 8),
			 "jited_bytes", (json_int_t)info.jited_prog_len, "verifier", verifier_json(v, info.verified_insns));
}

static int read_file(const char *path, void **buf, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto cleanup;
	}
	if (st.st_size > MAX_OBJECT) {
		err = -EFBIG;
		goto cleanup;
	}
	*buf = malloc(st.st_size ? st.st_size : 1);
	size_t off = 0;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, (char *)*buf + off, st.st_size - off);
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			free(*buf);
			goto cleanup;
		}
		off += n;
	}
	*size = off;
cleanup:
	close(fd);
	return err;
}

void do_load(json_t *id, json_t *params)
{
	const char *path = NULL, *b64 = NULL;
	int64_t level = 1, log_size = 0, timeout_ms = 30000;
	bool partial = false;
	struct handle *h = NULL;
	struct verdict *vs = NULL;
	int nsel = 0;
	const char **sel = NULL;
	json_t *progs_out = NULL, *failed = NULL;

	if (!p_str(id, params, "path", false, &path) || !p_str(id, params, "object", false, &b64) ||
	    !p_int(id, params, "log_level", false, 0, 7, &level) ||
	    !p_int(id, params, "log_size", false, LOG_MIN, LOG_MAX, &log_size) ||
	    !p_int(id, params, "timeout_ms", false, 1, 3600000, &timeout_ms) || !p_bool(id, params, "partial", &partial))
		return;
	if (level & 3) {
		if ((level & 3) == 3) {
			reply_error(id, E_INVALID_PARAMS, NULL, "use 0, 1 or 2, plus 4 for statistics",
				    "log_level %lld is not valid", (long long)level);
			return;
		}
	}
	if (!!path == !!b64) {
		reply_error(id, E_INVALID_PARAMS, NULL, "give the object file's path on the agent's machine, or its bytes as base64 in \"object\"",
			    "exactly one of \"path\" or \"object\" is required");
		return;
	}
	json_t *jprogs = json_object_get(params, "programs");
	json_t *jsizes = json_object_get(params, "map_sizes");
	if (jprogs && !json_is_null(jprogs) && !json_is_array(jprogs)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"programs\" must be an array of program names");
		return;
	}
	if (jsizes && !json_is_null(jsizes) && !json_is_object(jsizes)) {
		reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"map_sizes\" must be an object {map name: max_entries}");
		return;
	}

	/* open: the object's bytes, kept for the per-program objects */
	h = calloc(1, sizeof(*h));
	if (path) {
		int e = read_file(path, &h->elf, &h->elf_size);
		if (e) {
			reply_error(id, e == -ENOENT ? E_NOT_FOUND : (e == -EACCES || e == -EPERM) ? E_PERMISSION_DENIED : E_IO_ERROR,
				    json_pack("{s:s}", "path", path),
				    e == -EINVAL ? "the path must name a regular file" : NULL, "cannot read %s: %s", path,
				    strerror(-e));
			goto cleanup;
		}
	} else {
		unsigned char *bytes;
		ssize_t n = b64_decode(b64, strlen(b64), &bytes);
		if (n < 0) {
			reply_error(id, E_INVALID_BASE64, NULL, "encode the object with standard base64", "\"object\" is not valid base64");
			goto cleanup;
		}
		h->elf = bytes;
		h->elf_size = n;
	}
	char err[256];
	int sig = sandbox_open(h);
	if (sig) {
		reply_error(id, E_INVALID_OBJECT, json_pack("{s:s}", "libbpf_log", strsignal(sig)),
			    "the object is corrupt: rebuild it with clang -target bpf -g",
			    "libbpf crashed parsing this object (%s); the agent refused it", strsignal(sig));
		goto cleanup;
	}
	h->maps_obj = open_obj(h, err, sizeof(err));
	if (!h->maps_obj) {
		reply_error(id, E_INVALID_OBJECT, json_pack("{s:s}", "libbpf_log", libbpf_capture_text()),
			    "the file must be a BPF ELF object built with clang -target bpf -g", "not a loadable BPF object: %s", err);
		goto cleanup;
	}
	h->btf = bpf_object__btf(h->maps_obj);

	/* select programs: the ones asked for, else every program libbpf would autoload */
	struct bpf_program *p;
	int total = 0;
	bpf_object__for_each_program(p, h->maps_obj) total++;
	sel = calloc(total + 1, sizeof(*sel));
	if (jprogs && json_is_array(jprogs)) {
		size_t i;
		json_t *v;
		json_array_foreach(jprogs, i, v)
		{
			if (!json_is_string(v)) {
				reply_error(id, E_INVALID_PARAMS, NULL, NULL, "\"programs\" must be an array of program names");
				goto cleanup;
			}
			if (!bpf_object__find_program_by_name(h->maps_obj, json_string_value(v))) {
				json_t *names = json_array();
				bpf_object__for_each_program(p, h->maps_obj) json_array_append_new(names, json_string(bpf_program__name(p)));
				reply_error(id, E_NOT_FOUND, json_pack("{s:o}", "available", names), NULL,
					    "the object has no program named '%s'", json_string_value(v));
				goto cleanup;
			}
			bool dup = false;
			for (int k = 0; k < nsel; k++)
				dup |= !strcmp(sel[k], json_string_value(v));
			if (!dup && nsel < total)
				sel[nsel++] = json_string_value(v);
		}
	} else {
		bpf_object__for_each_program(p, h->maps_obj) if (bpf_program__autoload(p)) sel[nsel++] = bpf_program__name(p);
	}
	if (jsizes && json_is_object(jsizes)) {
		const char *k;
		json_t *v;
		json_object_foreach(jsizes, k, v)
		{
			struct bpf_map *m = bpf_object__find_map_by_name(h->maps_obj, k);
			if (!m || !json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > UINT32_MAX) {
				reply_error(id, m ? E_INVALID_PARAMS : E_NOT_FOUND, NULL, NULL,
					    m ? "map_sizes.%s must be a positive integer" : "the object has no map named '%s'", k);
				goto cleanup;
			}
			bpf_map__set_max_entries(m, json_integer_value(v));
		}
	}

	/* create the maps (no programs yet) */
	bpf_object__for_each_program(p, h->maps_obj) bpf_program__set_autoload(p, false);
	libbpf_capture_reset();
	if (bpf_object__load(h->maps_obj)) {
		int e = errno;
		reply_error(id, e == EPERM ? E_PERMISSION_DENIED : E_LOAD_FAILED,
			    json_pack("{s:s,s:i}", "libbpf_log", libbpf_capture_text(), "errno", e),
			    e == EPERM ? "run the agent as root (or with CAP_BPF)" : "check map definitions and map_sizes",
			    "creating the object's maps failed: %s", strerror(e));
		goto cleanup;
	}

	/* load: each selected program from its own object, sharing the maps */
	struct load_opts lo = {.log_level = level, .timeout_ms = timeout_ms};
	lo.log_size = log_size ? (size_t)log_size : (level & 2) ? (16u << 20) : (level & 1) ? (1u << 20) : (1u << 16);
	vs = calloc(nsel ? nsel : 1, sizeof(*vs));
	h->progs = calloc(nsel ? nsel : 1, sizeof(*h->progs));
	progs_out = json_array();
	failed = json_array();
	int nfail = 0, first_fail = -1;
	for (int i = 0; i < nsel; i++) {
		struct bpf_program *mp = bpf_object__find_program_by_name(h->maps_obj, sel[i]);
		const char *type = libbpf_bpf_prog_type_str(bpf_program__type(mp));
		load_one(h, sel[i], &lo, &vs[i]);
		if (vs[i].err) {
			nfail++;
			if (first_fail < 0)
				first_fail = i;
			json_t *f = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s?,s:i,s:s},s:o}", "name", sel[i], "section",
					      bpf_program__section_name(mp), "type", type ? type : "unknown", "error", "code",
					      failure_code(&vs[i]), "message", strerror(-vs[i].err), "hint",
					      failure_hint(&vs[i], type), "errno", -vs[i].err, "libbpf_log",
					      vs[i].libbpf_text ? vs[i].libbpf_text : "", "verifier", verifier_json(&vs[i], 0));
			json_array_append_new(failed, f);
			continue;
		}
		struct prog_rec *r = &h->progs[h->nprogs++];
		r->name = strdup(sel[i]);
		r->section = strdup(bpf_program__section_name(vs[i].prog));
		r->obj = vs[i].obj;
		r->prog = vs[i].prog;
		r->fd = bpf_program__fd(vs[i].prog);
		json_array_append_new(progs_out, prog_json(r, &vs[i]));
	}

	if (nfail && !partial) {
		/* one program failed: report every verdict, keep nothing loaded */
		struct verdict *v = &vs[first_fail];
		struct bpf_program *mp = bpf_object__find_program_by_name(h->maps_obj, sel[first_fail]);
		const char *type = libbpf_bpf_prog_type_str(bpf_program__type(mp));
		const char *code = failure_code(v);
		json_t *extra = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:b,s:o,s:s,s:O,s:O}", "program", sel[first_fail], "section",
					  bpf_program__section_name(mp), "type", type ? type : "unknown", "errno", -v->err,
					  "errno_text", strerror(-v->err), "log", v->log ? v->log : "", "truncated",
					  v->truncated, "stats", parse_stats(v->log ? v->log : "", 0), "libbpf_log",
					  v->libbpf_text ? v->libbpf_text : "", "failed", failed, "loaded", progs_out);
		reply_error(id, code, extra, failure_hint(v, type), "%s: program '%s' (%s): %s",
			    !strcmp(code, E_VERIFIER_REJECTED) ? "the verifier rejected the program"
			    : !strcmp(code, E_VERIFIER_TIMEOUT) ? "verification timed out"
								 : "the kernel did not load the program",
			    sel[first_fail], bpf_program__section_name(mp), v->timeout ? "timed out" : strerror(-v->err));
		goto cleanup;
	}

	/* register the handle */
	h->id = next_handle++;
	h->next = handles;
	handles = h;
	json_t *maps_out = json_array();
	struct bpf_map *m;
	bpf_object__for_each_map(m, h->maps_obj) json_array_append_new(maps_out, map_json(m, h->btf));
	json_t *res = json_pack("{s:i,s:O,s:o}", "handle", h->id, "programs", progs_out, "maps", maps_out);
	if (nfail)
		json_object_set(res, "failed", failed);
	h = NULL;
	reply_result(id, res);

cleanup:
	for (int i = 0; vs && i < nsel; i++)
		verdict_free(&vs[i]);
	free(vs);
	free(sel);
	json_decref(progs_out);
	json_decref(failed);
	if (h)
		handle_free(h);
}

void do_unload(json_t *id, json_t *params)
{
	int64_t hid;
	if (!p_int(id, params, "handle", true, 1, INT32_MAX, &hid))
		return;
	struct handle **pp = &handles;
	while (*pp && (*pp)->id != hid)
		pp = &(*pp)->next;
	if (!*pp) {
		reply_error(id, E_NOT_FOUND, NULL, "handles come from load replies", "no loaded object with handle %lld", (long long)hid);
		return;
	}
	struct handle *h = *pp;
	*pp = h->next;
	int nlinks = links_release_for_handle(h->id);
	int nprogs = h->nprogs;
	handle_free(h);
	reply_result(id, json_pack("{s:i,s:i,s:i}", "handle", (int)hid, "programs_released", nprogs, "links_released", nlinks));
}
