/**
 * One pass over a document's tree, shared by every rule: the nodes of the kinds rules look for,
 * bucketed by type in document order, built once per document version.
 *
 * Each tree access from JS crosses into tree-sitter's wasm heap, so `descendantsOfType` per rule
 * and per function adds up to hundreds of milliseconds on a 3,000-line file; one call for all the
 * kinds the rules need costs about 2 ms. Per-function questions are answered by binary search on
 * start offsets.
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument } from '../bpf-document';

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
  private readonly buckets = new Map<string, Node[]>();
  private callList: Call[] | undefined;
  private indirect: { node: Node; fn: Node }[] | undefined;
  private names: Map<number, string> | undefined;

  constructor(readonly doc: BpfDocument) {
    const root = doc.root;
    if (!root) return;
    for (const t of INDEXED) this.buckets.set(t, []);
    for (const n of root.descendantsOfType(INDEXED as unknown as string[])) {
      if (n) this.buckets.get(n.type)?.push(n);
    }
  }

  /** All nodes of a type, in document order. */
  all(type: IndexedType): readonly Node[] {
    return this.buckets.get(type) ?? [];
  }

  /** Nodes of a type that start inside `within` (the node itself included), in document order. */
  in(type: IndexedType, within: Node): Node[] {
    return this.range(type, within.startIndex, within.endIndex);
  }

  /** Nodes of a type that start in [start, end). */
  range(type: IndexedType, start: number, end: number): Node[] {
    const list = this.all(type);
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

  /** Calls to named functions (not through pointers), in document order. */
  calls(): readonly Call[] {
    if (!this.callList) {
      this.callList = [];
      this.indirect = [];
      for (const c of this.all('call_expression')) {
        // The callee's name from the text: no tree access for the common `name(...)` shape.
        const m = CALLEE.exec(c.text);
        if (m) this.callList.push({ name: m[1], node: c, start: c.startIndex, end: c.startIndex + m[1].length });
        else {
          const fn = c.childForFieldName('function');
          if (fn?.type === 'identifier') this.callList.push({ name: fn.text, node: c, start: fn.startIndex, end: fn.endIndex });
          else if (fn) this.indirect.push({ node: c, fn });
        }
      }
    }
    return this.callList;
  }

  /** The name of each function definition, by the definition's start offset. */
  functionName(fn: Node): string | undefined {
    if (!this.names) {
      this.names = new Map();
      for (const [name, node] of this.doc.functions) this.names.set(node.startIndex, name);
    }
    return this.names.get(fn.startIndex) ?? identOf(fn);
  }

  /** Calls whose callee is an expression (`(*fp)(x)`, `ops->fn(x)`, or a cast that parses as one). */
  indirectCalls(): readonly { node: Node; fn: Node }[] {
    this.calls();
    return this.indirect!;
  }

  /** Calls to named functions inside `within`. */
  callsIn(within: Node): Call[] {
    const list = this.calls();
    const start = within.startIndex;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].node.startIndex < start) lo = mid + 1;
      else hi = mid;
    }
    const out: Call[] = [];
    for (let k = lo; k < list.length && list[k].node.startIndex < within.endIndex; k++) out.push(list[k]);
    return out;
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
