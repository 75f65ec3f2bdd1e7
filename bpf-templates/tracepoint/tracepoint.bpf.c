// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * tracepoint: count openat() calls per process.
 *
 * A tracepoint is a stable hook the kernel developers placed on purpose: its arguments are an ABI
 * (see /sys/kernel/tracing/events/syscalls/sys_enter_openat/format), so a program written against
 * it keeps working across kernel versions. Prefer tracepoints to kprobes when one exists.
 *
 * Attach: automatic, from the SEC() name. Needs root (or CAP_BPF + CAP_PERFMON).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "tracepoint.h"

/* Not in vmlinux.h: #defines do not survive into BTF. */
#define O_CREAT 0100

/*
 * Knobs: `const volatile` globals live in .rodata. User space sets them after open and before
 * load (skel->rodata->target_tgid = 1234); the verifier then sees them as constants and prunes
 * the branches they switch off. 0 means "every process".
 */
const volatile pid_t target_tgid = 0;

/* Maps are declared in the ".maps" section with BTF-typed keys and values (libbpf's way). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32); /* tgid */
	__type(value, struct open_stats);
} opens SEC(".maps");

/*
 * SEC("tracepoint/<category>/<event>") picks the program type and the attach point.
 * The context is the tracepoint's record; vmlinux.h names it trace_event_raw_<class>.
 */
SEC("tracepoint/syscalls/sys_enter_openat")
int handle_openat(struct trace_event_raw_sys_enter *ctx)
{
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct open_stats *st;

	if (target_tgid && tgid != target_tgid)
		return 0;

	st = bpf_map_lookup_elem(&opens, &tgid);
	if (!st) {
		/* First call from this process: insert a zeroed entry, then look it up again. */
		struct open_stats zero = {};

		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		bpf_map_update_elem(&opens, &tgid, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&opens, &tgid);
		/* The verifier insists: a lookup can always return NULL (the map may be full). */
		if (!st)
			return 0;
	}
	/* Several CPUs may update the same entry at once: add atomically. */
	__sync_fetch_and_add(&st->opens, 1);
	/* openat(dfd, filename, flags, mode): args[2] is flags. */
	if (ctx->args[2] & O_CREAT)
		__sync_fetch_and_add(&st->creates, 1);
	return 0;
}

/* The license decides which helpers the program may call: GPL-compatible unlocks all of them. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";
