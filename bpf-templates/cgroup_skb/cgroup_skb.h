/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by cgroup_skb.bpf.c and the user-space program that reads its map. */
#ifndef CGROUP_SKB_H
#define CGROUP_SKB_H

/* Keys of the `traffic` map. */
#define DIR_INGRESS 0
#define DIR_EGRESS 1

struct traffic_stats {
	unsigned long long packets;
	unsigned long long bytes;
	unsigned long long dropped; /* refused by the block_icmp knob */
};

#endif /* CGROUP_SKB_H */
