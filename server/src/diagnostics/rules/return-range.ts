/**
 * A constant returned by a program whose type allows only a few values: the verifier checks R0 at
 * every exit against the range of the program type and attach point (check_return_code()) and rejects
 * the program ("At program exit the register R0 has smin=-1 smax=-1 should have been in [0, 1]").
 * Cgroup programs return 1 to allow and 0 to deny, never -EPERM (the error the caller sees is set by
 * the kernel, or with bpf_set_retval()); cgroup_skb egress may also return 2 and 3 (congestion
 * notification), bind hooks 2 and 3, recvmsg/getpeername/getsockname hooks only 1; sk_lookup returns
 * SK_PASS or SK_DROP, netfilter NF_ACCEPT or NF_DROP.
 */
import { field, kids, opOf, ty } from '../fast-node';
import { stripCasts, stripParens } from '../flow';
import type { Rule } from '../rule';
import { syntaxIndex } from '../syntax-index';
import { typeSizes } from '../type-sizes';
import { documentHeaderDeclarations } from '../../header-declarations';

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

export const returnRangeRule: Rule = {
  id: 'return-range',
  description: 'a program returning a constant outside the range its type allows (cgroup programs: 0 or 1)',
  ownFunctionOnly: true,
  functionFilter: /\breturn\b/,
  fileKey: (doc) => documentHeaderDeclarations(doc).key,
  runFunction({ doc, fn, programs, report }) {
    const p = programs.find((q) => q.node.startIndex === fn.startIndex);
    const range = p?.def ? rangeOf(p.def.programType, p.def.attachType) : undefined;
    if (!p || !range) return;
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
    for (const r of syntaxIndex(doc).in('return_statement', fn)) {
      const e = kids(r)[0];
      if (!e || ty(e) === 'comment') continue;
      const x = value(e);
      if (x === undefined || (x >= range[0] && x <= range[1])) continue;
      const allowed = range[0] === range[1] ? `${range[0]}` : `[${range[0]}, ${range[1]}]`;
      report({
        start: r.startIndex,
        end: r.endIndex,
        severity: 'error',
        message:
          `${p.name} is a ${p.def!.programType} program (SEC("${p.section}")), which must return ${range[0] === range[1] ? '' : 'a value in '}${allowed}, ` +
          `but this returns ${x}: the verifier rejects the program ("At program exit the register R0 has smin=${x} smax=${x} should have been in ` +
          `[${range[0]}, ${range[1]}]"). ` +
          (p.def!.programType.startsWith('cgroup') || p.def!.programType === 'sock_ops'
            ? 'Return 1 to allow and 0 to deny (the kernel turns a deny into -EPERM; bpf_set_retval() sets another error).'
            : 'Return one of the values the program type defines.'),
      });
    }
  },
};
