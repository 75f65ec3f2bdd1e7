#!/usr/bin/env node
// Writes server/data/sections.json: libbpf's SEC() name table.
//
// Usage: node server/scripts/gen-sections.mjs [out.json]
//
// Curated from libbpf's section_defs[] (src/libbpf.c): the 1.1 table shipped by Debian 12 plus the
// entries added up to libbpf 1.6 (`since` says which libbpf first knows the name; a program built
// against an older libbpf fails to open with "missing BPF prog type, check ELF section name").
// libbpf's matching rules, kept here as `acceptsSuffix`:
//   - "name+" in libbpf (acceptsSuffix: true): SEC("name") exactly, or SEC("name/<anything>");
//   - "name"  in libbpf (acceptsSuffix: false): SEC("name") exactly, nothing may follow;
//   - a leading "?" (SEC("?xdp")) only turns autoload off and is stripped before matching.
// libbpf takes the first matching entry in table order, which puts the specific names first; for
// this table that is the same as taking the longest matching prefix.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outPath = process.argv[2] ?? join(here, '..', 'data', 'sections.json');

const SKB = 'struct __sk_buff *';
const REGS = 'struct pt_regs *';
const BTF_ARGS = 'u64 *';
const BTF_NOTE = 'BTF-typed arguments: write the function with BPF_PROG(name, args...) (the raw context is u64 *)';

// [prefix, programType, attachType | '', contextType, argForm, acceptsSuffix, returnCodes, description, extra]
/** @type {Array<[string, string, string, string, string, boolean, string, string, object?]>} */
const T = [
  ['socket', 'socket_filter', '', SKB, 'socket', false, 'socket_filter',
    'Socket filter attached with setsockopt(SO_ATTACH_BPF): sees packets a socket receives and decides how many bytes to keep.'],
  ['sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate', 'struct sk_reuseport_md *', 'sk_reuseport/migrate', false, 'sk_reuseport',
    'Picks the socket of an SO_REUSEPORT group for a new connection, and where to migrate requests of a closing listener.', {}],
  ['sk_reuseport', 'sk_reuseport', 'sk_reuseport_select', 'struct sk_reuseport_md *', 'sk_reuseport', false, 'sk_reuseport',
    'Picks which socket of an SO_REUSEPORT group receives a new packet or connection.'],
  ['kprobe', 'kprobe', '', REGS, 'kprobe/<function>[+<offset>]', true, 'kprobe',
    'Runs when the named kernel function is entered (a kprobe); read its arguments with BPF_KPROBE or PT_REGS_PARM*.'],
  ['uprobe', 'kprobe', '', REGS, 'uprobe/<binary path>:<function>[+<offset>]', true, 'kprobe',
    'Runs when a user-space function in the given binary or library is entered (a uprobe).'],
  ['uprobe.s', 'kprobe', '', REGS, 'uprobe.s/<binary path>:<function>[+<offset>]', true, 'kprobe',
    'Sleepable uprobe: may call helpers that sleep, such as bpf_copy_from_user.', { sleepable: true }],
  ['kretprobe', 'kprobe', '', REGS, 'kretprobe/<function>', true, 'kprobe',
    'Runs when the named kernel function returns; read its return value with BPF_KRETPROBE or PT_REGS_RC.'],
  ['uretprobe', 'kprobe', '', REGS, 'uretprobe/<binary path>:<function>', true, 'kprobe',
    'Runs when a user-space function in the given binary or library returns.'],
  ['uretprobe.s', 'kprobe', '', REGS, 'uretprobe.s/<binary path>:<function>', true, 'kprobe',
    'Sleepable uretprobe: may call helpers that sleep.', { sleepable: true }],
  ['kprobe.multi', 'kprobe', 'trace_kprobe_multi', REGS, 'kprobe.multi/<function glob>', true, 'kprobe',
    'One program attached as a kprobe to every kernel function matching a glob pattern (fprobe based).', {}],
  ['kretprobe.multi', 'kprobe', 'trace_kprobe_multi', REGS, 'kretprobe.multi/<function glob>', true, 'kprobe',
    'One program attached as a kretprobe to every kernel function matching a glob pattern.', {}],
  ['kprobe.session', 'kprobe', 'trace_kprobe_session', REGS, 'kprobe.session/<function glob>', true, 'kprobe_session',
    'Runs on entry and on return of matching kernel functions; returning non-zero on entry skips the return run.', { since: '1.4' }],
  ['uprobe.multi', 'kprobe', 'trace_uprobe_multi', REGS, 'uprobe.multi/<binary path>:<function glob>', true, 'kprobe',
    'One program attached as a uprobe to every function of a binary matching a glob pattern.', { since: '1.3' }],
  ['uretprobe.multi', 'kprobe', 'trace_uprobe_multi', REGS, 'uretprobe.multi/<binary path>:<function glob>', true, 'kprobe',
    'One program attached as a uretprobe to every function of a binary matching a glob pattern.', { since: '1.3' }],
  ['uprobe.multi.s', 'kprobe', 'trace_uprobe_multi', REGS, 'uprobe.multi.s/<binary path>:<function glob>', true, 'kprobe',
    'Sleepable multi-uprobe.', { since: '1.3', sleepable: true }],
  ['uretprobe.multi.s', 'kprobe', 'trace_uprobe_multi', REGS, 'uretprobe.multi.s/<binary path>:<function glob>', true, 'kprobe',
    'Sleepable multi-uretprobe.', { since: '1.3', sleepable: true }],
  ['uprobe.session', 'kprobe', 'trace_uprobe_session', REGS, 'uprobe.session/<binary path>:<function glob>', true, 'kprobe_session',
    'Runs on entry and on return of matching user functions; returning non-zero on entry skips the return run.', { since: '1.6' }],
  ['ksyscall', 'kprobe', '', REGS, 'ksyscall/<syscall name>', true, 'kprobe',
    'kprobe on a system call entry that hides the architecture-specific syscall function name; use BPF_KSYSCALL.', {}],
  ['kretsyscall', 'kprobe', '', REGS, 'kretsyscall/<syscall name>', true, 'kprobe',
    'kretprobe on a system call return that hides the architecture-specific syscall function name.', {}],
  ['usdt', 'kprobe', '', REGS, 'usdt/<binary path>:<provider>:<name>', true, 'kprobe',
    'Runs at a user-space static tracepoint (USDT); read its arguments with BPF_USDT or bpf_usdt_arg.', {}],
  ['usdt.s', 'kprobe', '', REGS, 'usdt.s/<binary path>:<provider>:<name>', true, 'kprobe',
    'Sleepable USDT program.', { since: '1.5', sleepable: true }],
  ['tc/ingress', 'sched_cls', 'tcx_ingress', SKB, 'tc/ingress', false, 'tcx',
    'Traffic-control program on a device\'s ingress, attached through tcx (alias of tcx/ingress).', { since: '1.3' }],
  ['tc/egress', 'sched_cls', 'tcx_egress', SKB, 'tc/egress', false, 'tcx',
    'Traffic-control program on a device\'s egress, attached through tcx (alias of tcx/egress).', { since: '1.3' }],
  ['tcx/ingress', 'sched_cls', 'tcx_ingress', SKB, 'tcx/ingress', false, 'tcx',
    'Traffic-control program on a device\'s ingress, attached with a tcx link (kernel 6.6+).', { since: '1.3' }],
  ['tcx/egress', 'sched_cls', 'tcx_egress', SKB, 'tcx/egress', false, 'tcx',
    'Traffic-control program on a device\'s egress, attached with a tcx link (kernel 6.6+).', { since: '1.3' }],
  ['tc', 'sched_cls', '', SKB, 'tc', false, 'tc',
    'Traffic-control classifier (clsact/cls_bpf, usually direct-action): inspects, changes, redirects or drops packets.'],
  ['classifier', 'sched_cls', '', SKB, 'classifier', false, 'tc',
    'Traffic-control classifier: older name of SEC("tc").'],
  ['action', 'sched_act', '', SKB, 'action', false, 'tc',
    'Traffic-control action (act_bpf) program.'],
  ['netkit/primary', 'sched_cls', 'netkit_primary', SKB, 'netkit/primary', false, 'netkit',
    'Program on the primary device of a netkit pair (kernel 6.7+).', { since: '1.3' }],
  ['netkit/peer', 'sched_cls', 'netkit_peer', SKB, 'netkit/peer', false, 'netkit',
    'Program on the peer device of a netkit pair (kernel 6.7+).', { since: '1.3' }],
  ['tracepoint', 'tracepoint', '', 'void *', 'tracepoint/<category>/<event>', true, 'tracepoint',
    'Runs at a kernel tracepoint; the context is the event\'s record (struct trace_event_raw_<event> * from vmlinux.h).', { contextFlexible: true }],
  ['tp', 'tracepoint', '', 'void *', 'tp/<category>/<event>', true, 'tracepoint',
    'Runs at a kernel tracepoint (short for tracepoint/); the context is the event\'s record (struct trace_event_raw_<event> *).', { contextFlexible: true }],
  ['raw_tracepoint', 'raw_tracepoint', '', 'struct bpf_raw_tracepoint_args *', 'raw_tracepoint/<event>', true, 'tracepoint',
    'Runs at a kernel tracepoint with its raw arguments (ctx->args[i]), without the cost of building the event record.'],
  ['raw_tp', 'raw_tracepoint', '', 'struct bpf_raw_tracepoint_args *', 'raw_tp/<event>', true, 'tracepoint',
    'Runs at a kernel tracepoint with its raw arguments (short for raw_tracepoint/).'],
  ['raw_tracepoint.w', 'raw_tracepoint_writable', '', 'struct bpf_raw_tracepoint_args *', 'raw_tracepoint.w/<event>', true, 'tracepoint',
    'Raw tracepoint that may write into the tracepoint\'s buffer argument (for the few writable tracepoints).'],
  ['raw_tp.w', 'raw_tracepoint_writable', '', 'struct bpf_raw_tracepoint_args *', 'raw_tp.w/<event>', true, 'tracepoint',
    'Writable raw tracepoint (short for raw_tracepoint.w/).'],
  ['tp_btf', 'tracing', 'trace_raw_tp', BTF_ARGS, 'tp_btf/<event>', true, 'tracing_any',
    'BTF-typed raw tracepoint: the tracepoint\'s arguments arrive typed (write it with BPF_PROG) and kernel pointers can be read directly.', { btf: true }],
  ['fentry', 'tracing', 'trace_fentry', BTF_ARGS, 'fentry/<function>', true, 'tracing_zero',
    'Runs at the entry of a kernel function through a BPF trampoline, with typed arguments (BPF_PROG); cheaper than a kprobe.', { btf: true }],
  ['fmod_ret', 'tracing', 'modify_return', BTF_ARGS, 'fmod_ret/<function>', true, 'fmod_ret',
    'Runs before a kernel function allowed for error injection and may replace its return value (0 lets the function run).', { btf: true }],
  ['fexit', 'tracing', 'trace_fexit', BTF_ARGS, 'fexit/<function>', true, 'tracing_zero',
    'Runs when a kernel function returns, with its typed arguments and its return value as the last BPF_PROG argument.', { btf: true }],
  ['fentry.s', 'tracing', 'trace_fentry', BTF_ARGS, 'fentry.s/<function>', true, 'tracing_zero',
    'Sleepable fentry (only for functions that may sleep, e.g. syscalls).', { btf: true, sleepable: true }],
  ['fmod_ret.s', 'tracing', 'modify_return', BTF_ARGS, 'fmod_ret.s/<function>', true, 'fmod_ret',
    'Sleepable fmod_ret.', { btf: true, sleepable: true }],
  ['fexit.s', 'tracing', 'trace_fexit', BTF_ARGS, 'fexit.s/<function>', true, 'tracing_zero',
    'Sleepable fexit.', { btf: true, sleepable: true }],
  ['freplace', 'ext', '', BTF_ARGS, 'freplace/<function>', true, 'ext',
    'Replaces a global function of another loaded BPF program (its signature must match).', { btf: true }],
  ['lsm', 'lsm', 'lsm_mac', BTF_ARGS, 'lsm/<hook>', true, 'lsm',
    'Runs at a Linux Security Module hook (BPF LSM) and may deny the operation by returning a negative errno.', { btf: true }],
  ['lsm.s', 'lsm', 'lsm_mac', BTF_ARGS, 'lsm.s/<hook>', true, 'lsm',
    'Sleepable BPF LSM program.', { btf: true, sleepable: true }],
  ['lsm_cgroup', 'lsm', 'lsm_cgroup', BTF_ARGS, 'lsm_cgroup/<hook>', true, 'lsm_cgroup',
    'BPF LSM program attached per cgroup: returns 1 to allow, 0 to deny with -EPERM.', { btf: true }],
  ['iter', 'tracing', 'trace_iter', 'struct bpf_iter__<target> *', 'iter/<target>', true, 'iter',
    'BPF iterator: runs once per kernel object (task, map, tcp socket...) and writes text with BPF_SEQ_PRINTF when its file is read.', { btf: true }],
  ['iter.s', 'tracing', 'trace_iter', 'struct bpf_iter__<target> *', 'iter.s/<target>', true, 'iter',
    'Sleepable BPF iterator.', { btf: true, sleepable: true }],
  ['syscall', 'syscall', '', 'void *', 'syscall', false, 'syscall',
    'Program run on demand with BPF_PROG_TEST_RUN (e.g. a loader) that may itself call the bpf() syscall; the context is your own struct.', { sleepable: true, contextFlexible: true }],
  ['xdp.frags/devmap', 'xdp', 'xdp_devmap', 'struct xdp_md *', 'xdp.frags/devmap', false, 'xdp',
    'XDP program run on a packet redirected into a devmap entry, multi-buffer (jumbo frame) aware.', {}],
  ['xdp/devmap', 'xdp', 'xdp_devmap', 'struct xdp_md *', 'xdp/devmap', false, 'xdp',
    'XDP program run on a packet redirected into a devmap entry, before it is transmitted.'],
  ['xdp.frags/cpumap', 'xdp', 'xdp_cpumap', 'struct xdp_md *', 'xdp.frags/cpumap', false, 'xdp',
    'XDP program run on the target CPU for a packet redirected into a cpumap, multi-buffer aware.', {}],
  ['xdp/cpumap', 'xdp', 'xdp_cpumap', 'struct xdp_md *', 'xdp/cpumap', false, 'xdp',
    'XDP program run on the target CPU for a packet redirected into a cpumap entry.'],
  ['xdp.frags', 'xdp', 'xdp', 'struct xdp_md *', 'xdp.frags', false, 'xdp',
    'XDP program that accepts multi-buffer (jumbo or GRO) packets; use bpf_xdp_load_bytes for data past the first buffer.', {}],
  ['xdp', 'xdp', 'xdp', 'struct xdp_md *', 'xdp', false, 'xdp',
    'XDP program: runs in the network driver on each received packet, before the kernel allocates an skb.'],
  ['perf_event', 'perf_event', '', 'struct bpf_perf_event_data *', 'perf_event', false, 'perf_event',
    'Runs on each perf event sample (CPU clock, hardware counters...), typically to collect stacks for profiling.'],
  ['lwt_in', 'lwt_in', '', SKB, 'lwt_in', false, 'lwt',
    'Lightweight-tunnel program on the input path of routes that use it (ip route ... encap bpf in).'],
  ['lwt_out', 'lwt_out', '', SKB, 'lwt_out', false, 'lwt',
    'Lightweight-tunnel program on the output path of routes that use it.'],
  ['lwt_xmit', 'lwt_xmit', '', SKB, 'lwt_xmit', false, 'lwt',
    'Lightweight-tunnel program at transmit time; may encapsulate or redirect the packet.'],
  ['lwt_seg6local', 'lwt_seg6local', '', SKB, 'lwt_seg6local', false, 'lwt',
    'Program for an SRv6 End.BPF local segment action.'],
  ['sockops', 'sock_ops', 'cgroup_sock_ops', 'struct bpf_sock_ops *', 'sockops', false, 'sock_ops',
    'Runs at TCP events of the sockets of a cgroup (connect, established, RTO...) to tune them or add sockets to a sockmap.'],
  ['sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser', SKB, 'sk_skb/stream_parser', false, 'sk_skb_parser',
    'Parser of a sockmap\'s TCP stream: returns the length of the next message.'],
  ['sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict', SKB, 'sk_skb/stream_verdict', false, 'sk_skb',
    'Verdict on each message of a sockmap socket: pass, drop, or redirect to another socket.'],
  ['sk_skb/verdict', 'sk_skb', 'sk_skb_verdict', SKB, 'sk_skb/verdict', false, 'sk_skb',
    'Verdict on each skb received by a sockmap socket (TCP or UDP), without a stream parser.'],
  ['sk_skb', 'sk_skb', '', SKB, 'sk_skb', false, 'sk_skb',
    'sockmap skb program whose attach point is chosen at attach time.'],
  ['sk_msg', 'sk_msg', 'sk_msg_verdict', 'struct sk_msg_md *', 'sk_msg', false, 'sk_msg',
    'Verdict on each sendmsg/sendfile of a sockmap socket: pass, drop, or redirect to another socket.'],
  ['lirc_mode2', 'lirc_mode2', 'lirc_mode2', 'unsigned int *', 'lirc_mode2', false, 'lirc_mode2',
    'Decodes infrared remote-control pulses on a LIRC device.'],
  ['flow_dissector', 'flow_dissector', 'flow_dissector', SKB, 'flow_dissector', false, 'flow_dissector',
    'Replaces the kernel\'s packet flow dissector (parsing of headers into flow keys) in a network namespace.'],
  ['cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress', SKB, 'cgroup_skb/ingress', false, 'cgroup_skb',
    'Filters the packets that the sockets of a cgroup receive: 1 to let through, 0 to drop.'],
  ['cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress', SKB, 'cgroup_skb/egress', false, 'cgroup_skb_egress',
    'Filters the packets that the sockets of a cgroup send: 1 to let through, 0 to drop.'],
  ['cgroup/skb', 'cgroup_skb', '', SKB, 'cgroup/skb', false, 'cgroup_skb',
    'cgroup skb filter whose direction is chosen at attach time.'],
  ['cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create', 'struct bpf_sock *', 'cgroup/sock_create', false, 'cgroup_allow',
    'Runs when a process of the cgroup creates an inet socket: 1 allows, 0 denies with EPERM.'],
  ['cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release', 'struct bpf_sock *', 'cgroup/sock_release', false, 'cgroup_allow',
    'Runs when an inet socket of the cgroup is released.'],
  ['cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create', 'struct bpf_sock *', 'cgroup/sock', false, 'cgroup_allow',
    'Runs when a process of the cgroup creates an inet socket (older name of cgroup/sock_create).'],
  ['cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind', 'struct bpf_sock *', 'cgroup/post_bind4', false, 'cgroup_allow',
    'Runs after an IPv4 socket of the cgroup is bound: 0 makes bind() fail with EPERM.'],
  ['cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind', 'struct bpf_sock *', 'cgroup/post_bind6', false, 'cgroup_allow',
    'Runs after an IPv6 socket of the cgroup is bound: 0 makes bind() fail with EPERM.'],
  ['cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind', 'struct bpf_sock_addr *', 'cgroup/bind4', false, 'cgroup_bind',
    'Runs on bind() of an IPv4 socket of the cgroup; may rewrite the address or deny it.'],
  ['cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind', 'struct bpf_sock_addr *', 'cgroup/bind6', false, 'cgroup_bind',
    'Runs on bind() of an IPv6 socket of the cgroup; may rewrite the address or deny it.'],
  ['cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect', 'struct bpf_sock_addr *', 'cgroup/connect4', false, 'cgroup_allow',
    'Runs on connect() of an IPv4 socket of the cgroup; may rewrite the destination or deny it.'],
  ['cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect', 'struct bpf_sock_addr *', 'cgroup/connect6', false, 'cgroup_allow',
    'Runs on connect() of an IPv6 socket of the cgroup; may rewrite the destination or deny it.'],
  ['cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup_unix_connect', 'struct bpf_sock_addr *', 'cgroup/connect_unix', false, 'cgroup_allow',
    'Runs on connect() of a Unix socket of the cgroup; may rewrite the path or deny it (kernel 6.7+).', { since: '1.3' }],
  ['cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg', 'struct bpf_sock_addr *', 'cgroup/sendmsg4', false, 'cgroup_allow',
    'Runs on sendmsg() of an unconnected UDPv4 socket of the cgroup; may rewrite the destination or deny it.'],
  ['cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg', 'struct bpf_sock_addr *', 'cgroup/sendmsg6', false, 'cgroup_allow',
    'Runs on sendmsg() of an unconnected UDPv6 socket of the cgroup; may rewrite the destination or deny it.'],
  ['cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_sendmsg', 'struct bpf_sock_addr *', 'cgroup/sendmsg_unix', false, 'cgroup_allow',
    'Runs on sendmsg() of a Unix datagram socket of the cgroup (kernel 6.7+).', { since: '1.3' }],
  ['cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg', 'struct bpf_sock_addr *', 'cgroup/recvmsg4', false, 'cgroup_must_allow',
    'Runs on recvmsg() of a UDPv4 socket of the cgroup to rewrite the source address the process sees.'],
  ['cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg', 'struct bpf_sock_addr *', 'cgroup/recvmsg6', false, 'cgroup_must_allow',
    'Runs on recvmsg() of a UDPv6 socket of the cgroup to rewrite the source address the process sees.'],
  ['cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_recvmsg', 'struct bpf_sock_addr *', 'cgroup/recvmsg_unix', false, 'cgroup_must_allow',
    'Runs on recvmsg() of a Unix socket of the cgroup to rewrite the source path (kernel 6.7+).', { since: '1.3' }],
  ['cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername', 'struct bpf_sock_addr *', 'cgroup/getpeername4', false, 'cgroup_must_allow',
    'Runs on getpeername() of an IPv4 socket of the cgroup to rewrite the address returned.'],
  ['cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername', 'struct bpf_sock_addr *', 'cgroup/getpeername6', false, 'cgroup_must_allow',
    'Runs on getpeername() of an IPv6 socket of the cgroup to rewrite the address returned.'],
  ['cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup_unix_getpeername', 'struct bpf_sock_addr *', 'cgroup/getpeername_unix', false, 'cgroup_must_allow',
    'Runs on getpeername() of a Unix socket of the cgroup (kernel 6.7+).', { since: '1.3' }],
  ['cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname', 'struct bpf_sock_addr *', 'cgroup/getsockname4', false, 'cgroup_must_allow',
    'Runs on getsockname() of an IPv4 socket of the cgroup to rewrite the address returned.'],
  ['cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname', 'struct bpf_sock_addr *', 'cgroup/getsockname6', false, 'cgroup_must_allow',
    'Runs on getsockname() of an IPv6 socket of the cgroup to rewrite the address returned.'],
  ['cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup_unix_getsockname', 'struct bpf_sock_addr *', 'cgroup/getsockname_unix', false, 'cgroup_must_allow',
    'Runs on getsockname() of a Unix socket of the cgroup (kernel 6.7+).', { since: '1.3' }],
  ['cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl', 'struct bpf_sysctl *', 'cgroup/sysctl', false, 'cgroup_allow',
    'Runs when a process of the cgroup reads or writes a /proc/sys entry; may deny or rewrite the value.'],
  ['cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt', 'struct bpf_sockopt *', 'cgroup/getsockopt', false, 'cgroup_allow',
    'Runs on getsockopt() by a process of the cgroup; may change the value returned or deny the call.'],
  ['cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt', 'struct bpf_sockopt *', 'cgroup/setsockopt', false, 'cgroup_allow',
    'Runs on setsockopt() by a process of the cgroup; may change the option or deny the call.'],
  ['cgroup/dev', 'cgroup_device', 'cgroup_device', 'struct bpf_cgroup_dev_ctx *', 'cgroup/dev', false, 'cgroup_allow',
    'Decides whether processes of the cgroup may open or mknod a device: 1 allows, 0 denies.'],
  ['struct_ops', 'struct_ops', '', BTF_ARGS, 'struct_ops/<member>', true, 'struct_ops',
    'Implements one callback of a kernel ops structure (TCP congestion control, sched_ext, HID...) declared in SEC(".struct_ops").', { btf: true }],
  ['struct_ops.s', 'struct_ops', '', BTF_ARGS, 'struct_ops.s/<member>', true, 'struct_ops',
    'Sleepable struct_ops callback.', { btf: true, sleepable: true, since: '1.3' }],
  ['sk_lookup', 'sk_lookup', 'sk_lookup', 'struct bpf_sk_lookup *', 'sk_lookup', false, 'sk_lookup',
    'Chooses the listening socket for a new connection or UDP packet in a network namespace, before the normal lookup.'],
  ['netfilter', 'netfilter', 'netfilter', 'struct bpf_nf_ctx *', 'netfilter', false, 'netfilter',
    'Netfilter hook program (kernel 6.4+): returns NF_ACCEPT or NF_DROP for each packet.', { since: '1.2' }],
];

const sections = T.map(([prefix, programType, attachType, contextType, argForm, acceptsSuffix, returnCodes, description, extra = {}]) => {
  const s = { prefix, programType };
  if (attachType) s.attachType = attachType;
  s.contextType = contextType;
  if (extra.btf) s.contextNote = BTF_NOTE;
  if (extra.contextFlexible) s.contextFlexible = true;
  s.argForm = acceptsSuffix ? argForm : '';
  s.acceptsSuffix = acceptsSuffix;
  if (extra.sleepable) s.sleepable = true;
  // `since`: the first libbpf release that knows the name; '1.0' means 1.0 or earlier.
  s.since = extra.since ?? '1.0';
  s.description = description;
  s.returnCodes = returnCodes;
  return s;
});

const seen = new Set();
for (const s of sections) {
  if (seen.has(s.prefix)) throw new Error(`duplicate section ${s.prefix}`);
  seen.add(s.prefix);
}
writeFileSync(outPath, JSON.stringify(sections, null, 1) + '\n');
console.log(`${sections.length} section definitions -> ${outPath}`);
