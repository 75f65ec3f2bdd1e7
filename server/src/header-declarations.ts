/**
 * Functions and macros defined in the headers a BPF file includes (its own `.bpf.h` headers, the
 * workspace's, libbpf's `bpf/*.h`; vmlinux.h only for its macros), so that the rules, hover and go to
 * definition know them: `bpf_map_lookup_or_try_init()` from libbpf-tools' maps.bpf.h is not an unknown
 * function, hovering it shows its signature and where it is, and its body is summarised for the
 * rules ("returns a may-be-NULL pointer", "returns a ring buffer reservation").
 *
 * Headers are read as text (no preprocessor): function definitions are found at brace depth 0 as
 * `<type> name(<params>) {`, with their body up to the matching brace; macros as `#define NAME`.
 * Results are cached per header file and modification time, and per document by its include
 * directives: an edit that leaves the `#include` lines alone reuses them without touching the disk.
 * Headers are looked at again (resolved, stat'ed, re-read when changed) when the include list or the
 * search directories change, and otherwise at most every RECHECK_MS (a header edited on disk shows
 * within that time).
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hash } from './diagnostics/function-cache';
import { HeaderIndex } from './header-index';

export interface HeaderFunction {
  name: string;
  file: string;
  /** 0-based line of the definition's first line. */
  line: number;
  /** `static __always_inline void *bpf_map_lookup_or_try_init(void *map, const void *key, const void *init)` */
  signature: string;
  /** The text from the signature to the closing brace. */
  text: string;
  /** The parameter names, in order. */
  params: string[];
  /** The return type is a pointer. */
  returnsPointer: boolean;
}

export interface HeaderMacro {
  name: string;
  file: string;
  line: number;
  /** The `#define` line(s), continuations joined. */
  text: string;
}

export interface HeaderDeclarations {
  functions: ReadonlyMap<string, HeaderFunction>;
  macros: ReadonlyMap<string, HeaderMacro>;
  /** Names declared by prototypes (`extern ... __ksym;`, `static long (*bpf_x)(...) = ...;`). */
  prototypes: ReadonlySet<string>;
  /** The headers read, in include order. */
  files: readonly string[];
  /** Changes when any of those headers changes (for cache keys). */
  key: string;
}

interface Parsed {
  mtimeMs: number;
  functions: HeaderFunction[];
  macros: HeaderMacro[];
  prototypes: string[];
  includes: { path: string; system: boolean }[];
}

const EMPTY: HeaderDeclarations = {
  functions: new Map(),
  macros: new Map(),
  prototypes: new Set(),
  files: [],
  key: '',
};
/** Headers bigger than this are not read for declarations (a generated vmlinux.h: types only). */
const MAX_SCANNED_BYTES = 1024 * 1024;
/** How long a document's header declarations are reused before the headers are stat'ed again. */
export const RECHECK_MS = 2000;
const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'do', 'else', 'case']);

/** The headers' declarations, shared by the rules and the editor features. */
export class HeaderDeclarationIndex {
  private readonly parsed = new Map<string, Parsed>();
  private searchDirs: readonly string[] = [];
  /** By file and include list: the last result and when its headers were last looked at. */
  private readonly recent = new Map<string, { decls: HeaderDeclarations; checkedAt: number }>();

  constructor(
    readonly headers = new HeaderIndex(),
    /** Clock for the re-check interval (tests move it). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The include directories set with setSearchDirs(). */
  searchDirectories(): readonly string[] {
    return this.searchDirs;
  }

  /** Include directories besides the file's own and the system ones (settings, -I, compile_commands.json). */
  setSearchDirs(dirs: readonly string[]): void {
    this.searchDirs = [...dirs];
    this.recent.clear();
  }

  /** Forgets the per-document results: the next request looks at the headers on disk again. */
  invalidate(): void {
    this.recent.clear();
  }

  /** What the headers included by a document (at `uri`) declare, following their own includes. */
  forDocument(uri: string, includes: readonly { path: string; system: boolean }[], maxFiles = 48): HeaderDeclarations {
    if (!uri.startsWith('file:') || !includes.length) return EMPTY;
    let cacheKey = `${uri}\u0000${maxFiles}`;
    for (const inc of includes) cacheKey += `\u0000${inc.system ? '<' : '"'}${inc.path}`;
    const now = this.now();
    const hit = this.recent.get(cacheKey);
    if (hit && now - hit.checkedAt < RECHECK_MS) return hit.decls;
    const decls = this.read(uri, includes, maxFiles);
    // Unchanged headers keep the same object (and key), so what the rules cached under it stays valid.
    const same = hit && hit.decls.key === decls.key ? hit.decls : decls;
    if (this.recent.size >= 64) this.recent.clear();
    this.recent.set(cacheKey, { decls: same, checkedAt: now });
    return same;
  }

  private read(
    uri: string,
    includes: readonly { path: string; system: boolean }[],
    maxFiles: number,
  ): HeaderDeclarations {
    let file: string;
    try {
      file = fileURLToPath(uri);
    } catch {
      return EMPTY;
    }
    const functions = new Map<string, HeaderFunction>();
    const macros = new Map<string, HeaderMacro>();
    const prototypes = new Set<string>();
    const files: string[] = [];
    const keyParts: string[] = [];
    const queue: { from: string; inc: { path: string; system: boolean } }[] = includes.map((inc) => ({
      from: file,
      inc,
    }));
    const seen = new Set<string>();
    while (queue.length && files.length < maxFiles) {
      const { from, inc } = queue.shift()!;
      const path = this.headers.resolveInclude(from, inc.path, inc.system, this.searchDirs);
      if (!path || seen.has(path)) continue;
      seen.add(path);
      const p = this.parse(path);
      if (!p) continue;
      files.push(path);
      keyParts.push(`${path}@${p.mtimeMs}`);
      for (const f of p.functions) if (!functions.has(f.name)) functions.set(f.name, f);
      for (const m of p.macros) if (!macros.has(m.name)) macros.set(m.name, m);
      for (const n of p.prototypes) prototypes.add(n);
      for (const i of p.includes) queue.push({ from: path, inc: i });
    }
    // A short key: the rules put it in a cache key per function and rule.
    return { functions, macros, prototypes, files, key: keyParts.length ? hash(keyParts.join('|')) : '' };
  }

  private parse(path: string): Parsed | undefined {
    let mtimeMs: number;
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) return undefined;
      mtimeMs = st.mtimeMs;
      size = st.size;
    } catch {
      return undefined;
    }
    const cached = this.parsed.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached;
    // A generated vmlinux.h (~3 MB) holds types only: not read here (completion reads its structs lazily).
    if (size > MAX_SCANNED_BYTES) {
      const none: Parsed = { mtimeMs, functions: [], macros: [], prototypes: [], includes: [] };
      this.parsed.set(path, none);
      return none;
    }
    const text = this.headers.text(path);
    if (text === undefined) return undefined;
    const parsed = parseHeader(path, text, mtimeMs);
    this.parsed.set(path, parsed);
    return parsed;
  }
}

/** Reads a header's function definitions, prototypes, macros and includes from its text. */
export function parseHeader(file: string, text: string, mtimeMs = 0, scanFunctions = true): Parsed {
  const out: Parsed = { mtimeMs, functions: [], macros: [], prototypes: [], includes: [] };
  const lineAt = lineCounter(text);
  for (const m of text.matchAll(/^[ \t]*#[ \t]*include[ \t]*([<"])([^>"\n]+)[>"]/gm))
    out.includes.push({ path: m[2], system: m[1] === '<' });
  for (const m of text.matchAll(/^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)((?:[^\n]*\\\n)*[^\n]*)/gm)) {
    const idx = m.index;
    out.macros.push({ name: m[1], file, line: lineAt(idx), text: m[0].trim() });
  }
  if (!scanFunctions) return out;
  const clean = blankCommentsAndPreprocessor(text);
  let depth = 0;
  let stmtStart = 0;
  // From brace to brace and semicolon (a regex finds them natively: libbpf's bpf_helper_defs.h alone is
  // 170 kB, read on the first analysis of every file that includes bpf_helpers.h).
  const marks = /[{};]/g;
  for (let m = marks.exec(clean); m; m = marks.exec(clean)) {
    const k = m.index;
    const c = m[0];
    if (c === '{') {
      if (depth === 0) {
        const fn = functionHead(clean, stmtStart, k);
        if (fn) {
          const end = matchClose(clean, k);
          if (end < 0) break;
          const sigStart =
            stmtStart + (clean.slice(stmtStart, k).length - clean.slice(stmtStart, k).trimStart().length);
          out.functions.push({
            name: fn.name,
            file,
            line: lineAt(sigStart),
            signature: clean.slice(sigStart, k).replace(/\s+/g, ' ').trim(),
            text: text.slice(sigStart, end + 1),
            params: fn.params,
            returnsPointer: fn.returnsPointer,
          });
          marks.lastIndex = end + 1;
          stmtStart = end + 1;
          continue;
        }
      }
      depth++;
    } else if (c === '}') {
      depth = Math.max(0, depth - 1);
      if (depth === 0) stmtStart = k + 1;
    } else if (c === ';' && depth === 0) {
      const stmt = clean.slice(stmtStart, k);
      // `extern int f(...) __ksym;` or `static long (*bpf_x)(...) = (void *) 1;`
      const proto =
        /\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(/.exec(stmt) ??
        /\b([A-Za-z_]\w*)\s*\([^;]*\)\s*(?:__\w+\s*)*$/.exec(stmt.trim());
      if (proto && !KEYWORDS.has(proto[1])) out.prototypes.push(proto[1]);
      stmtStart = k + 1;
    }
  }
  return out;
}

function functionHead(
  clean: string,
  start: number,
  brace: number,
): { name: string; params: string[]; returnsPointer: boolean } | undefined {
  const head = clean.slice(start, brace).trim();
  if (!head.endsWith(')') || /^(struct|union|enum)\b[^(]*$/.test(head) || /=\s*$/.test(head)) return undefined;
  // The parameter list: from the parenthesis matching the last one.
  let depth = 0;
  let open = -1;
  for (let k = head.length - 1; k >= 0; k--) {
    if (head[k] === ')') depth++;
    else if (head[k] === '(') {
      depth--;
      if (depth === 0) {
        open = k;
        break;
      }
    }
  }
  if (open <= 0) return undefined;
  const before = head.slice(0, open).trimEnd();
  const m = /([A-Za-z_]\w*)$/.exec(before);
  if (!m || KEYWORDS.has(m[1]) || /=/.test(before)) return undefined;
  const type = before.slice(0, before.length - m[1].length);
  if (!type.trim()) return undefined;
  const params = head
    .slice(open + 1, -1)
    .split(',')
    .map((p) => /([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*$/.exec(p.trim())?.[1] ?? '')
    .filter((p) => p && p !== 'void');
  return { name: m[1], params, returnsPointer: type.includes('*') };
}

function matchClose(text: string, open: number): number {
  let depth = 0;
  const braces = /[{}]/g;
  braces.lastIndex = open;
  for (let m = braces.exec(text); m; m = braces.exec(text)) {
    if (m[0] === '{') depth++;
    else if (--depth === 0) return m.index;
  }
  return -1;
}

/** Comments, string and character literals, and preprocessor lines replaced by spaces (offsets kept). */
function blankCommentsAndPreprocessor(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, blank)
    .replace(/^[ \t]*#(?:[^\n]*\\\n)*[^\n]*/gm, blank);
}

/** The text with every character but newlines a space (line by line: ~10x faster than one regex match per character). */
function blank(s: string): string {
  return s.replace(/[^\n]+/g, (line) => ' '.repeat(line.length));
}

function lineCounter(text: string): (offset: number) => number {
  const starts = [0];
  for (let k = text.indexOf('\n'); k >= 0; k = text.indexOf('\n', k + 1)) starts.push(k + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
}

/** The index the rules use (the server and `bpf-ide check` set its search directories). */
export const sharedHeaderDeclarations = new HeaderDeclarationIndex();

/** Summaries of header functions for the rules: may return NULL, returns an acquired reference. */
export function headerFunctionSummaries(
  decls: HeaderDeclarations,
  nullable: (callee: string) => boolean,
  acquires: (callee: string) => string[] | undefined,
): { nullable: Set<string>; returnsRef: Map<string, string[]> } {
  const outNull = new Set<string>();
  const outRef = new Map<string, string[]>();
  const returning = returnedCalls(decls);
  for (let round = 0; round < 3; round++) {
    for (const { name, callees } of returning) {
      for (const callee of callees) {
        if (!outNull.has(name) && (nullable(callee) || outNull.has(callee))) outNull.add(name);
        const rel = acquires(callee) ?? outRef.get(callee);
        if (rel && !outRef.has(name)) outRef.set(name, rel);
      }
    }
  }
  return { nullable: outNull, returnsRef: outRef };
}

const returnedCallsOf = new WeakMap<HeaderDeclarations, { name: string; callees: string[] }[]>();

/**
 * The header functions returning a pointer, each with the functions whose result it returns (`return
 * f(...)`, or `return v` after `v = f(...)`), in order: read once per headers' declarations (the rules ask
 * for the summaries on every edit).
 */
function returnedCalls(decls: HeaderDeclarations): { name: string; callees: string[] }[] {
  let out = returnedCallsOf.get(decls);
  if (out) return out;
  out = [];
  for (const f of decls.functions.values()) {
    if (!f.returnsPointer) continue;
    const body = f.text.slice(f.text.indexOf('{'));
    const returned = [...body.matchAll(/\breturn\s+(?:\([^()]*\)\s*)*([A-Za-z_]\w*)\s*(\()?/g)];
    const assigned = new Map<string, string>();
    for (const m of body.matchAll(/\b([A-Za-z_]\w*)\s*=\s*(?:\([^()]*\)\s*)*([A-Za-z_]\w*)\s*\(/g))
      assigned.set(m[1], m[2]);
    const callees: string[] = [];
    for (const r of returned) {
      const callee = r[2] ? r[1] : assigned.get(r[1]);
      if (callee) callees.push(callee);
    }
    if (callees.length) out.push({ name: f.name, callees });
  }
  returnedCallsOf.set(decls, out);
  return out;
}

const perDocument = new WeakMap<object, HeaderDeclarations>();

/** What the headers of this document declare (through the shared index; once per document version). */
export function documentHeaderDeclarations(doc: {
  uri: string;
  includes: readonly { path: string; system: boolean }[];
}): HeaderDeclarations {
  let d = perDocument.get(doc);
  if (!d) perDocument.set(doc, (d = sharedHeaderDeclarations.forDocument(doc.uri, doc.includes)));
  return d;
}
