/**
 * A write to a field of the program's context that the program type may not write. The verifier
 * checks every context access against the type's is_valid_access() and rejects the write ("invalid
 * bpf_context access off=16 size=8"): tracepoint, kprobe, perf_event and XDP contexts are read-only,
 * a socket filter may write only skb->cb[], tc may write mark, priority, tc_index, tc_classid, cb[],
 * queue_mapping and tstamp, sockops only reply (args[0]/replylong[0]) and sk_txhash (sock_ops_is_valid_access():
 * bpf_sock_ops_cb_flags is set with bpf_sock_ops_cb_flags_set()), a cgroup sock_addr hook only the
 * addresses and port it rewrites (user_ip4/6, msg_src_ip4/6, user_port), an sk_msg program nothing.
 * Packet data is changed through the data pointers or helpers
 * (bpf_xdp_adjust_head(), bpf_skb_store_bytes()), never by moving ctx->data.
 */
import type { Node } from 'web-tree-sitter';
import { field, opOf, ty } from '../fast-node';
import { stripParens } from '../flow';
import type { Rule } from '../rule';
import { identOf } from '../syntax';
import { functionName } from '../../bpf-document';
import { syntaxIndex } from '../syntax-index';

/** Context fields each program type may write; a type not listed here is not checked. */
const WRITABLE: Record<string, ReadonlySet<string>> = {
  sched_cls: new Set(['mark', 'tc_index', 'priority', 'cb', 'tc_classid', 'queue_mapping', 'tstamp']),
  sched_act: new Set(['mark', 'tc_index', 'priority', 'cb', 'tc_classid', 'queue_mapping', 'tstamp']),
  cgroup_skb: new Set(['mark', 'priority', 'cb', 'tstamp']),
  socket_filter: new Set(['cb']),
  xdp: new Set(),
  tracepoint: new Set(),
  raw_tracepoint: new Set(),
  perf_event: new Set(),
  kprobe: new Set(),
  // reply shares args[0]'s and replylong[0]'s offset; the other array elements are refused, but an
  // array element is not told apart here, so args/replylong are left alone.
  sock_ops: new Set(['reply', 'sk_txhash', 'args', 'replylong']),
  cgroup_sock_addr: new Set(['user_ip4', 'user_ip6', 'msg_src_ip4', 'msg_src_ip6', 'user_port']),
  sk_msg: new Set(),
};

/** What to do instead of writing `field` in a program of `type`. */
function advice(type: string, name: string): string {
  if (type === 'xdp' && /^data/.test(name))
    return 'Move the packet start with bpf_xdp_adjust_head() (or bpf_xdp_adjust_meta()), then re-read ctx->data.';
  if ((type === 'sched_cls' || type === 'sched_act') && /^data/.test(name))
    return 'Change the packet with bpf_skb_adjust_room() / bpf_skb_change_head(), then re-read skb->data.';
  if (type === 'sock_ops' && name === 'bpf_sock_ops_cb_flags')
    return 'Ask for the callbacks with bpf_sock_ops_cb_flags_set(skops, flags).';
  if (type === 'sock_ops' || type === 'cgroup_sock_addr')
    return "The context fields are the kernel socket's state: keep a converted value in a local.";
  if (type === 'socket_filter')
    return 'A socket filter may write only skb->cb[]; to mark packets use a tc or cgroup_skb program.';
  if (['tracepoint', 'raw_tracepoint', 'kprobe', 'perf_event'].includes(type))
    return 'Tracing contexts are read-only: copy the value into a local or a map and change that; to change a return value use bpf_override_return() or fmod_ret.';
  return 'Write to a copy (a local or a map value) instead.';
}

/** The parameter of fn declared with the context's type (`struct trace_event_raw_sys_exit *`), by name. */
function ctxParamOf(fn: Node, type: string): string | undefined {
  const want = type.replace(/\s+/g, '');
  let d: Node | null = field(fn, 'declarator');
  while (d && ty(d) !== 'function_declarator') d = field(d, 'declarator');
  for (const q of d?.childForFieldName('parameters')?.namedChildren ?? []) {
    const decl = q && ty(q) === 'parameter_declaration' ? field(q, 'declarator') : null;
    if (!q || !decl || ty(decl) !== 'pointer_declarator') continue;
    if (`${field(q, 'type')?.text ?? ''}*`.replace(/\s+/g, '') === want) return identOf(field(decl, 'declarator'));
  }
  return undefined;
}

export const ctxWriteRule: Rule = {
  id: 'ctx-write',
  description: 'writes to context fields the program type may not write',
  ownFunctionOnly: true,
  functionFilter: /(=|\+\+|--)/,
  runFunction({ doc, fn, programs, report }) {
    const own = programs.find((q) => q.node.startIndex === fn.startIndex);
    // A function the programs call with their context: its parameter of the context's type is it.
    const p =
      own ??
      programs.find(
        (q) =>
          q.def && q.ctxParam && /^struct\s+\w+\s*\*$/.test(q.ctxParam.type.trim()) && ctxParamOf(fn, q.ctxParam.type),
      );
    if (!p?.def || !p.ctxParam?.name) return;
    const writable = WRITABLE[p.def.programType];
    if (!writable) return;
    // BPF_PROG()/BPF_KPROBE() definitions hide the context: their first parameter is not it.
    if (/^\s*BPF_\w+\s*\(/.test(field(fn, 'declarator')?.text ?? '')) return;
    if (!own && /^\s*BPF_\w+\s*\(/.test(field(p.node, 'declarator')?.text ?? '')) return;
    const ctx = own ? p.ctxParam.name : ctxParamOf(fn, p.ctxParam.type);
    if (!ctx) return;
    const via = own ? '' : ` (through ${functionName(fn) ?? 'this function'}(), which it calls with its context)`;
    const body = field(fn, 'body');
    if (!body) return;
    const targets: Node[] = [];
    const ix = syntaxIndex(doc);
    for (const a of ix.in('assignment_expression', body)) if (a) targets.push(field(a, 'left')!);
    for (const u of ix.in('update_expression', body)) if (u) targets.push(field(u, 'argument')!);
    for (const t of targets) {
      if (!t) continue;
      let cur = stripParens(t);
      while (ty(cur) === 'subscript_expression' && field(cur, 'argument')) cur = stripParens(field(cur, 'argument')!);
      if (ty(cur) !== 'field_expression' || opOf(cur) !== '->') continue;
      if (identOf(field(cur, 'argument')) !== ctx) continue;
      const name = field(cur, 'field')?.text ?? '';
      if (!name || writable.has(name)) continue;
      const type = p.def.programType;
      report({
        start: t.startIndex,
        end: t.endIndex,
        severity: 'error',
        message:
          `${p.name}${via} writes ${ctx}->${name}, but ${type} programs ${writable.size ? `may write only ${[...writable].map((f) => `${ctx}->${f}`).join(', ')}` : 'may not write their context'}: ` +
          `the verifier rejects the program ("invalid bpf_context access"). ${advice(type, name)}`,
      });
    }
  },
};
