// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * raw_tp: count context switches per CPU from the raw sched_switch tracepoint.
 *
 * A raw tracepoint hands the program the tracepoint's C arguments as they are (an array of u64),
 * before the kernel formats them into a record: cheaper than a classic tracepoint. The pointers
 * are not typed for the verifier, so the program reads through them with BPF_CORE_READ(), which
 * also relocates field offsets to the running kernel (CO-RE).
 *
 * Attach: automatic, from the SEC() name. Needs root (or CAP_BPF + CAP_PERFMON). Kernel 4.17+.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "raw_tp.h"

/* Knob, set before load: also count switches to the idle task (pid 0). */
const volatile bool count_idle = true;

/* A per-CPU array: each CPU has its own copy of the slot, so no atomic operations are needed. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct switch_stats);
} switches SEC(".maps");

/*
 * sched_switch's arguments: TP_PROTO(bool preempt, struct task_struct *prev,
 * struct task_struct *next, unsigned int prev_state). BPF_PROG() unpacks them from the u64 array.
 */
SEC("raw_tp/sched_switch")
int BPF_PROG(handle_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u32 zero = 0;
	struct switch_stats *st;
	/* CO-RE read: the offset of `pid` in task_struct is fixed up at load time. */
	pid_t next_pid = BPF_CORE_READ(next, pid);

	if (!count_idle && next_pid == 0)
		return 0;

	st = bpf_map_lookup_elem(&switches, &zero);
	if (!st)
		return 0;
	st->switches++;
	if (preempt)
		st->preemptions++;
	if (next_pid == 0)
		st->to_idle++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
