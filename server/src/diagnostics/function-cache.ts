/**
 * Results of the per-function analyses, kept across document versions.
 *
 * An edit changes one function; the others keep their text. A rule's findings in a function depend
 * only on that function's text and on the file's top level (maps, structs, #defines, prototypes,
 * SEC() lines), so they are cached under (rule, top-level key, function text) with offsets relative
 * to the function, and re-placed at the function's new offset. On a 3,000-line file this turns a
 * re-analysis after an edit into string hashing plus the one function that changed.
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument } from '../bpf-document';
import type { RuleDiagnostic } from './rule';

const MAX_ENTRIES = 20000;
const cache = new Map<string, unknown>();

/** A value computed once per key (least recently computed entries dropped past MAX_ENTRIES). */
export function memo<T>(key: string, compute: () => T): T {
  if (cache.has(key)) return cache.get(key) as T;
  const v = compute();
  if (cache.size >= MAX_ENTRIES) {
    // Drop the oldest tenth: Map iteration is insertion order.
    let drop = MAX_ENTRIES / 10;
    for (const k of cache.keys()) {
      cache.delete(k);
      if (--drop <= 0) break;
    }
  }
  cache.set(key, v);
  return v;
}

/** Forgets everything (tests). */
export function clearFunctionCache(): void {
  cache.clear();
}

/** 53-bit FNV-1a-style hash of a string, as base-36 text. */
export function hash(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return ((h1 >>> 0) * 2097152 + ((h2 >>> 0) & 0x1fffff)).toString(36);
}

interface PerDoc {
  functions: Node[];
  others: Node[];
  texts: Map<number, string>;
  keys: Map<number, string>;
  calls: Map<number, CallFact[]>;
  topKey?: string;
}
const perDoc = new WeakMap<BpfDocument, PerDoc>();

function docInfo(doc: BpfDocument): PerDoc {
  let d = perDoc.get(doc);
  if (!d) {
    const { functions, others } = topNodes(doc);
    d = { functions, others, texts: new Map(), keys: new Map(), calls: new Map() };
    perDoc.set(doc, d);
  }
  return d;
}

/** Function definitions of the file (top level, and under #if), in document order. */
export function functionsOf(doc: BpfDocument): readonly Node[] {
  return docInfo(doc).functions;
}

/** Top-level nodes other than function definitions (declarations, #defines, typedefs...). */
export function topLevelNodes(doc: BpfDocument): readonly Node[] {
  return docInfo(doc).others;
}

function topNodes(doc: BpfDocument): { functions: Node[]; others: Node[] } {
  const functions: Node[] = [];
  const others: Node[] = [];
  const root = doc.root;
  if (!root) return { functions, others };
  const visit = (n: Node, depth: number) => {
    for (const c of n.namedChildren) {
      if (!c) continue;
      const t = c.type;
      if (t === 'function_definition') functions.push(c);
      else if (
        depth < 8 &&
        (t === 'preproc_ifdef' || t === 'preproc_if' || t === 'preproc_else' || t === 'preproc_elif')
      )
        visit(c, depth + 1);
      else if (t !== 'comment') others.push(c);
    }
  };
  visit(root, 0);
  return { functions, others };
}

/** The text of a function definition, read once per document. */
export function functionText(doc: BpfDocument, fn: Node): string {
  const d = docInfo(doc);
  let t = d.texts.get(fn.startIndex);
  if (t === undefined) d.texts.set(fn.startIndex, (t = doc.text.slice(fn.startIndex, fn.endIndex)));
  return t;
}

/** A short key for a function's text (a hash and the length), computed once per document. */
export function functionKey(doc: BpfDocument, fn: Node): string {
  const d = docInfo(doc);
  let k = d.keys.get(fn.startIndex);
  if (k === undefined) {
    const text = functionText(doc, fn);
    d.keys.set(fn.startIndex, (k = `${hash(text)}.${text.length}`));
  }
  return k;
}

/**
 * A key for everything outside function bodies (the top level: declarations, SEC() lines, function
 * signatures), plus the file's indentation unit, which quick fixes use.
 */
export function topLevelKey(doc: BpfDocument): string {
  const d = docInfo(doc);
  if (d.topKey === undefined) {
    const parts: string[] = [];
    let at = 0;
    for (const fn of d.functions) {
      const text = functionText(doc, fn);
      const brace = text.indexOf('{');
      const bodyStart = brace < 0 ? fn.endIndex : fn.startIndex + brace;
      parts.push(doc.text.slice(at, bodyStart));
      at = fn.endIndex;
    }
    parts.push(doc.text.slice(at));
    const indent = doc.text.includes('\n\t') ? 't' : 's';
    d.topKey = `${hash(parts.join('\u0000'))}${indent}`;
  }
  return d.topKey;
}

/** Cached findings of one rule in one function: offsets stored relative to the function. */
export function functionFindings(
  rule: string,
  doc: BpfDocument,
  fn: Node,
  extraKey: string,
  compute: () => RuleDiagnostic[],
): RuleDiagnostic[] {
  const base = fn.startIndex;
  const key = `${rule}\u0000${topLevelKey(doc)}\u0000${extraKey}\u0000${functionKey(doc, fn)}`;
  const rel = memo(key, () => {
    const found = compute();
    const inside = (o: number) => o >= base && o <= fn.endIndex;
    const ok = found.every(
      (d) =>
        inside(d.start) &&
        inside(d.end) &&
        (d.related ?? []).every((r) => inside(r.start) && inside(r.end)) &&
        (d.fixes ?? []).every((f) => f.edits.every((e) => inside(e.start) && inside(e.end))),
    );
    // Something points outside the function: not cacheable, keep it absolute for this document only.
    return ok ? shift(found, -base) : { absolute: found, doc };
  });
  if (!Array.isArray(rel)) {
    const a = rel as { absolute: RuleDiagnostic[]; doc: BpfDocument };
    if (a.doc === doc) return a.absolute;
    cache.delete(key);
    return functionFindings(rule, doc, fn, extraKey, compute);
  }
  return shift(rel, base);
}

function shift(ds: RuleDiagnostic[], by: number): RuleDiagnostic[] {
  if (by === 0) return ds;
  return ds.map((d) => ({
    ...d,
    start: d.start + by,
    end: d.end + by,
    related: d.related?.map((r) => ({ ...r, start: r.start + by, end: r.end + by })),
    fixes: d.fixes?.map((f) => ({ ...f, edits: f.edits.map((e) => ({ ...e, start: e.start + by, end: e.end + by })) })),
  }));
}

/** Calls to named functions in a function, with offsets relative to it (cached by function text). */
export interface CallFact {
  name: string;
  /** Offsets of the callee's name, relative to the function start. */
  start: number;
  end: number;
}

/**
 * Calls in a function, found in its text and confirmed once with the tree (comments, strings,
 * declarations and control keywords are not calls).
 */
export function callFacts(doc: BpfDocument, fn: Node): CallFact[] {
  const d = docInfo(doc);
  const known = d.calls.get(fn.startIndex);
  if (known) return known;
  const facts = memo(`calls\u0000${functionKey(doc, fn)}`, () => {
    const calls: CallFact[] = [];
    const found = new Map<number, string>();
    for (const c of fn.descendantsOfType('call_expression')) {
      if (!c) continue;
      const m = /^([A-Za-z_]\w*)\s*\(/.exec(c.text);
      if (m) found.set(c.startIndex - fn.startIndex, m[1]);
    }
    for (const [start, name] of [...found].sort((a, b) => a[0] - b[0]))
      calls.push({ name, start, end: start + name.length });
    return calls;
  });
  d.calls.set(fn.startIndex, facts);
  return facts;
}
