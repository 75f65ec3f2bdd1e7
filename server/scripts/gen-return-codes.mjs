#!/usr/bin/env node
// Writes server/data/return-codes.json: what each kind of BPF program may return.
//
// Usage: node server/scripts/gen-return-codes.mjs [out.json]
//
// Curated from the uapi headers (enum xdp_action, TC_ACT_* in linux/pkt_cls.h, enum sk_action,
// enum bpf_ret_code, NF_* in linux/netfilter.h) and the kernel's check_return_code().
// `verifierRange` was measured on Linux 6.18 by loading `r0 = N; exit` for each program type and
// attach type and reading "At program exit the register R0 has ... should have been in [a, b]";
// sets without it are not range-checked by the verifier (an unknown value is then handled at run
// time: dropped for XDP, treated like TC_ACT_OK/unspec for tc...). Keys are referenced by
// sections.json's `returnCodes`.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outPath = process.argv[2] ?? join(here, '..', 'data', 'return-codes.json');

const v = (name, value, description) => ({ name, value, description });
const allowDeny = [
  v('1', 1, 'Allow the operation.'),
  v('0', 0, 'Deny it: the system call fails with EPERM (a program may pick another errno with bpf_set_retval).'),
];

const sets = {
  xdp: {
    programTypes: ['xdp'],
    description:
      'An XDP program returns an action from enum xdp_action. An unknown value is treated as XDP_ABORTED (the packet is dropped with a warning).',
    header: 'linux/bpf.h (enum xdp_action)',
    values: [
      v('XDP_ABORTED', 0, 'Drop the packet and raise the xdp:xdp_exception tracepoint: for program errors.'),
      v('XDP_DROP', 1, 'Drop the packet silently, at the earliest possible point.'),
      v('XDP_PASS', 2, 'Let the packet continue to the normal network stack.'),
      v('XDP_TX', 3, 'Send the (possibly modified) packet back out of the interface it arrived on.'),
      v(
        'XDP_REDIRECT',
        4,
        'Send the packet elsewhere (another interface, CPU or AF_XDP socket), as set by bpf_redirect/bpf_redirect_map.',
      ),
    ],
  },
  tc: {
    programTypes: ['sched_cls', 'sched_act'],
    description:
      'A tc program in direct-action mode (what libbpf and `tc ... da` use) returns a TC_ACT_* verdict. Define the constants yourself or include linux/pkt_cls.h.',
    header: 'linux/pkt_cls.h',
    values: [
      v('TC_ACT_UNSPEC', -1, 'Use the default action configured for the qdisc (usually: continue like TC_ACT_OK).'),
      v('TC_ACT_OK', 0, 'Let the packet continue.'),
      v('TC_ACT_RECLASSIFY', 1, 'Restart classification from the first filter.'),
      v('TC_ACT_SHOT', 2, 'Drop the packet.'),
      v('TC_ACT_PIPE', 3, 'Continue with the next action in the chain.'),
      v(
        'TC_ACT_STOLEN',
        4,
        'The packet was consumed (queued or redirected by the program); stop processing it, without counting a drop.',
      ),
      v('TC_ACT_QUEUED', 5, 'Like TC_ACT_STOLEN.'),
      v('TC_ACT_REPEAT', 6, 'Run the same action again.'),
      v('TC_ACT_REDIRECT', 7, 'Redirect the packet as set by bpf_redirect/bpf_redirect_neigh/bpf_redirect_peer.'),
      v('TC_ACT_TRAP', 8, 'Hand the packet to the CPU (for offloaded filters); in software like TC_ACT_STOLEN.'),
    ],
  },
  tcx: {
    programTypes: [],
    description:
      'A tcx program (tcx/ingress, tcx/egress, kernel 6.6+) returns a TCX_* verdict; TC_ACT_* values are also accepted (TC_ACT_OK = TCX_PASS, TC_ACT_SHOT = TCX_DROP, TC_ACT_REDIRECT = TCX_REDIRECT).',
    header: 'linux/bpf.h (enum tcx_action_base, kernel 6.6+)',
    values: [
      v(
        'TCX_NEXT',
        -1,
        'Continue with the next program attached to the device (the end of the chain lets the packet pass).',
      ),
      v('TCX_PASS', 0, 'Let the packet continue, skipping the remaining programs.'),
      v('TCX_DROP', 2, 'Drop the packet.'),
      v('TCX_REDIRECT', 7, 'Redirect the packet as set by bpf_redirect and friends.'),
    ],
  },
  netkit: {
    programTypes: [],
    description: 'A netkit program (kernel 6.7+) returns a NETKIT_* verdict.',
    header: 'linux/if_link.h (enum netkit_action)',
    values: [
      v('NETKIT_NEXT', -1, "Continue with the next program, or the device's default policy."),
      v('NETKIT_PASS', 0, 'Let the packet through.'),
      v('NETKIT_DROP', 2, 'Drop the packet.'),
      v('NETKIT_REDIRECT', 7, 'Redirect the packet as set by bpf_redirect.'),
    ],
  },
  socket_filter: {
    programTypes: ['socket_filter'],
    description:
      'A socket filter returns how many bytes of the packet to keep: 0 drops the packet, a value at least the packet length (e.g. skb->len or 0xffffffff) keeps all of it, a smaller value truncates it.',
    values: [
      v('0', 0, 'Drop the packet (the socket does not receive it).'),
      v('skb->len', null, 'Keep the whole packet (any value >= the packet length does).'),
    ],
  },
  kprobe: {
    programTypes: ['kprobe'],
    description:
      'The return value of a kprobe/uprobe/USDT program only matters when a perf event is also attached to the probe: 1 records the event, 0 filters it out. Return 0.',
    values: [v('0', 0, 'Usual value.'), v('1', 1, 'Also record the perf event of the probe, when one is attached.')],
  },
  kprobe_session: {
    programTypes: [],
    description:
      'A kprobe.session/uprobe.session program runs at entry and at return: at entry, 0 also runs it at return and 1 skips the return run. The verifier enforces [0, 1].',
    verifierRange: [0, 1],
    values: [v('0', 0, 'Run the program at return too.'), v('1', 1, 'Do not run it at return.')],
  },
  tracepoint: {
    programTypes: ['tracepoint', 'raw_tracepoint', 'raw_tracepoint_writable'],
    description:
      'The return value of a tracepoint program only filters an attached perf event (1 records it, 0 filters it out). Return 0.',
    values: [
      v('0', 0, 'Usual value.'),
      v('1', 1, 'Also record the event to a perf buffer attached to the tracepoint.'),
    ],
  },
  perf_event: {
    programTypes: ['perf_event'],
    description: 'A perf_event program returns 0 (the value is not used to filter samples).',
    values: [v('0', 0, 'Usual value.')],
  },
  tracing_zero: {
    programTypes: ['tracing'],
    description: 'fentry and fexit programs must return 0 (enforced by the verifier since Linux 5.x).',
    verifierRange: [0, 0],
    values: [v('0', 0, 'The only accepted value.')],
  },
  tracing_any: {
    programTypes: [],
    description: "A tp_btf program's return value is ignored; return 0.",
    values: [v('0', 0, 'Usual value.')],
  },
  fmod_ret: {
    programTypes: [],
    description:
      'An fmod_ret program returns 0 to let the traced function run normally, or a value (usually -errno) that the function returns instead, without running.',
    values: [
      v('0', 0, 'Run the traced function normally.'),
      v('-errno', null, 'Skip the function and make it return this value (e.g. -EPERM).'),
    ],
  },
  ext: {
    programTypes: ['ext'],
    description: 'A freplace program returns what the global function it replaces would return.',
    values: [],
  },
  lsm: {
    programTypes: ['lsm'],
    description:
      'A BPF LSM program returns 0 to allow or a negative errno to deny (e.g. -EPERM); for hooks that return void the value is ignored. Since Linux 6.12 the verifier enforces [-4095, 0] on hooks returning an errno.',
    verifierRange: [-4095, 0],
    values: [
      v('0', 0, 'Allow the operation (other LSMs may still deny it).'),
      v('-EPERM', -1, 'Deny the operation with this errno (any -errno).'),
    ],
  },
  lsm_cgroup: {
    programTypes: [],
    description:
      'A per-cgroup BPF LSM program returns 1 to allow and 0 to deny (the hook then fails with EPERM, or the errno set with bpf_set_retval).',
    verifierRange: [0, 1],
    values: allowDeny,
  },
  iter: {
    programTypes: [],
    description:
      'A BPF iterator returns 0 to go on to the next object; 1 makes the read() retry the same object later. The verifier enforces [0, 1].',
    verifierRange: [0, 1],
    values: [v('0', 0, 'Continue with the next object.'), v('1', 1, 'Stop and retry this object on the next read().')],
  },
  syscall: {
    programTypes: ['syscall'],
    description:
      "A syscall program's return value is handed to the caller of BPF_PROG_TEST_RUN (retval); any value is accepted.",
    values: [v('0', 0, 'Usual success value.')],
  },
  struct_ops: {
    programTypes: ['struct_ops'],
    description:
      'A struct_ops program returns what the kernel callback it implements returns (see the ops structure, e.g. tcp_congestion_ops or sched_ext_ops).',
    values: [],
  },
  lwt: {
    programTypes: ['lwt_in', 'lwt_out', 'lwt_xmit', 'lwt_seg6local'],
    description: 'A lightweight-tunnel program returns an enum bpf_ret_code value.',
    header: 'linux/bpf.h (enum bpf_ret_code)',
    values: [
      v('BPF_OK', 0, 'Continue processing the packet normally.'),
      v('BPF_DROP', 2, 'Drop the packet.'),
      v('BPF_REDIRECT', 7, 'Redirect the packet (lwt_xmit), as set by bpf_redirect.'),
      v('BPF_LWT_REROUTE', 128, 'Route the packet again after bpf_lwt_push_encap changed it (lwt_in, lwt_xmit).'),
    ],
  },
  flow_dissector: {
    programTypes: ['flow_dissector'],
    description: 'A flow dissector returns an enum bpf_ret_code value after filling ctx->flow_keys.',
    header: 'linux/bpf.h (enum bpf_ret_code)',
    values: [
      v('BPF_OK', 0, 'Dissection succeeded; flow_keys are used.'),
      v('BPF_DROP', 2, 'Dissection failed.'),
      v('BPF_FLOW_DISSECTOR_CONTINUE', 129, "Fall back to the kernel's own dissector (kernel 5.19+)."),
    ],
  },
  sock_ops: {
    programTypes: ['sock_ops'],
    description: 'A sockops program returns 1; it reports results through ctx->reply. The verifier enforces [0, 1].',
    verifierRange: [0, 1],
    values: [v('1', 1, 'Usual value.'), v('0', 0, 'Also accepted.')],
  },
  sk_skb: {
    programTypes: ['sk_skb'],
    description:
      'A sockmap verdict program returns an enum sk_action value (or the result of bpf_sk_redirect_map/hash, which is SK_PASS on success).',
    header: 'linux/bpf.h (enum sk_action)',
    values: [
      v('SK_DROP', 0, 'Drop the data.'),
      v('SK_PASS', 1, 'Deliver it (to this socket, or to the socket chosen by bpf_sk_redirect_*).'),
    ],
  },
  sk_skb_parser: {
    programTypes: [],
    description:
      'A stream parser returns the length in bytes of the next full message, 0 when more data is needed, or a negative errno to abort the stream.',
    values: [v('0', 0, 'Need more data.'), v('skb->len', null, 'The whole buffer is one message (any length works).')],
  },
  sk_msg: {
    programTypes: ['sk_msg'],
    description: 'An sk_msg program returns an enum sk_action value.',
    header: 'linux/bpf.h (enum sk_action)',
    values: [
      v('SK_DROP', 0, 'Drop the message: sendmsg fails with EACCES.'),
      v('SK_PASS', 1, 'Send it (or redirect it as set by bpf_msg_redirect_*).'),
    ],
  },
  sk_reuseport: {
    programTypes: ['sk_reuseport'],
    description:
      'An sk_reuseport program returns an enum sk_action value; the chosen socket is set with bpf_sk_select_reuseport.',
    header: 'linux/bpf.h (enum sk_action)',
    values: [
      v('SK_DROP', 0, 'Drop the packet or connection.'),
      v('SK_PASS', 1, "Use the selected socket, or the kernel's own choice when none was selected."),
    ],
  },
  sk_lookup: {
    programTypes: ['sk_lookup'],
    description:
      'An sk_lookup program returns SK_PASS (with or without a socket chosen by bpf_sk_assign) or SK_DROP. The verifier enforces [0, 1].',
    header: 'linux/bpf.h (enum sk_action)',
    verifierRange: [0, 1],
    values: [
      v('SK_DROP', 0, 'Drop the packet or refuse the connection.'),
      v('SK_PASS', 1, 'Continue: use the socket chosen with bpf_sk_assign, or the normal lookup.'),
    ],
  },
  lirc_mode2: {
    programTypes: ['lirc_mode2'],
    description: 'A lirc_mode2 program returns 0; decoded keys are reported with bpf_rc_keydown.',
    values: [v('0', 0, 'Usual value.')],
  },
  cgroup_skb: {
    programTypes: ['cgroup_skb'],
    description:
      'A cgroup_skb program returns 1 to let the packet through and 0 to drop it. The verifier enforces [0, 1] (ingress).',
    verifierRange: [0, 1],
    values: [v('1', 1, 'Let the packet through.'), v('0', 0, 'Drop it.')],
  },
  cgroup_skb_egress: {
    programTypes: [],
    description:
      'A cgroup_skb egress program returns 1 to let the packet through and 0 to drop it; bit 1 (values 2, 3) asks for congestion notification (bpf_skb_ecn_set_ce) instead of a drop. The verifier enforces [0, 3].',
    verifierRange: [0, 3],
    values: [
      v('1', 1, 'Let the packet through.'),
      v('0', 0, 'Drop it.'),
      v('3', 3, 'Let it through and notify congestion (NET_XMIT_CN).'),
      v('2', 2, 'Drop it and notify congestion.'),
    ],
  },
  cgroup_allow: {
    programTypes: ['cgroup_sock', 'cgroup_sock_addr', 'cgroup_sysctl', 'cgroup_sockopt', 'cgroup_device'],
    description:
      'A cgroup program returns 1 to allow the operation and 0 to deny it (EPERM). The verifier enforces [0, 1].',
    verifierRange: [0, 1],
    values: allowDeny,
  },
  cgroup_bind: {
    programTypes: [],
    description:
      'A cgroup/bind4 or bind6 program returns 1 to allow and 0 to deny; bit 1 (values 2, 3) also lets the process bind a port below 1024 without CAP_NET_BIND_SERVICE. The verifier enforces [0, 3].',
    verifierRange: [0, 3],
    values: [...allowDeny, v('3', 3, 'Allow, and skip the CAP_NET_BIND_SERVICE check for privileged ports.')],
  },
  cgroup_must_allow: {
    programTypes: [],
    description:
      'recvmsg, getpeername and getsockname programs may only rewrite the address: they must return 1. The verifier enforces [1, 1].',
    verifierRange: [1, 1],
    values: [v('1', 1, 'The only accepted value.')],
  },
  netfilter: {
    programTypes: ['netfilter'],
    description: 'A netfilter program returns NF_DROP or NF_ACCEPT. The verifier enforces [0, 1].',
    header: 'linux/netfilter.h',
    verifierRange: [0, 1],
    values: [v('NF_DROP', 0, 'Drop the packet.'), v('NF_ACCEPT', 1, 'Let the packet continue.')],
  },
};

writeFileSync(outPath, JSON.stringify(sets, null, 1) + '\n');
console.log(`${Object.keys(sets).length} return-code sets -> ${outPath}`);
