// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * tp_btf: count new processes and threads per parent, from the BTF-typed sched_process_fork
 * tracepoint.
 *
 * A BTF-enabled tracepoint ("tp_btf") gets the same raw arguments as raw_tp, but the verifier
 * knows their types from the kernel's BTF: the program may dereference `parent->tgid` directly,
 * with no bpf_probe_read. It is the modern way to trace, and needs a kernel with BTF (5.5+,
 * /sys/kernel/btf/vmlinux). fentry/fexit are the same idea for any kernel function.
 *
 * Attach: automatic, from the SEC() name. Needs root (or CAP_BPF + CAP_PERFMON).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "tp_btf.h"

/* Knob, set before load: only count children of this process (0: every process). */
const volatile pid_t target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32); /* the parent's tgid */
	__type(value, struct fork_stats);
} forks SEC(".maps");

/* TP_PROTO(struct task_struct *parent, struct task_struct *child) */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	/* Direct, typed reads: the verifier checks them against the kernel's BTF. */
	u32 ptgid = parent->tgid;
	bool thread = child->tgid == parent->tgid;
	struct fork_stats *st;

	if (target_tgid && ptgid != target_tgid)
		return 0;

	st = bpf_map_lookup_elem(&forks, &ptgid);
	if (!st) {
		struct fork_stats zero = {};

		/* The forking task is the current one: its name is the parent's. */
		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
		bpf_map_update_elem(&forks, &ptgid, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&forks, &ptgid);
		if (!st)
			return 0;
	}
	if (thread)
		__sync_fetch_and_add(&st->threads, 1);
	else
		__sync_fetch_and_add(&st->processes, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
