// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * task iterator: list the processes of the machine, like a tiny ps, as a file BPF writes.
 *
 * An iterator program is called once per kernel object (here each task_struct) when user space
 * reads the iterator; it writes text (or binary records) into a seq_file with BPF_SEQ_PRINTF.
 * Read it by creating an iterator fd from the attached link (bpf_iter_create(), then read()),
 * or pin it and cat it:
 *   bpftool iter pin task_iter.bpf.o /sys/fs/bpf/tasks && cat /sys/fs/bpf/tasks
 * The last call has task == NULL: the place for a footer.
 *
 * Attach: automatic (an iterator link), then read. Needs root. Kernel 5.8+ with BTF.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Knob, set before load: one line per thread instead of one per process. */
const volatile bool show_threads = false;

/* The number of lines written, for the footer. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} lines SEC(".maps");

SEC("iter/task")
int list_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&lines, &zero);

	if (!n)
		return 0;
	if (ctx->meta->seq_num == 0) {
		*n = 0;
		BPF_SEQ_PRINTF(seq, "%8s %8s %8s  %s\n", "TGID", "PID", "PPID", "COMM");
	}
	if (!task) {
		BPF_SEQ_PRINTF(seq, "%llu tasks\n", *n);
		return 0;
	}
	/* Threads share their process's tgid; the leader's pid equals it. */
	if (!show_threads && task->pid != task->tgid)
		return 0;
	/* The iterator's task is BTF-typed: fields are read directly (real_parent is trusted). */
	BPF_SEQ_PRINTF(seq, "%8d %8d %8d  %s\n", task->tgid, task->pid, task->real_parent->tgid, task->comm);
	*n += 1;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
