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
import { firstParam, functionName, functionNameNode, type BpfDocument, type BpfProgram } from '../bpf-document';
import type { SecMark } from '../bpf-masking';
import { sectionFor } from '../catalog/catalog';
import type { RuleDiagnostic } from './rule';

/**
 * Two generations: entries are looked up in the young map, then in the old one (and moved back to the
 * young one when found there); when the young map is full it becomes the old one and the previous old
 * one is dropped. So the cache holds at most 2 x GENERATION entries, and what every analysis reads
 * (the unchanged functions' findings) stays, while what edits left behind goes (issue 15.12: memory
 * under long editing).
 */
const GENERATION = 4000;
let young = new Map<string, unknown>();
let old = new Map<string, unknown>();

/** A value computed once per key (kept while it is used; see above). */
export function memo<T>(key: string, compute: () => T): T {
  let v = young.get(key);
  if (v !== undefined || young.has(key)) return v as T;
  v = old.get(key);
  if (v === undefined && !old.has(key)) v = compute();
  if (young.size >= GENERATION) {
    old = young;
    young = new Map();
  }
  young.set(key, v);
  return v as T;
}

/** How many values are cached (tests, and the memory budget). */
export function cacheSize(): number {
  return young.size + old.size;
}

/** Runs `f` with an empty cache of its own, then puts the previous one back (tests: a from-scratch analysis). */
export function withIsolatedCache<T>(f: () => T): T {
  const saved = [young, old];
  young = new Map();
  old = new Map();
  try {
    return f();
  } finally {
    [young, old] = saved;
  }
}

/** Forgets everything (tests). */
export function clearFunctionCache(): void {
  young.clear();
  old.clear();
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
  /** Both, in document order. */
  all: Node[];
  secOwners?: Map<number, SecMark>;
  texts: Map<number, string>;
  keys: Map<number, string>;
  calls: Map<number, CallFact[]>;
  topKey?: string;
  /** Function bodies ([start, end) of each, from its `{`), the text topLevelKey leaves out. */
  bodies?: number[];
  analyses?: Map<number, FunctionAnalysis>;
  byName?: Map<string, Node>;
}
const perDoc = new WeakMap<BpfDocument, PerDoc>();

function docInfo(doc: BpfDocument): PerDoc {
  let d = perDoc.get(doc);
  if (!d) {
    const { functions, others, all } = topNodes(doc);
    d = { functions, others, all, texts: new Map(), keys: new Map(), calls: new Map() };
    const spans: number[] = [];
    for (const fn of functions) spans.push(fn.startIndex, fn.endIndex);
    doc.functionSpans = spans;
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

function topNodes(doc: BpfDocument): { functions: Node[]; others: Node[]; all: Node[] } {
  const functions: Node[] = [];
  const others: Node[] = [];
  // The document's top-level walk (through #if/#ifdef, comments left out), shared with its structure.
  const all = doc.topLevel();
  for (const c of all) (c.type === 'function_definition' ? functions : others).push(c);
  return { functions, others, all };
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
    d.bodies = [];
    for (const fn of d.functions) {
      const text = functionText(doc, fn);
      const brace = text.indexOf('{');
      const bodyStart = brace < 0 ? fn.endIndex : fn.startIndex + brace;
      parts.push(doc.text.slice(at, bodyStart));
      d.bodies.push(bodyStart, fn.endIndex);
      at = fn.endIndex;
    }
    parts.push(doc.text.slice(at));
    // A SEC() inside a body (half-typed code) still names the program that body belongs to.
    const b = d.bodies;
    let k = 0;
    for (const sec of doc.mask.secs) {
      while (k < b.length && b[k + 1] <= sec.start) k += 2;
      if (k < b.length && b[k] <= sec.start) parts.push(`SEC ${k} ${sec.name}`);
    }
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
    young.delete(key);
    old.delete(key);
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

/** What the engine knows about one function for one analysis (see FunctionContext in rule.ts). */
export interface FunctionAnalysis {
  readonly name: string | undefined;
  readonly text: string;
  readonly programs: readonly BpfProgram[];
  /**
   * Everything its per-function findings may depend on, as one key: the top level, its own text, the
   * texts of the functions it calls (transitively), and the names and sections of its programs.
   */
  readonly dependencyKey: string;
  /** Whether its text matches a rule's filter (cached by text). */
  matches(ruleId: string, filter: RegExp): boolean;
}

/** The analysis of one function definition of the document (built for all functions at first use). */
export function functionAnalysis(doc: BpfDocument, fn: Node): FunctionAnalysis {
  const d = docInfo(doc);
  d.analyses ??= buildAnalyses(doc, d);
  return d.analyses.get(fn.startIndex)!;
}

function buildAnalyses(doc: BpfDocument, d: PerDoc): Map<number, FunctionAnalysis> {
  const top = topLevelKey(doc);
  const byName = new Map<string, Node>();
  const names = new Map<number, string | undefined>();
  for (const fn of d.functions) {
    const name = functionNameOf(doc, fn);
    names.set(fn.startIndex, name);
    if (name) byName.set(name, fn); // the last definition of a name wins, as in doc.functions
  }
  // The call graph between the file's functions (from the calls' text, cached by function text).
  const callees = new Map<number, Node[]>();
  const callers = new Map<number, Node[]>();
  for (const fn of d.functions) {
    const list: Node[] = [];
    for (const c of callFacts(doc, fn)) {
      const target = byName.get(c.name);
      if (!target || target === fn || list.includes(target)) continue;
      list.push(target);
      let back = callers.get(target.startIndex);
      if (!back) callers.set(target.startIndex, (back = []));
      back.push(fn);
    }
    callees.set(fn.startIndex, list);
  }
  const reach = (start: Node, edges: Map<number, Node[]>, stop?: (n: Node) => boolean): Node[] => {
    const seen = new Set<number>([start.startIndex]);
    const out: Node[] = [];
    const stack = [...(edges.get(start.startIndex) ?? [])];
    while (stack.length) {
      const n = stack.pop()!;
      if (seen.has(n.startIndex)) continue;
      seen.add(n.startIndex);
      out.push(n);
      if (!stop?.(n)) stack.push(...(edges.get(n.startIndex) ?? []));
    }
    return out;
  };
  const out = new Map<number, FunctionAnalysis>();
  const programOf = new Map<number, BpfProgram | undefined>();
  const programFor = (fn: Node): BpfProgram | undefined => {
    if (!programOf.has(fn.startIndex)) programOf.set(fn.startIndex, programOfFunction(doc, fn));
    return programOf.get(fn.startIndex);
  };
  const programsOf = (fn: Node): BpfProgram[] => {
    const own = programFor(fn);
    if (own) return [own];
    // Programs that call it, directly or through functions that are not programs themselves.
    return reach(fn, callers, (n) => !!programFor(n))
      .map((c) => programFor(c))
      .filter((p): p is BpfProgram => !!p)
      .sort((a, b) => a.node.startIndex - b.node.startIndex);
  };
  for (const fn of d.functions) {
    const calleeKeys = reach(fn, callees)
      .map((c) => functionKey(doc, c))
      .sort()
      .join(',');
    // Which of its callers are programs is decided by the top level (SEC() lines), part of the key.
    const callerNames = reach(fn, callers)
      .map((c) => names.get(c.startIndex) ?? '?')
      .sort()
      .join(',');
    const key = functionKey(doc, fn);
    const text = functionText(doc, fn);
    let programs: BpfProgram[] | undefined;
    out.set(fn.startIndex, {
      name: names.get(fn.startIndex),
      text,
      get programs() {
        return (programs ??= programsOf(fn));
      },
      // One short key (a 53-bit hash): every rule looks it up, and long keys cost hashing and memory.
      dependencyKey: hash(
        `${top}\u0000${key}\u0000${calleeKeys.length > 64 ? hash(calleeKeys) : calleeKeys}\u0000${callerNames.length > 64 ? hash(callerNames) : callerNames}`,
      ),
      matches: (ruleId, filter) => memo(`filter\u0000${ruleId}\u0000${key}`, () => filter.test(text)),
    });
  }
  return out;
}

/** The name a function definition defines (BPF_PROG(name, ...) aware), cached by its text. */
export function functionNameOf(doc: BpfDocument, fn: Node): string | undefined {
  return memo(`name\u0000${functionKey(doc, fn)}`, () => functionName(fn));
}

/** The file's function definitions by name (the last of each name, as doc.functions), from the cached names. */
export function functionsByName(doc: BpfDocument): Map<string, Node> {
  const d = docInfo(doc);
  if (!d.byName) {
    d.byName = new Map();
    for (const fn of d.functions) {
      const name = functionNameOf(doc, fn);
      if (name) d.byName.set(name, fn);
    }
  }
  return d.byName;
}

/**
 * Findings cached under `key`. With `fn`, offsets are kept relative to the function and moved to where
 * it is now; without, they are top-level findings, kept in top-level coordinates (offsets with the
 * function bodies before them left out), so they follow edits inside bodies. Findings that point where
 * that cannot be done (outside `fn`; inside a body for top-level ones) are kept for this document only.
 */
export function cachedFindings(
  doc: BpfDocument,
  key: string,
  fn: Node | null,
  compute: () => RuleDiagnostic[],
): RuleDiagnostic[] {
  const map = fn ? functionOffsets(fn) : topOffsets(doc);
  const stored = memo(key, () => {
    const found = compute();
    const rel = mapFindings(found, map.to);
    return rel ?? { absolute: found, doc };
  });
  if (!Array.isArray(stored)) {
    const a = stored as { absolute: RuleDiagnostic[]; doc: BpfDocument };
    if (a.doc === doc) return a.absolute;
    young.delete(key);
    old.delete(key);
    return cachedFindings(doc, key, fn, compute);
  }
  return mapFindings(stored, map.from)!;
}

interface OffsetMap {
  /** Into cache coordinates; undefined when the offset cannot be kept. */
  to(o: number): number | undefined;
  from(o: number): number;
}

function functionOffsets(fn: Node): OffsetMap {
  const base = fn.startIndex;
  const end = fn.endIndex;
  return {
    to: (o) => (o >= base && o <= end ? o - base : undefined),
    from: (o) => o + base,
  };
}

function topOffsets(doc: BpfDocument): OffsetMap {
  topLevelKey(doc);
  const bodies = docInfo(doc).bodies!;
  return {
    to: (o) => {
      let skipped = 0;
      for (let k = 0; k < bodies.length; k += 2) {
        if (o <= bodies[k]) break;
        if (o <= bodies[k + 1]) return undefined;
        skipped += bodies[k + 1] - bodies[k];
      }
      return o - skipped;
    },
    from: (o) => {
      let at = o;
      for (let k = 0; k < bodies.length; k += 2) {
        if (at <= bodies[k]) break;
        at += bodies[k + 1] - bodies[k];
      }
      return at;
    },
  };
}

function mapFindings(ds: RuleDiagnostic[], f: (o: number) => number | undefined): RuleDiagnostic[] | undefined {
  if (!ds.length) return ds;
  let ok = true;
  const m = (o: number): number => {
    const r = f(o);
    if (r === undefined) ok = false;
    return r ?? o;
  };
  const out = ds.map((d) => ({
    ...d,
    start: m(d.start),
    end: m(d.end),
    related: d.related?.map((r) => ({ ...r, start: m(r.start), end: m(r.end) })),
    fixes: d.fixes?.map((x) => ({ ...x, edits: x.edits.map((e) => ({ ...e, start: m(e.start), end: m(e.end) })) })),
  }));
  return ok ? out : undefined;
}

/**
 * The SEC() of each top-level node, by the node's start: a SEC() belongs to the top-level node that
 * contains it (`struct {...} m SEC(".maps");`) or else to the next one (`SEC("xdp")` on the line before
 * `int prog(...)`), as in the document's structure.
 */
function secOwners(doc: BpfDocument): Map<number, SecMark> {
  const d = docInfo(doc);
  if (!d.secOwners) {
    d.secOwners = new Map();
    const ends = d.all.map((n) => n.endIndex);
    let k = 0;
    for (const sec of doc.mask.secs) {
      while (k < ends.length && ends[k] <= sec.start) k++;
      const node = d.all[k];
      if (node && !d.secOwners.has(node.startIndex)) d.secOwners.set(node.startIndex, sec);
    }
  }
  return d.secOwners;
}

/** The program a function definition is (it has a SEC()), read without the whole document structure. */
export function programOfFunction(doc: BpfDocument, fn: Node): BpfProgram | undefined {
  const sec = secOwners(doc).get(fn.startIndex);
  if (!sec) return undefined;
  return {
    name: functionNameOf(doc, fn) ?? '(anonymous)',
    section: sec.name,
    sec,
    def: sectionFor(sec.name),
    node: fn,
    body: fn.childForFieldName('body'),
    nameNode: functionNameNode(fn),
    ctxParam: firstParam(fn),
  };
}
