/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The event fentry.bpf.c sends to user space through its ring buffer. */
#ifndef FENTRY_H
#define FENTRY_H

#define COMM_LEN 16
#define PATH_LEN 128

struct unlink_event {
	int pid;                       /* tgid of the caller */
	int ret;                       /* do_unlinkat()'s return value: 0 or -errno */
	unsigned long long duration_ns; /* time spent in do_unlinkat() */
	char comm[COMM_LEN];
	char filename[PATH_LEN];
};

#endif /* FENTRY_H */
