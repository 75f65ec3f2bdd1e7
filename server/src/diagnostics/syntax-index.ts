/**
 * One pass over a document's tree, shared by every rule: the nodes of the kinds rules look for,
 * bucketed by type in document order, built once per document version.
 *
 * Each tree access from JS crosses into tree-sitter's wasm heap, so `descendantsOfType` per rule
 * and per function adds up to hundreds of milliseconds on a 3,000-line file; one call for all the
 * kinds the rules need costs about 2 ms. Questions about a function query that function only (and
 * only when a rule's cached result for it is missing); whole-file lists are built per type on demand.
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument } from '../bpf-document';
import { functionsOf } from './function-cache';

const INDEXED = [
  'call_expression',
  'function_definition',
  'declaration',
  'init_declarator',
  'parameter_declaration',
  'assignment_expression',
  'return_statement',
  'while_statement',
  'for_statement',
  'do_statement',
  'if_statement',
  'preproc_def',
  'preproc_function_def',
  'function_declarator',
  'enumerator',
  'type_definition',
  'field_expression',
  'subscript_expression',
  'pointer_expression',
  'update_expression',
] as const;
export type IndexedType = (typeof INDEXED)[number];

/** A call to a named function, with the callee's name read once. */
export interface Call {
  name: string;
  node: Node;
  /** Offsets of the callee's name. */
  start: number;
  end: number;
}

const CALLEE = /^([A-Za-z_]\w*)\s*\(/;

export class SyntaxIndex {
  /** Per function (by start offset): its nodes of the indexed kinds, bucketed by type. */
  private readonly perFn = new Map<number, Map<string, Node[]>>();
  private readonly whole = new Map<string, Node[]>();
  private names: Map<number, string> | undefined;
  private ends: number[] | undefined;

  constructor(readonly doc: BpfDocument) {}

  /** All nodes of a type in the file, in document order (one tree query per type, on first use). */
  all(type: IndexedType): readonly Node[] {
    let list = this.whole.get(type);
    if (!list) {
      list = (this.doc.root?.descendantsOfType(type) ?? []).filter((n): n is Node => !!n);
      this.whole.set(type, list);
    }
    return list;
  }

  /** Nodes of a type that start inside `within` (the node itself included), in document order. */
  in(type: IndexedType, within: Node): Node[] {
    return this.range(type, within.startIndex, within.endIndex);
  }

  /**
   * Nodes of any of the types inside `within`, in document order (as one `descendantsOfType(types)`
   * gives them: an outer node before the nodes it contains).
   */
  inAny(types: readonly IndexedType[], within: Node): Node[] {
    if (types.length === 1) return this.in(types[0], within);
    const out: Node[] = [];
    for (const t of types) for (const n of this.in(t, within)) out.push(n);
    return out.sort((a, b) => a.startIndex - b.startIndex || b.endIndex - a.endIndex);
  }

  /** Nodes of a type that start in [start, end). Inside a function, only that function is queried. */
  range(type: IndexedType, start: number, end: number): Node[] {
    const at = this.functionAt(start);
    const list = at && end <= at.end ? (this.bucket(at.fn).get(type) ?? []) : this.all(type);
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].startIndex < start) lo = mid + 1;
      else hi = mid;
    }
    const out: Node[] = [];
    for (let k = lo; k < list.length && list[k].startIndex < end; k++) out.push(list[k]);
    return out;
  }

  /** The function definition containing `offset`, with its end (each `endIndex` read crosses into wasm: read once). */
  private functionAt(offset: number): { fn: Node; end: number } | undefined {
    const fns = functionsOf(this.doc);
    const ends = (this.ends ??= fns.map((f) => f.endIndex));
    let lo = 0;
    let hi = fns.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const f = fns[mid];
      if (offset < f.startIndex) hi = mid - 1;
      else if (offset >= ends[mid]) lo = mid + 1;
      else return { fn: f, end: ends[mid] };
    }
    return undefined;
  }

  private bucket(fn: Node): Map<string, Node[]> {
    let b = this.perFn.get(fn.startIndex);
    if (!b) {
      b = new Map(INDEXED.map((t) => [t, [] as Node[]]));
      if (fn.type === 'function_definition') b.get('function_definition')!.push(fn);
      for (const n of fn.descendantsOfType(INDEXED as unknown as string[])) if (n) b.get(n.type)?.push(n);
      this.perFn.set(fn.startIndex, b);
    }
    return b;
  }

  /** Calls to named functions inside `within`. */
  callsIn(within: Node): Call[] {
    const out: Call[] = [];
    for (const c of this.in('call_expression', within)) {
      const m = CALLEE.exec(c.text);
      if (m) out.push({ name: m[1], node: c, start: c.startIndex, end: c.startIndex + m[1].length });
      else {
        const fn = c.childForFieldName('function');
        if (fn?.type === 'identifier') out.push({ name: fn.text, node: c, start: fn.startIndex, end: fn.endIndex });
      }
    }
    return out;
  }

  /** Calls inside `within` whose callee is an expression (`(*fp)(x)`, `ops->fn(x)`, or a cast that parses as one). */
  indirectCallsIn(within: Node): { node: Node; fn: Node }[] {
    const out: { node: Node; fn: Node }[] = [];
    for (const c of this.in('call_expression', within)) {
      if (CALLEE.test(c.text)) continue;
      const fn = c.childForFieldName('function');
      if (fn && fn.type !== 'identifier') out.push({ node: c, fn });
    }
    return out;
  }

  /** The name of each function definition, by the definition's start offset. */
  functionName(fn: Node): string | undefined {
    if (!this.names) {
      this.names = new Map();
      for (const [name, node] of this.doc.functions) this.names.set(node.startIndex, name);
    }
    return this.names.get(fn.startIndex) ?? identOf(fn);
  }
}

/** The name a function definition declares, read from the tree (for definitions doc.functions lacks). */
function identOf(fn: Node): string | undefined {
  let d = fn.childForFieldName('declarator');
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  const n = d?.childForFieldName('declarator');
  return n?.type === 'identifier' ? n.text : undefined;
}

const cache = new WeakMap<BpfDocument, SyntaxIndex>();

/** The index of a document, built on first use and kept as long as the document. */
export function syntaxIndex(doc: BpfDocument): SyntaxIndex {
  let ix = cache.get(doc);
  if (!ix) cache.set(doc, (ix = new SyntaxIndex(doc)));
  return ix;
}
