/**
 * An array inside a map value indexed by a variable the code does not keep below the array's length.
 * The verifier checks every map value access against value_size and rejects a variable offset whose
 * range reaches past it ("invalid access to map value, value_size=108 off=108 size=4", "R2 max value
 * is outside of the allowed memory range"). Typical: a log2 histogram slot without
 * `if (slot >= MAX_SLOTS) slot = MAX_SLOTS - 1;`, or that check written with `>` (off by one).
 *
 * The index's upper bound is followed along the paths of the function: comparisons refine it,
 * assignments of constants, masks (`& 63`) and remainders set it, a u8/u16 type caps it. Error when a
 * check exists but lets the index reach the length; warning when nothing bounds it here (a caller or a
 * function we cannot see may).
 *
 * A global array (`__u64 counts[NR_STATES];` in .bss/.data) is an array in the value of the global's
 * map: indexed the same way (`counts[sk->state]++` with a u8 state and 13 elements reaches past it).
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument } from '../../bpf-document';
import { field, kids, opOf, ty } from '../fast-node';
import { FlowWalker, stripCasts, stripParens, type FlowDomain } from '../flow';
import type { Rule } from '../rule';
import { typeSizes } from '../type-sizes';
import { memo, topLevelKey, topLevelNodes } from '../function-cache';
import { syntaxIndex } from '../syntax-index';
import { constEvaluator, mapValueArrays } from '../map-value-layout';
import { documentHeaderDeclarations } from '../../header-declarations';
import { callArgs, calleeName, identOf } from '../syntax';

interface Bound {
  /** Exclusive upper bound of the value (Infinity: unknown). */
  ub: number;
  /** The comparison that set it, when one did. */
  check?: Node;
  /** Set by bpf_for()/an iterator: the verifier bounds it itself. */
  iter?: boolean;
}
type State = Map<string, Bound>;

const TYPE_CAP: Record<string, number> = {
  u8: 256,
  __u8: 256,
  'unsigned char': 256,
  uint8_t: 256,
  u16: 65536,
  __u16: 65536,
  'unsigned short': 65536,
  uint16_t: 65536,
};

/** `struct hist` from a type text such as `struct hist *`. */
const structOf = (type: string) => /^(?:const\s+)?struct\s+(\w+)\s*\*$/.exec(type.trim())?.[1];

export const mapValueIndexRule: Rule = {
  id: 'map-value-index',
  description: 'an array in a map value indexed without keeping the index below its length',
  ownFunctionOnly: true,
  functionFilter: /\[/,
  // Map value structs and constants may come from the file's own headers.
  fileKey: (doc) => documentHeaderDeclarations(doc).key,
  runFunction({ doc, fn, report }) {
    const sizes = typeSizes(doc);
    const konst = constEvaluator(doc, sizes);
    const arrays = mapValueArrays(doc, konst);
    const globals = globalArrays(doc, konst);
    if (!arrays.size && !globals.size) return;
    const body = field(fn, 'body');
    if (!body) return;
    // Pointers to map value structs (locals and parameters), and the declared types of integers.
    const valuePtr = new Map<string, string>();
    const declared = new Map<string, string>();
    const entry: State = new Map();
    const params = syntaxIndex(doc).range('parameter_declaration', fn.startIndex, body.startIndex);
    for (const p of params) {
      if (!p) continue;
      const base = field(p, 'type')?.text ?? '';
      const d = field(p, 'declarator');
      const name = d ? innerIdent(d) : undefined;
      if (!name || !d) continue;
      const type = ty(d) === 'pointer_declarator' ? `${base} *` : base;
      const s = structOf(type);
      if (s && arrays.has(s)) valuePtr.set(name, s);
      const cap = TYPE_CAP[base];
      if (cap && ty(d) === 'identifier') entry.set(name, { ub: cap });
    }
    if (!valuePtr.size && !/\bstruct\s+\w+\s*\*/.test(body.text) && !globals.size) return;

    const boundOf = (e: Node | null, s: State): Bound | undefined => {
      if (!e) return undefined;
      const v = stripParens(e);
      if (ty(v) === 'cast_expression') {
        const inner = boundOf(field(v, 'value'), s);
        const cap = TYPE_CAP[field(v, 'type')?.text ?? ''];
        if (cap && (!inner || inner.ub > cap)) return { ub: cap };
        return inner;
      }
      const c = konst(v.text);
      if (c !== undefined && c >= 0) return { ub: c + 1 };
      if (ty(v) === 'identifier') return s.get(v.text);
      if (ty(v) === 'field_expression') return s.get(fieldKey(v) ?? '');
      if (ty(v) === 'binary_expression') {
        const op = opOf(v);
        const l = field(v, 'left');
        const r = field(v, 'right');
        const cl = l ? konst(l.text) : undefined;
        const cr = r ? konst(r.text) : undefined;
        if (op === '&' && (cl !== undefined || cr !== undefined))
          return { ub: Math.min(cl ?? Infinity, cr ?? Infinity) + 1 };
        if (op === '%' && cr !== undefined) return { ub: cr };
      }
      if (ty(v) === 'conditional_expression') {
        const a = boundOf(field(v, 'consequence'), s);
        const b = boundOf(field(v, 'alternative'), s);
        if (a && b) return { ub: Math.max(a.ub, b.ub) };
      }
      return undefined;
    };

    const set = (name: string, b: Bound | undefined, s: State) => {
      const cap = TYPE_CAP[declared.get(name) ?? ''];
      if (cap && (!b || b.ub > cap)) b = { ub: cap };
      if (b) s.set(name, b);
      else s.delete(name);
    };

    const reported = new Set<number>();
    const checkAccess = (sub: Node, s: State) => {
      const arr = stripParens(field(sub, 'argument') ?? sub);
      let member: string | undefined;
      let arrayInfo: { length?: number; bytes?: boolean } | undefined;
      if (ty(arr) === 'identifier' && globals.has(arr.text) && !declared.has(arr.text)) {
        member = arr.text;
        arrayInfo = { length: globals.get(arr.text) };
      } else {
        if (ty(arr) !== 'field_expression') return;
        const base = identOf(field(arr, 'argument'));
        member = field(arr, 'field')?.text;
        const struct = base ? valuePtr.get(base) : undefined;
        arrayInfo = struct && member ? arrays.get(struct)?.get(member) : undefined;
      }
      const len = arrayInfo?.length;
      const index = field(sub, 'index');
      if (!len || !index || reported.has(sub.startIndex)) return;
      const b = boundOf(index, s);
      // `&v->buf[off]` handed to a helper with a constant byte size: the whole span must fit.
      const span = arrayInfo?.bytes ? helperSpan(sub, konst) : undefined;
      const room = span ? len - span.size + 1 : len;
      if (span && b?.check && !b.iter && b.ub > room) {
        reported.add(sub.startIndex);
        const idx = index.text;
        report({
          start: sub.startIndex,
          end: sub.endIndex,
          severity: 'error',
          message:
            `'${idx}' can reach ${b.ub - 1} here, and ${span.callee}() writes ${span.size} bytes from there, but ${member}[] has ${len}: ` +
            `the check lets the write run past the end of the map value and the verifier rejects the program ("invalid access to map value"). ` +
            `Check the offset against ${len} - ${span.size}: if (${idx} > ${len - span.size}) return 0;`,
          related: [
            { start: b.check.startIndex, end: b.check.endIndex, message: `this check allows ${idx} up to ${b.ub - 1}` },
          ],
        });
        return;
      }
      if (b?.iter || (b && b.ub <= len)) return;
      if (konst(index.text) !== undefined) return;
      reported.add(sub.startIndex);
      const idx = index.text;
      const clamp = `if (${idx} >= ${len}) ${idx} = ${len} - 1;`;
      if (b && b.check) {
        report({
          start: sub.startIndex,
          end: sub.endIndex,
          severity: 'error',
          message:
            `'${idx}' can reach ${b.ub - 1} here, but ${member}[] has ${len} elements: the check lets one past the end through ` +
            `and the verifier rejects the program ("invalid access to map value"). Bound it below ${len}: ${clamp}`,
          related: [
            { start: b.check.startIndex, end: b.check.endIndex, message: `this check allows ${idx} up to ${b.ub - 1}` },
          ],
        });
        return;
      }
      // Bounded, but past the array (`for (i = LEN; i > 0; i--) v->a[i]`): the verifier checks the map
      // value's size, not the array's, so this reads the fields after it and loads while they are there.
      const past = b && Number.isFinite(b.ub);
      report({
        start: sub.startIndex,
        end: sub.endIndex,
        severity: 'warning',
        message: past
          ? `'${idx}' may be ${b.ub - 1} here, past the end of ${member}[] (${len} elements): that reads the fields after ` +
            `${member}[] in the map value (the verifier checks the value's size, not the array's, and rejects the access ` +
            `only where it leaves the value: "invalid access to map value"). Keep it below ${len}: ${clamp}`
          : `${member}[] in the map value has ${len} elements, but nothing here keeps '${idx}' below ${len}: the verifier ` +
            `rejects a map value access it cannot bound ("invalid access to map value" or "unbounded memory access"). ` +
            `Clamp it first: ${clamp}`,
      });
    };

    const domain: FlowDomain<State> = {
      copy: (s) => new Map(s),
      join: (a, b) => {
        const out: State = new Map();
        for (const [k, va] of a) {
          const vb = b.get(k);
          if (!vb) continue;
          out.set(k, va.ub >= vb.ub ? va : vb);
        }
        return out;
      },
      declare(name, _n, value, typeText, s) {
        declared.set(name, typeText.replace(/^const\s+/, '').trim());
        const st = structOf(typeText);
        if (st && arrays.has(st)) valuePtr.set(name, st);
        set(name, value ? boundOf(value, s) : undefined, s);
      },
      visit(n, s, flow) {
        const t = ty(n);
        if (t === 'subscript_expression') {
          for (const c of kids(n)) if (c) flow.expr(c, s);
          checkAccess(n, s);
          return true;
        }
        if (t === 'assignment_expression') {
          const left = field(n, 'left');
          const right = field(n, 'right');
          if (right) flow.expr(right, s);
          if (left && ty(left) !== 'identifier') flow.expr(left, s);
          const name = identOf(left) ?? (left ? fieldKey(left) : undefined);
          if (!name) return true;
          const op = opOf(n);
          if (op === '=') set(name, boundOf(right, s), s);
          else if (op === '&=' && right && konst(right.text) !== undefined)
            set(name, { ub: konst(right.text)! + 1 }, s);
          else if (op === '%=' && right && konst(right.text) !== undefined) set(name, { ub: konst(right.text)! }, s);
          else set(name, undefined, s);
          return true;
        }
        if (t === 'update_expression') {
          const arg = field(n, 'argument');
          const name = identOf(arg) ?? (arg ? fieldKey(arg) : undefined);
          if (!name && arg) flow.expr(arg, s);
          if (name) {
            const b = s.get(name);
            set(name, b && !b.iter && opOf(n) === '++' ? { ub: b.ub + 1 } : b?.iter ? b : undefined, s);
          }
          return true;
        }
        if (t === 'call_expression') {
          const callee = calleeName(n);
          const args = callArgs(n);
          if (callee && /^bpf_(for|repeat|for_each)$/.test(callee)) {
            const name = identOf(args[0]);
            if (name) s.set(name, { ub: Infinity, iter: true });
            return true;
          }
          for (const a of args) {
            flow.expr(a, s);
            // A pointer into a struct handed to a call: the fields read through it are read again after.
            const base = /^\s*&?\s*\(?\s*([A-Za-z_]\w*)/.exec(stripCasts(a).text)?.[1];
            if (base)
              for (const k of [...s.keys()]) if (k.startsWith(`${base}->`) || k.startsWith(`${base}.`)) s.delete(k);
            // `&i` handed to a call: it may write anything there.
            const d = stripCasts(a);
            if (ty(d) === 'pointer_expression' && opOf(d) === '&') {
              const name = identOf(field(d, 'argument'));
              if (name) s.delete(name);
            }
          }
          return true;
        }
        return false;
      },
      assume(cond, s, truthy) {
        // bpf_for(i, start, end) / bpf_for_each(type, cur, ...) (masked as `while (i, start, end)` for the
        // parser): inside the body the iterator's next() bounded i itself (the verifier tracks it).
        const loop = truthy ? iteratorLoop(doc, cond) : undefined;
        if (loop) {
          const args = loop.args;
          const name = identOf(args[loop.name === 'bpf_for_each' ? 1 : 0]);
          if (name) s.set(name, { ub: Infinity, iter: true });
          return;
        }
        const c = stripParens(cond);
        if (ty(c) !== 'binary_expression') return;
        let op = opOf(c);
        let l = field(c, 'left');
        let r = field(c, 'right');
        if (!l || !r) return;
        if (konst(l.text) !== undefined && konst(r.text) === undefined) {
          [l, r] = [r, l];
          op = ({ '<': '>', '>': '<', '<=': '>=', '>=': '<=' } as Record<string, string>)[op] ?? op;
        }
        let k = konst(r.text);
        // `used + REC_LEN >= LOG_BYTES` bounds `used` below LOG_BYTES - REC_LEN (the room a record
        // needs, checked before appending it), as `used >= LOG_BYTES - REC_LEN` would.
        const sum = stripParens(l);
        if (k !== undefined && ty(sum) === 'binary_expression' && opOf(sum) === '+') {
          const a = field(sum, 'left');
          const b = field(sum, 'right');
          const ka = a ? konst(a.text) : undefined;
          const kb = b ? konst(b.text) : undefined;
          const term = kb !== undefined ? a : ka !== undefined ? b : undefined;
          const add = kb ?? ka;
          if (term && add !== undefined && add >= 0) {
            l = term;
            k -= add;
          }
        }
        const name = identOf(l) ?? fieldKey(l);
        if (!name || k === undefined || k < 0) return;
        // The comparison as "name < ub" on this branch.
        let ub: number | undefined;
        if (truthy) ub = op === '<' ? k : op === '<=' ? k + 1 : op === '==' ? k + 1 : undefined;
        else ub = op === '>=' ? k : op === '>' ? k + 1 : op === '!=' ? k + 1 : undefined;
        if (ub === undefined) return;
        const prev = s.get(name);
        if (!prev || prev.ub > ub) s.set(name, { ub, check: c });
      },
    };
    new FlowWalker(domain).run(body, entry);
  },
};

/** `e->args_size`, `cfg.max` (identifiers and member names only) as a state key, or undefined. */
function fieldKey(n: Node): string | undefined {
  const v = stripParens(n);
  if (ty(v) !== 'field_expression') return undefined;
  const base = field(v, 'argument');
  const inner = base && (ty(base) === 'identifier' ? base.text : fieldKey(base));
  const member = field(v, 'field')?.text;
  return inner && member ? `${inner}${opOf(v)}${member}` : undefined;
}

/** Helpers that write (or read) `size` bytes at their first pointer argument, followed by the size. */
const SIZED_HELPERS =
  /^(bpf_probe_read(_kernel|_user)?(_str)?|bpf_core_read(_str|_user|_user_str)?|bpf_get_current_comm|bpf_copy_from_user(_task)?|bpf_skb_load_bytes|bpf_xdp_load_bytes|bpf_d_path|bpf_get_stack|bpf_snprintf)$/;

/** When `sub` is `&v->buf[off]` passed to a sized helper with a constant size: the helper and the size. */
function helperSpan(
  sub: Node,
  konst: (text: string) => number | undefined,
): { callee: string; size: number } | undefined {
  const addr = sub.parent;
  if (!addr || ty(addr) !== 'pointer_expression' || opOf(addr) !== '&') return undefined;
  let arg: Node = addr;
  while (arg.parent && ty(arg.parent) === 'cast_expression') arg = arg.parent;
  const list = arg.parent;
  const call = list?.parent;
  if (!list || ty(list) !== 'argument_list' || !call || ty(call) !== 'call_expression') return undefined;
  const callee = calleeName(call);
  if (!callee || !SIZED_HELPERS.test(callee)) return undefined;
  const args = callArgs(call);
  const i = args.findIndex((a) => a.startIndex === arg.startIndex);
  const sizeArg = i >= 0 ? args[i + 1] : undefined;
  const size = sizeArg ? konst(sizeArg.text) : undefined;
  return size !== undefined && size > 0 ? { callee, size } : undefined;
}
function innerIdent(d: Node): string | undefined {
  let cur: Node | null = d;
  for (let g = 0; cur && g < 16; g++) {
    if (ty(cur) === 'identifier') return cur.text;
    cur = field(cur, 'declarator');
  }
  return undefined;
}

/**
 * The open-coded iterator macro (bpf_for, bpf_for_each, bpf_repeat) whose masked `while (a, b, c)`
 * condition `cond` belongs to, with the macro's arguments; undefined for any other condition.
 */
function iteratorLoop(doc: BpfDocument, cond: Node): { name: string; args: Node[] } | undefined {
  let up: Node | null = cond;
  for (let k = 0; up && k < 6 && ty(up) !== 'while_statement'; k++) up = up.parent;
  if (!up || ty(up) !== 'while_statement') return undefined;
  const name = /^(bpf_for_each|bpf_for|bpf_repeat)\s*\(/.exec(doc.text.slice(up.startIndex, up.startIndex + 20))?.[1];
  const c = field(up, 'condition');
  if (!name || !c || cond.startIndex < c.startIndex || cond.endIndex > c.endIndex) return undefined;
  const args: Node[] = [];
  const flatten = (n: Node | null) => {
    if (!n) return;
    const e = stripParens(n);
    if (ty(e) === 'comma_expression') {
      flatten(field(e, 'left'));
      flatten(field(e, 'right'));
    } else args.push(e);
  };
  flatten(c);
  return { name, args };
}

/** Writable global arrays of the file, by name, with their lengths (read once per top level and headers). */
function globalArrays(doc: BpfDocument, konst: (text: string) => number | undefined): ReadonlyMap<string, number> {
  return memo(`map-value-index-globals\u0000${topLevelKey(doc)}\u0000${documentHeaderDeclarations(doc).key}`, () => {
    const globals = new Map<string, number>();
    for (const n of topLevelNodes(doc)) {
      if (n.type !== 'declaration' || /\bconst\b|\bextern\b|SEC\s*\(|__ksym/.test(n.text)) continue;
      for (const d of n.childrenForFieldName('declarator')) {
        const a = d && d.type === 'init_declarator' ? d.childForFieldName('declarator') : d;
        if (!a || a.type !== 'array_declarator') continue;
        const name = a.childForFieldName('declarator');
        const size = a.childForFieldName('size');
        const len = size ? konst(size.text) : undefined;
        if (name?.type === 'identifier' && len) globals.set(name.text, len);
      }
    }
    return globals;
  });
}
