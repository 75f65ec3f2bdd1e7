// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * socket filter: count IPv4 packets per IP protocol as a packet socket receives them, and pass
 * only one protocol to the socket if asked.
 *
 * A socket filter is attached to one socket (setsockopt SO_ATTACH_BPF) and decides how much of
 * each packet that socket receives: return the number of bytes to keep, 0 to drop the packet for
 * this socket only. Nothing else on the machine is affected: it is tcpdump's mechanism. It may
 * not read the packet directly: bpf_skb_load_bytes() copies bytes out with its own bounds check.
 *
 * Attach: to a socket; on a raw packet socket (AF_PACKET) the data starts at the Ethernet
 * header. Needs root (CAP_NET_RAW to open the packet socket). Kernel 3.19+.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "socket_filter.h"

#define ETH_P_IP 0x0800
#define ETH_HLEN 14

/* Knob, set before load: the IP protocol the socket receives (-1: every packet). */
const volatile int only_proto = -1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PROTO_SLOTS);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

SEC("socket")
int socket_count(struct __sk_buff *skb)
{
	u8 proto;
	u32 key;
	u64 *count;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return only_proto < 0 ? skb->len : 0;
	/* Copy one byte, the IPv4 protocol field, out of the packet. */
	if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &proto, sizeof(proto)) < 0)
		return 0;
	key = proto;
	count = bpf_map_lookup_elem(&counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);

	if (only_proto >= 0 && proto != only_proto)
		return 0;     /* this socket does not receive the packet */
	return skb->len;      /* keep the whole packet */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
