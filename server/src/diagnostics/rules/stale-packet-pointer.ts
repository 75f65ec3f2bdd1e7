/**
 * A packet pointer used after a helper that may move or reallocate the packet. bpf_xdp_adjust_head(),
 * bpf_xdp_adjust_tail(), bpf_xdp_adjust_meta(), bpf_skb_pull_data(), bpf_skb_store_bytes(),
 * bpf_skb_change_*(), bpf_skb_adjust_room(), bpf_skb_vlan_push/pop(), bpf_l3/l4_csum_replace()... (the
 * kernel's bpf_helper_changes_pkt_data()) make the verifier invalidate every packet pointer it tracks
 * (clear_all_pkt_pointers()): any later access through one derived before the call is rejected
 * ("R1 invalid mem access 'scalar'"). Pointers must be derived again from ctx->data (and checked
 * against data_end again) after the call. A function of the file that calls such a helper counts as one.
 *
 * Followed: locals assigned from ctx->data / ctx->data_meta, from other packet pointers (arithmetic,
 * casts, a parse cursor's field), and pointers a function stores through `&p` when it was handed the
 * packet (a parsing helper's `parse_ethhdr(&nh, data_end, &eth)`). An access through one of them on a
 * path after the call, with no new assignment in between, is an error.
 */
import type { Node } from 'web-tree-sitter';
import { field, opOf, ty } from '../fast-node';
import { FlowWalker, mentions, stripCasts, stripParens, type FlowDomain } from '../flow';
import { functionsByName } from '../function-cache';
import type { Rule } from '../rule';
import { callArgs, calleeName, identOf } from '../syntax';
import { syntaxIndex } from '../syntax-index';

/** Helpers after which the verifier invalidates every packet pointer (bpf_helper_changes_pkt_data()). */
const INVALIDATES =
  /^bpf_(xdp_adjust_(head|tail|meta)|skb_(pull_data|store_bytes|change_(head|tail|proto|type)|adjust_room|vlan_(push|pop))|l[34]_csum_replace|clone_redirect|lwt_push_encap|lwt_seg6_(store_bytes|adjust_srh|action)|msg_(pull|push|pop)_data)$/;
const INVALIDATES_TEXT =
  /\bbpf_(xdp_adjust|skb_(pull|store|change|adjust|vlan)|l[34]_csum|clone_redirect|lwt_|msg_(pull|push|pop))\w*\s*\(/;

const CTX_TYPES = /\bstruct\s+(xdp_md|__sk_buff|sk_msg_md)\s*\*/;

interface State {
  /** Names holding packet pointers (or structs holding one, such as a parse cursor). */
  pkt: Set<string>;
  /** Packet pointers derived before an invalidating call, with that call. */
  stale: Map<string, Node>;
}

export const stalePacketPointerRule: Rule = {
  id: 'stale-packet-pointer',
  description: 'a packet pointer used after a helper that changes the packet (bpf_xdp_adjust_head, ...)',
  functionFilter: /->\s*data\b/,
  runFunction({ doc, fn, report }) {
    const body = field(fn, 'body');
    if (!body) return;
    const head = doc.text.slice(fn.startIndex, body.startIndex);
    if (!CTX_TYPES.test(head)) return;
    const defined = functionsByName(doc);
    // Functions of the file that change the packet (directly, or through one more level of calls).
    const changes = (name: string, depth = 0): boolean => {
      const f = defined.get(name);
      if (!f || depth > 2) return false;
      const t = doc.text.slice(f.startIndex, f.endIndex);
      if (INVALIDATES_TEXT.test(t)) return true;
      for (const m of t.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) if (m[1] !== name && changes(m[1], depth + 1)) return true;
      return false;
    };
    const invalidating = (callee: string) =>
      (INVALIDATES.test(callee) && !defined.has(callee)) || (defined.has(callee) && changes(callee));
    if (
      !INVALIDATES_TEXT.test(body.text) &&
      ![...body.text.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)].some((m) => defined.has(m[1]) && changes(m[1]))
    )
      return;

    // Pointer-typed locals and parameters (only they are dereferenced).
    const pointers = new Set<string>();
    const ctxNames = new Set<string>();
    for (const d of syntaxIndex(doc).inAny(['declaration', 'parameter_declaration'], fn)) {
      if (!d) continue;
      for (const x of d.childrenForFieldName('declarator')) {
        const inner = x && ty(x) === 'init_declarator' ? field(x, 'declarator') : x;
        if (!inner || ty(inner) !== 'pointer_declarator') continue;
        const name = identOf(field(inner, 'declarator'));
        if (!name) continue;
        pointers.add(name);
        if (ty(d) === 'parameter_declaration' && CTX_TYPES.test(`${field(d, 'type')?.text ?? ''} *`))
          ctxNames.add(name);
      }
    }
    if (!ctxNames.size) return;

    /** The expression's value is a packet pointer: ctx->data, a packet pointer plus or minus something, a cursor's field. */
    const derived = (e: Node, s: State): boolean => {
      const v = stripCasts(stripParens(e));
      switch (ty(v)) {
        case 'identifier':
          return s.pkt.has(v.text);
        case 'field_expression': {
          const base = field(v, 'argument');
          const name = field(v, 'field')?.text;
          if (opOf(v) === '->') return (name === 'data' || name === 'data_meta') && ctxNames.has(identOf(base) ?? '');
          return !!base && ty(stripParens(base)) === 'identifier' && s.pkt.has(stripParens(base).text);
        }
        case 'binary_expression': {
          const op = opOf(v);
          const l = field(v, 'left');
          const r = field(v, 'right');
          if (op === '+') return (!!l && derived(l, s)) || (!!r && derived(r, s));
          return op === '-' && !!l && derived(l, s) && !(r && derived(r, s));
        }
        case 'pointer_expression': {
          if (opOf(v) !== '&') return false;
          let inner: Node | null = field(v, 'argument');
          while (inner && ['field_expression', 'subscript_expression', 'parenthesized_expression'].includes(ty(inner)))
            inner =
              field(inner, 'argument') ?? (ty(inner) === 'parenthesized_expression' ? inner.namedChildren[0] : null);
          return !!inner && derived(inner, s);
        }
        case 'conditional_expression': {
          const a = field(v, 'consequence');
          const b = field(v, 'alternative');
          return (!!a && derived(a, s)) || (!!b && derived(b, s));
        }
      }
      return false;
    };
    /** The stale pointer an expression's (pointer) value comes from. */
    const staleIn = (e: Node, s: State): Node | undefined => {
      const v = stripCasts(stripParens(e));
      if (ty(v) === 'identifier') return s.stale.get(v.text);
      if (ty(v) === 'binary_expression' && (opOf(v) === '+' || opOf(v) === '-')) {
        const l = field(v, 'left');
        const r = field(v, 'right');
        return (l && staleIn(l, s)) || (opOf(v) === '+' && r ? staleIn(r, s) : undefined);
      }
      return undefined;
    };
    /** Locals holding ctx->data_end: the verifier invalidates them with the packet pointers. */
    const ends = new Set<string>();
    const isEnd = (e: Node) => {
      const v = stripCasts(stripParens(e));
      return (
        ty(v) === 'field_expression' &&
        field(v, 'field')?.text === 'data_end' &&
        ctxNames.has(identOf(field(v, 'argument')) ?? '')
      );
    };
    const set = (name: string, value: Node | null, s: State) => {
      s.stale.delete(name);
      s.pkt.delete(name);
      if (!value) return;
      const st = staleIn(value, s);
      if (st) s.stale.set(name, st);
      else if (derived(value, s)) s.pkt.add(name);
      else if (isEnd(value)) {
        ends.add(name);
        s.pkt.add(name);
      }
    };

    const reported = new Set<string>();
    const use = (n: Node, ptr: Node | null, s: State) => {
      const v = ptr ? stripParens(ptr) : null;
      if (!v || ty(v) !== 'identifier') return;
      const call = s.stale.get(v.text);
      if (!call || reported.has(`${v.text}@${call.startIndex}`)) return;
      reported.add(`${v.text}@${call.startIndex}`);
      const callee = calleeName(call) ?? 'the helper';
      const direct = INVALIDATES.test(callee);
      report({
        start: n.startIndex,
        end: n.endIndex,
        severity: 'error',
        message:
          `'${v.text}' points into the packet as it was before ${callee}() (line ${doc.positionAt(call.startIndex).line + 1})` +
          `${direct ? '' : ', which changes the packet'}: the verifier invalidates every packet pointer at that call and ` +
          `rejects this access ("invalid mem access 'scalar'"). Derive it again from ctx->data after the call, and check ` +
          `it against data_end again.`,
        related: [{ start: call.startIndex, end: call.endIndex, message: `the packet may move here` }],
      });
    };

    const domain: FlowDomain<State> = {
      copy: (s) => ({ pkt: new Set(s.pkt), stale: new Map(s.stale) }),
      // A pointer stale on one of the paths is rejected on that path: the verifier walks each.
      join: (a, b) => ({ pkt: new Set([...a.pkt, ...b.pkt]), stale: new Map([...b.stale, ...a.stale]) }),
      declare(name, _n, value, _t, s) {
        set(name, value, s);
      },
      visit(n, s, flow) {
        switch (ty(n)) {
          case 'assignment_expression': {
            const left = field(n, 'left');
            const right = field(n, 'right');
            if (right) flow.expr(right, s);
            const name = identOf(left);
            // `p += n` keeps p what it was (a packet pointer, or a stale one).
            if (left && ty(stripParens(left)) === 'identifier' && name) {
              if (opOf(n) === '=') set(name, right, s);
            } else if (left) {
              flow.expr(left, s);
              // nh.pos = data: the struct now holds a packet pointer.
              const base = ty(left) === 'field_expression' ? identOf(field(left, 'argument')) : undefined;
              if (base && right && derived(right, s)) s.pkt.add(base);
            }
            return true;
          }
          case 'field_expression':
            if (opOf(n) === '->') use(n, field(n, 'argument'), s);
            return false;
          case 'pointer_expression':
            if (opOf(n) === '*') use(n, field(n, 'argument'), s);
            return false;
          case 'subscript_expression':
            use(n, field(n, 'argument'), s);
            return false;
          case 'binary_expression': {
            // `p + 1 > data_end` with a data_end read before the call: it bounds nothing any more.
            if (!['<', '<=', '>', '>='].includes(opOf(n))) return false;
            for (const side of [field(n, 'left'), field(n, 'right')]) {
              const v = side ? stripCasts(stripParens(side)) : null;
              const call = v && ty(v) === 'identifier' && ends.has(v.text) ? s.stale.get(v.text) : undefined;
              if (!v || !call || reported.has(`${v.text}@${call.startIndex}`)) continue;
              reported.add(`${v.text}@${call.startIndex}`);
              const callee = calleeName(call) ?? 'the helper';
              report({
                start: n.startIndex,
                end: n.endIndex,
                severity: 'error',
                message:
                  `'${v.text}' is ctx->data_end as it was before ${callee}() (line ${doc.positionAt(call.startIndex).line + 1}): ` +
                  `the verifier invalidates it with every packet pointer at that call, so this check proves nothing and the ` +
                  `accesses it should allow are rejected ("invalid access to packet", "offset is outside of the packet"). Read ctx->data_end again after the call.`,
                related: [{ start: call.startIndex, end: call.endIndex, message: 'the packet may move here' }],
              });
            }
            return false;
          }
          case 'call_expression': {
            const callee = calleeName(n) ?? '';
            const args = callArgs(n);
            for (const a of args) flow.expr(a, s);
            if (invalidating(callee)) {
              for (const k of s.pkt) s.stale.set(k, n);
              s.pkt.clear();
              return true;
            }
            // parse_ethhdr(&nh, data_end, &eth): what it stores through `&eth` points into the packet.
            if (args.some((a) => derived(a, s) || /\bdata_end\b/.test(a.text) || mentions(a.text, s.pkt))) {
              for (const a of args) {
                const v = stripParens(a);
                const out =
                  ty(v) === 'pointer_expression' && opOf(v) === '&' ? identOf(field(v, 'argument')) : undefined;
                if (out && pointers.has(out)) {
                  s.stale.delete(out);
                  s.pkt.add(out);
                }
              }
            }
            return true;
          }
        }
        return false;
      },
      assume() {},
    };
    new FlowWalker(domain).run(body, { pkt: new Set(), stale: new Map() });
  },
};
