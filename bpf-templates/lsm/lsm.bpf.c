// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * LSM: count program executions per user, and refuse them for one user if asked.
 *
 * A BPF LSM program runs at a Linux Security Module hook (here bprm_check_security, called on
 * every execve) and can refuse the operation by returning a negative errno. The last argument
 * is the verdict of the hooks that ran before: keep a refusal that is already there.
 *
 * Attach: automatic, from the SEC() name. Needs root, a kernel with BTF and
 * CONFIG_BPF_LSM=y, and "bpf" in the active LSM list (cat /sys/kernel/security/lsm; boot with
 * lsm=...,bpf). Like fentry it uses a BPF trampoline: where trampolines are refused, the load
 * fails with EPERM.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "lsm.h"

#define EPERM 1

/* Knob, set before load: refuse execve for this uid ((u32)-1: refuse nothing). */
const volatile u32 denied_uid = (u32)-1;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32); /* uid */
	__type(value, struct exec_stats);
} execs SEC(".maps");

/* int security_bprm_check(struct linux_binprm *bprm), plus the previous verdict. */
SEC("lsm/bprm_check_security")
int BPF_PROG(check_exec, struct linux_binprm *bprm, int ret)
{
	u32 uid = (u32)bpf_get_current_uid_gid();
	struct exec_stats *st;
	bool deny;

	/* An earlier LSM already refused: keep its verdict. */
	if (ret != 0)
		return ret;

	deny = uid == denied_uid;
	st = bpf_map_lookup_elem(&execs, &uid);
	if (!st) {
		struct exec_stats zero = {};

		bpf_map_update_elem(&execs, &uid, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&execs, &uid);
	}
	if (st) {
		if (deny)
			__sync_fetch_and_add(&st->denied, 1);
		else
			__sync_fetch_and_add(&st->allowed, 1);
	}
	return deny ? -EPERM : 0;
}

/* LSM programs must be GPL-compatible. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";
