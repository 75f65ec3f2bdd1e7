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
 * one is dropped. So the cache holds at most 2 x CACHE_GENERATION entries, and what every analysis reads
 * (the unchanged functions' findings) stays, while what edits left behind goes (issue 15.12: memory
 * under long editing).
 *
 * A generation must hold what one analysis reads: when it does not, the young map turns over in the
 * middle of an analysis and drops entries the same analysis (and the next edit) reads again. The first
 * analysis of the 2,570-line fs_agent makes ~6,900 entries; with 4,000 per generation it recomputed
 * what it had dropped (npm run bench, lsp part, runs interleaved at load < 1: first analysis of fs_agent
 * 256-267 ms -> 196-227 ms with 12,000; p90 of the edits 6.5 -> 5.5-5.9 ms), for more memory under long
 * editing (RSS after 5,000 edits: block_io 133 -> 140-151 MB, fs_agent 150 -> 169 MB; the budget is 200).
 */
export const CACHE_GENERATION = 12000;
let young = new Map<string, unknown>();
let old = new Map<string, unknown>();

/** A value computed once per key (kept while it is used; see above). */
export function memo<T>(key: string, compute: () => T): T {
  let v = young.get(key);
  if (v !== undefined || young.has(key)) return v as T;
  v = old.get(key);
  if (v === undefined && !old.has(key)) v = compute();
  if (young.size >= CACHE_GENERATION) {
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

/**
 * What one document version knows about its functions. Arrays are indexed by the function's position
 * in `functions`. Everything but the node lists is plain data (numbers, strings, findings), so the next
 * version can take over what an edit inside one function body left unchanged after this version's
 * tree is gone (see `carryOver`).
 */
interface PerDoc {
  functions: Node[];
  others: Node[];
  /** Both, in document order. */
  all: Node[];
  /** Function index by start offset. */
  index: Map<number, number>;
  starts: number[];
  ends: number[];
  secOwners?: Map<number, SecMark>;
  texts: (string | undefined)[];
  keys: (string | undefined)[];
  names: (string | null | undefined)[];
  calls: (CallFact[] | undefined)[];
  /** Hash of the text outside function bodies (topLevelKey adds SEC()s inside bodies and the indentation). */
  outsideHash?: string;
  topKey?: string;
  /** Function bodies ([start, end) of each, from its `{`), the text topLevelKey leaves out. */
  bodies?: number[];
  graph?: CallGraph;
  depKeys?: string[];
  /** See ownKeys. */
  ownKeys?: string[];
  analyses?: Map<number, FunctionAnalysis>;
  byName?: Map<string, Node>;
  /** See allFunctionsKey. */
  allKey?: string;
  /** See fileValue. */
  fileValues?: Map<string, FileValue>;
  /** Per rule: its file key and each function's findings (relative to the function), as last computed. */
  results: Map<string, RuleResults>;
  /** Taken over from the previous version when an edit fell inside one function body (see carryOver). */
  carried?: Carried;
}

/** The call graph between the file's functions, by function index. */
interface CallGraph {
  /** Direct callees of each function (the file's functions it calls, itself left out), in first-call order. */
  callees: number[][];
  callers: number[][];
  /** Sorted names of each function's callers, transitively (joined; hashed when long). */
  callerNames: string[];
}

interface Carried {
  /** The function the edit fell in. */
  edited: number;
  prevTopKey: string;
  prevNames: (string | null | undefined)[];
  prevGraph?: CallGraph;
  prevDepKeys?: string[];
  prevOwnKeys?: string[];
  prevFileValues?: Map<string, FileValue>;
  prevResults: Map<string, RuleResults>;
}

/** Findings of one rule: relative to their function, or FILTERED, or undefined (not kept for the next version). */
interface RuleResults {
  fileKey: string;
  rel: (readonly RuleDiagnostic[] | undefined)[];
  /** The same moved to where the function was (`base`), to hand out again while it has not moved. */
  abs: (readonly RuleDiagnostic[] | undefined)[];
  base: number[];
}
/** A function the rule's filter left out. */
const FILTERED: readonly RuleDiagnostic[] = Object.freeze([]);

const perDoc = new WeakMap<BpfDocument, PerDoc>();

/** Counters for tests: what the analyses of the documents did (deterministic, unlike timings). */
export const analysisCounters = {
  /** Function texts hashed (functionKey computed). */
  hashedFunctions: 0,
  /** Per-function rule parts run (cache misses). */
  ruleRuns: 0,
  /** Per-function findings looked up in the cache (not taken over from the previous version). */
  lookups: 0,
  /** Dependency keys computed. */
  dependencyKeys: 0,
  /** Document versions that took over their predecessor's analysis (an edit inside one function body). */
  carriedOver: 0,
};

function docInfo(doc: BpfDocument): PerDoc {
  let d = perDoc.get(doc);
  if (!d) {
    const { functions, others, all } = topNodes(doc);
    const n = functions.length;
    const starts: number[] = new Array(n);
    const ends: number[] = new Array(n);
    const index = new Map<number, number>();
    const spans: number[] = [];
    for (let i = 0; i < n; i++) {
      const fn = functions[i];
      starts[i] = fn.startIndex;
      ends[i] = fn.endIndex;
      index.set(starts[i], i);
      spans.push(starts[i], ends[i]);
    }
    d = {
      functions,
      others,
      all,
      index,
      starts,
      ends,
      texts: new Array(n),
      keys: new Array(n),
      names: new Array(n),
      calls: new Array(n),
      results: new Map(),
    };
    doc.functionSpans = spans;
    carryOver(doc, d);
    perDoc.set(doc, d);
  }
  return d;
}

/**
 * Takes over what the previous version of the document computed when the edit between them fell inside
 * one function body and the new tree has the same functions (the same spans, moved by the edit): the
 * other functions' keys, names and calls, the hash of the text outside bodies, and (checked later) the
 * call graph, dependency keys and rule findings. The result equals a from-scratch analysis: everything
 * taken over is keyed by text that did not change.
 */
function carryOver(doc: BpfDocument, d: PerDoc): void {
  const change = doc.takeChange();
  if (!change) return;
  const prev = perDoc.get(change.previous);
  if (!prev || prev.outsideHash === undefined || !prev.bodies || prev.topKey === undefined) return;
  const n = d.starts.length;
  if (prev.starts.length !== n) return;
  const { start, oldEnd, newEnd } = change;
  const delta = newEnd - oldEnd;
  // The function whose body (after its `{`, before its final `}`) holds the whole edit.
  let edited = -1;
  for (let i = 0; i < n; i++) {
    if (prev.bodies[2 * i] < start && oldEnd < prev.ends[i]) {
      edited = i;
      break;
    }
    if (prev.starts[i] > start) break;
  }
  if (edited < 0) return;
  for (let i = 0; i < n; i++) {
    const moved = i > edited ? delta : 0;
    if (d.starts[i] !== prev.starts[i] + moved) return;
    if (d.ends[i] !== prev.ends[i] + (i >= edited ? delta : 0)) return;
  }
  for (let i = 0; i < n; i++) {
    if (i === edited) continue;
    d.keys[i] = prev.keys[i];
    d.names[i] = prev.names[i];
    d.calls[i] = prev.calls[i];
  }
  d.outsideHash = prev.outsideHash;
  const bodies = prev.bodies.slice();
  for (let k = 2 * edited + 1; k < bodies.length; k++) bodies[k] += delta;
  d.bodies = bodies;
  analysisCounters.carriedOver++;
  d.carried = {
    edited,
    prevTopKey: prev.topKey,
    prevNames: prev.names,
    prevGraph: prev.graph,
    prevDepKeys: prev.depKeys,
    prevOwnKeys: prev.ownKeys,
    prevFileValues: prev.fileValues,
    prevResults: prev.results,
  };
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

function indexOf(d: PerDoc, fn: Node): number {
  const i = d.index.get(fn.startIndex);
  if (i === undefined) throw new Error(`not a function definition of this document at ${fn.startIndex}`);
  return i;
}

function textAt(doc: BpfDocument, d: PerDoc, i: number): string {
  return (d.texts[i] ??= doc.text.slice(d.starts[i], d.ends[i]));
}

function keyAt(doc: BpfDocument, d: PerDoc, i: number): string {
  let k = d.keys[i];
  if (k === undefined) {
    const text = textAt(doc, d, i);
    analysisCounters.hashedFunctions++;
    d.keys[i] = k = `${hash(text)}.${text.length}`;
  }
  return k;
}

function nameAt(doc: BpfDocument, d: PerDoc, i: number): string | undefined {
  let name = d.names[i];
  if (name === undefined) {
    const fn = d.functions[i];
    d.names[i] = name = memo(`name\u0000${keyAt(doc, d, i)}`, () => functionName(fn) ?? null);
  }
  return name ?? undefined;
}

/** The text of a function definition, read once per document. */
export function functionText(doc: BpfDocument, fn: Node): string {
  const d = docInfo(doc);
  return textAt(doc, d, indexOf(d, fn));
}

/** A short key for a function's text (a hash and the length), computed once per document. */
export function functionKey(doc: BpfDocument, fn: Node): string {
  const d = docInfo(doc);
  return keyAt(doc, d, indexOf(d, fn));
}

/**
 * A key for everything outside function bodies (the top level: declarations, SEC() lines, function
 * signatures), plus the file's indentation unit, which quick fixes use.
 */
export function topLevelKey(doc: BpfDocument): string {
  const d = docInfo(doc);
  if (d.topKey === undefined) {
    if (d.outsideHash === undefined || !d.bodies) {
      const parts: string[] = [];
      let at = 0;
      const bodies: number[] = [];
      for (let i = 0; i < d.starts.length; i++) {
        const brace = textAt(doc, d, i).indexOf('{');
        const bodyStart = brace < 0 ? d.ends[i] : d.starts[i] + brace;
        parts.push(doc.text.slice(at, bodyStart));
        bodies.push(bodyStart, d.ends[i]);
        at = d.ends[i];
      }
      parts.push(doc.text.slice(at));
      d.bodies = bodies;
      d.outsideHash = hash(parts.join('\u0000'));
    }
    // A SEC() inside a body (half-typed code) still names the program that body belongs to.
    const b = d.bodies;
    let secs = '';
    let k = 0;
    for (const sec of doc.mask.secs) {
      while (k < b.length && b[k + 1] <= sec.start) k += 2;
      if (k < b.length && b[k] <= sec.start) secs += `\u0000SEC ${k} ${sec.name}`;
    }
    const indent = doc.text.includes('\n\t') ? 't' : 's';
    d.topKey = `${secs ? hash(d.outsideHash + secs) : d.outsideHash}${indent}`;
  }
  return d.topKey;
}

/**
 * A key for the whole file's code: the top level (topLevelKey) and the text of every function. Facts
 * read off all the functions (summaries of what each returns or releases) can be cached under it: after
 * an edit it costs a hash of the functions' keys, which the edit left alone but for one.
 */
export function allFunctionsKey(doc: BpfDocument): string {
  const d = docInfo(doc);
  if (d.allKey === undefined) {
    let s = topLevelKey(doc);
    for (let i = 0; i < d.starts.length; i++) s += `\u0000${keyAt(doc, d, i)}`;
    d.allKey = hash(s);
  }
  return d.allKey;
}

/** A whole-file value and what it was computed from (see fileValue). */
interface FileValue {
  top: string;
  extra: string;
  signatures: string[];
  value: unknown;
}

/**
 * A value read off all the file's functions (summaries of what each returns or releases), once per
 * document version: `compute` runs unless the previous version had it and the edit between the two fell
 * inside one function body whose `signature` (what the value reads of a function, as a string) is the
 * same as before, with the same top level and `extra` key. Then it is taken over: an edit costs one
 * signature, not a pass over every function.
 */
export function fileValue<T>(
  doc: BpfDocument,
  id: string,
  extra: string,
  signature: (fn: Node) => string,
  compute: () => T,
): T {
  const d = docInfo(doc);
  d.fileValues ??= new Map();
  const have = d.fileValues.get(id);
  if (have) return have.value as T;
  const top = topLevelKey(doc);
  const n = d.starts.length;
  const c = d.carried;
  const prev = c?.prevFileValues?.get(id);
  let signatures: string[];
  let entry: FileValue | undefined;
  if (c && prev && prev.top === top && prev.extra === extra && prev.signatures.length === n) {
    signatures = prev.signatures.slice();
    signatures[c.edited] = signature(d.functions[c.edited]);
    if (signatures[c.edited] === prev.signatures[c.edited]) entry = { ...prev, signatures };
  } else {
    signatures = d.functions.map((fn) => signature(fn));
  }
  entry ??= { top, extra, signatures, value: compute() };
  d.fileValues.set(id, entry);
  return entry.value as T;
}

/** Cached findings of one rule in one function: offsets stored relative to the function. */
export function functionFindings(
  rule: string,
  doc: BpfDocument,
  fn: Node,
  extraKey: string,
  compute: () => RuleDiagnostic[],
): RuleDiagnostic[] {
  const key = `${rule}\u0000${topLevelKey(doc)}\u0000${extraKey}\u0000${functionKey(doc, fn)}`;
  return cachedFindings(doc, key, fn, compute);
}

function shift(ds: readonly RuleDiagnostic[], by: number): readonly RuleDiagnostic[] {
  if (by === 0 || !ds.length) return ds;
  return ds.map((d) => ({
    ...d,
    start: d.start + by,
    end: d.end + by,
    related: d.related?.map((r) => ({ ...r, start: r.start + by, end: r.end + by })),
    fixes: d.fixes?.map((f) => ({ ...f, edits: f.edits.map((e) => ({ ...e, start: e.start + by, end: e.end + by })) })),
  }));
}

/**
 * Runs one rule's per-function part over the document, reporting each function's findings. A function
 * whose dependency key is the one it had in the previous version, with the same file key, gets the
 * findings it had then without a cache lookup; the others go through the cache (keyed by rule, file key
 * and dependency key), and `compute` runs on a miss. With `ownFunctionOnly` (the rule reads none of the
 * file's other function bodies: see Rule.ownFunctionOnly) the key leaves out the functions it calls.
 */
export function runFunctionRule(
  doc: BpfDocument,
  ruleId: string,
  fileKey: string,
  filter: RegExp | undefined,
  compute: (fn: Node, a: FunctionAnalysis) => RuleDiagnostic[],
  report: (d: RuleDiagnostic) => void,
  ownFunctionOnly = false,
): void {
  const d = docInfo(doc);
  const deps = ownFunctionOnly ? ownKeys(doc, d) : dependencyKeys(doc, d);
  const n = d.starts.length;
  const prev = d.carried?.prevResults.get(ruleId);
  const same =
    prev && prev.fileKey === fileKey ? (ownFunctionOnly ? d.carried!.prevOwnKeys : d.carried!.prevDepKeys) : undefined;
  const out: RuleResults = { fileKey, rel: new Array(n), abs: new Array(n), base: new Array(n) };
  for (let i = 0; i < n; i++) {
    const base = d.starts[i];
    let rel: readonly RuleDiagnostic[] | undefined;
    let abs: readonly RuleDiagnostic[] | undefined;
    if (same && same[i] === deps[i] && (rel = prev!.rel[i]) !== undefined) {
      abs = prev!.base[i] === base ? prev!.abs[i] : undefined;
    } else {
      analysisCounters.lookups++;
      const fn = d.functions[i];
      if (filter && !memo(`filter\u0000${ruleId}\u0000${keyAt(doc, d, i)}`, () => filter.test(textAt(doc, d, i))))
        rel = FILTERED;
      else {
        const key = `${ruleId}\u0000${fileKey}\u0000${deps[i]}`;
        const stored = storedFindings(doc, key, fn, () => compute(fn, functionAnalysis(doc, fn)));
        if (Array.isArray(stored)) rel = stored;
        else abs = (stored as ThisDocumentOnly).absolute;
      }
    }
    if (rel !== undefined && abs === undefined) abs = shift(rel, base);
    out.rel[i] = rel;
    out.abs[i] = abs;
    out.base[i] = base;
    for (let k = 0; k < abs!.length; k++) report(abs![k]);
  }
  d.results.set(ruleId, out);
}

/**
 * Findings that cannot follow edits, kept for the one document version they were found in. The cache
 * holds that version weakly: thousands of entries must not keep old versions (text, tree, analysis) alive.
 */
interface ThisDocumentOnly {
  absolute: RuleDiagnostic[];
  doc: WeakRef<BpfDocument>;
}
function thisDocumentOnly(absolute: RuleDiagnostic[], doc: BpfDocument): ThisDocumentOnly {
  return { absolute, doc: new WeakRef(doc) };
}

/** The relative findings stored under `key` for `fn`, or (not cacheable) the absolute ones for this document. */
function storedFindings(
  doc: BpfDocument,
  key: string,
  fn: Node,
  compute: () => RuleDiagnostic[],
): readonly RuleDiagnostic[] | ThisDocumentOnly {
  const map = functionOffsets(fn);
  const stored = memo(key, () => {
    analysisCounters.ruleRuns++;
    const found = compute();
    const rel = mapFindings(found, map.to);
    return rel ?? thisDocumentOnly(found, doc);
  });
  if (!Array.isArray(stored)) {
    const a = stored as ThisDocumentOnly;
    if (a.doc.deref() === doc) return a;
    young.delete(key);
    old.delete(key);
    return storedFindings(doc, key, fn, compute);
  }
  return stored;
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
  return callsAt(doc, d, indexOf(d, fn));
}

function callsAt(doc: BpfDocument, d: PerDoc, i: number): CallFact[] {
  const known = d.calls[i];
  if (known) return known;
  const fn = d.functions[i];
  const facts = memo(`calls\u0000${keyAt(doc, d, i)}`, () => {
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
  d.calls[i] = facts;
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

/** The analysis of one function definition of the document (built when a rule part runs on it). */
export function functionAnalysis(doc: BpfDocument, fn: Node): FunctionAnalysis {
  const d = docInfo(doc);
  d.analyses ??= new Map();
  let a = d.analyses.get(fn.startIndex);
  if (!a) d.analyses.set(fn.startIndex, (a = buildAnalysis(doc, d, indexOf(d, fn))));
  return a;
}

/** Functions reached from `start` along `edges` (`start` left out), stopping below those `stop` accepts. */
function reach(start: number, edges: number[][], stop?: (i: number) => boolean): number[] {
  const seen = new Set<number>([start]);
  const out: number[] = [];
  const stack = edges[start].slice();
  while (stack.length) {
    const k = stack.pop()!;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(k);
    if (!stop?.(k)) for (const e of edges[k]) stack.push(e);
  }
  return out;
}

/** Direct callees of function i among the file's functions (by index; `byName` maps names to indices). */
function directCallees(doc: BpfDocument, d: PerDoc, i: number, byName: Map<string, number>): number[] {
  const list: number[] = [];
  for (const c of callsAt(doc, d, i)) {
    const target = byName.get(c.name);
    if (target === undefined || target === i || list.includes(target)) continue;
    list.push(target);
  }
  return list;
}

/** The call graph between the file's functions: taken over when an edit left names and calls alone. */
function callGraph(doc: BpfDocument, d: PerDoc): CallGraph {
  if (d.graph) return d.graph;
  const n = d.starts.length;
  const byName = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const name = nameAt(doc, d, i);
    if (name) byName.set(name, i); // the last definition of a name wins, as in doc.functions
  }
  const c = d.carried;
  const pg = c?.prevGraph;
  if (c && pg && c.prevNames[c.edited] === d.names[c.edited]) {
    const mine = directCallees(doc, d, c.edited, byName);
    const before = pg.callees[c.edited];
    if (mine.length === before.length && mine.every((x, k) => x === before[k])) return (d.graph = pg);
  }
  const callees: number[][] = [];
  const callers: number[][] = [];
  for (let i = 0; i < n; i++) callers.push([]);
  for (let i = 0; i < n; i++) {
    const list = directCallees(doc, d, i, byName);
    callees.push(list);
    for (const t of list) callers[t].push(i);
  }
  const callerNames: string[] = [];
  for (let i = 0; i < n; i++) {
    // Which of its callers are programs is decided by the top level (SEC() lines), part of the key.
    const names = reach(i, callers)
      .map((k) => nameAt(doc, d, k) ?? '?')
      .sort()
      .join(',');
    callerNames.push(names.length > 64 ? hash(names) : names);
  }
  return (d.graph = { callees, callers, callerNames });
}

/**
 * Each function's dependency key. After an edit inside one function body that left the call graph and
 * the top level alone, only the edited function and those that call it (transitively) get a new key.
 */
function dependencyKeys(doc: BpfDocument, d: PerDoc): string[] {
  if (d.depKeys) return d.depKeys;
  const top = topLevelKey(doc);
  const g = callGraph(doc, d);
  const n = d.starts.length;
  const c = d.carried;
  let todo: Iterable<number>;
  let keys: string[];
  if (c?.prevDepKeys && c.prevGraph === g && c.prevTopKey === top) {
    keys = c.prevDepKeys.slice();
    todo = [c.edited, ...reach(c.edited, g.callers)];
  } else {
    keys = new Array(n);
    todo = keys.keys();
  }
  for (const i of todo) {
    analysisCounters.dependencyKeys++;
    const calleeKeys = reach(i, g.callees)
      .map((k) => keyAt(doc, d, k))
      .sort()
      .join(',');
    // One short key (a 53-bit hash): every rule looks it up, and long keys cost hashing and memory.
    keys[i] = hash(
      `${top}\u0000${keyAt(doc, d, i)}\u0000${calleeKeys.length > 64 ? hash(calleeKeys) : calleeKeys}\u0000${g.callerNames[i]}`,
    );
  }
  return (d.depKeys = keys);
}

/**
 * Each function's key without the functions it calls: the top level, its own text and its callers'
 * names (which programs it runs in). After an edit inside one function body that left the call graph
 * and the top level alone, only the edited function gets a new one.
 */
function ownKeys(doc: BpfDocument, d: PerDoc): string[] {
  if (d.ownKeys) return d.ownKeys;
  const top = topLevelKey(doc);
  const g = callGraph(doc, d);
  const n = d.starts.length;
  const c = d.carried;
  let todo: Iterable<number>;
  let keys: string[];
  if (c?.prevOwnKeys && c.prevGraph === g && c.prevTopKey === top) {
    keys = c.prevOwnKeys.slice();
    todo = [c.edited];
  } else {
    keys = new Array(n);
    todo = keys.keys();
  }
  for (const i of todo) keys[i] = hash(`${top}\u0000${keyAt(doc, d, i)}\u0000own\u0000${g.callerNames[i]}`);
  return (d.ownKeys = keys);
}

function buildAnalysis(doc: BpfDocument, d: PerDoc, i: number): FunctionAnalysis {
  const g = callGraph(doc, d);
  const key = keyAt(doc, d, i);
  const text = textAt(doc, d, i);
  const programOf = new Map<number, BpfProgram | undefined>();
  const programFor = (k: number): BpfProgram | undefined => {
    if (!programOf.has(k)) programOf.set(k, programOfFunction(doc, d.functions[k]));
    return programOf.get(k);
  };
  let programs: BpfProgram[] | undefined;
  const programsOf = (): BpfProgram[] => {
    const own = programFor(i);
    if (own) return [own];
    // Programs that call it, directly or through functions that are not programs themselves.
    return reach(i, g.callers, (k) => !!programFor(k))
      .map((k) => programFor(k))
      .filter((p): p is BpfProgram => !!p)
      .sort((a, b) => a.node.startIndex - b.node.startIndex);
  };
  return {
    name: nameAt(doc, d, i),
    text,
    get programs() {
      return (programs ??= programsOf());
    },
    dependencyKey: dependencyKeys(doc, d)[i],
    matches: (ruleId, filter) => memo(`filter\u0000${ruleId}\u0000${key}`, () => filter.test(text)),
  };
}

/**
 * The programs among the functions that call `fn` directly (from the cached call graph), in document
 * order; `fn` itself when it is a program.
 */
export function directCallerPrograms(doc: BpfDocument, fn: Node): BpfProgram[] {
  const d = docInfo(doc);
  const i = d.index.get(fn.startIndex);
  if (i === undefined) return [];
  const own = programOfFunction(doc, fn);
  if (own) return [own];
  const out: BpfProgram[] = [];
  for (const k of [...callGraph(doc, d).callers[i]].sort((a, b) => a - b)) {
    const p = programOfFunction(doc, d.functions[k]);
    if (p) out.push(p);
  }
  return out;
}

/** The name a function definition defines (BPF_PROG(name, ...) aware), cached by its text. */
export function functionNameOf(doc: BpfDocument, fn: Node): string | undefined {
  const d = docInfo(doc);
  return nameAt(doc, d, indexOf(d, fn));
}

/** The file's function definitions by name (the last of each name, as doc.functions), from the cached names. */
export function functionsByName(doc: BpfDocument): Map<string, Node> {
  const d = docInfo(doc);
  if (!d.byName) {
    d.byName = new Map();
    for (let i = 0; i < d.starts.length; i++) {
      const name = nameAt(doc, d, i);
      if (name) d.byName.set(name, d.functions[i]);
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
    return rel ?? thisDocumentOnly(found, doc);
  });
  if (!Array.isArray(stored)) {
    const a = stored as ThisDocumentOnly;
    if (a.doc.deref() === doc) return a.absolute;
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

/** The SEC() name of a function definition, when it is a program (cheaper than programOfFunction). */
export function programSectionOf(doc: BpfDocument, fn: Node): string | undefined {
  return secOwners(doc).get(fn.startIndex)?.name;
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
