/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by xdp.bpf.c and the user-space program that reads its map. */
#ifndef XDP_H
#define XDP_H

/* Keys of the `proto_stats` map: 0..255 are IP protocol numbers (6 TCP, 17 UDP, 1 ICMP,
 * 58 ICMPv6...); NON_IP counts frames that are not IPv4 or IPv6 (ARP, LLDP...). */
#define NON_IP 256
#define PROTO_SLOTS 257

/* Value of the per-CPU `proto_stats` map: sum the copies of every CPU to read it. */
struct proto_stats {
	unsigned long long packets;
	unsigned long long bytes;
};

#endif /* XDP_H */
