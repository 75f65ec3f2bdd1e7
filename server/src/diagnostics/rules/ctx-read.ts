/**
 * A context field the program type may not read. Socket filters (SEC("socket")) get no direct packet
 * access: `skb->data`, `skb->data_end`, `skb->data_meta` and `skb->flow_keys` are refused by the
 * kernel's sk_filter_is_valid_access() ("invalid bpf_context access off=76 size=4"). They read the
 * packet with bpf_skb_load_bytes() (or load_byte()/load_half()); tc, cgroup_skb, sk_skb and XDP programs
 * may use the data pointers.
 */
import { field, opOf } from '../fast-node';
import type { Rule } from '../rule';
import { identOf } from '../syntax';
import { syntaxIndex } from '../syntax-index';

/** Context fields each program type may not read at all. */
const UNREADABLE: Record<string, ReadonlySet<string>> = {
  socket_filter: new Set(['data', 'data_end', 'data_meta', 'flow_keys']),
};

export const ctxReadRule: Rule = {
  id: 'ctx-read',
  description: 'reads of context fields the program type may not read (skb->data in a socket filter)',
  ownFunctionOnly: true,
  functionFilter: /->\s*(data|data_end|data_meta|flow_keys)\b/,
  runFunction({ doc, fn, programs, report }) {
    const p = programs.find((q) => q.node.startIndex === fn.startIndex);
    const deny = p?.def ? UNREADABLE[p.def.programType] : undefined;
    const ctx = p?.ctxParam?.name;
    if (!p || !deny || !ctx || !p.body) return;
    const seen = new Set<string>();
    for (const f of syntaxIndex(doc).in('field_expression', p.body)) {
      if (!f || opOf(f) !== '->') continue;
      const name = field(f, 'field')?.text;
      if (!name || !deny.has(name) || seen.has(name) || identOf(field(f, 'argument')) !== ctx) continue;
      seen.add(name);
      report({
        start: f.startIndex,
        end: f.endIndex,
        severity: 'error',
        message:
          `${p.name} is a socket filter (SEC("${p.section}")), which has no direct packet access: the kernel refuses to let it read ` +
          `'${f.text}' ("invalid bpf_context access"). Read the packet with bpf_skb_load_bytes(${ctx}, offset, &buf, len), ` +
          `or use a tc or cgroup_skb program to read it through the data pointers.`,
      });
    }
  },
};
