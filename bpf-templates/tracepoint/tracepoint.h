/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by tracepoint.bpf.c and the user-space program that reads its map. */
#ifndef TRACEPOINT_H
#define TRACEPOINT_H

#define COMM_LEN 16

/* Value of the `opens` map: one per process (key: its tgid). */
struct open_stats {
	unsigned long long opens;   /* openat() calls */
	unsigned long long creates; /* of which had O_CREAT */
	char comm[COMM_LEN];        /* the process name when first seen */
};

#endif /* TRACEPOINT_H */
