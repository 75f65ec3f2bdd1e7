/**
 * Rule 2: packet data read without a bounds check against `data_end`. XDP and tc programs read the
 * packet through pointers derived from `ctx->data`; the verifier rejects any access it cannot prove
 * to lie before `ctx->data_end` ("invalid access to packet, off=14 size=1, R2(id=0,off=14,r=0)").
 *
 * Offsets are tracked from `ctx->data` as a constant part, variable parts (`ip->ihl * 4`) and sizes
 * of types we do not know. A check `if (p + 1 > data_end) return ...;` proves `data + off(p) +
 * sizeof(*p)` on the paths where it fails. An access is reported only when the proof is missing for
 * sure; anything we cannot read (a check of another form, data_end handed to a function) silences
 * the rule on that path: false positives cost more than misses here.
 */
import type { Node } from 'web-tree-sitter';
import { field, opOf, ty } from '../fast-node';
import { FlowWalker, mentions, stripCasts, stripParens, type FlowDomain } from '../flow';
import type { Rule, RuleContext } from '../rule';
import { syntaxIndex } from '../syntax-index';
import { blockStatement, callArgs, calleeName, identOf, indentAt, indentUnit, safeReturn } from '../syntax';
import { typeSizes, type TypeSizes } from '../type-sizes';
import { functionKey, functionsByName, hash, memo, topLevelKey } from '../function-cache';
import { BpfDocument } from '../../bpf-document';
import { documentHeaderDeclarations } from '../../header-declarations';
import { CParser } from '../../parser';

interface Off {
  c: number;
  /** Run-time parts (`ip->ihl*4`), sorted. */
  vars: string[];
  /** Sizes of types we do not know (`struct foo`), sorted. */
  sizes: string[];
  /** The check against data_end that proved it (for covered ranges). */
  at?: Node;
}
interface PVal {
  off: Off | null;
  /** The type the pointer points to (`struct ethhdr`, `void`). */
  elem: string;
  /** Where it was set from the cursor a parsing helper left (`tcp = nh.pos;`), for the report. */
  origin?: Node;
}
interface State {
  ptrs: Map<string, PVal>;
  ends: Set<string>;
  covered: Off[];
  /** A check we could not read happened on this path: report nothing. */
  unknown: boolean;
  /** The last comparison with data_end on this path that proved nothing here (`p + 1 < data_end` falling through). */
  useless?: Node;
  /** It was about another pointer (a header a parsing helper returned), not the wrong way round. */
  uselessOther?: boolean;
}

const CTX_TYPES = /^struct\s+(xdp_md|__sk_buff)\s*\*$/;
/** Bytes past a header a parsing helper returned that count as checked (it checked them; we do not know how far). */
const TRUSTED = 1 << 20;
/** Helpers after which every packet pointer must be re-derived from ctx->data. */
const INVALIDATES =
  /^bpf_(xdp_adjust_(head|tail|meta)|skb_(pull_data|store_bytes|change_(head|tail|proto|type)|adjust_room|vlan_(push|pop))|l[34]_csum_replace|clone_redirect|lwt_push_encap|msg_(pull|push|pop)_data)$/;

const INVALIDATES_IN_TEXT =
  /bpf_(xdp_adjust|skb_(pull|store|change|adjust|vlan)|l[34]_csum|clone_redirect|lwt_push|msg_(pull|push|pop))/;

const add = (a: Off, b: Off): Off => ({
  c: a.c + b.c,
  vars: [...a.vars, ...b.vars].sort(),
  sizes: [...a.sizes, ...b.sizes].sort(),
});
const constOff = (c: number): Off => ({ c, vars: [], sizes: [] });
const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const offKey = (o: Off | null) => (o ? `${o.c}|${o.vars.join(',')}|${o.sizes.join(',')}` : '?');

function containsAll(big: string[], small: string[]): boolean {
  const rest = [...big];
  for (const s of small) {
    const i = rest.indexOf(s);
    if (i < 0) return false;
    rest.splice(i, 1);
  }
  return true;
}

/** `struct ethhdr` for `struct ethhdr *`, `void` for `void *`; undefined for a non-pointer. */
function pointee(type: string): string | undefined {
  const t = type
    .replace(/\s+/g, ' ')
    .replace(/\b(const|volatile)\b/g, '')
    .trim();
  if (!t.endsWith('*')) return undefined;
  return t.slice(0, -1).trim();
}

export const packetBoundsRule: Rule = {
  id: 'packet-bounds',
  description: 'packet data read without a bounds check against data_end',
  functionFilter: /->\s*data\b|\bdata_end\b/,
  // The quick fix returns TC_ACT_OK when the file names it.
  fileKey: (doc) => `${/\bTC_ACT_OK\b/.test(doc.text) ? 'tc' : ''}|${documentHeaderDeclarations(doc).key}`,
  runFunction(ctx) {
    // Only functions that take an xdp_md or __sk_buff context can reach ctx->data.
    const head = ctx.text.slice(0, ctx.text.indexOf('{'));
    if (/\b(xdp_md|__sk_buff)\b/.test(head)) analyseFunction(ctx, ctx.fn);
    // A parsing helper in the xdp-tutorial style: parse_iphdr(struct hdr_cursor *nh, void *data_end, ...).
    else if (/\bvoid\s*\*\s*data_end\b/.test(head) && /->\s*pos\b/.test(ctx.text)) analyseCursorHelper(ctx, ctx.fn);
  },
};

function analyseFunction(ctx: RuleContext, fn: Node): void {
  const sizes = typeSizes(ctx.doc);
  const body = field(fn, 'body');
  if (!body) return;
  const ctxNames = new Set<string>();
  let d: Node | null = field(fn, 'declarator');
  while (d && ty(d) !== 'function_declarator') d = field(d, 'declarator');
  for (const p of d?.childForFieldName('parameters')?.namedChildren ?? []) {
    if (p?.type !== 'parameter_declaration') continue;
    const decl = field(p, 'declarator');
    const name = identOf(decl?.childForFieldName('declarator') ?? decl);
    if (name && decl?.type === 'pointer_declarator' && CTX_TYPES.test(`${field(p, 'type')?.text} *`))
      ctxNames.add(name);
  }
  if (ctxNames.size) checkFunction(ctx, fn, body, ctxNames, sizes);
}

/**
 * A helper that parses a header at a cursor (`nh->pos`) and checks it against its `data_end` parameter:
 * `nh->pos` on entry is a packet pointer whose offset is unknown but the same for every read, so the
 * checks and reads relative to it compare as in a program.
 */
function analyseCursorHelper(ctx: RuleContext, fn: Node): void {
  const body = field(fn, 'body');
  const h = body ? cursorParams(fn, body) : undefined;
  if (body && h) checkFunction(ctx, fn, body, new Set(), typeSizes(ctx.doc), new Set([h.cursor]), h.end);
}

/** A cursor helper's cursor parameter (`nh`, read as `nh->pos`) and its `data_end` parameter, with their positions. */
function cursorParams(
  fn: Node,
  body: Node,
): { cursor: string; cursorIndex: number; end: string; endIndex: number } | undefined {
  let d: Node | null = field(fn, 'declarator');
  while (d && ty(d) !== 'function_declarator') d = field(d, 'declarator');
  let end: { name: string; index: number } | undefined;
  const cursors: { name: string; index: number }[] = [];
  const params = (d?.childForFieldName('parameters')?.namedChildren ?? []).filter(
    (p) => p?.type === 'parameter_declaration',
  );
  for (const [index, p] of params.entries()) {
    const decl = p && field(p, 'declarator');
    const name = identOf(decl?.childForFieldName('declarator') ?? decl);
    if (!name || decl?.type !== 'pointer_declarator') continue;
    if (name === 'data_end') end = { name, index };
    else if (new RegExp(`\\b${name}\\s*->\\s*pos\\b`).test(body.text)) cursors.push({ name, index });
  }
  if (!end || cursors.length !== 1) return undefined;
  return { cursor: cursors[0].name, cursorIndex: cursors[0].index, end: end.name, endIndex: end.index };
}

/**
 * `proto = parse_iphdr(...);` followed at once by `if (proto < 0) return ...;` (or `!= ETH_P_IP`, `< N`):
 * the paths on which the helper failed (returned a negative constant) leave right there.
 */
/**
 * What a cursor helper's result goes into: the variable it is assigned to (`eth_type = parse(...)`,
 * `int t = parse(...)`), null when the call is itself tested (`if (parse(...) < 0)`, `parse(...) != X`),
 * undefined when the result is thrown away.
 */
function resultOf(call: Node): string | null | undefined {
  let up = call.parent;
  while (up && (ty(up) === 'parenthesized_expression' || ty(up) === 'cast_expression')) up = up.parent;
  if (!up) return undefined;
  if (ty(up) === 'assignment_expression' && opOf(up) === '=') return identOf(field(up, 'left')) ?? null;
  if (ty(up) === 'init_declarator') return identOf(field(up, 'declarator')) ?? null;
  if (ty(up) === 'expression_statement') return undefined;
  return null;
}

function failureExcluded(call: Node): boolean {
  // `if (parse(...) != WANTED) return ...;`: only the wanted value goes on.
  const cmp = call.parent && ty(call.parent) === 'parenthesized_expression' ? call.parent.parent : call.parent;
  if (
    cmp &&
    ty(cmp) === 'binary_expression' &&
    opOf(cmp) === '!=' &&
    stripParens(field(cmp, 'left')!).startIndex === call.startIndex
  ) {
    const stmt = cmp.parent?.parent;
    const cons = stmt && ty(stmt) === 'if_statement' ? field(stmt, 'consequence') : null;
    const r = field(cmp, 'right')?.text.trim() ?? '-';
    return !!cons && /^\{?\s*(return\b|goto\b)/.test(cons.text) && !r.startsWith('-');
  }
  const assign = call.parent;
  if (!assign || ty(assign) !== 'assignment_expression' || opOf(assign) !== '=') return false;
  const v = identOf(field(assign, 'left'));
  const stmt = assign.parent;
  if (!v || !stmt || ty(stmt) !== 'expression_statement') return false;
  let next = stmt.nextNamedSibling;
  while (next && ty(next) === 'comment') next = next.nextNamedSibling;
  if (!next || ty(next) !== 'if_statement') return false;
  const cons = field(next, 'consequence');
  const exits = cons && /^\{?\s*(return\b|goto\b)/.test(cons.text);
  const cond = field(next, 'condition');
  const c = cond ? stripParens(cond) : null;
  if (!exits || !c) return false;
  // `if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return`: each conjunct lets only one value through.
  if (ty(c) === 'binary_expression' && opOf(c) === '&&') {
    const parts: Node[] = [];
    const flat = (n: Node | null) => {
      const e = n ? stripParens(n) : null;
      if (e && ty(e) === 'binary_expression' && opOf(e) === '&&') {
        flat(field(e, 'left'));
        flat(field(e, 'right'));
      } else if (e) parts.push(e);
    };
    flat(c);
    return parts.every(
      (p) =>
        ty(p) === 'binary_expression' &&
        opOf(p) === '!=' &&
        identOf(field(p, 'left')) === v &&
        !(field(p, 'right')?.text.trim() ?? '-').startsWith('-'),
    );
  }
  if (ty(c) !== 'binary_expression' || identOf(field(c, 'left')) !== v) return false;
  const op = opOf(c);
  const r = field(c, 'right')?.text.trim() ?? '';
  if (op === '<' || op === '<=') return /^\d+$/.test(r);
  return op === '!=' && !r.startsWith('-');
}

/** What a caller knows after calling a cursor helper: where the cursor and data_end go, and the margin. */
interface CursorSummary {
  cursorIndex: number;
  endIndex: number;
  /** Bytes past the cursor's new position that the helper proved in bounds, the most over its ways out. */
  margin: number;
  /** The same over the ways out that do not return a negative constant (`return -1;`: a parse failure). */
  successMargin: number;
}

/**
 * The summary of a file's cursor helper (parse_iphdr(struct hdr_cursor *nh, void *data_end, ...)): how
 * many bytes past the cursor it leaves proven, the most over all its exits. Undefined when any exit
 * leaves the cursor somewhere we cannot follow, or the helper changes the packet.
 */
function cursorSummary(ctx: RuleContext, name: string): CursorSummary | undefined {
  const fn = functionsByName(ctx.doc).get(name);
  if (!fn) return headerCursorSummary(ctx, name);
  const body = fn ? field(fn, 'body') : null;
  if (!fn || !body) return undefined;
  return memo(`cursor-summary\u0000${functionKey(ctx.doc, fn)}\u0000${topLevelKey(ctx.doc)}`, () => {
    const h = cursorParams(fn, body);
    if (!h || INVALIDATES_IN_TEXT.test(body.text)) return undefined;
    const key = `${h.cursor}->pos`;
    let margin = 0;
    let successMargin = 0;
    let known = true;
    const silent: RuleContext = { doc: ctx.doc, report: () => undefined };
    checkFunction(silent, fn, body, new Set(), typeSizes(ctx.doc), new Set([h.cursor]), h.end, (s, value) => {
      const failure = !!value && /^\(*\s*-\s*(\d+|[A-Z_][A-Z0-9_]*)\s*\)*$/.test(value.text);
      const cur = s.ptrs.get(key)?.off ?? (s.ptrs.has(key) ? null : { c: 0, vars: [key], sizes: [] });
      if (process.env.DBG)
        console.error(
          'exit',
          name,
          JSON.stringify(cur),
          JSON.stringify(s.covered.map((c) => [c.c, c.vars, c.sizes])),
          s.unknown,
        );
      if (s.unknown || !cur || cur.sizes.length) {
        known = false;
        return;
      }
      for (const c of s.covered) {
        if (!sameList(c.vars, cur.vars)) continue;
        if (c.sizes.length) known = false;
        else {
          margin = Math.max(margin, c.c - cur.c);
          if (!failure) successMargin = Math.max(successMargin, c.c - cur.c);
        }
      }
    });
    return known ? { cursorIndex: h.cursorIndex, endIndex: h.endIndex, margin, successMargin } : undefined;
  });
}

/**
 * The summary of a cursor helper defined in an included header (xdp-tutorial's parsing_helpers.h,
 * a project's net_parse.bpf.h): its text is parsed on its own and summarised like a file's helper.
 */
function headerCursorSummary(ctx: RuleContext, name: string): CursorSummary | undefined {
  const hf = documentHeaderDeclarations(ctx.doc).functions.get(name);
  const language = ctx.doc.tree?.language;
  if (!hf || !language || !/\bdata_end\b/.test(hf.text) || !/->\s*pos\b/.test(hf.text)) return undefined;
  return memo(`cursor-summary-header\u0000${hf.file}\u0000${name}\u0000${hash(hf.text)}`, () => {
    const doc = new BpfDocument(`file://${hf.file}`, 0, hf.text, new CParser(language));
    try {
      return cursorSummary({ doc, report: () => undefined }, name);
    } finally {
      doc.dispose();
    }
  });
}

function checkFunction(
  ctx: RuleContext,
  fn: Node,
  body: Node,
  ctxNames: Set<string>,
  sizes: TypeSizes,
  cursors: ReadonlySet<string> = new Set(),
  endParam?: string,
  /** Called with the state at every way out of the function (cursor summaries). */
  onExit?: (s: State, value: Node | null) => void,
): void {
  const { doc } = ctx;
  const varTypes = new Map<string, string>();
  const reported = new Set<number>();

  const sizeTerm = (type: string): Off => {
    if (type === 'void' || type === 'char' || type === 'unsigned char' || type === 'u8' || type === '__u8')
      return constOff(1);
    const l = sizes.layoutOf(type);
    return l ? constOff(l.size) : { c: 0, vars: [], sizes: [type.replace(/\s+/g, ' ')] };
  };

  /** The declared type of a local or parameter (also when the walk skipped its declaration). */
  let declared: Map<string, string> | undefined;
  const declaredType = (name: string): string | undefined => {
    if (varTypes.has(name)) return varTypes.get(name);
    if (!declared) {
      declared = new Map();
      for (const d of fn.descendantsOfType('pointer_declarator')) {
        const inner = d && field(d, 'declarator');
        const decl = d?.parent && ty(d.parent) === 'init_declarator' ? d.parent.parent : d?.parent;
        const base = decl && ['declaration', 'parameter_declaration'].includes(ty(decl)) ? field(decl, 'type') : null;
        if (inner && base && ty(inner) === 'identifier' && !declared.has(inner.text))
          declared.set(inner.text, `${base.text} *`);
      }
    }
    return declared.get(name);
  };
  const isPointerLocal = (name: string): boolean => declaredType(name)?.trim().endsWith('*') ?? false;

  // `nh_off = sizeof(*eth);` then `data + nh_off`: a local every store to which is the same constant
  // (no `+=`, `++` or `&nh_off`) is that constant.
  const constLocals = new Map<string, Off | null>();
  const constLocal = (name: string): Off | undefined => {
    if (constLocals.has(name)) return constLocals.get(name) ?? undefined;
    constLocals.set(name, null);
    const ix = syntaxIndex(doc);
    let value: Off | undefined;
    let ok = true;
    const take = (rhs: Node | null) => {
      const o = rhs ? scalar(rhs) : undefined;
      if (!o || o.vars.length || o.sizes.length || (value && value.c !== o.c)) ok = false;
      else value = o;
    };
    let declared = false;
    for (const d of ix.in('declaration', fn))
      for (const x of d.childrenForFieldName('declarator')) {
        if (!x) continue;
        const id = ty(x) === 'init_declarator' ? field(x, 'declarator') : x;
        if (!id || ty(id) !== 'identifier' || id.text !== name) continue;
        declared = true;
        if (ty(x) === 'init_declarator') take(field(x, 'value'));
      }
    if (!declared) return undefined;
    for (const a of ix.in('assignment_expression', fn)) {
      if (identOf(field(a, 'left')) !== name || ty(stripParens(field(a, 'left')!)) !== 'identifier') continue;
      if (opOf(a) !== '=') ok = false;
      else take(field(a, 'right'));
    }
    const text = fn.text;
    if (new RegExp(`(\\+\\+|--)\\s*${name}\\b|\\b${name}\\s*(\\+\\+|--)|&\\s*${name}\\b`).test(text)) ok = false;
    const out = ok && value ? value : undefined;
    constLocals.set(name, out ?? null);
    return out;
  };

  /** The value of a scalar expression used as a byte offset. */
  const scalar = (n: Node): Off => {
    const v = stripParens(n);
    if (ty(v) === 'number_literal') {
      const x = Number(v.text.replace(/[uUlL]+$/, ''));
      if (Number.isFinite(x)) return constOff(x);
    }
    if (ty(v) === 'sizeof_expression') {
      const t = field(v, 'type');
      if (t) return sizeTerm(t.text);
      const e = field(v, 'value');
      const inner = e ? stripParens(e) : null;
      if (inner?.type === 'pointer_expression' && opOf(inner) === '*') {
        const id = identOf(field(inner, 'argument'));
        const pt = id ? pointee(varTypes.get(id) ?? '') : undefined;
        if (pt) return sizeTerm(pt);
      }
      // sizeof(tcph) of a pointer variable: the pointer's 8 bytes, not the header's.
      if (inner?.type === 'identifier' && isPointerLocal(inner.text)) return constOff(8);
      // A size we cannot resolve is still a constant: an unknown size, not a run-time value.
      return { c: 0, vars: [], sizes: [v.text.replace(/\s+/g, '')] };
    }
    const c = sizes.constValue(v.text);
    if (c !== undefined) return constOff(c);
    if (ty(v) === 'identifier') {
      const k = constLocal(v.text);
      if (k) return k;
    }
    if (ty(v) === 'binary_expression' && opOf(v) === '+') {
      return add(scalar(field(v, 'left')!), scalar(field(v, 'right')!));
    }
    return { c: 0, vars: [v.text.replace(/\s+/g, '')], sizes: [] };
  };

  const isEnd = (n: Node, s: State): boolean => {
    let v = stripParens(n);
    while (ty(v) === 'cast_expression' && field(v, 'value')) v = stripParens(field(v, 'value')!);
    if (ty(v) === 'identifier') return s.ends.has(v.text);
    return (
      ty(v) === 'field_expression' &&
      field(v, 'field')?.text === 'data_end' &&
      ctxNames.has(identOf(field(v, 'argument')) ?? '')
    );
  };

  /** The packet pointer an expression evaluates to, if it is one. */
  const pkt = (n: Node, s: State): PVal | undefined => {
    const v = stripParens(n);
    switch (ty(v)) {
      case 'identifier':
        return s.ptrs.get(v.text);
      case 'field_expression': {
        if (field(v, 'field')?.text === 'data' && ctxNames.has(identOf(field(v, 'argument')) ?? '')) {
          return { off: constOff(0), elem: 'char' };
        }
        // A cursor's position: what was stored there on this path (also by a cursor helper the
        // program called: `nh.pos`), else, in a cursor helper, its value on entry.
        const key = v.text.replace(/\s+/g, '');
        const stored = s.ptrs.get(key);
        if (stored) return stored;
        if (!cursors.size) return undefined;
        if (field(v, 'field')?.text === 'pos' && opOf(v) === '->' && cursors.has(identOf(field(v, 'argument')) ?? ''))
          return { off: { c: 0, vars: [key], sizes: [] }, elem: 'char' };
        return undefined;
      }
      case 'cast_expression': {
        const inner = field(v, 'value');
        const r = inner ? pkt(inner, s) : undefined;
        if (!r) return undefined;
        const td = field(v, 'type');
        const isPtr = td?.childForFieldName('declarator')?.type === 'abstract_pointer_declarator';
        return { off: r.off, elem: isPtr ? (field(td, 'type')?.text ?? 'void') : 'char' };
      }
      case 'binary_expression': {
        const op = opOf(v);
        const l = field(v, 'left');
        const r = field(v, 'right');
        if (!l || !r || (op !== '+' && op !== '-')) return undefined;
        const base = pkt(l, s);
        if (!base) return undefined;
        if (op === '-' || !base.off) return { off: null, elem: base.elem };
        const k = scalar(r);
        const unit = sizeTerm(base.elem);
        let delta: Off;
        if (unit.sizes.length === 0 && unit.c === 1) delta = k;
        else if (k.vars.length === 0 && k.sizes.length === 0 && unit.sizes.length === 0) delta = constOff(k.c * unit.c);
        else if (k.vars.length === 0 && k.sizes.length === 0 && k.c === 1) delta = unit;
        else delta = { c: 0, vars: [`(${r.text.replace(/\s+/g, '')})*sizeof(${base.elem})`], sizes: [] };
        return { off: add(base.off, delta), elem: base.elem };
      }
      default:
        return undefined;
    }
  };

  // Headers a cursor helper returns through `&eth`: set only when it succeeds. Read before anything
  // looks at the helper's result, on the failure path they hold garbage (or an unchecked position).
  const outCalls = new Map<string, { call: Node; callee: string; result: string | null | undefined }>();
  const outReported = new Set<string>();
  // Leave on the helper's failure (a negative result) right after the statement that calls it.
  const fixAfter = (call: Node, r: string | undefined) => {
    const stmt = blockStatement(call);
    if (!r || !stmt || stmt.parent?.type !== 'compound_statement') return undefined;
    const indent = indentAt(doc.text, stmt.startIndex);
    return [
      {
        title: `Check ${r} first: if (${r} < 0) ${safeReturn(doc, fn)}`,
        preferred: true,
        edits: [
          {
            start: stmt.endIndex,
            end: stmt.endIndex,
            newText: `\n${indent}if (${r} < 0)\n${indent}${indentUnit(doc.text)}${safeReturn(doc, fn)}`,
          },
        ],
      },
    ];
  };
  const outUnchecked = (use: Node, ptrExpr: Node) => {
    const name = identOf(stripCasts(ptrExpr));
    const o = name ? outCalls.get(name) : undefined;
    if (!name || !o || o.result === null || outReported.has(name) || use.startIndex < o.call.endIndex) return;
    const between = doc.text.slice(o.call.endIndex, use.startIndex);
    const r = o.result;
    if (
      r &&
      new RegExp(
        `\\b${r}\\s*(==|!=|<=?|>=?|&|\\)|\\?)|(==|!=|<=?|>=?|!|\\()\\s*${r}\\b|\\bswitch\\s*\\(\\s*${r}\\b`,
      ).test(between)
    )
      return;
    outReported.add(name);
    const initialised = syntaxIndex(doc)
      .in('init_declarator', fn)
      .some((d) => identOf(field(d, 'declarator')) === name);
    ctx.report({
      start: use.startIndex,
      end: use.endIndex,
      severity: initialised ? 'warning' : 'error',
      message:
        `'${name}' is set by ${o.callee}() only when it succeeds, and ${r ? `its result ('${r}') is not checked` : 'its result is not looked at'} ` +
        `before '${use.text}' reads through it: on a short packet the helper fails before setting it, and the verifier rejects the read ` +
        `("invalid access to packet", or an uninitialised pointer). Check the result first (if (${r ?? 'ret'} < 0) return XDP_PASS;).`,
      related: [
        {
          start: o.call.startIndex,
          end: o.call.endIndex,
          message: `${o.callee}() may fail here without setting '${name}'`,
        },
      ],
      fixes: fixAfter(o.call, r),
    });
  };

  const check = (use: Node, ptrExpr: Node, accessType: string, s: State, extra = 0) => {
    if (s.unknown || reported.has(use.startIndex)) return;
    const p = pkt(ptrExpr, s);
    if (!p || !p.off) return;
    const need = add(add(p.off, sizeTerm(accessType)), constOff(extra));
    const sameVars = s.covered.filter((c) => sameList(c.vars, need.vars));
    if (sameVars.some((c) => containsAll(c.sizes, need.sizes) && c.c >= need.c)) return;
    // Unknown type sizes on either side: we cannot tell, so we say nothing.
    if (need.sizes.length && sameVars.length) return;
    if (sameVars.some((c) => c.sizes.length)) return;
    reported.add(use.startIndex);
    const best = sameVars.reduce<Off | undefined>((a, c) => (!a || c.c >= a.c ? c : a), undefined);
    const bytes = need.sizes.length ? `${need.c} bytes + sizeof(${need.sizes.join(') + sizeof(')})` : `${need.c} bytes`;
    const what = need.vars.length ? `data + ${need.vars.join(' + ')} + ${bytes}` : `data + ${bytes}`;
    const proven = best
      ? `the checks before it only prove ${best.vars.length ? `data + ${best.vars.join(' + ')} + ` : 'data + '}${best.c} bytes`
      : 'no check against data_end comes before it on this path';
    const fixes = [];
    const id = identOf(ptrExpr);
    const stmt = blockStatement(use);
    const endName = [...s.ends][0] ?? `(void *)(long)${[...ctxNames][0]}->data_end`;
    // The comparison that proved nothing here is the wrong way round: turning it is the fix.
    const flip: Record<string, string> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=' };
    const opNode =
      !best && s.useless && !s.uselessOther ? s.useless.children.find((k) => k && flip[k.type]) : undefined;
    if (opNode && opNode.startIndex >= fn.startIndex && opNode.endIndex <= fn.endIndex) {
      fixes.push({
        title: `Turn the comparison with data_end round (${opNode.type} to ${flip[opNode.type]})`,
        preferred: true,
        edits: [{ start: opNode.startIndex, end: opNode.endIndex, newText: flip[opNode.type] }],
      });
    } else if (stmt && (id ? declaredType(id) !== undefined : true)) {
      const pt = id ? (pointee(declaredType(id)!) ?? 'void') : '';
      const size = `${extra ? `${extra} + ` : ''}sizeof(${accessType === 'void' ? 'char' : accessType})`;
      const cond = id
        ? pt === accessType && pt !== 'void' && extra === 0
          ? `(void *)(${id} + 1) > ${endName}`
          : `(void *)${id} + ${size} > ${endName}`
        : `(void *)(${ptrExpr.text}) + ${size} > ${endName}`;
      const indent = indentAt(doc.text, stmt.startIndex);
      fixes.push({
        title: `Check ${id ?? 'the packet pointer'} against ${endName.includes('->') ? 'data_end' : endName} before the access`,
        preferred: true,
        edits: [
          {
            start: stmt.startIndex,
            end: stmt.startIndex,
            newText: `if (${cond})\n${indent}${indentUnit(doc.text)}${safeReturn(doc, fn)}\n${indent}`,
          },
        ],
      });
    }
    ctx.report({
      start: use.startIndex,
      end: use.endIndex,
      severity: 'error',
      message:
        `Packet access without a bounds check: this reads up to ${what}, but ${proven}. The verifier rejects it ` +
        `("invalid access to packet"). Compare against data_end first, e.g. if ((void *)(p + 1) > data_end) return ...;`,
      related: [
        ...(best?.at
          ? [
              {
                start: best.at.startIndex,
                end: best.at.endIndex,
                message: 'the last check against data_end on this path',
              },
            ]
          : s.useless && s.useless.startIndex >= fn.startIndex && s.useless.endIndex <= fn.endIndex
            ? [
                {
                  start: s.useless.startIndex,
                  end: s.useless.endIndex,
                  message: s.uselessOther
                    ? 'this comparison with data_end is about another pointer: it proves nothing for this access'
                    : 'this comparison with data_end proves nothing on the path that reaches the access (is it the wrong way round?)',
                },
              ]
            : []),
        // Where the pointer was last set before the read: the check belongs right after it.
        ...(!best && !p.origin && id ? lastStore(fn, id, use.startIndex) : []),
        ...(p.origin && p.origin.startIndex >= fn.startIndex && p.origin.endIndex <= fn.endIndex
          ? [
              {
                start: p.origin.startIndex,
                end: p.origin.endIndex,
                message: `set here from the cursor a parsing helper left: its checks do not cover this read, so check this header against data_end here`,
              },
            ]
          : []),
      ],
      fixes,
    });
  };

  const assign = (name: string, value: Node | null, s: State) => {
    s.ptrs.delete(name);
    s.ends.delete(name);
    if (!value) return;
    if (isEnd(value, s)) {
      s.ends.add(name);
      return;
    }
    const p = pkt(value, s);
    const fromCursor = p?.off?.vars.some((v) => v.includes('(after ')) ? (value.parent ?? undefined) : undefined;
    if (p) s.ptrs.set(name, { off: p.off, elem: pointee(declaredType(name) ?? '') ?? p.elem, origin: fromCursor });
  };

  /**
   * `parse_iphdr(&nh, data_end, &iph)` in a program: the cursor `nh.pos` is then a packet pointer the
   * helper proved in bounds only `margin` bytes past (0 for a helper that advances the cursor over exactly
   * what it checked), and what it wrote through its other `&x` arguments is unknown.
   */
  const afterCursorHelper = (call: Node, callee: string, args: Node[], s: State): boolean => {
    if (cursors.size || !callee) return false;
    const sum = cursorSummary(ctx, callee);
    if (!sum || !args[sum.endIndex] || !isEnd(args[sum.endIndex], s)) return false;
    const cur = args[sum.cursorIndex] && stripParens(args[sum.cursorIndex]);
    if (!cur || ty(cur) !== 'pointer_expression' || opOf(cur) !== '&') return false;
    const local = identOf(field(cur, 'argument'));
    if (!local) return false;
    for (const a of args) {
      const v = stripParens(a);
      const out = ty(v) === 'pointer_expression' && opOf(v) === '&' ? identOf(field(v, 'argument')) : undefined;
      if (!out) continue;
      s.ptrs.delete(out);
      for (const k of [...s.ptrs.keys()]) if (k.startsWith(`${out}.`)) s.ptrs.delete(k);
      // `&iph`: the header the helper checked and stepped over, at a place of its own. Its reads are
      // trusted (the helper checked them); a check on it covers its own header, not the cursor.
      const pt = out !== local ? pointee(declaredType(out) ?? '') : undefined;
      if (pt && pt !== 'void' && !outCalls.has(out)) outCalls.set(out, { call, callee, result: resultOf(call) });
      if (pt && pt !== 'void') {
        const v = `${out}(out of ${callee}())`;
        s.ptrs.set(out, { off: { c: 0, vars: [v], sizes: [] }, elem: pt });
        s.covered.push({ c: TRUSTED, vars: [v], sizes: [] });
      }
    }
    const key = `${local}.pos`;
    const at = `${key}(after ${callee}())`;
    s.ptrs.set(key, { off: { c: 0, vars: [at], sizes: [] }, elem: 'char' });
    const margin = failureExcluded(call) ? sum.successMargin : sum.margin;
    if (margin > 0) s.covered.push({ c: margin, vars: [at], sizes: [] });
    return true;
  };

  let joins = 0;
  const statics = [...ctxNames, ...cursors, 'data'];
  const domain: FlowDomain<State> = {
    relevant(text, s) {
      if (s.unknown) return false;
      return (
        mentions(text, statics) ||
        mentions(text, s.ptrs.keys()) ||
        mentions(text, s.ends) ||
        INVALIDATES_IN_TEXT.test(text)
      );
    },
    copy: (s) => ({
      ptrs: new Map(s.ptrs),
      ends: new Set(s.ends),
      covered: [...s.covered],
      unknown: s.unknown,
      useless: s.useless,
      uselessOther: s.uselessOther,
    }),
    join: (a, b) => {
      const ptrs = new Map<string, PVal>();
      const covered = a.covered.filter((c) =>
        b.covered.some((d) => sameList(c.vars, d.vars) && sameList(c.sizes, d.sizes) && d.c >= c.c),
      );
      for (const [k, v] of a.ptrs) {
        const w = b.ptrs.get(k);
        if (w && offKey(w.off) === offKey(v.off)) ptrs.set(k, v);
        else if (w && v.off && w.off && !v.off.sizes.length && !w.off.sizes.length) {
          // At different places on the two paths (`nh->pos = vlh + 1` on the VLAN path only): a new
          // position, with the bytes past it that both paths proved.
          const room = (o: Off, st: State) =>
            Math.max(
              -1,
              ...st.covered.filter((c) => sameList(c.vars, o.vars) && !c.sizes.length).map((c) => c.c - o.c),
            );
          const fresh: Off = { c: 0, vars: [`${k}(joined ${++joins})`], sizes: [] };
          ptrs.set(k, { off: fresh, elem: v.elem });
          const m = Math.min(room(v.off, a), room(w.off, b));
          if (m >= 0) covered.push({ c: m, vars: fresh.vars, sizes: [] });
        }
      }
      return {
        ptrs,
        ends: new Set([...a.ends, ...b.ends]),
        covered,
        unknown: a.unknown || b.unknown,
        useless: a.useless ?? b.useless,
        uselessOther: a.useless ? a.uselessOther : b.uselessOther,
      };
    },
    declare(name, _n, value, type, s) {
      varTypes.set(name, type);
      assign(name, value, s);
    },
    visit(n, s, flow) {
      switch (ty(n)) {
        case 'assignment_expression': {
          const left = field(n, 'left');
          const right = field(n, 'right');
          if (right) flow.expr(right, s);
          const cursorKey =
            left &&
            ty(left) === 'field_expression' &&
            field(left, 'field')?.text === 'pos' &&
            cursors.has(identOf(field(left, 'argument')) ?? '')
              ? left.text.replace(/\s+/g, '')
              : undefined;
          if (cursorKey) {
            // nh->pos = eth + 1 moves the cursor; nh->pos += hdrsize moves it by a run-time amount,
            // the same one a check `nh->pos + hdrsize > data_end` proved.
            const before = opOf(n) === '+=' && left ? pkt(left, s) : undefined;
            const p =
              opOf(n) === '=' && right
                ? pkt(right, s)
                : before?.off && right
                  ? { off: add(before.off, scalar(right)), elem: 'char' }
                  : undefined;
            s.ptrs.set(cursorKey, p ? { off: p.off, elem: 'char' } : { off: null, elem: 'char' });
          } else if (left && ty(left) === 'field_expression' && s.ptrs.has(left.text.replace(/\s+/g, ''))) {
            // A cursor position set by the program itself (`nh.pos = tcp + 1`).
            const p = opOf(n) === '=' && right ? pkt(right, s) : undefined;
            const k = left.text.replace(/\s+/g, '');
            if (p) s.ptrs.set(k, { off: p.off, elem: 'char' });
            else s.ptrs.delete(k);
          } else if (left?.type === 'identifier' && opOf(n) === '=') assign(left.text, right, s);
          else if (left?.type === 'identifier' && s.ptrs.has(left.text))
            s.ptrs.set(left.text, { off: null, elem: s.ptrs.get(left.text)!.elem });
          else if (left) flow.expr(left, s);
          return true;
        }
        case 'field_expression': {
          if (opOf(n) !== '->') return false;
          const arg = field(n, 'argument')!;
          const p = pkt(arg, s);
          if (p) outUnchecked(n, arg);
          if (p) check(n, arg, p.elem, s);
          return false;
        }
        case 'pointer_expression': {
          const op = opOf(n);
          const arg = field(n, 'argument')!;
          if (op === '&') {
            // &eth->h_proto computes an address, it reads nothing.
            const inner = stripParens(arg);
            if (ty(inner) === 'field_expression') {
              const base = field(inner, 'argument');
              if (base) flow.expr(base, s);
              return true;
            }
            return false;
          }
          if (op !== '*') return false;
          const p = pkt(arg, s);
          if (p) outUnchecked(n, arg);
          if (p) check(n, arg, p.elem, s);
          return false;
        }
        case 'subscript_expression': {
          const arg = field(n, 'argument')!;
          const p = pkt(arg, s);
          const idx = field(n, 'index');
          const k = idx ? typeSizes(doc).constValue(idx.text) : undefined;
          if (p) outUnchecked(n, arg);
          if (p && k !== undefined) {
            const unit = sizeTerm(p.elem);
            if (!unit.sizes.length) check(n, arg, p.elem, s, k * unit.c);
          }
          return false;
        }
        case 'call_expression': {
          const callee = calleeName(n) ?? '';
          for (const a of callArgs(n)) flow.expr(a, s);
          // data_end handed to a function: it may check bounds for us (inlined, the verifier sees it),
          // unless it is a cursor helper of the file whose summary says how far past the cursor it checked.
          const args = callArgs(n);
          if (args.some((a) => isEnd(a, s)) && !afterCursorHelper(n, callee, args, s)) s.unknown = true;
          if (INVALIDATES.test(callee)) {
            s.ptrs.clear();
            s.covered = [];
          }
          return true;
        }
      }
      return false;
    },
    exit: onExit ? (_n, s, value) => onExit(s, value) : undefined,
    assume(cond, s, truthy) {
      const c = stripParens(cond);
      if (ty(c) !== 'binary_expression') {
        if (c.text.includes('data_end') || [...s.ends].some((e) => c.text.includes(e))) s.unknown = true;
        return;
      }
      const op = opOf(c) ?? '';
      const l = field(c, 'left');
      const r = field(c, 'right');
      if (!l || !r) return;
      let ptrSide: Node | undefined;
      let proven = false;
      if (isEnd(r, s)) {
        ptrSide = l;
        proven = ((op === '>' || op === '>=') && !truthy) || ((op === '<' || op === '<=') && truthy);
      } else if (isEnd(l, s)) {
        ptrSide = r;
        proven = ((op === '<' || op === '<=') && !truthy) || ((op === '>' || op === '>=') && truthy);
      } else {
        // data_end handed to a call in the comparison (`parse(&nh, data_end, &eth) != X`) was dealt with at the call.
        const text = [l, r]
          .filter((x) => ty(stripParens(x)) !== 'call_expression')
          .map((x) => x.text)
          .join(' ');
        if (/data_end/.test(text) || [...s.ends].some((e) => new RegExp(`\\b${e}\\b`).test(text))) s.unknown = true;
        return;
      }
      const p = pkt(ptrSide, s);
      if (!p || !p.off || !['<', '<=', '>', '>='].includes(op)) {
        s.unknown = true;
        return;
      }
      // A check on a header a parsing helper returned through `&iph`: within that header it proves
      // nothing new (the helper checked it); past it, it may cover the cursor too (same packet pointer).
      const outVar = p.off.vars.find((v) => v.includes('(out of '));
      if (outVar) {
        const base = [...s.ptrs.values()].find(
          (q) => q.off?.c === 0 && q.off.vars.length === 1 && q.off.vars[0] === outVar,
        );
        const own = sizeTerm(base?.elem ?? p.elem);
        if (own.sizes.length || p.off.sizes.length || p.off.c > own.c) s.unknown = true;
        else {
          s.useless = c;
          s.uselessOther = true;
        }
        return;
      }
      if (proven) s.covered.push({ ...p.off, at: c });
      else {
        s.useless = c;
        s.uselessOther = false;
      }
    },
  };
  new FlowWalker(domain).run(body, {
    ptrs: new Map(),
    ends: new Set(endParam ? [endParam] : []),
    covered: [],
    unknown: false,
  });
}

/** The last store to local `name` in fn before `before` (`eth = data;`), as related information. */
function lastStore(fn: Node, name: string, before: number): { start: number; end: number; message: string }[] {
  let last: Node | undefined;
  for (const n of fn.descendantsOfType(['assignment_expression', 'init_declarator'])) {
    if (!n || n.endIndex > before) continue;
    let t: Node | null =
      n.type === 'assignment_expression' ? n.childForFieldName('left') : n.childForFieldName('declarator');
    while (t && t.type === 'pointer_declarator') t = t.childForFieldName('declarator');
    if (t?.text === name && (!last || n.startIndex > last.startIndex)) last = n;
  }
  return last
    ? [
        {
          start: last.startIndex,
          end: last.endIndex,
          message: `'${name}' is set here: check it against data_end right after`,
        },
      ]
    : [];
}
