// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * kprobe/kretprobe: report every unlink (file removal) with its result.
 *
 * A kprobe can attach to almost any kernel function, at its first instruction (kprobe) or at its
 * return (kretprobe). Kernel functions are not an ABI: they are renamed, inlined or change their
 * arguments between versions, so keep such programs small and check the target exists
 * (/sys/kernel/tracing/available_filter_functions). Prefer a tracepoint, or fentry/fexit.
 *
 * The entry probe saves the argument it needs in a map keyed by thread id; the return probe
 * picks it up, adds the return value and sends one event.
 *
 * Attach: automatic, from the SEC() name. Needs root and a kernel built with CONFIG_KPROBES.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "kprobe.h"

/* Knob, set before load: only report this process (0: every process). */
const volatile pid_t target_tgid = 0;

/* Entry state, from kprobe to kretprobe, per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, u32); /* thread id */
	__type(value, struct unlink_event);
} inflight SEC(".maps");

/* Events to user space. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* int do_unlinkat(int dfd, struct filename *name) */
SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink_entry, int dfd, struct filename *name)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct unlink_event e = {};
	const char *path;

	if (target_tgid && (id >> 32) != target_tgid)
		return 0;

	e.pid = id >> 32;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	/* `name` is a kernel pointer: read through it with a CO-RE read, then copy the string. */
	path = BPF_CORE_READ(name, name);
	bpf_probe_read_kernel_str(e.filename, sizeof(e.filename), path);
	bpf_map_update_elem(&inflight, &tid, &e, BPF_ANY);
	return 0;
}

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(unlink_exit, long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct unlink_event *saved, *e;

	saved = bpf_map_lookup_elem(&inflight, &tid);
	if (!saved)
		return 0; /* the entry was filtered out, or missed */

	/* Reserve room in the ring buffer; NULL when it is full (user space is too slow). */
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memcpy(e, saved, sizeof(*e));
		e->ret = ret;
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
