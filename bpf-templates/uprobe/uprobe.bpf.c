// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * uprobe/uretprobe: a latency histogram of a user-space function (for example libc's close()).
 *
 * A uprobe attaches to an instruction in a binary or shared library on disk: every process that
 * maps the file and reaches it runs the program (or only one process, when attached with a pid).
 * The uprobe records the start time per thread; the uretprobe computes the duration and counts
 * it in a log2 histogram.
 *
 * SEC("uprobe") without a target leaves the choice to the loader: attach with a target of the
 * form "binary:function", e.g. /lib/x86_64-linux-gnu/libc.so.6:close (libbpf's
 * bpf_program__attach_uprobe_opts() with func_name). Needs root. Kernel 4.17+.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "uprobe.h"

/* Knob, set before load: only time calls from this process (0: every process). */
const volatile pid_t target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u32); /* thread id */
	__type(value, u64); /* bpf_ktime_get_ns() at entry */
} start SEC(".maps");

/* The histogram: an array indexed by log2(duration). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SLOTS);
	__type(key, u32);
	__type(value, u64);
} hist SEC(".maps");

/* floor(log2(v)) without a loop, so the verifier has nothing to unroll. */
static __always_inline u32 log2_u32(u32 v)
{
	u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline u32 log2_u64(u64 v)
{
	u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

SEC("uprobe")
int BPF_KPROBE(func_entry)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	u64 ts;

	if (target_tgid && (id >> 32) != target_tgid)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(func_exit)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 *tsp, *count;
	u32 slot;

	tsp = bpf_map_lookup_elem(&start, &tid);
	if (!tsp)
		return 0;
	slot = log2_u64(bpf_ktime_get_ns() - *tsp);
	bpf_map_delete_elem(&start, &tid);
	/* The verifier needs to see the index is in range before the lookup uses it. */
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	count = bpf_map_lookup_elem(&hist, &slot);
	if (count)
		__sync_fetch_and_add(count, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
