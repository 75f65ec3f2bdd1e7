// SPDX-License-Identifier: Apache-2.0
/*
 * One program under the verifier: each program is loaded from its own bpf_object that reuses
 * the handle's maps; the log buffer grows when it is too small (the kernel fails a valid
 * program with ENOSPC), a timer bounds verification, and the verdict is classified.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>
#include <sys/wait.h>
#include "verifier.h"

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
json_t *parse_stats(const char *log, uint32_t verified_insns)
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

/*
 * The name libbpf gives the object, as when it opens a file: the file's name up to its first '.'
 * (runqlat.bpf.o -> runqlat), so internal maps are runqlat.rodata, runqlat.bss (libbpf keeps 8 characters of
 * a longer name there: klockstat.bpf.o -> klocksta.rodata).
 */
static const char *obj_name(const struct handle *h)
{
	return h->file_name[0] ? h->file_name : "bpf_ide_obj";
}

struct bpf_object *obj_open(struct handle *h, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = obj_name(h));
	struct bpf_object *obj = bpf_object__open_mem(h->elf, h->elf_size, &oo);
	if (!obj) {
		int e = errno;
		libbpf_strerror(e, err, errlen); /* knows libbpf's own codes (4000+) too */
		return NULL;
	}
	/*
	 * __uint(pinning, LIBBPF_PIN_BY_NAME): libbpf would reuse whatever map is pinned at /sys/fs/bpf/<name>
	 * (another tool's "stats", "events") and pin the new ones there, left behind after unload. The agent's
	 * maps live and die with the handle; pinning is the explicit pin request.
	 */
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj)
	{
		if (bpf_map__pin_path(m))
			bpf_map__set_pin_path(m, NULL);
	}
	return obj;
}

/*
 * libbpf 1.1 can crash on malformed ELF/BTF (e.g. a corrupted BTF map definition). Objects
 * come from the network, so the first parse runs in a forked child: if it dies, the object
 * is refused and the agent keeps serving. Returns 0, or the signal that killed the parser.
 */
/* the sandboxed parser's exit code when libbpf refused the object (distinct from a sanitizer's exit 1) */
#define SANDBOX_OPEN_FAILED 3

int sandbox_open(struct handle *h)
{
	pid_t pid = fork();
	if (pid < 0)
		return 0; /* cannot fork: parse in-process as before */
	if (pid == 0) {
		/* die by the signal itself: a handler (AddressSanitizer's, in the sanitizer build) would report
		 * and exit(1), which reads as a clean parse and lets the parent crash on the same object */
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM };
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			sigaction(fatal[i], &dfl, NULL);
		alarm(20); /* a parser that loops forever dies too */
		LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = obj_name(h));
		struct bpf_object *obj = bpf_object__open_mem(h->elf, h->elf_size, &oo);
		_exit(obj ? 0 : SANDBOX_OPEN_FAILED);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	/* any exit but "parsed" or "refused" means the parser died some other way */
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != SANDBOX_OPEN_FAILED)
		return SIGABRT;
	return 0;
}

void load_one(struct handle *h, const char *name, const struct load_opts *o, struct verdict *v)
{
	size_t size = o->log_size;
	int level = o->log_level | 4; /* always ask for the stats lines */
	char err[256];
	memset(v, 0, sizeof(*v));
	v->notes = json_array();
	for (;;) {
		libbpf_capture_reset();
		struct bpf_object *obj = obj_open(h, err, sizeof(err));
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

json_t *verifier_json(struct verdict *v, uint32_t verified_insns)
{
	return json_pack("{s:s,s:b,s:o,s:I,s:i,s:O}", "log", v->log ? v->log : "", "truncated", v->truncated, "stats",
			 parse_stats(v->log ? v->log : "", verified_insns), "log_buffer_bytes", (json_int_t)v->log_size,
			 "retries", v->retries, "notes", v->notes);
}

void verdict_free(struct verdict *v)
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

const char *failure_code(struct verdict *v)
{
	if (v->timeout)
		return E_VERIFIER_TIMEOUT;
	return log_has_reason(v->log) ? E_VERIFIER_REJECTED : E_LOAD_FAILED;
}

const char *failure_hint(struct verdict *v, const char *type)
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
	if (e == EINVAL && type && !strcmp(type, "unspec") && !log_has_reason(v->log))
		return "libbpf cannot tell the program type from its SEC() name (\"missing BPF prog type\"), so the kernel "
		       "never saw it: use a section name libbpf knows (SEC(\"xdp\"), SEC(\"tc\"), SEC(\"kprobe/...\"), ...)";
	if (e == EACCES || e == EINVAL)
		return "read the verifier log from the end: the last lines name the failing instruction and source line";
	return NULL;
}
