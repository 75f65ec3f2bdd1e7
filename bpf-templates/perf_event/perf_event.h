/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by perf_event.bpf.c and the user-space program that reads its maps. */
#ifndef PERF_EVENT_H
#define PERF_EVENT_H

#define COMM_LEN 16
/* Frames kept per stack (the kernel's limit is kernel.perf_event_max_stack, 127 by default). */
#define MAX_STACK_DEPTH 127

/* Key of the `counts` map: who was on the CPU, and where. A stack id indexes the `stacks` map;
 * a negative id is an error from bpf_get_stackid() (-EFAULT: no user stack, e.g. a kernel
 * thread). */
struct sample_key {
	int pid;
	int kernel_stack_id;
	int user_stack_id;
	char comm[COMM_LEN];
};

#endif /* PERF_EVENT_H */
