/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by tc.bpf.c and the user-space program that reads its map. */
#ifndef TC_H
#define TC_H

/* Key of the `ports` map: a destination port and its transport protocol. */
struct dport_key {
	unsigned short port;  /* host byte order */
	unsigned char proto;  /* 6 TCP, 17 UDP */
	unsigned char pad;    /* keep it zero: keys are compared byte by byte */
};

struct dport_stats {
	unsigned long long packets;
	unsigned long long bytes;
};

#endif /* TC_H */
