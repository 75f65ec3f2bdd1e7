// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * perf_event: a sampling CPU profiler. At every sample it records which process was running
 * and its kernel and user stack traces, and counts identical samples: the input of a flame
 * graph.
 *
 * A perf_event program runs when a perf event overflows. User space opens the event with
 * perf_event_open() (typically the cpu-clock software event at 49 or 99 Hz, one per CPU, which
 * works in VMs that have no hardware counters) and attaches the program to each fd
 * (bpf_program__attach_perf_event()). Stack traces are stored once in a STACK_TRACE map and
 * referred to by id.
 *
 * Attach: to perf event fds, one per CPU. Needs root (CAP_PERFMON + CAP_BPF). Kernel 4.9+.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "perf_event.h"

/* Not in vmlinux.h. */
#define BPF_F_USER_STACK_ (1ULL << 8)

/* Knob, set before load: also count samples of the idle task (pid 0). */
const volatile bool include_idle = false;

/* Stack traces, deduplicated by the kernel: key a stack id, value the instruction pointers. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(u64));
} stacks SEC(".maps");

/* Sample counts per (process, kernel stack, user stack). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sample_key);
	__type(value, u64);
} counts SEC(".maps");

SEC("perf_event")
int profile(struct bpf_perf_event_data *ctx)
{
	struct sample_key key = {};
	u64 one = 1, *count;

	key.pid = bpf_get_current_pid_tgid() >> 32;
	if (key.pid == 0 && !include_idle)
		return 0;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	/* flags 0: the kernel stack; BPF_F_USER_STACK: the user stack of the interrupted task. */
	key.kernel_stack_id = bpf_get_stackid(ctx, &stacks, 0);
	key.user_stack_id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK_);

	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
