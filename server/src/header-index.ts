/**
 * Struct and union definitions in the headers a BPF file includes (vmlinux.h among them), for member
 * completion and go to definition. A header is indexed lazily, the first time it is needed, and only
 * as offsets of each definition; a struct's members are read when asked for. vmlinux.h (2.8 MB, ~10k
 * structs) indexes in tens of milliseconds and costs a few MB.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';

export interface MemberInfo {
  name: string;
  /** The member's type as written, pointer stars and array bounds included: `struct task_struct *`. */
  type: string;
}

export interface StructDef {
  kind: 'struct' | 'union';
  name: string;
  file: string;
  /** Offset of the definition in the header. */
  offset: number;
  line: number;
  members: MemberInfo[];
}

interface IndexedHeader {
  mtimeMs: number;
  text: string;
  /** bodyEnd: the closing brace, found when the members are first read (-1: none). */
  defs: Map<string, { kind: 'struct' | 'union'; start: number; bodyStart: number; bodyEnd?: number }>;
  includes: string[];
  members: Map<string, MemberInfo[]>;
}

export const SYSTEM_INCLUDE_DIRS = ['/usr/include/x86_64-linux-gnu', '/usr/include', '/usr/local/include'];

/** Headers bigger than this are not indexed (a generated vmlinux.h is ~3 MB; 64 MB is surely not a header). */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export class HeaderIndex {
  private readonly headers = new Map<string, IndexedHeader>();

  /** Resolves an `#include` as the preprocessor would, or undefined. */
  resolveInclude(
    fromFile: string,
    include: string,
    system: boolean,
    includeDirs: readonly string[],
  ): string | undefined {
    if (isAbsolute(include)) return existsSync(include) ? include : undefined;
    const dirs = [...(system ? [] : [dirname(fromFile)]), ...includeDirs, ...SYSTEM_INCLUDE_DIRS];
    for (const d of dirs) {
      const p = resolve(d, include);
      if (existsSync(p)) return p;
    }
    return undefined;
  }

  /**
   * Finds a struct or union by name in the given headers and what they include (breadth first,
   * at most `maxFiles` headers), then in the uapi linux/bpf.h for the program context types.
   */
  findStruct(
    name: string,
    headers: readonly string[],
    includeDirs: readonly string[] = [],
    maxFiles = 64,
  ): StructDef | undefined {
    const seen = new Set<string>();
    const queue = [...headers];
    while (queue.length && seen.size < maxFiles) {
      const file = queue.shift()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const h = this.load(file);
      if (!h) continue;
      const def = this.defFrom(file, h, name);
      if (def) return def;
      for (const inc of h.includes) {
        const sys = inc.startsWith('<');
        const p = this.resolveInclude(file, inc.slice(1, -1), sys, includeDirs);
        if (p && !seen.has(p)) queue.push(p);
      }
    }
    const uapi = '/usr/include/linux/bpf.h';
    if (!seen.has(uapi)) {
      const h = this.load(uapi);
      if (h) return this.defFrom(uapi, h, name);
    }
    return undefined;
  }

  /** The text of a header (cached by modification time), or undefined when it cannot be read. */
  text(file: string): string | undefined {
    return this.load(file)?.text;
  }

  /** Names of every struct and union defined in `file` (not following includes). */
  structNames(file: string): string[] {
    return [...(this.load(file)?.defs.keys() ?? [])];
  }

  private defFrom(file: string, h: IndexedHeader, name: string): StructDef | undefined {
    const d = h.defs.get(name);
    if (!d) return undefined;
    d.bodyEnd ??= matchBrace(h.text, d.bodyStart - 1);
    if (d.bodyEnd < 0) return undefined;
    let members = h.members.get(name);
    if (!members) {
      members = parseMembers(h.text.slice(d.bodyStart, d.bodyEnd));
      h.members.set(name, members);
    }
    // The line is counted when asked for (go to definition): counting through a vmlinux.h for every struct
    // the rules look up cost milliseconds each.
    const text = h.text;
    let line: number | undefined;
    return {
      kind: d.kind,
      name,
      file,
      offset: d.start,
      get line() {
        if (line === undefined) {
          line = 0;
          for (let k = text.indexOf('\n'); k >= 0 && k < d.start; k = text.indexOf('\n', k + 1)) line++;
        }
        return line;
      },
      members,
    };
  }

  private load(file: string): IndexedHeader | undefined {
    let st;
    try {
      st = statSync(file);
    } catch {
      return undefined;
    }
    if (!st.isFile() || st.size > MAX_HEADER_BYTES) return undefined;
    const cached = this.headers.get(file);
    if (cached && cached.mtimeMs === st.mtimeMs) return cached;
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch {
      return undefined;
    }
    const h: IndexedHeader = {
      mtimeMs: st.mtimeMs,
      text,
      defs: indexDefinitions(text),
      includes: [],
      members: new Map(),
    };
    // (A generated vmlinux.h includes nothing: a quick test spares the line-anchored scan of its 3 MB.)
    if (/#[ \t]*include/.test(text))
      for (const m of text.matchAll(/^[ \t]*#[ \t]*include[ \t]*([<"][^>"\n]+[>"])/gm)) h.includes.push(m[1]);
    this.headers.set(file, h);
    return h;
  }
}

/**
 * Offsets of every `struct NAME {` / `union NAME {` body in the text (first definition wins). Where each
 * body ends is found when its members are first read: a vmlinux.h has ~10,000 definitions, and matching
 * every brace up front took ~20 ms of the first analysis.
 */
export function indexDefinitions(text: string): IndexedHeader['defs'] {
  const defs: IndexedHeader['defs'] = new Map();
  const re = /\b(struct|union)\s+([A-Za-z_]\w*)\s*(?:__attribute__\s*\(\([^)]*\)\)\s*)?\{/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    // Nested definitions are indexed too (re continues inside the body).
    if (!defs.has(m[2])) defs.set(m[2], { kind: m[1] as 'struct' | 'union', start: m.index, bodyStart: re.lastIndex });
  }
  return defs;
}

function matchBrace(text: string, open: number): number {
  let depth = 0;
  for (let k = open; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === 123) depth++;
    else if (c === 125) {
      depth--;
      if (depth === 0) return k;
    } else if (c === 47 && text.charCodeAt(k + 1) === 42) {
      const e = text.indexOf('*/', k + 2);
      if (e < 0) return -1;
      k = e + 1;
    } else if (c === 47 && text.charCodeAt(k + 1) === 47) {
      const e = text.indexOf('\n', k);
      if (e < 0) return -1;
      k = e;
    }
  }
  return -1;
}

/** Members of a struct body; anonymous nested structs and unions are flattened, as C lets you access them. */
export function parseMembers(body: string): MemberInfo[] {
  const out: MemberInfo[] = [];
  const clean = body
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ')
    .replace(/^\s*#.*$/gm, ' ');
  let depth = 0;
  let start = 0;
  for (let k = 0; k < clean.length; k++) {
    const c = clean[k];
    if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth--;
    else if (c === ';' && depth === 0) {
      addDecl(clean.slice(start, k), out);
      start = k + 1;
    }
  }
  return out;
}

function addDecl(declRaw: string, out: MemberInfo[]): void {
  const decl = declRaw
    .replace(/__attribute__\s*\(\(.*?\)\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!decl) return;
  const brace = decl.indexOf('{');
  if (brace >= 0) {
    const close = decl.lastIndexOf('}');
    const inner = parseMembers(decl.slice(brace + 1, close));
    const after = decl.slice(close + 1).trim();
    const head = decl.slice(0, brace).trim(); // "struct" / "union" / "struct name"
    if (!after) {
      out.push(...inner); // anonymous member: its fields are accessible directly
      return;
    }
    for (const d of after.split(',')) pushDeclarator(`${head} {...}`, d.trim(), out);
    return;
  }
  // Function pointer member: `void (*fn)(int)`.
  const fp = /\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\(/.exec(decl);
  if (fp) {
    out.push({ name: fp[1], type: decl.replace(fp[1], '').trim() });
    return;
  }
  // `int a, *b, c[4]`: the base type is what precedes the first declarator.
  const parts = decl.split(',');
  const first = /^(.*?)([*\s]*)([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)(?::\s*\d+)?$/.exec(parts[0].trim());
  if (!first) return;
  const base = first[1].trim();
  out.push(memberOf(base, first[2], first[3], first[4]));
  for (const p of parts.slice(1)) pushDeclarator(base, p.trim(), out);
}

function pushDeclarator(base: string, d: string, out: MemberInfo[]): void {
  const m = /^([*\s]*)([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)*)(?::\s*\d+)?$/.exec(d);
  if (m) out.push(memberOf(base, m[1], m[2], m[3]));
}

function memberOf(base: string, stars: string, name: string, arrays: string): MemberInfo {
  const s = stars.replace(/\s/g, '');
  return { name, type: `${base}${s ? ' ' + s : ''}${arrays.replace(/\s/g, '')}` };
}

/** The header path as the include directives in a document resolve it, for a document at `file`. */
export function documentHeaderPaths(
  index: HeaderIndex,
  file: string,
  includes: readonly { path: string; system: boolean }[],
  includeDirs: readonly string[],
): string[] {
  const out: string[] = [];
  for (const inc of includes) {
    const p = index.resolveInclude(file, inc.path, inc.system, includeDirs);
    if (p) out.push(p);
  }
  return out;
}
