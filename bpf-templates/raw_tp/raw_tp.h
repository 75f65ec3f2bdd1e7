/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by raw_tp.bpf.c and the user-space program that reads its map. */
#ifndef RAW_TP_H
#define RAW_TP_H

/* Value of the per-CPU `switches` map (one slot, one copy per CPU). */
struct switch_stats {
	unsigned long long switches;    /* context switches on this CPU */
	unsigned long long preemptions; /* of which the previous task was preempted */
	unsigned long long to_idle;     /* of which the next task is the idle task */
};

#endif /* RAW_TP_H */
