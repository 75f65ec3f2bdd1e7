// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * XDP: parse Ethernet (with VLAN tags), IPv4 and IPv6, and count packets and bytes per IP
 * protocol; optionally drop one protocol.
 *
 * XDP runs in the network driver, before the kernel allocates a socket buffer: the fastest
 * place to drop or redirect packets. The program sees the raw frame between ctx->data and
 * ctx->data_end, and the verifier rejects any read it cannot prove is inside that range: every
 * header is checked against data_end before it is touched.
 *
 * Attach: to a network interface (its name, e.g. eth0). Needs root (CAP_NET_ADMIN + CAP_BPF).
 * Kernel 4.8+ (bpf links: 5.9+).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdp.h"

/* From linux/if_ether.h: #defines are not in vmlinux.h. */
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8

/* An 802.1Q/802.1ad tag, as it sits between the MAC addresses and the EtherType. */
struct vlan_tag {
	__be16 tci;
	__be16 encapsulated_proto;
};

/* Knob, set before load: the IP protocol to drop (e.g. 1, ICMP); -1 drops nothing. */
const volatile int drop_proto = -1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROTO_SLOTS);
	__type(key, u32);
	__type(value, struct proto_stats);
} proto_stats SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	/* The frame's bounds. Packet pointers are only usable after a check against data_end. */
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct proto_stats *st;
	void *cursor;
	u16 h_proto;
	u32 key = NON_IP;

	/* Ethernet header: 14 bytes must be there before eth->h_proto may be read. */
	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	h_proto = eth->h_proto;
	cursor = eth + 1;

	/* Up to two VLAN tags (QinQ). The loop has a constant bound, so the verifier accepts it. */
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_tag *vlan = cursor;

		if (h_proto != bpf_htons(ETH_P_8021Q) && h_proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return XDP_PASS;
		h_proto = vlan->encapsulated_proto;
		cursor = vlan + 1;
	}

	if (h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = cursor;

		if ((void *)(iph + 1) > data_end)
			return XDP_PASS;
		/* ihl counts 32-bit words; less than 5 is a malformed header. */
		if (iph->ihl < 5)
			return XDP_PASS;
		key = iph->protocol;
	} else if (h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6h = cursor;

		if ((void *)(ip6h + 1) > data_end)
			return XDP_PASS;
		/* The first next-header: extension headers (0, 43, 44, 60...) are counted as such. */
		key = ip6h->nexthdr;
	}

	/* Per-CPU value: this CPU's copy only, so plain increments are safe. */
	st = bpf_map_lookup_elem(&proto_stats, &key);
	if (st) {
		st->packets++;
		st->bytes += data_end - data;
	}

	if (drop_proto >= 0 && key == (u32)drop_proto)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
