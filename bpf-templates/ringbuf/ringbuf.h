/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The event ringbuf.bpf.c sends to user space: shared by both sides, so they agree on layout. */
#ifndef RINGBUF_H
#define RINGBUF_H

#define COMM_LEN 16
#define FILENAME_LEN 127

struct exec_exit_event {
	int pid;
	int ppid;
	unsigned int exit_code;
	unsigned long long duration_ns; /* exit events: how long the process lived */
	char comm[COMM_LEN];
	char filename[FILENAME_LEN];    /* exec events: the program started */
	unsigned char exit_event;       /* 1: process exit, 0: exec */
};

#endif /* RINGBUF_H */
