/**
 * bpf_ringbuf_reserve() with a size that is not a constant. The size argument is
 * ARG_CONST_ALLOC_SIZE_OR_ZERO: the verifier needs the exact number of bytes to type the returned
 * pointer, so a size computed at run time (from a packet length, a string length, a map value) is
 * rejected ("R2 is not a known constant"), however well it is bounded. sizeof(), literals, #defines
 * and enums are constants; a size that reads memory (a field, an array element, a dereference) or
 * calls a function is not: error. A plain variable or parameter is left alone (clang propagates a
 * constant into it, or an inlined caller passes one). Variable-size records go through bpf_ringbuf_output() (its size may be a bounded
 * variable) or a dynptr (bpf_ringbuf_reserve_dynptr).
 */
import type { Node } from 'web-tree-sitter';
import { field, kids, opOf, ty } from '../fast-node';
import type { BpfDocument } from '../../bpf-document';
import { functionsByName, topLevelNodes } from '../function-cache';
import { stripParens } from '../flow';
import type { Rule } from '../rule';
import { syntaxIndex } from '../syntax-index';
import { callArgs } from '../syntax';
import { typeSizes } from '../type-sizes';

/** The first part of `e` (outside sizeof) that is only known at run time: a memory read or a call. */
function runtimePart(e: Node): Node | undefined {
  const t = ty(e);
  if (t === 'sizeof_expression') return undefined;
  if (t === 'field_expression' || t === 'subscript_expression' || t === 'call_expression') return e;
  if (t === 'pointer_expression' && e.text.startsWith('*')) return e;
  for (const c of kids(e)) {
    if (!c) continue;
    if (t === 'cast_expression' && c === field(e, 'type')) continue;
    const r = runtimePart(c);
    if (r) return r;
  }
  return undefined;
}

/**
 * `cfg.len`, `sizes[1]` on a `const` global: the verifier reads a frozen .rodata value as a constant,
 * so the size is one after all.
 */
function readsConstGlobal(doc: BpfDocument, e: Node): boolean {
  let base: Node | null = e;
  while (base && (ty(base) === 'field_expression' || ty(base) === 'subscript_expression'))
    base = field(base, ty(base) === 'field_expression' ? 'argument' : 'argument');
  if (!base || ty(base) !== 'identifier') return false;
  return topLevelNodes(doc).some(
    (n) =>
      ty(n) === 'declaration' &&
      /^(?:static\s+)?(?:volatile\s+)?const\b/.test(n.text) &&
      n.descendantsOfType('identifier').some((id) => id?.text === base!.text),
  );
}

/** The run-time part of the value of local `name` when every store to it in fn has one, else undefined. */
function runtimeLocal(fn: Node, name: string): Node | undefined {
  let found: Node | undefined;
  let declared = false;
  for (const n of fn.descendantsOfType([
    'init_declarator',
    'assignment_expression',
    'update_expression',
    'parameter_declaration',
  ])) {
    if (!n) continue;
    if (ty(n) === 'parameter_declaration') {
      if (n.descendantsOfType('identifier').some((i) => i?.text === name)) return undefined;
      continue;
    }
    if (ty(n) === 'update_expression') {
      if (field(n, 'argument')?.text === name) return undefined;
      continue;
    }
    const target = ty(n) === 'init_declarator' ? field(n, 'declarator') : field(n, 'left');
    if (target?.text !== name) continue;
    if (ty(n) === 'init_declarator') declared = true;
    const value = field(n, ty(n) === 'init_declarator' ? 'value' : 'right');
    const rt = value && (ty(n) === 'init_declarator' || opOf(n) === '=') ? runtimePart(value) : undefined;
    if (!rt) return undefined;
    found ??= rt;
  }
  // `&len` handed anywhere: something else may store a constant there.
  if (!declared || new RegExp(`&\\s*${name}\\b`).test(fn.text)) return undefined;
  return found;
}

/**
 * A store before `before` to local `name` of a run-time value (a call's result, a memory read), directly
 * or through other locals (`size = len;` after `len = PT_REGS_RC(ctx);`); undefined when none.
 */
function someRuntimeStore(fn: Node, name: string, before: number, depth = 0): Node | undefined {
  if (depth > 3) return undefined;
  for (const n of fn.descendantsOfType(['init_declarator', 'assignment_expression', 'parameter_declaration'])) {
    if (!n || n.startIndex >= before) continue;
    // A parameter: an inlined caller may pass a constant; not to a BPF_KPROBE()/BPF_PROG()-style program,
    // whose arguments are read from registers or the context.
    if (ty(n) === 'parameter_declaration') {
      if (n.descendantsOfType('identifier').some((i) => i?.text === name))
        return /^\s*BPF_\w+\s*\(/.test(field(fn, 'declarator')?.text ?? '') ? n : undefined;
      continue;
    }
    const target = ty(n) === 'init_declarator' ? field(n, 'declarator') : field(n, 'left');
    if (target?.text !== name || (ty(n) === 'assignment_expression' && opOf(n) !== '=')) continue;
    const value = field(n, ty(n) === 'init_declarator' ? 'value' : 'right');
    if (!value) continue;
    const v = stripParens(value);
    const rt =
      runtimePart(v) ?? (ty(v) === 'identifier' ? someRuntimeStore(fn, v.text, n.startIndex, depth + 1) : undefined);
    if (rt) return rt;
  }
  return undefined;
}

export const ringbufReserveSizeRule: Rule = {
  id: 'ringbuf-reserve-size',
  description: 'bpf_ringbuf_reserve() with a size that is not a constant',
  ownFunctionOnly: true,
  functionFilter: /\bbpf_ringbuf_reserve\s*\(/,
  runFunction({ doc, fn, report }) {
    if (functionsByName(doc).has('bpf_ringbuf_reserve')) return;
    const sizes = typeSizes(doc);
    for (const c of syntaxIndex(doc).callsIn(fn)) {
      if (c.name !== 'bpf_ringbuf_reserve') continue;
      const size = callArgs(c.node)[1];
      if (!size || sizes.constValue(size.text) !== undefined) continue;
      let rt = runtimePart(size);
      // A local whose every store is a run-time value (`u32 len = skb->len & 0xff;`): clang cannot fold it.
      const v = stripParens(size);
      if (!rt && ty(v) === 'identifier') rt = runtimeLocal(fn, v.text);
      if (!rt && ty(v) !== 'identifier') {
        // `sizeof(*e) - MAX + (size & (MAX - 1))` with `size = len;` after `len = PT_REGS_RC(ctx);`: a local
        // in the expression stored a run-time value on some path (a warning: another store may win).
        for (const id of size.descendantsOfType('identifier')) {
          if (!id || id.parent?.type === 'call_expression') continue;
          let inSizeof = false;
          for (let up = id.parent; up && up.startIndex >= size.startIndex && !inSizeof; up = up.parent)
            inSizeof = up.type === 'sizeof_expression';
          if (inSizeof) continue;
          const r = someRuntimeStore(fn, id.text, c.node.startIndex);
          if (!r || readsConstGlobal(doc, r)) continue;
          report({
            start: size.startIndex,
            end: size.endIndex,
            severity: 'warning',
            message:
              `bpf_ringbuf_reserve() needs a constant size, but this one uses '${id.text}', which is set from '${r.text.slice(0, 40)}' at run time ` +
              `before the call: on that path the verifier rejects the program ("R2 is not a known constant"), however the value is masked or bounded. ` +
              `Reserve the largest record (sizeof(*e)) and send the length in it, or copy a variable-size record with bpf_ringbuf_output(), ` +
              `or use bpf_ringbuf_reserve_dynptr().`,
          });
          break;
        }
        continue;
      }
      if (!rt || readsConstGlobal(doc, rt)) continue;
      report({
        start: size.startIndex,
        end: size.endIndex,
        severity: 'error',
        message:
          `bpf_ringbuf_reserve() needs a constant size, but this one reads '${rt.text}' at run time: the verifier rejects ` +
          `the program ("R2 is not a known constant"), however the value is bounded. Reserve the largest record ` +
          `(sizeof(*e)) and send the length in it, or copy a variable-size record with bpf_ringbuf_output(), ` +
          `or use bpf_ringbuf_reserve_dynptr().`,
      });
    }
  },
};
