// SPDX-License-Identifier: Apache-2.0
/*
 * exec: run a command on the agent's machine, so that a test or a user can make an attached
 * program fire (unlink a file for a kprobe on do_unlinkat, exec a binary for an LSM hook).
 * Only an agent started with --allow-exec serves it: bpf-ide's VM guests pass that flag from
 * their init; an agent on a user's own box (local, SSH) refuses it, since it runs as root.
 * The command runs with stdin from /dev/null, its output captured (capped) and a bounded time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "agent.h"

#define EXEC_MAX_ARGS 256
#define EXEC_OUT_CAP (64u << 10)

bool g_allow_exec;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends what fd has to s (up to the cap); returns false at EOF. */
static bool drain(int fd, struct sbuf *s, bool *truncated)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	size_t room = s->len < EXEC_OUT_CAP ? EXEC_OUT_CAP - s->len : 0;
	if ((size_t)n > room)
		*truncated = true;
	sb_putn(s, buf, (size_t)n < room ? (size_t)n : room);
	return true;
}

void do_exec(json_t *id, json_t *params)
{
	int64_t timeout_ms = 10000;
	if (!g_allow_exec) {
		reply_error(id, E_PERMISSION_DENIED, NULL,
			    "exec is served only by agents started with --allow-exec (bpf-ide's VM guests)",
			    "this agent does not run commands");
		return;
	}
	if (!p_int(id, params, "timeout_ms", false, 1, 120000, &timeout_ms))
		return;
	json_t *jargv = json_object_get(params, "argv");
	size_t argc = json_array_size(jargv);
	if (!json_is_array(jargv) || argc == 0 || argc > EXEC_MAX_ARGS) {
		reply_error(id, E_INVALID_PARAMS, NULL, "e.g. {\"argv\":[\"rm\",\"-f\",\"/tmp/x\"]}",
			    "\"argv\" must be a non-empty array of at most %d strings", EXEC_MAX_ARGS);
		return;
	}
	char *argv[EXEC_MAX_ARGS + 1] = {};
	for (size_t i = 0; i < argc; i++) {
		const char *a = json_string_value(json_array_get(jargv, i));
		if (!a) {
			reply_error(id, E_INVALID_PARAMS, NULL, NULL, "argv[%zu] is not a string", i);
			return;
		}
		argv[i] = (char *)a;
	}

	/* spawn: stdout and stderr through pipes, stdin from /dev/null */
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	struct sbuf so, se;
	sb_init(&so, 256);
	sb_init(&se, 256);
	bool trunc_out = false, trunc_err = false, timed_out = false;
	int64_t start = now_ms();
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
		reply_error(id, E_IO_ERROR, NULL, NULL, "pipe: %s", strerror(errno));
		goto cleanup;
	}
	pid_t pid = fork();
	if (pid < 0) {
		reply_error(id, E_IO_ERROR, NULL, NULL, "fork: %s", strerror(errno));
		goto cleanup;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setpgid(0, 0);
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (chdir("/")) { /* ignore: the command runs wherever it can */ }
		execvp(argv[0], argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	out[1] = err[1] = -1;

	/* poll: both pipes until EOF, or the time limit */
	bool out_open = true, err_open = true;
	while (out_open || err_open) {
		int64_t left = start + timeout_ms - now_ms();
		if (left <= 0) {
			timed_out = true;
			break;
		}
		struct pollfd pfd[2] = {{.fd = out_open ? out[0] : -1, .events = POLLIN},
					{.fd = err_open ? err[0] : -1, .events = POLLIN}};
		int n = poll(pfd, 2, (int)left);
		if (n < 0 && errno != EINTR)
			break;
		if (n <= 0)
			continue;
		if (pfd[0].revents && !drain(out[0], &so, &trunc_out))
			out_open = false;
		if (pfd[1].revents && !drain(err[0], &se, &trunc_err))
			err_open = false;
	}
	/* wait: the process group is killed when the time is up */
	int status = 0;
	if (timed_out)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!timed_out) /* a background child may still hold the pipes: it goes with the group */
		kill(-pid, SIGKILL);

	struct sbuf r;
	sb_init(&r, 256 + so.len + se.len);
	sb_reply_begin(&r, id);
	sb_puts(&r, "{\"exit_code\":");
	if (WIFEXITED(status) && !timed_out)
		sb_i64(&r, WEXITSTATUS(status));
	else
		sb_puts(&r, "null");
	sb_puts(&r, ",\"signal\":");
	if (WIFSIGNALED(status))
		sb_json_str(&r, strsignal(WTERMSIG(status)));
	else
		sb_puts(&r, "null");
	sb_puts(&r, ",\"timed_out\":");
	sb_puts(&r, timed_out ? "true" : "false");
	sb_puts(&r, ",\"stdout\":");
	sb_json_strn(&r, so.buf ? so.buf : "", so.len);
	sb_puts(&r, ",\"stderr\":");
	sb_json_strn(&r, se.buf ? se.buf : "", se.len);
	sb_puts(&r, ",\"truncated\":");
	sb_puts(&r, trunc_out || trunc_err ? "true" : "false");
	sb_puts(&r, ",\"duration_ms\":");
	sb_i64(&r, now_ms() - start);
	sb_puts(&r, "}}");
	out_line(r.buf, r.len, false);
	sb_free(&r);
cleanup:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	sb_free(&so);
	sb_free(&se);
}
