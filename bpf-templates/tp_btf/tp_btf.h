/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by tp_btf.bpf.c and the user-space program that reads its map. */
#ifndef TP_BTF_H
#define TP_BTF_H

#define COMM_LEN 16

/* Value of the `forks` map (key: the parent's tgid). */
struct fork_stats {
	unsigned long long processes; /* new processes (fork) */
	unsigned long long threads;   /* new threads (clone with CLONE_THREAD) */
	char comm[COMM_LEN];          /* the parent's name */
};

#endif /* TP_BTF_H */
