/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by uprobe.bpf.c and the user-space program that reads its histogram. */
#ifndef UPROBE_H
#define UPROBE_H

/* Latency histogram: slot i counts calls that took [2^i, 2^(i+1)) nanoseconds. */
#define MAX_SLOTS 32

#endif /* UPROBE_H */
