/**
 * A constant returned by a program whose type allows only a few values: the verifier checks R0 at
 * every exit against the range of the program type and attach point (check_return_code()) and rejects
 * the program ("At program exit the register R0 has smin=-1 smax=-1 should have been in [0, 1]").
 * Cgroup programs return 1 to allow and 0 to deny, never -EPERM (the error the caller sees is set by
 * the kernel, or with bpf_set_retval()); cgroup_skb egress may also return 2 and 3 (congestion
 * notification), bind hooks 2 and 3, recvmsg/getpeername/getsockname hooks only 1; sk_lookup returns
 * SK_PASS or SK_DROP, netfilter NF_ACCEPT or NF_DROP. A constant chosen by a conditional
 * (`return ok ? 1 : -EPERM;`) is such a constant on one of the paths.
 *
 * Callbacks of bpf_loop(), bpf_for_each_map_elem(), bpf_find_vma() and bpf_user_ringbuf_drain() return
 * 0 (go on) or 1 (stop): the verifier checks R0 at the callback's exit ("At callback return the
 * register R0 has smin=-1 smax=-1 should have been in [0, 1]").
 */
import { field, kids, opOf, ty } from '../fast-node';
import { stripCasts, stripParens } from '../flow';
import type { Rule } from '../rule';
import { syntaxIndex } from '../syntax-index';
import { typeSizes } from '../type-sizes';
import { documentHeaderDeclarations } from '../../header-declarations';
import { functionName } from '../../bpf-document';

/** [min, max] allowed in R0 at exit, by program type and attach type; undefined when not checked. */
function rangeOf(programType: string, attachType: string | undefined): [number, number] | undefined {
  switch (programType) {
    case 'cgroup_skb':
      return attachType === 'cgroup_inet_egress' ? [0, 3] : [0, 1];
    case 'cgroup_sock_addr':
      if (/recvmsg|getpeername|getsockname/.test(attachType ?? '')) return [1, 1];
      if (/inet[46]_bind$/.test(attachType ?? '')) return [0, 3];
      return attachType ? [0, 1] : undefined;
    case 'cgroup_sock':
    case 'sock_ops':
    case 'cgroup_device':
    case 'cgroup_sysctl':
    case 'cgroup_sockopt':
    case 'sk_lookup':
    case 'netfilter':
      return [0, 1];
  }
  return undefined;
}

/** Helpers taking a callback that must return 0 or 1, and the callback's argument position. */
const CALLBACK_ARG: Record<string, number> = {
  bpf_loop: 1,
  bpf_for_each_map_elem: 1,
  bpf_user_ringbuf_drain: 1,
  bpf_find_vma: 2,
};
const CALLBACK_CALL = /\b(bpf_loop|bpf_for_each_map_elem|bpf_user_ringbuf_drain|bpf_find_vma)\s*\(/g;

/** Names of the file's functions given to a helper as a 0/1 callback, with the helper's name. */
function callbacksOf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(CALLBACK_CALL)) {
    // The callback's argument, split at the call's own parenthesis depth.
    const want = CALLBACK_ARG[m[1]];
    let depth = 0;
    let arg = 0;
    let start = m.index + m[0].length;
    let end = -1;
    for (let i = start; i < text.length && i < start + 400; i++) {
      const c = text[i];
      if (c === '(') depth++;
      else if (c === ')' && depth > 0) depth--;
      else if ((c === ',' || c === ')') && depth === 0) {
        if (arg === want) {
          end = i;
          break;
        }
        if (c === ')') break;
        arg++;
        start = i + 1;
      }
    }
    if (end < 0) continue;
    const name = /^\s*(?:\(\s*[\w\s*]+\)\s*)?&?\s*([A-Za-z_]\w*)\s*$/.exec(text.slice(start, end));
    if (name) out.set(name[1], m[1]);
  }
  return out;
}

export const returnRangeRule: Rule = {
  id: 'return-range',
  description: 'a program returning a constant outside the range its type allows (cgroup programs: 0 or 1)',
  ownFunctionOnly: true,
  functionFilter: /\breturn\b/,
  // The callbacks are named by their callers: a regex pass over the text, no syntax walk.
  fileKey: (doc) =>
    `${documentHeaderDeclarations(doc).key}|${[...callbacksOf(doc.text)].map(([n, h]) => `${n}:${h}`).join(',')}`,
  runFunction({ doc, fn, programs, report }) {
    const p = programs.find((q) => q.node.startIndex === fn.startIndex);
    const name = functionName(fn);
    const helper = !p && name ? callbacksOf(doc.text).get(name) : undefined;
    const range = helper
      ? ([0, 1] as [number, number])
      : p?.def
        ? rangeOf(p.def.programType, p.def.attachType)
        : undefined;
    if ((!p && !helper) || !range) return;
    const sizes = typeSizes(doc);
    const value = (e: import('web-tree-sitter').Node): number | undefined => {
      const v = stripCasts(stripParens(e));
      if (ty(v) === 'unary_expression' && opOf(v) === '-') {
        const a = field(v, 'argument');
        const x = a ? value(a) : undefined;
        return x === undefined ? undefined : -x;
      }
      if (ty(v) === 'number_literal') {
        const n = Number(v.text.replace(/[uUlL]+$/, ''));
        return Number.isFinite(n) ? n : undefined;
      }
      if (ty(v) === 'identifier' || ty(v) === 'binary_expression') return sizes.constValue(v.text);
      return undefined;
    };
    // The constants a return can give: a conditional's branches, each (a branch that is not a
    // constant is not judged).
    const values = (e: import('web-tree-sitter').Node): number[] => {
      const v = stripParens(e);
      if (ty(v) === 'conditional_expression') {
        const a = field(v, 'consequence');
        const b = field(v, 'alternative');
        return [...(a ? values(a) : []), ...(b ? values(b) : [])];
      }
      const x = value(v);
      return x === undefined ? [] : [x];
    };
    for (const r of syntaxIndex(doc).in('return_statement', fn)) {
      const e = kids(r)[0];
      if (!e || ty(e) === 'comment') continue;
      const x = values(e).find((y) => y < range[0] || y > range[1]);
      if (x === undefined) continue;
      const allowed = range[0] === range[1] ? `${range[0]}` : `[${range[0]}, ${range[1]}]`;
      if (helper) {
        report({
          start: r.startIndex,
          end: r.endIndex,
          severity: 'error',
          message:
            `${name}() is the callback of ${helper}(), which must return 0 (continue) or 1 (stop), but this returns ${x}: ` +
            `the verifier rejects the program ("At callback return the register R0 has smin=${x} smax=${x} should have been in [0, 1]"). ` +
            'Return 1 to stop early and keep any error in the context the callback is given.',
        });
        continue;
      }
      if (!p) continue;
      report({
        start: r.startIndex,
        end: r.endIndex,
        severity: 'error',
        message:
          `${p.name} is a ${p.def!.programType} program (SEC("${p.section}")), which must return ${range[0] === range[1] ? '' : 'a value in '}${allowed}, ` +
          `but this ${ty(stripParens(e)) === 'conditional_expression' ? 'can return' : 'returns'} ${x}: the verifier rejects the program ("At program exit the register R0 has smin=${x} smax=${x} should have been in ` +
          `[${range[0]}, ${range[1]}]"). ` +
          (p.def!.programType.startsWith('cgroup') || p.def!.programType === 'sock_ops'
            ? 'Return 1 to allow and 0 to deny (the kernel turns a deny into -EPERM; bpf_set_retval() sets another error).'
            : 'Return one of the values the program type defines.'),
      });
    }
  },
};
