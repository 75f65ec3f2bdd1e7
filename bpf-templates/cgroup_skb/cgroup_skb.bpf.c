// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * cgroup_skb: count the traffic of every process in a cgroup, both directions, and optionally
 * refuse its ICMP echo requests (ping).
 *
 * A cgroup_skb program runs for every packet a socket of the cgroup (or of a cgroup below it)
 * sends or receives. The data starts at the IP header (there is no Ethernet header here).
 * Return 1 to let the packet through, 0 to drop it.
 *
 * Attach: to a cgroup v2 directory, e.g. /sys/fs/cgroup/my.slice (the root, /sys/fs/cgroup,
 * sees the whole machine). Needs root. Kernel 4.10+ (bpf links: 5.7+).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "cgroup_skb.h"

#define ETH_P_IP 0x0800
#define IPPROTO_ICMP_ 1
#define ICMP_ECHO 8

#define SK_PASS 1
#define SK_DROP 0

/* Knob, set before load: drop outgoing IPv4 pings from the cgroup. */
const volatile bool block_icmp = false;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32); /* DIR_INGRESS or DIR_EGRESS */
	__type(value, struct traffic_stats);
} traffic SEC(".maps");

static __always_inline struct traffic_stats *count(struct __sk_buff *skb, u32 dir)
{
	struct traffic_stats *st = bpf_map_lookup_elem(&traffic, &dir);

	if (st) {
		st->packets++;
		st->bytes += skb->len;
	}
	return st;
}

SEC("cgroup_skb/ingress")
int cgroup_ingress(struct __sk_buff *skb)
{
	count(skb, DIR_INGRESS);
	return SK_PASS;
}

SEC("cgroup_skb/egress")
int cgroup_egress(struct __sk_buff *skb)
{
	struct traffic_stats *st = count(skb, DIR_EGRESS);
	struct iphdr iph;
	u8 icmp_type;

	if (!block_icmp || skb->protocol != bpf_htons(ETH_P_IP))
		return SK_PASS;
	/* Copy the IP header out of the packet: bpf_skb_load_bytes() does the bounds check. */
	if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)) < 0)
		return SK_PASS;
	if (iph.protocol != IPPROTO_ICMP_)
		return SK_PASS;
	if (bpf_skb_load_bytes(skb, iph.ihl * 4, &icmp_type, sizeof(icmp_type)) < 0)
		return SK_PASS;
	if (icmp_type != ICMP_ECHO)
		return SK_PASS;
	if (st)
		st->dropped++;
	return SK_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
