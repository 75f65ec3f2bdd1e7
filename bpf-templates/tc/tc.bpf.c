// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * tc classifier: count IPv4 TCP and UDP packets per destination port, and optionally drop one
 * port.
 *
 * A tc (traffic control) program runs on a socket buffer (struct __sk_buff), at an interface's
 * ingress or egress: later than XDP, but it sees egress traffic too and may read skb metadata
 * (mark, priority, length). It reads the packet between skb->data and skb->data_end with the
 * same bounds checks as XDP. Its return value is a TC_ACT_* verdict.
 *
 * Attach: to a network interface, ingress or egress (tcx links on 6.6+, else a clsact qdisc
 * filter). Needs root (CAP_NET_ADMIN + CAP_BPF). Kernel 4.1+.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "tc.h"

/* From linux/pkt_cls.h and linux/if_ether.h: #defines are not in vmlinux.h. */
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* Knob, set before load: drop packets to this TCP/UDP port (0: drop nothing). */
const volatile u16 drop_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct dport_key);
	__type(value, struct dport_stats);
} ports SEC(".maps");

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct dport_key key = {};
	struct dport_stats *st;
	struct iphdr *iph;
	void *l4;

	/* skb->protocol is already parsed by the kernel: a cheap early exit for non-IPv4. */
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return TC_ACT_OK;
	if (iph->ihl < 5)
		return TC_ACT_OK;

	/* The transport header follows the IP options: a variable offset (ihl * 4 <= 60 bytes). The
	 * verifier tracks that bound and still demands the check against data_end below. */
	l4 = (void *)iph + iph->ihl * 4;
	if (iph->protocol == IPPROTO_TCP_) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return TC_ACT_OK;
		key.port = bpf_ntohs(tcp->dest);
	} else if (iph->protocol == IPPROTO_UDP_) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return TC_ACT_OK;
		key.port = bpf_ntohs(udp->dest);
	} else {
		return TC_ACT_OK;
	}
	key.proto = iph->protocol;

	st = bpf_map_lookup_elem(&ports, &key);
	if (!st) {
		struct dport_stats zero = {};

		bpf_map_update_elem(&ports, &key, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&ports, &key);
		if (!st)
			return TC_ACT_OK;
	}
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, skb->len);

	if (drop_port && key.port == drop_port)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
