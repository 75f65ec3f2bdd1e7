/**
 * A store through a kernel object's BTF pointer in a tracing program: a tp_btf, fentry/fexit,
 * fmod_ret or LSM program may read the kernel's structs through its typed arguments (and
 * bpf_get_current_task_btf()), never write them: the verifier rejects any store (`sk->sk_mark |= 1`,
 * `task->flags = 0`, `((struct sock *)sk)->sk_mark = 1`) with "only read is supported". To keep a
 * value per object use a map or a local storage; to change the kernel's behaviour use a helper or
 * kfunc made for it (or fmod_ret / bpf_override_return on the return value).
 */
import type { Node } from 'web-tree-sitter';
import { field, opOf, ty } from '../fast-node';
import { stripCasts } from '../flow';
import type { Rule } from '../rule';
import { identOf } from '../syntax';
import { syntaxIndex } from '../syntax-index';

const TRACING = /^(tp_btf|fentry|fexit|fmod_ret|lsm|fentry\.s|fexit\.s|fmod_ret\.s|lsm\.s)\//;

/** The variable at the root of `a->b.c->d[i]`, when the chain starts with `->` through it. */
function rootOf(lhs: Node): Node | undefined {
  let cur: Node | null = lhs;
  let arrow = false;
  for (let g = 0; cur && g < 16; g++) {
    const t = ty(cur);
    if (t === 'field_expression') {
      if (opOf(cur) === '->') arrow = true;
      cur = field(cur, 'argument');
    } else if (t === 'subscript_expression') cur = field(cur, 'argument');
    else if (t === 'parenthesized_expression' || t === 'cast_expression') cur = stripCasts(cur);
    else break;
  }
  return arrow && cur && ty(cur) === 'identifier' ? cur : undefined;
}

export const btfPtrWriteRule: Rule = {
  id: 'btf-ptr-write',
  description: 'a store through a kernel BTF pointer in a tracing program (only reads are allowed)',
  ownFunctionOnly: true,
  functionFilter: /->/,
  runFunction({ doc, fn, programs, report }) {
    const p = programs.find((q) => q.node.startIndex === fn.startIndex);
    if (!p || !TRACING.test(p.section) || !p.body) return;
    const body = p.body;
    // The program's pointer arguments (BPF_PROG(name, struct sock *sk, ...)) and locals set from
    // bpf_get_current_task_btf(), none of them ever reassigned.
    const roots = new Map<string, string>();
    const head = doc.text.slice(fn.startIndex, body.startIndex);
    if (/\bBPF_PROG\s*\(/.test(head))
      for (const m of head.matchAll(/\bstruct\s+(\w+)\s*\*\s*(\w+)\s*[,)]/g))
        roots.set(m[2], `the program's argument '${m[2]}' (struct ${m[1]} *)`);
    const ix = syntaxIndex(doc);
    for (const d of ix.in('init_declarator', body)) {
      const v = field(d, 'value');
      const c = v ? stripCasts(v) : null;
      let t = field(d, 'declarator');
      while (t && ty(t) === 'pointer_declarator') t = field(t, 'declarator');
      const name = identOf(t);
      if (name && c && ty(c) === 'call_expression' && /^bpf_get_current_task_btf\s*\(/.test(c.text))
        roots.set(name, `'${name}' (bpf_get_current_task_btf())`);
      else if (name) roots.delete(name);
    }
    if (!roots.size) return;
    const writes: Node[] = [];
    for (const a of ix.in('assignment_expression', body)) {
      const l = field(a, 'left');
      const id = l ? identOf(l) : undefined;
      // `sk = other;`: the name no longer holds the argument.
      if (id && ty(stripCasts(l!)) === 'identifier') roots.delete(id);
      else if (l) writes.push(l);
    }
    for (const u of ix.in('update_expression', body)) {
      const arg = u ? field(u, 'argument') : null;
      if (arg) writes.push(arg);
    }
    for (const w of writes) {
      const root = rootOf(w);
      const how = root ? roots.get(root.text) : undefined;
      if (!root || !how) continue;
      report({
        start: w.startIndex,
        end: w.endIndex,
        severity: 'error',
        message:
          `'${w.text}' is written through ${how}, a BTF pointer to the kernel's object: a ${p.section.split('/')[0]} program may only read ` +
          `kernel structs through it, and the verifier rejects the store ("only read is supported"). Keep the value in a map or a local ` +
          `storage instead, or change the kernel's state with a helper or kfunc made for it.`,
      });
      return;
    }
  },
};
