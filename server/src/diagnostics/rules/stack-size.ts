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
import { functionDefinitions } from '../syntax';
import { syntaxIndex, type SyntaxIndex } from '../syntax-index';
import { declaredType, typeSizes, typeText, type TypeSizes } from '../type-sizes';
import { callFacts, functionKey, memo as cached, topLevelKey } from '../function-cache';

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

export const stackSizeRule: Rule = {
  id: 'stack-size',
  description: 'locals over the 512-byte BPF stack',
  run({ doc, report }) {
    if (!doc.root) return;
    const sizes = typeSizes(doc);
    const ix = syntaxIndex(doc);
    const fns = functionDefinitions(doc);
    const own = new Map<string, { fn: Node; locals: Local[]; total: number; calls: string[] }>();
    for (const fn of fns) {
      const base = fn.startIndex;
      const rel = cached(`stack-size\u0000${topLevelKey(doc)}\u0000${functionKey(doc, fn)}`, () =>
        localsOf(fn, ix, sizes).map((l) => ({ ...l, start: l.start - base, end: l.end - base })),
      );
      const locals = rel.map((l) => ({ ...l, start: l.start + base, end: l.end + base }));
      const name = ix.functionName(fn) ?? '';
      const calls = callFacts(doc, fn).map((c) => c.name);
      own.set(name, { fn, locals, total: locals.reduce((a, l) => a + l.size, 0), calls });
    }
    // Deepest total stack of the call chain starting at each function (calls in the file only).
    const memo = new Map<string, { total: number; chain: string[] }>();
    const deep = (name: string, stack: Set<string>): { total: number; chain: string[] } => {
      const m = memo.get(name);
      if (m) return m;
      const f = own.get(name)!;
      let best = { total: 0, chain: [] as string[] };
      if (!stack.has(name) && stack.size < 16) {
        stack.add(name);
        for (const c of new Set(f.calls)) {
          if (!own.has(c) || c === name) continue;
          const r = deep(c, stack);
          if (r.total > best.total) best = r;
        }
        stack.delete(name);
      }
      const r = { total: f.total + best.total, chain: [name, ...best.chain] };
      memo.set(name, r);
      return r;
    };
    for (const [name, f] of own) {
      for (const l of f.locals) {
        if (l.size > LIMIT) {
          report({
            start: l.start,
            end: l.end,
            severity: 'error',
            message: `'${l.name}' (${l.type}) takes ${l.size} bytes of stack, more than the 512 bytes a BPF program has: clang fails ("Looks like the BPF stack limit of 512 bytes is exceeded"). ${SCRATCH}`,
          });
        }
      }
      if (f.locals.some((l) => l.size > LIMIT)) continue;
      const biggest = [...f.locals].sort((a, b) => b.size - a.size).slice(0, 3);
      const nameNode = functionNameNode(f.fn);
      if (!nameNode) continue;
      if (f.total > LIMIT) {
        report({
          start: nameNode.startIndex,
          end: nameNode.endIndex,
          severity: 'warning',
          message: `The locals of ${name}() add up to ${f.total} bytes of stack (limit 512): ${biggest.map((l) => `${l.name} ${l.size}`).join(', ')}. The compiler may reuse slots, but likely the build or the verifier fails ("combined stack size ... too large"). ${SCRATCH}`,
          related: biggest.map((l) => ({ start: l.start, end: l.end, message: `${l.size} bytes` })),
        });
        continue;
      }
      const d = deep(name, new Set());
      if (d.total > LIMIT && d.chain.length > 1 && doc.programs.some((p) => p.node === f.fn)) {
        report({
          start: nameNode.startIndex,
          end: nameNode.endIndex,
          severity: 'warning',
          message: `The call chain ${d.chain.join(' -> ')} needs ${d.total} bytes of stack in all (limit 512 for all frames together): the verifier may reject it ("combined stack size of N calls is ... Too large"). ${SCRATCH}`,
        });
      }
    }
  },
};
