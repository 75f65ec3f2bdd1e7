/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Types shared by socket_filter.bpf.c and the user-space program that reads its map. */
#ifndef SOCKET_FILTER_H
#define SOCKET_FILTER_H

/* Keys of the `counts` map: IP protocol numbers 0..255 (6 TCP, 17 UDP, 1 ICMP...). */
#define PROTO_SLOTS 256

#endif /* SOCKET_FILTER_H */
