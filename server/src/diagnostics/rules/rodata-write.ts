/**
 * A write to a `const` global (`const volatile` settings in .rodata) through a cast that drops the
 * qualifier: `*(u32 *)&target_pid = pid`, `((struct cfg *)&cfg)->seen++`, a memcpy into one, or a
 * pointer taken that way and written through. libbpf freezes .rodata before the load, and the verifier
 * rejects any store into a frozen read-only map ("write into map forbidden"). Settings the program
 * changes belong in .data or .bss (a global without `const`) or in a map.
 */
import type { Node } from 'web-tree-sitter';
import { declaratorName, type BpfDocument } from '../../bpf-document';
import { field, opOf, ty } from '../fast-node';
import { stripCasts, stripParens } from '../flow';
import { topLevelNodes } from '../function-cache';
import type { Rule } from '../rule';
import { callArgs, calleeName, identOf } from '../syntax';
import { syntaxIndex } from '../syntax-index';

/** Calls that write through their first argument. */
const WRITES_FIRST =
  /^(__builtin_memcpy|__builtin_memset|__builtin_memmove|memcpy|memset|bpf_probe_read(_kernel|_user)?(_str)?|bpf_get_current_comm|bpf_core_read)$/;

/** Names of the file's `const` globals (read-only data). */
function rodataGlobals(top: readonly Node[]): Set<string> {
  const out = new Set<string>();
  for (const n of top) {
    if (ty(n) !== 'declaration' || !/^(?:static\s+)?(?:volatile\s+)?const\b/.test(n.text)) continue;
    // Not a pointer to const data (`const char *p`): the pointer itself is writable.
    for (const d of n.childrenForFieldName('declarator')) {
      const inner = d && ty(d) === 'init_declarator' ? field(d, 'declarator') : d;
      if (!inner || ty(inner) === 'pointer_declarator' || ty(inner) === 'function_declarator') continue;
      const name = declaratorName(inner);
      if (name) out.add(name.text);
    }
  }
  return out;
}

/** The const globals of each document version (read once, not per analysed function). */
const perDoc = new WeakMap<BpfDocument, Set<string>>();

export const rodataWriteRule: Rule = {
  id: 'rodata-write',
  description: 'a write to a const (.rodata) global through a cast',
  ownFunctionOnly: true,
  functionFilter: /\(\s*[A-Za-z_][\w\s]*\*\s*\)/,
  runFunction({ doc, fn, report }) {
    let globals = perDoc.get(doc);
    if (!globals) perDoc.set(doc, (globals = rodataGlobals(topLevelNodes(doc))));
    if (!globals.size || !/[&(]/.test(fn.text)) return;
    const body = field(fn, 'body');
    if (!body) return;
    // Locals set from a pointer into a const global: `u32 *p = (u32 *)&limit;`.
    const aliases = new Map<string, string>();
    /** Aliases declared as pointers to volatile: stores through them are kept by clang. */
    const volatileAliases = new Set<string>();
    /** The const global an address expression points into, if any. */
    const target = (e: Node): string | undefined => {
      const v = stripCasts(stripParens(e));
      if (ty(v) === 'pointer_expression' && opOf(v) === '&') {
        let x: Node | null = field(v, 'argument');
        while (x && ['field_expression', 'subscript_expression', 'parenthesized_expression'].includes(ty(x)))
          x = ty(x) === 'parenthesized_expression' ? x.namedChildren[0] : field(x, 'argument');
        return x && ty(x) === 'identifier' && globals.has(x.text) ? x.text : undefined;
      }
      // An alias, or a const global array cast to a writable pointer (`(char *)prefix`).
      if (ty(v) === 'identifier')
        return (
          aliases.get(v.text) ?? (globals.has(v.text) && ty(stripParens(e)) === 'cast_expression' ? v.text : undefined)
        );
      if (ty(v) === 'binary_expression' && (opOf(v) === '+' || opOf(v) === '-')) {
        const l = field(v, 'left');
        return l ? target(l) : undefined;
      }
      return undefined;
    };
    /** The const global an lvalue stores into, when it is reached through a pointer (a cast). */
    const stored = (lv: Node): string | undefined => {
      const v = stripParens(lv);
      switch (ty(v)) {
        case 'pointer_expression':
          return opOf(v) === '*' && field(v, 'argument') ? target(field(v, 'argument')!) : undefined;
        case 'field_expression': {
          const a = field(v, 'argument');
          if (!a) return undefined;
          return opOf(v) === '->' ? target(a) : stored(a);
        }
        case 'subscript_expression': {
          const a = field(v, 'argument');
          return a ? (target(a) ?? stored(a)) : undefined;
        }
      }
      return undefined;
    };
    const ix = syntaxIndex(doc);
    for (const d of ix.in('init_declarator', body)) {
      const name = d ? declaratorName(field(d, 'declarator'))?.text : undefined;
      const value = d ? field(d, 'value') : null;
      const g = value ? target(value) : undefined;
      if (name && g && /\*/.test(field(d!, 'declarator')?.text ?? '')) {
        aliases.set(name, g);
        if (/\bvolatile\b/.test(d!.parent?.text.slice(0, d!.startIndex - d!.parent.startIndex) ?? ''))
          volatileAliases.add(name);
      }
    }
    for (const a of ix.in('assignment_expression', body)) {
      const name = a ? identOf(field(a, 'left')) : undefined;
      const g = a && field(a, 'right') ? target(field(a, 'right')!) : undefined;
      if (name && g) aliases.set(name, g);
    }
    const flag = (at: Node, g: string, how: string, sure: boolean) =>
      report({
        start: at.startIndex,
        end: at.endIndex,
        severity: sure ? 'error' : 'warning',
        message:
          `${how} '${g}', a const global: libbpf freezes .rodata before the load and the verifier rejects any store into it ` +
          `("write into map forbidden")` +
          (sure
            ? '.'
            : `, unless clang drops the store (writing a const object is undefined behaviour; it does when the pointer is not volatile), and then the program silently does not do it.`) +
          ` Make '${g}' a plain global (in .data/.bss, without const), or keep the value in a map.`,
      });
    for (const n of ix.inAny(['assignment_expression', 'update_expression', 'call_expression'], body)) {
      if (!n) continue;
      if (ty(n) === 'call_expression') {
        const callee = calleeName(n);
        const dst = callee && WRITES_FIRST.test(callee) ? callArgs(n)[0] : undefined;
        const g = dst ? target(dst) : undefined;
        if (g) flag(dst!, g, `${callee}() writes into`, true);
        continue;
      }
      const lv = field(n, ty(n) === 'assignment_expression' ? 'left' : 'argument');
      const g = lv ? stored(lv) : undefined;
      // Kept by clang only through a volatile pointer (`*(volatile u64 *)&min_us = x`).
      const root = identOf(lv ? stripCasts(stripParens(lv)) : null) ?? /^\W*(\w+)/.exec(lv?.text ?? '')?.[1] ?? '';
      const sure = !!lv && (/\bvolatile\b/.test(lv.text) || volatileAliases.has(root));
      if (g) flag(lv!, g, 'This stores into', sure);
    }
  },
};
