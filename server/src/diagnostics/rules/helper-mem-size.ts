/**
 * A helper's size argument larger than the object its pointer argument names:
 * `bpf_probe_read_kernel_str(h->comm, sizeof(*h), ...)`, `bpf_get_current_comm(e.comm, sizeof(e))`,
 * `bpf_skb_load_bytes(skb, off, s->data, sizeof(*s))`. The verifier checks every (pointer, constant
 * size) pair of a helper against the memory the pointer points into: a map value ("invalid access to
 * map value, value_size=120 off=104 size=120"), a ring buffer reservation ("invalid access to memory,
 * mem_size=48 off=16 size=48") or the stack. Error when the pointer is into a map value or a
 * reservation whose size the file fixes (the room left after the member is less than the size);
 * warning for a stack object (the bytes past it are other locals, which the verifier only refuses
 * when the access leaves the frame). Silent unless both sizes are constants known from the types
 * (the file's structs, its headers', vmlinux.h's).
 */
import type { Node } from 'web-tree-sitter';
import { declaratorName, declaratorType } from '../../bpf-document';
import type { BpfDocument } from '../../bpf-document';
import { fileMaps, headerMaps } from '../header-maps';

/** A map of the file or its headers: what sizes need of it. */
interface MapInfo {
  name: string;
  type: string | undefined;
  valueType: string | undefined;
}
import { documentHeaderDeclarations } from '../../header-declarations';
import { field, opOf, ty } from '../fast-node';
import { functionsByName, topLevelNodes } from '../function-cache';
import { stripCasts, stripParens } from '../flow';
import type { Rule } from '../rule';
import { structLayouts, type StructLayouts } from '../struct-layouts';
import { syntaxIndex } from '../syntax-index';
import { callArgs, calleeName } from '../syntax';
import { typeText } from '../type-sizes';

/** Helper -> [pointer argument, size argument, what the helper does with the memory]. */
const PAIRS: Record<string, [number, number, 'writes' | 'reads']> = {
  bpf_probe_read: [0, 1, 'writes'],
  bpf_probe_read_str: [0, 1, 'writes'],
  bpf_probe_read_kernel: [0, 1, 'writes'],
  bpf_probe_read_kernel_str: [0, 1, 'writes'],
  bpf_probe_read_user: [0, 1, 'writes'],
  bpf_probe_read_user_str: [0, 1, 'writes'],
  bpf_copy_from_user: [0, 1, 'writes'],
  bpf_copy_from_user_task: [0, 1, 'writes'],
  bpf_get_current_comm: [0, 1, 'writes'],
  bpf_get_stack: [1, 2, 'writes'],
  bpf_get_task_stack: [1, 2, 'writes'],
  bpf_d_path: [1, 2, 'writes'],
  bpf_snprintf: [0, 1, 'writes'],
  bpf_skb_load_bytes: [2, 3, 'writes'],
  bpf_skb_load_bytes_relative: [2, 3, 'writes'],
  bpf_xdp_load_bytes: [2, 3, 'writes'],
  bpf_skb_store_bytes: [2, 3, 'reads'],
  bpf_xdp_store_bytes: [2, 3, 'reads'],
  bpf_perf_event_output: [3, 4, 'reads'],
  bpf_ringbuf_output: [1, 2, 'reads'],
  bpf_strncmp: [0, 1, 'reads'],
  // The u64 argument arrays of the printf-like helpers (data, data_len).
  bpf_seq_printf: [3, 4, 'reads'],
  bpf_seq_write: [1, 2, 'reads'],
  bpf_trace_vprintk: [2, 3, 'reads'],
};

/** Map types whose values are plain memory of value_size bytes. */
const VALUE_MAPS =
  /^BPF_MAP_TYPE_(HASH|ARRAY|PERCPU_HASH|PERCPU_ARRAY|LRU_HASH|LRU_PERCPU_HASH|LPM_TRIE|SK_STORAGE|INODE_STORAGE|TASK_STORAGE|CGRP_STORAGE)$/;

/** The memory an object lives in, with its size in bytes. */
interface Region {
  kind: 'stack' | 'value' | 'reservation';
  /** How the message names it: `event`, `the map value of hists`, `the reservation`. */
  what: string;
  size: number;
}

/** A place in memory: `offset` bytes into `region`, of type `type`. */
interface Place {
  region: Region;
  offset: number;
  type: string;
}

const norm = (t: string) =>
  t
    .replace(/\b(const|volatile)\b/g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*\*/g, ' *')
    .trim();

/** `struct x *` -> `struct x`; `char[16]` -> `char` (the pointee or element type). */
function deref(t: string): string | undefined {
  const a = /^(.*)\[[^\]]*\]$/.exec(t.trim());
  if (a) return a[1].trim();
  const p = /^(.*?)\s*\*$/.exec(t.trim());
  return p ? p[1].trim() : undefined;
}

export const helperMemSizeRule: Rule = {
  id: 'helper-mem-size',
  description: "a helper's size argument larger than the object its pointer names",
  ownFunctionOnly: true,
  functionFilter: new RegExp(`\\b(${Object.keys(PAIRS).join('|')})\\s*\\(`),
  fileKey: (doc) => documentHeaderDeclarations(doc).key,
  runFunction({ doc, fn, report }) {
    const defined = functionsByName(doc);
    const calls = syntaxIndex(doc)
      .callsIn(fn)
      .filter((c) => PAIRS[c.name] && !defined.has(c.name));
    if (!calls.length) return;
    const layouts = structLayouts(doc);
    const vars = variableTypes(doc, fn);
    const maps = new Map<string, MapInfo>([...headerMaps(doc), ...fileMaps(doc)].map((m) => [m.name, m]));
    const ctx: Ctx = { doc, fn, layouts, vars, maps, regions: new Map() };
    for (const c of calls) {
      const [pi, si, does] = PAIRS[c.name];
      const args = callArgs(c.node);
      const ptr = args[pi];
      const sizeArg = args[si];
      if (!ptr || !sizeArg) continue;
      const loose = unboundedSize(ctx, sizeArg, c.node);
      if (loose) {
        report({
          start: sizeArg.startIndex,
          end: sizeArg.endIndex,
          severity: 'error',
          message:
            `The size passed to ${c.name}(), '${sizeArg.text}', is ${loose.how} and nothing bounds it before the call: the verifier needs ` +
            `a size it can prove non-negative and within the buffer, and rejects the program ("R${si + 1} unbounded memory access, use ` +
            `'var &= const' or 'if (var < const)'", "R${si + 1} min value is negative" or "R${si + 1} invalid zero-sized read"). Clamp it first: ` +
            `if (${sizeArg.text} > sizeof(buf)) ${sizeArg.text} = sizeof(buf); (and check it is not negative).`,
          related: [{ start: loose.at.startIndex, end: loose.at.endIndex, message: `'${sizeArg.text}' is set here` }],
        });
        continue;
      }
      const size = constOf(ctx, sizeArg);
      if (size === undefined || size <= 0) continue;
      const place = placeOfPointer(ctx, ptr);
      if (!place) continue;
      const room = place.region.size - place.offset;
      if (size <= room || place.offset < 0 || place.offset > place.region.size) continue;
      const at = stripCasts(stripParens(ptr)).text;
      const r = place.region;
      const stack = r.kind === 'stack';
      const said =
        r.kind === 'value'
          ? `"invalid access to map value, value_size=${r.size} off=${place.offset} size=${size}", or "R1 min value is outside of the allowed memory range"`
          : r.kind === 'reservation'
            ? `"invalid access to memory, mem_size=${r.size} off=${place.offset} size=${size}", or "R1 min value is outside of the allowed memory range"`
            : `"invalid ${does === 'writes' ? 'write to' : 'read from'} stack" when it runs past the frame`;
      const fits = layouts.layoutOf(place.type)?.size;
      report({
        start: sizeArg.startIndex,
        end: sizeArg.endIndex,
        severity: stack ? 'warning' : 'error',
        message:
          `${c.name}() ${does} ${size} bytes (${sizeArg.text}) at ${at}, but only ${room} byte${room === 1 ? '' : 's'} of ${r.what} ` +
          `(${r.size} bytes) ${room === r.size ? 'are there' : `are left after offset ${place.offset}`}: ` +
          (stack
            ? `it ${does === 'writes' ? 'overwrites' : 'reads'} the locals next to it, and the verifier rejects it (${said}). `
            : `the verifier rejects the program (${said}). `) +
          `Pass the size of the ${fits !== undefined && fits <= room ? `destination, sizeof(${at}) (${fits} bytes)` : 'object it points to'}.`,
      });
    }
  },
};

interface Ctx {
  doc: BpfDocument;
  fn: Node;
  layouts: StructLayouts;
  /** Declared types of the function's parameters and locals, and the file's globals. */
  vars: Map<string, { type: string; local: boolean }>;
  maps: Map<string, MapInfo>;
  regions: Map<string, Region | null>;
}

/** The file's globals with their types, per document version. */
const globalsPerDoc = new WeakMap<BpfDocument, Map<string, { type: string; local: boolean }>>();

/** Declared types of the names visible in fn (parameters and locals; globals of the file). */
/**
 * A helper's size argument that is a local (of 32 bits or more) set only from values read at run time
 * (a call's result, a field, a dereference, a bpf_probe_read*(&len, ...)) and never compared with a
 * constant, masked or reduced before the call: its range is unknown to the verifier.
 */
function unboundedSize(ctx: Ctx, arg: Node, call: Node): { how: string; at: Node } | undefined {
  const a = stripCasts(stripParens(arg));
  if (ty(a) !== 'identifier') return undefined;
  return unboundedLocal(ctx, a.text, call, 0);
}

/** unboundedSize() for local `name`; through other locals it is copied from (`n = size;`), depth-limited. */
function unboundedLocal(ctx: Ctx, name: string, call: Node, depth: number): { how: string; at: Node } | undefined {
  if (depth > 3) return undefined;
  const v = ctx.vars.get(name);
  if (!v || !v.local || v.type === '?' || /\*|\[/.test(v.type)) return undefined;
  if (/\b(u8|__u8|u16|__u16|s8|__s8|s16|__s16|char|short|bool|_Bool|uint8_t|uint16_t|int8_t|int16_t)\b/.test(v.type))
    return undefined;
  const ix = syntaxIndex(ctx.doc);
  const fn = ctx.fn;
  // A local of this function, not a parameter (a caller may have bounded that).
  const declared = ix
    .in('declaration', fn)
    .some((d) =>
      d
        .childrenForFieldName('declarator')
        .some((x) => x && declaratorName(ty(x) === 'init_declarator' ? field(x, 'declarator') : x)?.text === name),
    );
  if (!declared) return undefined;
  // Member names (`skb->len`, `e.len`) are not the variable.
  const before = ctx.doc.text.slice(fn.startIndex, call.startIndex).replace(/(->|\.)\s*\w+/g, '');
  const id = `\\b${name}\\b`;
  // A mask, remainder, min(), ?: or inline asm on it before the call counts as a bound; so does a
  // comparison with anything but 0 or 1 (`if (len <= 0) return 0;` bounds it only from below).
  if (
    new RegExp(
      `${id}\\s*(&|%|\\?)|(?<![(,=]\\s*)(&|%)=?\\s*${id}|${id}\\s*=[^=;][^;]*(&|%|\\?|\\bmin|\\bMIN|\\bclamp)|\\b(min|MIN|min_t|clamp)\\s*\\([^;]*${id}|asm[^;]*${id}`,
    ).test(before)
  )
    return undefined;
  const cmp = new RegExp(`${id}\\s*(<=?|>=?)\\s*([^;&|)]+)|([\\w)]+)\\s*(<=?|>=?)\\s*${id}`, 'g');
  for (const m of before.matchAll(cmp)) {
    const other = (m[2] ?? m[3] ?? '').trim().replace(/^\(+|\)+$/g, '');
    if (!/^(0|1|0[uUlL]*|1[uUlL]*)$/.test(other)) return undefined;
  }
  let source: { how: string; at: Node } | undefined;
  const runtime = (val: Node | null): string | undefined => {
    const x = val ? stripCasts(stripParens(val)) : null;
    if (!x) return undefined;
    if (ty(x) === 'call_expression') {
      const callee = calleeName(x) ?? '';
      if (/^(sizeof|__builtin_\w+|bpf_core_field_size|bpf_core_type_size)$/.test(callee)) return undefined;
      return `the value ${callee}() returned`;
    }
    // Another local of the function copied in (`buf_copy_size = size;`): unbounded when it is.
    if (ty(x) === 'identifier' && x.text !== name) {
      const h = unboundedLocal(ctx, x.text, call, depth + 1)?.how;
      return h ? `${h}, copied through '${x.text}'` : undefined;
    }
    // A field of 32 bits or more (a narrower one is bounded by its type), through a pointer of known type.
    if (ty(x) === 'field_expression' && opOf(x) === '->') {
      const base = stripCasts(stripParens(field(x, 'argument') ?? x));
      const bt = ty(base) === 'identifier' ? ctx.vars.get(base.text)?.type : undefined;
      const st = bt ? /^(?:const\s+)?struct\s+(\w+)\s*\*$/.exec(bt.trim())?.[1] : undefined;
      const f = field(x, 'field')?.text;
      const m = st && f ? ctx.layouts.struct(st)?.members.find((q) => q.name === f) : undefined;
      return m && m.size >= 4 && !/[*[]/.test(m.type) ? `a field read at run time (${x.text.slice(0, 40)})` : undefined;
    }
    return undefined;
  };
  const stores = [
    ...ix.in('init_declarator', fn).filter((d) => declaratorName(field(d, 'declarator'))?.text === name),
    ...ix.in('assignment_expression', fn).filter((e) => {
      const l = field(e, 'left');
      return !!l && ty(l) === 'identifier' && l.text === name;
    }),
  ].filter((n) => n.startIndex < call.startIndex);
  if (!stores.length) {
    // Set only by bpf_probe_read*(&n, sizeof(n), ...) (a count read from memory), when reached through a copy.
    const read = depth
      ? new RegExp(`\\b(bpf_probe_read\\w*|bpf_core_read\\w*)\\s*\\(\\s*&\\s*${name}\\b`).exec(before)
      : null;
    const decl = read ? ix.in('declaration', fn).find((d) => new RegExp(`\\b${name}\\b`).test(d.text)) : undefined;
    return read && decl ? { how: `a value read with ${read[1]}()`, at: decl } : undefined;
  }
  for (const st of stores) {
    if (ty(st) === 'assignment_expression' && opOf(st) !== '=') return undefined;
    const how = runtime(field(st, ty(st) === 'init_declarator' ? 'value' : 'right'));
    if (!how) return undefined;
    source = { how, at: st };
  }
  // `&len` handed to anything but the helper itself: something else may set it.
  if (new RegExp(`&\\s*${name}\\b`).test(before)) return undefined;
  return source;
}

function variableTypes(doc: BpfDocument, fn: Node): Map<string, { type: string; local: boolean }> {
  const out = new Map<string, { type: string; local: boolean }>();
  const add = (decl: Node, local: boolean) => {
    const base = field(decl, 'type');
    if (!base) return;
    for (const d of decl.childrenForFieldName('declarator')) {
      if (!d) continue;
      const inner = ty(d) === 'init_declarator' ? field(d, 'declarator') : d;
      const name = declaratorName(inner);
      if (name && !out.has(name.text)) out.set(name.text, { type: declaratorType(typeText(base), inner), local });
    }
  };
  let globals = globalsPerDoc.get(doc);
  if (!globals) {
    globalsPerDoc.set(doc, (globals = new Map()));
    for (const n of topLevelNodes(doc)) if (ty(n) === 'declaration') add(n, false);
    for (const [k, v] of out) globals.set(k, v);
  } else for (const [k, v] of globals) out.set(k, v);
  const local = new Map<string, { type: string; local: boolean }>();
  for (const d of syntaxIndex(doc).inAny(['declaration', 'parameter_declaration'], fn)) {
    if (!d) continue;
    const tmp = new Map<string, { type: string; local: boolean }>();
    const base = field(d, 'type');
    if (!base) continue;
    for (const x of d.childrenForFieldName('declarator')) {
      if (!x) continue;
      const inner = ty(x) === 'init_declarator' ? field(x, 'declarator') : x;
      const name = declaratorName(inner);
      if (!name) continue;
      // The same name declared twice in one function (shadowing): not guessed.
      if (local.has(name.text)) local.set(name.text, { type: '?', local: true });
      else tmp.set(name.text, { type: declaratorType(typeText(base), inner), local: true });
    }
    for (const [k, v] of tmp) local.set(k, v);
  }
  for (const [k, v] of local) out.set(k, v);
  return out;
}

/** The type of an expression, when the declarations say it. */
function typeOf(ctx: Ctx, e: Node): string | undefined {
  const n = stripParens(e);
  switch (ty(n)) {
    case 'identifier': {
      const t = ctx.vars.get(n.text)?.type;
      return t === '?' ? undefined : t;
    }
    case 'pointer_expression': {
      const inner = field(n, 'argument');
      const t = inner ? typeOf(ctx, inner) : undefined;
      if (!t) return undefined;
      return opOf(n) === '&' ? `${t} *` : deref(t);
    }
    case 'field_expression': {
      const base = field(n, 'argument');
      const f = field(n, 'field')?.text;
      let t = base ? typeOf(ctx, base) : undefined;
      if (!t || !f) return undefined;
      if (
        n.text
          .slice((base?.endIndex ?? 0) - n.startIndex)
          .trimStart()
          .startsWith('->')
      )
        t = deref(t);
      const s = t ? /^(?:struct\s+)(\w+)$/.exec(norm(t))?.[1] : undefined;
      return s ? ctx.layouts.struct(s)?.members.find((m) => m.name === f)?.type : undefined;
    }
    case 'subscript_expression': {
      const base = field(n, 'argument');
      const t = base ? typeOf(ctx, base) : undefined;
      return t ? deref(t) : undefined;
    }
    case 'cast_expression': {
      const t = field(n, 'type');
      return t ? typeText(t).replace(/\s*\*\s*$/, ' *') : undefined;
    }
  }
  return undefined;
}

/** A constant size expression: literals, #defines, enums, sizeof of types and of expressions. */
function constOf(ctx: Ctx, e: Node): number | undefined {
  const n = stripParens(e);
  const t = ty(n);
  if (t === 'sizeof_expression') {
    const tt = field(n, 'type');
    if (tt) return ctx.layouts.layoutOf(typeText(tt))?.size;
    const v = field(n, 'value');
    const vt = v ? typeOf(ctx, v) : undefined;
    if (vt) return ctx.layouts.layoutOf(vt)?.size;
    // `sizeof(__u64)` parses as the size of an expression `(__u64)`: a type name that is no variable.
    const id = v ? stripParens(v) : undefined;
    return id && ty(id) === 'identifier' && !ctx.vars.has(id.text) ? ctx.layouts.layoutOf(id.text)?.size : undefined;
  }
  if (t === 'number_literal') return Number(n.text.replace(/[uUlL]+$/, '')) || (n.text.startsWith('0') ? 0 : undefined);
  if (t === 'cast_expression') {
    const v = field(n, 'value');
    return v ? constOf(ctx, v) : undefined;
  }
  if (t === 'binary_expression') {
    const l = field(n, 'left');
    const r = field(n, 'right');
    const a = l ? constOf(ctx, l) : undefined;
    const b = r ? constOf(ctx, r) : undefined;
    if (a === undefined || b === undefined) return undefined;
    switch (opOf(n)) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        return b ? Math.trunc(a / b) : undefined;
    }
    return undefined;
  }
  if (t === 'identifier' && !ctx.vars.has(n.text)) return ctx.layouts.constValue(n.text);
  return undefined;
}

/** Where the pointer argument of a helper points. */
function placeOfPointer(ctx: Ctx, ptr: Node): Place | undefined {
  const p = stripCasts(stripParens(ptr));
  if (ty(p) === 'pointer_expression' && opOf(p) === '&') {
    const x = field(p, 'argument');
    return x ? placeOf(ctx, x) : undefined;
  }
  const t = typeOf(ctx, p);
  if (!t) return undefined;
  // An array names its first element's address: the array object itself.
  if (/\]$/.test(t.trim())) return placeOf(ctx, p);
  if (ty(p) === 'identifier' && /\*$/.test(t.trim())) {
    const region = pointerRegion(ctx, p.text);
    const pointee = deref(t);
    return region && pointee ? { region, offset: 0, type: pointee } : undefined;
  }
  return undefined;
}

/** The object an lvalue expression designates. */
function placeOf(ctx: Ctx, e: Node): Place | undefined {
  const n = stripParens(e);
  switch (ty(n)) {
    case 'identifier': {
      const v = ctx.vars.get(n.text);
      if (!v || !v.local || v.type === '?' || /\*$/.test(v.type.trim())) return undefined;
      // Only the function's own locals: a parameter's address is not taken this way in BPF code.
      const size = ctx.layouts.layoutOf(v.type)?.size;
      return size ? { region: { kind: 'stack', what: `'${n.text}'`, size }, offset: 0, type: v.type } : undefined;
    }
    case 'pointer_expression': {
      if (opOf(n) !== '*') return undefined;
      const q = stripParens(field(n, 'argument') ?? n);
      if (ty(q) !== 'identifier') return undefined;
      const region = pointerRegion(ctx, q.text);
      const t = typeOf(ctx, n);
      return region && t ? { region, offset: 0, type: t } : undefined;
    }
    case 'field_expression': {
      const base = field(n, 'argument');
      const f = field(n, 'field')?.text;
      if (!base || !f) return undefined;
      const arrow = n.text
        .slice(base.endIndex - n.startIndex)
        .trimStart()
        .startsWith('->');
      let outer: Place | undefined;
      if (arrow) {
        const q = stripParens(base);
        const region = ty(q) === 'identifier' ? pointerRegion(ctx, q.text) : undefined;
        const pt = typeOf(ctx, q);
        const pointee = pt ? deref(pt) : undefined;
        outer = region && pointee ? { region, offset: 0, type: pointee } : undefined;
      } else outer = placeOf(ctx, base);
      if (!outer) return undefined;
      const s = /^struct (\w+)$/.exec(norm(outer.type))?.[1];
      const m = s ? ctx.layouts.struct(s)?.members.find((x) => x.name === f) : undefined;
      return m ? { region: outer.region, offset: outer.offset + m.offset, type: m.type } : undefined;
    }
    case 'subscript_expression': {
      const base = field(n, 'argument');
      const index = field(n, 'index');
      const outer = base ? placeOf(ctx, base) : undefined;
      const k = index ? constOf(ctx, index) : undefined;
      const elem = outer ? deref(outer.type) : undefined;
      const es = elem ? ctx.layouts.layoutOf(elem)?.size : undefined;
      if (!outer || k === undefined || !elem || !es || !/\]$/.test(outer.type.trim())) return undefined;
      return { region: outer.region, offset: outer.offset + k * es, type: elem };
    }
  }
  return undefined;
}

/**
 * The memory a local pointer variable points to, when every store to it in the function agrees: a
 * map value (`bpf_map_lookup_elem(&m, ...)`, or a function of the file or a header handed `&m` that
 * returns a pointer of m's value type) or a ring buffer reservation of a constant size.
 */
function pointerRegion(ctx: Ctx, name: string): Region | undefined {
  const cached = ctx.regions.get(name);
  if (cached !== undefined) return cached ?? undefined;
  ctx.regions.set(name, null);
  const v = ctx.vars.get(name);
  if (!v || !v.local || v.type === '?') return undefined;
  const pointee = deref(v.type);
  const values: Node[] = [];
  let other = false;
  for (const d of syntaxIndex(ctx.doc).inAny(
    ['init_declarator', 'assignment_expression', 'parameter_declaration'],
    ctx.fn,
  )) {
    if (!d) continue;
    if (ty(d) === 'parameter_declaration') {
      if (declaratorName(field(d, 'declarator'))?.text === name) other = true;
      continue;
    }
    const target = ty(d) === 'init_declarator' ? declaratorName(field(d, 'declarator')) : field(d, 'left');
    if (target?.text !== name) continue;
    const val = field(d, ty(d) === 'init_declarator' ? 'value' : 'right');
    if (!val || (ty(d) === 'assignment_expression' && opOf(d) !== '=')) other = true;
    else values.push(val);
  }
  // `&p` handed somewhere may store anything in it.
  if (other || !values.length || new RegExp(`&\\s*${name}\\b(?!\\s*(->|\\.|\\[))`).test(ctx.fn.text)) return undefined;
  let region: Region | undefined;
  for (const val of values) {
    const r = regionOfValue(ctx, stripCasts(stripParens(val)), pointee);
    if (!r || (region && (region.size !== r.size || region.kind !== r.kind))) return undefined;
    region = r;
  }
  ctx.regions.set(name, region ?? null);
  return region;
}

function regionOfValue(ctx: Ctx, val: Node, pointee: string | undefined): Region | undefined {
  if (ty(val) !== 'call_expression') return undefined;
  const callee = calleeName(val);
  const args = callArgs(val);
  const mapArg = (a: Node | undefined) => {
    const x = a ? stripCasts(stripParens(a)) : undefined;
    const id = x && ty(x) === 'pointer_expression' && opOf(x) === '&' ? field(x, 'argument') : undefined;
    return id && ty(id) === 'identifier' ? ctx.maps.get(id.text) : undefined;
  };
  if (callee === 'bpf_ringbuf_reserve') {
    const size = args[1] ? constOf(ctx, args[1]) : undefined;
    return size ? { kind: 'reservation', what: 'the ring buffer reservation', size } : undefined;
  }
  if (!callee || (/^bpf_/.test(callee) && !/^bpf_map_lookup(_percpu)?_elem$/.test(callee))) return undefined;
  const maps = args.map(mapArg).filter((m): m is MapInfo => !!m);
  if (maps.length !== 1) return undefined;
  const m = maps[0];
  if (!VALUE_MAPS.test(m.type?.trim() ?? '') || !m.valueType) return undefined;
  // The pointer's type must be the value's: a cast to another type means it is not the whole value.
  // A value that is an array (`char[PATH_BUF_LEN]`) is pointed to by its element type (`char *buf`).
  const elem = /^(.*?)\s*\[[^\]]*\]$/.exec(m.valueType.trim())?.[1];
  if (!pointee || (norm(pointee) !== norm(m.valueType) && (!elem || norm(pointee) !== norm(elem)))) return undefined;
  const size = ctx.layouts.layoutOf(m.valueType)?.size;
  return size ? { kind: 'value', what: `the map value of ${m.name}`, size } : undefined;
}
