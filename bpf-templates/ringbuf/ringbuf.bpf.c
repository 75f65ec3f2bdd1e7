// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ring buffer event stream: one event per program started (exec) and per process exit, with
 * its lifetime, streamed to user space.
 *
 * A BPF ring buffer (BPF_MAP_TYPE_RINGBUF) is one buffer shared by every CPU: events arrive in
 * order, memory is not wasted per CPU, and the reserve/submit API writes an event in place
 * with no copy. User space reads it with ring_buffer__new() + ring_buffer__poll() (libbpf), or
 * in bpf-ide's Events panel. When user space falls behind, bpf_ringbuf_reserve() returns NULL:
 * count those drops rather than losing them silently.
 *
 * Attach: automatic, from the SEC() names (two tracepoints). Needs root. Kernel 5.8+.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "ringbuf.h"

/* Knob, set before load: only report exits of processes that lived at least this long. */
const volatile unsigned long long min_duration_ns = 0;

/* When each process started (exec), for its lifetime at exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, pid_t);
	__type(value, u64);
} exec_start SEC(".maps");

/* The stream. Its size is a power of two and a multiple of the page size. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

/*
 * Ring buffer records have no BTF type of their own, and clang emits BTF only for types that
 * globals and functions use: this unused pointer puts struct exec_exit_event into the object's BTF, so
 * tools (bpf-ide's Events panel, bpftool, bpf2go) can decode the events by name.
 */
const struct exec_exit_event *unused_exec_exit_event __attribute__((unused));

/* Events that found the ring buffer full. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} dropped SEC(".maps");

static __always_inline void count_drop(void)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&dropped, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	pid_t pid = bpf_get_current_pid_tgid() >> 32;
	unsigned int fname_off;
	struct exec_exit_event *e;
	u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&exec_start, &pid, &ts, BPF_ANY);
	/* With a duration filter, exec events are not interesting by themselves. */
	if (min_duration_ns)
		return 0;

	/* Reserve room in the ring buffer, fill the event in place, then submit it. */
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	e->exit_event = 0;
	e->exit_code = 0;
	e->duration_ns = 0;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	/* __data_loc: the low 16 bits are the string's offset from the start of the record. */
	fname_off = ctx->__data_loc_filename & 0xFFFF;
	bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), (void *)ctx + fname_off);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int handle_exit(struct trace_event_raw_sched_process_template *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 id = bpf_get_current_pid_tgid();
	pid_t pid = id >> 32;
	u64 *start_ts, duration_ns = 0;
	struct exec_exit_event *e;

	/* A thread exiting is not the process exiting. */
	if (pid != (u32)id)
		return 0;

	start_ts = bpf_map_lookup_elem(&exec_start, &pid);
	if (start_ts)
		duration_ns = bpf_ktime_get_ns() - *start_ts;
	else if (min_duration_ns)
		return 0;
	bpf_map_delete_elem(&exec_start, &pid);
	if (min_duration_ns && duration_ns < min_duration_ns)
		return 0;

	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	e->exit_event = 1;
	e->duration_ns = duration_ns;
	e->pid = pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	/* The exit status is in the upper byte of exit_code. */
	e->exit_code = (BPF_CORE_READ(task, exit_code) >> 8) & 0xff;
	bpf_get_current_comm(&e->comm, sizeof(e->comm));
	e->filename[0] = '\0';
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
