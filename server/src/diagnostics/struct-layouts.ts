/**
 * Member offsets and sizes of structs, for the rules that compare a byte count with the object it
 * names (helper-mem-size): the file's own structs and those of the headers it includes (its own
 * `.bpf.h`/`.h` files and vmlinux.h, read as text through the header index). A struct whose layout
 * cannot be computed exactly (bitfields, nested anonymous structs or unions, a member of unknown
 * type) has none: callers must stay silent then.
 */
import type { BpfDocument } from '../bpf-document';
import { documentHeaderDeclarations, sharedHeaderDeclarations } from '../header-declarations';
import { typeSizes, type Layout, type TypeSizes } from './type-sizes';
import { constEvaluator } from './map-value-layout';
import { memo, topLevelKey } from './function-cache';

export interface Member {
  name: string;
  /** The member's type as written with its declarator: `char[16]`, `struct x *`. */
  type: string;
  offset: number;
  size: number;
}

export interface StructLayout {
  size: number;
  align: number;
  members: Member[];
}

/** The struct layouts of one document (built lazily, once per document). */
export class StructLayouts {
  private readonly cache = new Map<string, StructLayout | null>();
  private readonly konst: (text: string) => number | undefined;

  constructor(
    private readonly doc: BpfDocument,
    private readonly sizes: TypeSizes,
  ) {
    this.konst = constEvaluator(doc, sizes);
  }

  /** A constant expression's value (#defines and enums of the file and its headers). */
  constValue(text: string): number | undefined {
    return this.konst(text);
  }

  /** Size and alignment of a type (`struct event`, `char[16]`, `u64`), headers' structs included. */
  layoutOf(type: string, depth = 0): Layout | undefined {
    const t = type.replace(/\s+/g, ' ').trim();
    const arr = /^(.*?)\s*\[([^\]]*)\]((?:\[[^\]]*\])*)$/.exec(t);
    if (arr) {
      const n = this.konst(arr[2]);
      const elem = this.layoutOf(arr[1] + arr[3], depth + 1);
      return n === undefined || !elem ? undefined : { size: n * elem.size, align: elem.align };
    }
    const s = /^(?:const |volatile )*struct (\w+)$/.exec(t);
    if (s && depth < 8) {
      const l = this.struct(s[1], depth + 1);
      if (l) return { size: l.size, align: l.align };
    }
    return this.sizes.layoutOf(t);
  }

  /** The layout of `struct name`, or undefined when it cannot be computed exactly. */
  struct(name: string, depth = 0): StructLayout | undefined {
    if (this.cache.has(name)) return this.cache.get(name) ?? undefined;
    this.cache.set(name, null); // recursive types
    // Layouts depend only on the text outside function bodies and the headers: kept across edits inside bodies.
    const key = `struct-layout\u0000${topLevelKey(this.doc)}\u0000${documentHeaderDeclarations(this.doc).key}\u0000${name}`;
    const r = depth > 8 ? undefined : memo(key, () => this.compute(name, depth));
    this.cache.set(name, r ?? null);
    return r;
  }

  private compute(name: string, depth: number): StructLayout | undefined {
    const local = this.doc.structs.get(name);
    let body: string | undefined;
    let after = '';
    if (local) {
      const b = local.node.childForFieldName('body');
      if (!b) return undefined;
      body = this.doc.text.slice(b.startIndex + 1, b.endIndex - 1);
      after = this.doc.text.slice(b.endIndex, b.endIndex + 60);
    } else {
      const files = documentHeaderDeclarations(this.doc).files;
      if (!files.length) return undefined;
      const def = sharedHeaderDeclarations.headers.findStruct(name, files, [], files.length);
      const text = def ? sharedHeaderDeclarations.headers.text(def.file) : undefined;
      if (!def || def.kind !== 'struct' || text === undefined) return undefined;
      const open = text.indexOf('{', def.offset);
      const close = matchBrace(text, open);
      if (open < 0 || close < 0) return undefined;
      body = text.slice(open + 1, close);
      after = text.slice(close + 1, close + 60);
    }
    const packed = /^\s*(__attribute__\s*\(\(\s*(__)?packed|__packed\b)/.test(after);
    const clean = body
      .replace(/\/\*[\s\S]*?\*\//g, ' ')
      .replace(/\/\/[^\n]*/g, ' ')
      .replace(/\s+/g, ' ');
    return this.aggregate(clean, 'struct', packed, depth);
  }

  /**
   * The layout of a struct or union body (text without comments): members one per `;`, anonymous
   * inner structs and unions flattened at their offset, as C lets code name their members.
   */
  private aggregate(body: string, kind: 'struct' | 'union', packed: boolean, depth: number): StructLayout | undefined {
    if (/[#:]/.test(body)) return undefined; // preprocessor lines, bitfields
    const members: Member[] = [];
    let off = 0;
    let size = 0;
    let align = 1;
    const place = (l: Layout): number => {
      const a = packed ? 1 : l.align;
      align = Math.max(align, a);
      if (kind === 'union') {
        size = Math.max(size, l.size);
        return 0;
      }
      off = Math.ceil(off / a) * a;
      const at = off;
      off += l.size;
      size = off;
      return at;
    };
    for (const raw of splitDecls(body)) {
      const d = raw.trim();
      if (!d) continue;
      const inner = /^(struct|union)\s*\{(.*)\}$/.exec(d);
      if (inner) {
        const l = this.aggregate(inner[2], inner[1] as 'struct' | 'union', packed, depth + 1);
        if (!l) return undefined;
        const at = place(l);
        for (const m of l.members) members.push({ ...m, offset: at + m.offset });
        continue;
      }
      if (/[{}(),]/.test(d)) return undefined; // named inner types, function pointers, several declarators, attributes
      const m = /^(.*?)(\**)\s*([A-Za-z_]\w*)\s*((?:\[[^\]]*\])*)$/.exec(d.replace(/\*\s+/g, '*'));
      if (!m || !m[1].trim()) return undefined;
      if (/\[\s*\]/.test(m[4])) return undefined; // a flexible array member: no fixed size
      const type = `${m[1].trim()}${m[2] ? ' ' + m[2] : ''}${m[4]}`;
      const l = m[2] && !m[4] ? { size: 8, align: 8 } : this.layoutOf(type, depth + 1);
      if (!l) return undefined;
      members.push({ name: m[3], type, offset: place(l), size: l.size });
    }
    return { size: Math.ceil(size / align) * align, align, members };
  }
}

/** The declarations of a body, split at the `;` outside braces. */
function splitDecls(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let k = 0; k < body.length; k++) {
    const c = body[k];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ';' && depth === 0) {
      out.push(body.slice(start, k));
      start = k + 1;
    }
  }
  if (body.slice(start).trim()) out.push(body.slice(start));
  return out;
}

function matchBrace(text: string, open: number): number {
  if (open < 0) return -1;
  let depth = 0;
  for (let k = open; k < text.length; k++) {
    const c = text[k];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return k;
  }
  return -1;
}

const perDoc = new WeakMap<BpfDocument, StructLayouts>();
/** The StructLayouts of a document, built once. */
export function structLayouts(doc: BpfDocument): StructLayouts {
  let s = perDoc.get(doc);
  if (!s) perDoc.set(doc, (s = new StructLayouts(doc, typeSizes(doc))));
  return s;
}
