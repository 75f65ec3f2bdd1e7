// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * fentry/fexit: time every unlink (file removal) and report it with its result.
 *
 * fentry and fexit attach to a kernel function through a BPF trampoline: cheaper than kprobes,
 * and the arguments are typed from the kernel's BTF, so `name->name` is a plain read. fexit sees
 * the arguments AND the return value, so no map is needed to carry arguments from entry to exit;
 * here fentry only records the start time.
 *
 * Attach: automatic, from the SEC() name. Needs root, a kernel with BTF (5.5+) and
 * CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS. Some kernels (and some VMs) refuse trampolines: the
 * load then fails with EPERM and an empty verifier log; use tp_btf or a tracepoint there.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fentry.h"

/* Knob, set before load: only report unlinks slower than this (0: all of them). */
const volatile u64 min_duration_ns = 0;

/* Start time per thread, from fentry to fexit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, u32); /* thread id */
	__type(value, u64); /* bpf_ktime_get_ns() at entry */
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/*
 * Ring buffer records have no BTF type of their own, and clang emits BTF only for types that
 * globals and functions use: this unused pointer puts struct unlink_event into the object's BTF, so
 * tools (bpf-ide's Events panel, bpftool, bpf2go) can decode the events by name.
 */
const struct unlink_event *unused_unlink_event __attribute__((unused));

/* int do_unlinkat(int dfd, struct filename *name) */
SEC("fentry/do_unlinkat")
int BPF_PROG(unlink_entry, int dfd, struct filename *name)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 ts = bpf_ktime_get_ns();

	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

/* fexit gets the arguments followed by the return value. */
SEC("fexit/do_unlinkat")
int BPF_PROG(unlink_exit, int dfd, struct filename *name, int ret)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct unlink_event *e;
	u64 *tsp, duration;

	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	duration = bpf_ktime_get_ns() - *tsp;
	bpf_map_delete_elem(&start, &tid);
	if (duration < min_duration_ns)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0; /* ring buffer full: user space is too slow */
	e->pid = id >> 32;
	e->ret = ret;
	e->duration_ns = duration;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* A BTF-typed pointer: name->name is read directly; the string still needs a helper. */
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), name->name);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
