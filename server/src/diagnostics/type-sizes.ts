/**
 * Sizes of C types as the BPF target lays them out (LP64, little-endian), for the rules that count
 * bytes: stack-size (locals) and packet-bounds (header sizes). Basic types, the stable network
 * headers, and structs/typedefs/#defines of the document itself. Anything else (a struct from
 * vmlinux.h) is unknown: callers must not guess.
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument } from '../bpf-document';
import { topLevelNodes } from './function-cache';

export interface Layout {
  size: number;
  align: number;
}

const BASIC: Record<string, number> = {
  char: 1,
  'signed char': 1,
  'unsigned char': 1,
  u8: 1,
  __u8: 1,
  s8: 1,
  __s8: 1,
  int8_t: 1,
  uint8_t: 1,
  bool: 1,
  _Bool: 1,
  short: 2,
  'short int': 2,
  'unsigned short': 2,
  'unsigned short int': 2,
  u16: 2,
  __u16: 2,
  s16: 2,
  __s16: 2,
  __be16: 2,
  __le16: 2,
  __sum16: 2,
  int16_t: 2,
  uint16_t: 2,
  int: 4,
  'signed int': 4,
  signed: 4,
  unsigned: 4,
  'unsigned int': 4,
  u32: 4,
  __u32: 4,
  s32: 4,
  __s32: 4,
  __be32: 4,
  __le32: 4,
  __wsum: 4,
  int32_t: 4,
  uint32_t: 4,
  float: 4,
  pid_t: 4,
  uid_t: 4,
  gid_t: 4,
  long: 8,
  'long int': 8,
  'unsigned long': 8,
  'unsigned long int': 8,
  'long long': 8,
  'long long int': 8,
  'unsigned long long': 8,
  'unsigned long long int': 8,
  u64: 8,
  __u64: 8,
  s64: 8,
  __s64: 8,
  __be64: 8,
  __le64: 8,
  size_t: 8,
  ssize_t: 8,
  double: 8,
  int64_t: 8,
  uint64_t: 8,
  uintptr_t: 8,
};

/** uapi network headers whose layout never changes (the ones packet parsers read). */
const KNOWN_STRUCTS: Record<string, Layout> = {
  ethhdr: { size: 14, align: 1 },
  vlan_hdr: { size: 4, align: 2 },
  iphdr: { size: 20, align: 4 },
  ipv6hdr: { size: 40, align: 4 },
  tcphdr: { size: 20, align: 4 },
  udphdr: { size: 8, align: 2 },
  icmphdr: { size: 8, align: 4 },
  icmp6hdr: { size: 8, align: 4 },
  arphdr: { size: 8, align: 2 },
  in_addr: { size: 4, align: 4 },
  in6_addr: { size: 16, align: 4 },
  gre_base_hdr: { size: 4, align: 2 },
  sctphdr: { size: 12, align: 4 },
  bpf_spin_lock: { size: 4, align: 4 },
};

/** Constants from vmlinux.h or uapi headers that array bounds commonly use. */
const KNOWN_CONSTANTS: Record<string, number> = {
  TASK_COMM_LEN: 16,
  ETH_ALEN: 6,
  IFNAMSIZ: 16,
  NAME_MAX: 255,
  PATH_MAX: 4096,
  MAX_ERRNO: 4095,
};

/** Type sizes of one document (cached on first use per document). */
export class TypeSizes {
  private readonly defines = new Map<string, string>();
  private readonly typedefs = new Map<string, string>();
  private readonly cache = new Map<string, Layout | null>();
  private readonly anonymous = new Map<string, Node>();

  constructor(private readonly doc: BpfDocument) {
    const root = doc.root;
    if (!root) return;
    // #defines, enums and typedefs live at the top level (or under #if there).
    const top = topLevelNodes(doc);
    for (const d of top) {
      if (d.type !== 'preproc_def') continue;
      const name = d.childForFieldName('name')?.text;
      const value = d.childForFieldName('value')?.text;
      if (name && value) this.defines.set(name, value.trim());
    }
    for (const n of top) {
      if (!n.text.includes('enum')) continue;
      for (const e of n.descendantsOfType('enumerator')) {
        const name = e?.childForFieldName('name')?.text;
        const value = e?.childForFieldName('value')?.text;
        if (name && value) this.defines.set(name, value);
      }
    }
    for (const t of top) {
      if (t.type !== 'type_definition') continue;
      const type = t.childForFieldName('type');
      for (const d of t.childrenForFieldName('declarator')) {
        if (d?.type !== 'type_identifier' || !type) continue;
        const tag = type.childForFieldName('name');
        if ((type.type === 'struct_specifier' || type.type === 'union_specifier') && type.childForFieldName('body')) {
          if (tag && type.type === 'struct_specifier') this.typedefs.set(d.text, `struct ${tag.text}`);
          else if (type.type === 'struct_specifier') this.anonymous.set(d.text, type);
        } else this.typedefs.set(d.text, typeText(type));
      }
    }
  }

  /** Evaluates an integer constant expression (literals, #defines, enums, sizeof, + - * / << >> & |). */
  constValue(expr: string, depth = 0): number | undefined {
    if (depth > 8) return undefined;
    const toks = tokenize(expr);
    if (!toks) return undefined;
    let i = 0;
    const peek = () => toks[i];
    const next = () => toks[i++];
    const primary = (): number | undefined => {
      const t = next();
      if (t === undefined) return undefined;
      if (t === '(') {
        const v = bitor();
        if (next() !== ')') return undefined;
        return v;
      }
      if (t === '-') {
        const v = primary();
        return v === undefined ? undefined : -v;
      }
      if (t === '~') {
        const v = primary();
        return v === undefined ? undefined : ~v;
      }
      if (/^\d|^0[xX]/.test(t)) return Number(t);
      if (t.startsWith('sizeof')) {
        const inner = t.slice(t.indexOf('(') + 1, -1).trim();
        return this.layoutOf(inner)?.size;
      }
      const def = this.defines.get(t);
      if (def !== undefined) return this.constValue(def, depth + 1);
      return KNOWN_CONSTANTS[t];
    };
    const mul = (): number | undefined => {
      let v = primary();
      while (peek() === '*' || peek() === '/') {
        const op = next();
        const r = primary();
        if (v === undefined || r === undefined || (op === '/' && r === 0)) return undefined;
        v = op === '*' ? v * r : Math.trunc(v / r);
      }
      return v;
    };
    const add = (): number | undefined => {
      let v = mul();
      while (peek() === '+' || peek() === '-') {
        const op = next();
        const r = mul();
        if (v === undefined || r === undefined) return undefined;
        v = op === '+' ? v + r : v - r;
      }
      return v;
    };
    const shift = (): number | undefined => {
      let v = add();
      while (peek() === '<<' || peek() === '>>') {
        const op = next();
        const r = add();
        if (v === undefined || r === undefined) return undefined;
        v = op === '<<' ? v * 2 ** r : Math.floor(v / 2 ** r);
      }
      return v;
    };
    const bitor = (): number | undefined => {
      let v = shift();
      while (peek() === '&' || peek() === '|') {
        const op = next();
        const r = shift();
        if (v === undefined || r === undefined) return undefined;
        v = op === '&' ? v & r : v | r;
      }
      return v;
    };
    const v = bitor();
    return i === toks.length ? v : undefined;
  }

  /**
   * Size and alignment of a type written as text: `u64`, `struct event`, `char[16]`,
   * `struct ethhdr *`. Undefined when unknown.
   */
  layoutOf(type: string, depth = 0): Layout | undefined {
    const key = type.replace(/\s+/g, ' ').trim();
    if (this.cache.has(key)) return this.cache.get(key) ?? undefined;
    this.cache.set(key, null); // guards against recursive types
    const r = depth > 16 ? undefined : this.compute(key, depth);
    this.cache.set(key, r ?? null);
    return r;
  }

  private compute(t: string, depth: number): Layout | undefined {
    const arr = /^(.*?)\s*\[([^\]]*)\]((?:\[[^\]]*\])*)$/.exec(t);
    if (arr) {
      const n = this.constValue(arr[2]);
      const elem = this.layoutOf(arr[1] + arr[3], depth + 1);
      if (n === undefined || !elem) return undefined;
      return { size: n * elem.size, align: elem.align };
    }
    if (t.includes('*')) return { size: 8, align: 8 };
    const clean = t
      .replace(/\b(const|volatile|static|register|__attribute__\s*\(\(.*\)\))\b/g, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (clean in BASIC) return { size: BASIC[clean], align: BASIC[clean] };
    if (clean.startsWith('enum ')) return { size: 4, align: 4 };
    const m = /^(struct|union) (\w+)$/.exec(clean);
    if (m) {
      const known = KNOWN_STRUCTS[m[2]];
      if (known) return known;
      const info = m[1] === 'struct' ? this.doc.structs.get(m[2]) : undefined;
      if (info) return this.structLayout(info.node, depth);
      return undefined;
    }
    const anon = this.anonymous.get(clean);
    if (anon) return this.structLayout(anon, depth + 1);
    const td = this.typedefs.get(clean);
    if (td !== undefined) return this.layoutOf(td, depth + 1);
    return undefined;
  }

  /** Layout of a struct_specifier with a body (C rules: fields aligned, size rounded to the alignment). */
  structLayout(spec: Node, depth = 0): Layout | undefined {
    const body = spec.childForFieldName('body');
    if (!body) return undefined;
    const packed =
      /__attribute__\s*\(\(\s*(__)?packed/.test(spec.parent?.text.slice(0, 0) ?? '') ||
      /\b__packed\b|packed\)\)/.test(this.doc.text.slice(body.endIndex, body.endIndex + 40));
    let off = 0;
    let align = 1;
    for (const f of body.namedChildren) {
      if (!f || f.type !== 'field_declaration') continue;
      const typeNode = f.childForFieldName('type');
      if (!typeNode) return undefined;
      const base =
        typeNode.type === 'struct_specifier' && typeNode.childForFieldName('body') ? undefined : typeText(typeNode);
      const decls = f.childrenForFieldName('declarator').filter((d): d is Node => !!d);
      if (f.descendantsOfType('bitfield_clause').length) return undefined;
      const items = decls.length ? decls : [null];
      for (const d of items) {
        const l =
          base === undefined ? this.structLayout(typeNode, depth + 1) : this.layoutOf(declaredType(base, d), depth + 1);
        if (!l) return undefined;
        const a = packed ? 1 : l.align;
        off = Math.ceil(off / a) * a + l.size;
        align = Math.max(align, a);
      }
    }
    return { size: Math.ceil(off / align) * align, align };
  }
}

/** Tokens of a constant expression, or undefined when it holds anything else (casts, calls, `?:`). */
function tokenize(expr: string): string[] | undefined {
  const re = /\s*(0[xX][0-9a-fA-F]+|\d+|sizeof\s*\((?:[^()]|\([^()]*\))*\)|[A-Za-z_]\w*|<<|>>|[-+*/()&|~])[uUlL]*/y;
  const out: string[] = [];
  let k = 0;
  while (k < expr.length) {
    if (/^\s*$/.test(expr.slice(k))) break;
    re.lastIndex = k;
    const m = re.exec(expr);
    if (!m) return undefined;
    out.push(m[1]);
    k = re.lastIndex;
  }
  return out;
}

/** A type node's text with whitespace normalized. */
export function typeText(n: Node): string {
  return n.text.replace(/\s+/g, ' ').trim();
}

/** The full type of a declarator: `char[16]`, `struct x *`, `u64[4][2]`. */
export function declaredType(base: string, d: Node | null): string {
  let stars = '';
  const dims: string[] = [];
  let cur = d;
  for (let g = 0; cur && g < 32; g++) {
    if (cur.type === 'pointer_declarator') stars += '*';
    else if (cur.type === 'array_declarator') dims.push(`[${cur.childForFieldName('size')?.text ?? ''}]`);
    else if (cur.type === 'identifier' || cur.type === 'field_identifier') break;
    cur =
      cur.childForFieldName('declarator') ?? (cur.type === 'parenthesized_declarator' ? cur.namedChildren[0] : null);
  }
  return `${base}${stars ? ' ' + stars : ''}${dims.join('')}`;
}

const perDoc = new WeakMap<BpfDocument, TypeSizes>();
/** The TypeSizes of a document, built once. */
export function typeSizes(doc: BpfDocument): TypeSizes {
  let t = perDoc.get(doc);
  if (!t) perDoc.set(doc, (t = new TypeSizes(doc)));
  return t;
}
