/**
 * Rule 3: more than 512 bytes of stack. The BPF stack is 512 bytes per program, all frames of a call
 * chain together. One object bigger than that cannot be placed at all (clang: "Looks like the BPF
 * stack limit of 512 bytes is exceeded"); several that add up to more may still fit when the compiler
 * reuses slots, so that is a warning. Only sizes we know are counted (basic types, structs defined in
 * the file, the uapi network headers); a struct from vmlinux.h counts as zero rather than a guess.
 */
import type { Node } from 'web-tree-sitter';
import type { Rule } from '../rule';
import { functionNameNode } from '../../bpf-document';
import type { BpfDocument } from '../../bpf-document';
import { syntaxIndex, type SyntaxIndex } from '../syntax-index';
import { declaredType, typeSizes, typeText, type TypeSizes } from '../type-sizes';
import { callFacts, functionKey, functionsByName, memo as cached, topLevelKey } from '../function-cache';

const LIMIT = 512;
/** Declarations that start with a scalar type hold no arrays or structs (unless they have a `[`). */
const SCALAR_START =
  /^(const\s+|volatile\s+|register\s+)*(unsigned|signed|int|long|short|char|bool|_Bool|void|__?[us](8|16|32|64)|__be(16|32|64)|__le(16|32|64)|size_t|pid_t|uid_t|gid_t|dev_t)\b/;

interface Local {
  name: string;
  start: number;
  end: number;
  type: string;
  size: number;
}

/** Arrays and aggregates declared in a function, with their sizes when known. */
function localsOf(fn: Node, ix: SyntaxIndex, sizes: TypeSizes): Local[] {
  const body = fn.childForFieldName('body');
  const locals: Local[] = [];
  if (!body) return locals;
  for (const decl of ix.in('declaration', body)) {
    // Only arrays and aggregates can be big; most declarations are scalars and pointers.
    const text = decl.text;
    if (!text.includes('[') && !/\b(struct|union)\b/.test(text) && SCALAR_START.test(text)) continue;
    if (/^\s*(static|extern)\b/.test(text)) continue;
    const typeNode = decl.childForFieldName('type');
    if (!typeNode) continue;
    const base = typeText(typeNode);
    for (const d of decl.childrenForFieldName('declarator')) {
      if (!d) continue;
      const inner = d.type === 'init_declarator' ? d.childForFieldName('declarator') : d;
      const type = declaredType(base, inner);
      const isAggregate =
        type.includes('[') ||
        (!type.includes('*') && /^(struct|union)\b/.test(base)) ||
        (!type.includes('*') && typeNode.type === 'type_identifier');
      if (!isAggregate || type.includes('*')) continue;
      const l = sizes.layoutOf(type);
      if (!l || (!type.includes('[') && l.size <= 8)) continue;
      const nameNode = inner?.descendantsOfType('identifier')[0] ?? inner ?? d;
      locals.push({ name: nameNode.text, start: nameNode.startIndex, end: nameNode.endIndex, type, size: l.size });
    }
  }
  return locals;
}

const SCRATCH =
  'Keep big buffers in a BPF_MAP_TYPE_PERCPU_ARRAY map with one entry used as scratch space ' +
  '(u32 zero = 0; buf = bpf_map_lookup_elem(&scratch, &zero);), or in a ring buffer reservation.';

/** The locals of a function (cached by the top level and the function's text, offsets relative to it). */
function localsFor(doc: BpfDocument, fn: Node): Local[] {
  const base = fn.startIndex;
  const rel = cached(`stack-size\u0000${topLevelKey(doc)}\u0000${functionKey(doc, fn)}`, () =>
    localsOf(fn, syntaxIndex(doc), typeSizes(doc)).map((l) => ({ ...l, start: l.start - base, end: l.end - base })),
  );
  return rel.map((l) => ({ ...l, start: l.start + base, end: l.end + base }));
}

const total = (locals: Local[]) => locals.reduce((a, l) => a + l.size, 0);

export const stackSizeRule: Rule = {
  id: 'stack-size',
  description: 'locals over the 512-byte BPF stack',
  runFunction({ doc, fn, name: fnName, programs, report }) {
    const name = fnName ?? '';
    const locals = localsFor(doc, fn);
    for (const l of locals) {
      if (l.size > LIMIT) {
        report({
          start: l.start,
          end: l.end,
          severity: 'error',
          message: `'${l.name}' (${l.type}) takes ${l.size} bytes of stack, more than the 512 bytes a BPF program has: clang fails ("Looks like the BPF stack limit of 512 bytes is exceeded"). ${SCRATCH}`,
        });
      }
    }
    if (locals.some((l) => l.size > LIMIT)) return;
    const biggest = [...locals].sort((a, b) => b.size - a.size).slice(0, 3);
    const nameNode = functionNameNode(fn);
    if (!nameNode) return;
    const own = total(locals);
    if (own > LIMIT) {
      report({
        start: nameNode.startIndex,
        end: nameNode.endIndex,
        severity: 'warning',
        message: `The locals of ${name}() add up to ${own} bytes of stack (limit 512): ${biggest.map((l) => `${l.name} ${l.size}`).join(', ')}. The compiler may reuse slots, but likely the build or the verifier fails ("combined stack size ... too large"). ${SCRATCH}`,
        related: biggest.map((l) => ({ start: l.start, end: l.end, message: `${l.size} bytes` })),
      });
      return;
    }
    if (!programs.some((p) => p.node.startIndex === fn.startIndex)) return;
    // Deepest total stack of the call chain starting here (calls in the file only; the functions it
    // calls are part of this function's cache key).
    const byName = functionsByName(doc);
    const memo = new Map<string, { total: number; chain: string[] }>();
    const deep = (n: string, stack: Set<string>): { total: number; chain: string[] } => {
      const m = memo.get(n);
      if (m) return m;
      const f = byName.get(n)!;
      let best = { total: 0, chain: [] as string[] };
      if (!stack.has(n) && stack.size < 16) {
        stack.add(n);
        for (const c of new Set(callFacts(doc, f).map((x) => x.name))) {
          if (!byName.has(c) || c === n) continue;
          const r = deep(c, stack);
          if (r.total > best.total) best = r;
        }
        stack.delete(n);
      }
      const r = { total: total(localsFor(doc, f)) + best.total, chain: [n, ...best.chain] };
      memo.set(n, r);
      return r;
    };
    if (!byName.has(name)) return;
    const d = deep(name, new Set());
    if (d.total > LIMIT && d.chain.length > 1) {
      // The biggest buffers along the chain, wherever they are (the one just added is usually among them).
      const along = d.chain
        .flatMap((f) => localsFor(doc, byName.get(f)!).map((l) => ({ ...l, fn: f })))
        .sort((a, b) => b.size - a.size)
        .slice(0, 3);
      report({
        start: nameNode.startIndex,
        end: nameNode.endIndex,
        severity: 'warning',
        message:
          `The call chain ${d.chain.join(' -> ')} needs ${d.total} bytes of stack in all (limit 512 for all frames together)` +
          `${along.length ? `, the most in ${along.map((l) => `${l.name} (${l.size} bytes, in ${l.fn}())`).join(', ')}` : ''}: ` +
          `the verifier may reject it ("combined stack size of N calls is ... Too large"). ${SCRATCH}`,
        related: along.map((l) => ({
          start: l.start,
          end: l.end,
          message: `${l.size} bytes of the chain's stack, in ${l.fn}()`,
        })),
      });
    }
  },
};
