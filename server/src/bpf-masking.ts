/**
 * Length-preserving masking of BPF's macros before tree-sitter sees the text.
 *
 * tree-sitter's C grammar does not know `SEC("xdp")`, `__uint(type, ...)` in map definitions,
 * `__always_inline` or `bpf_for(i, 0, n)`: it turns them into ERROR nodes, which both ruins the tree
 * and makes incremental re-parsing ~15x slower. We replace them, character for character, with text
 * the grammar understands (blanks, or `while` for the open-coded iterator macros), so every offset,
 * line and column in the masked text is the same as in the user's text. What was masked is recorded
 * here and the analyzer reads it from the original text.
 */

/** A `SEC("name")` annotation. */
export interface SecMark {
  start: number;
  end: number;
  /** Offset of the first character of the name (inside the quotes). */
  nameStart: number;
  name: string;
}

/** A `__uint(name, value)`, `__type(name, T)`, `__array(name, T)` or `__ulong(name, v)` map field. */
export interface MapFieldMark {
  start: number;
  end: number;
  macro: string;
  field: string;
  fieldStart: number;
  value: string;
  valueStart: number;
}

/** An attribute-like macro that was blanked (`__always_inline`, `__ksym`...). */
export interface AttributeMark {
  start: number;
  end: number;
  name: string;
}

/** An open-coded iterator macro (`bpf_for`, `bpf_for_each`, `bpf_repeat`) rewritten as `while`. */
export interface LoopMacroMark {
  start: number;
  end: number;
  name: string;
}

export interface MaskResult {
  masked: string;
  secs: SecMark[];
  mapFields: MapFieldMark[];
  attributes: AttributeMark[];
  loopMacros: LoopMacroMark[];
  /**
   * Macro argument lists that were scanned but not masked (`SEC(` not closed yet...), as [start, end)
   * of the text the scan read: what incremental masking must not cut through.
   */
  scans: { start: number; end: number }[];
  /** A comment, string or macro argument list ran to the end of the text (remasking a part is unsafe). */
  openAtEnd: boolean;
}

/** Attribute-like macros from libbpf's and the kernel's headers that expand to attributes or nothing. */
export const ATTRIBUTE_MACROS = new Set([
  '__always_inline',
  '__noinline',
  '__weak',
  '__hidden',
  '__ksym',
  '__kconfig',
  '__kptr',
  '__kptr_untrusted',
  '__kptr_ref',
  '__percpu_kptr',
  '__rcu',
  '__user',
  '__force',
  '__iomem',
  '__percpu',
  '__arg_ctx',
  '__arg_nonnull',
  '__arg_nullable',
  '__arg_trusted',
  '__arg_untrusted',
  '__arg_arena',
  '__arena',
  '__uptr',
  '__bpf_kfunc',
  '__bpf_fastcall',
  '__bpf_fastcall_decl',
  '__ksym_weak',
  '__packed',
  '__aligned_largest',
]);

/** Attribute-like macros that take an argument list: `__contains(node, list)`, `__tag(x)`. */
const ATTRIBUTE_CALL_MACROS = new Set(['__contains', '__tag', '__attribute_const__', '__aligned', '__section']);

const MAP_FIELD_MACROS = new Set(['__uint', '__type', '__array', '__ulong']);
const LOOP_MACROS = new Set(['bpf_for', 'bpf_for_each', 'bpf_repeat']);

const IDENT_START = /[A-Za-z_]/;
const IDENT_CHAR = /[A-Za-z0-9_]/;

/**
 * Masks BPF macros in `text` with same-length replacements. Comments, strings and character literals
 * are skipped, so a `SEC(` inside a comment is left alone. Runs in one linear pass.
 */
export function maskBpfSource(text: string): MaskResult {
  const out: string[] = [];
  const secs: SecMark[] = [];
  const mapFields: MapFieldMark[] = [];
  const attributes: AttributeMark[] = [];
  const loopMacros: LoopMacroMark[] = [];
  const scans: { start: number; end: number }[] = [];
  let openAtEnd = false;
  const n = text.length;
  let i = 0;
  let copied = 0; // text[copied, i) is still to be copied unchanged

  const blank = (start: number, end: number, replacement?: string) => {
    out.push(text.slice(copied, start));
    let s = replacement ?? '';
    for (let k = start + s.length; k < end; k++) {
      const c = text.charCodeAt(k);
      s += c === 10 || c === 13 ? text[k] : ' ';
    }
    out.push(s);
    copied = end;
  };

  while (i < n) {
    const c = text[i];
    // Comments, strings and character literals.
    if (c === '/' && text[i + 1] === '/') {
      const e = text.indexOf('\n', i);
      if (e < 0) openAtEnd = true;
      i = e < 0 ? n : e;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const e = text.indexOf('*/', i + 2);
      if (e < 0) openAtEnd = true;
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipQuoted(text, i);
      if (i >= n && text[n - 1] !== c) openAtEnd = true;
      continue;
    }
    if (!IDENT_START.test(c) || (i > 0 && IDENT_CHAR.test(text[i - 1]))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n && IDENT_CHAR.test(text[j])) j++;
    const word = text.slice(i, j);
    if (word === 'SEC' || MAP_FIELD_MACROS.has(word) || LOOP_MACROS.has(word) || ATTRIBUTE_CALL_MACROS.has(word)) {
      const open = skipSpace(text, j);
      if (text[open] !== '(') {
        i = j;
        continue;
      }
      const close = matchParen(text, open);
      if (close < 0) {
        scans.push({ start: i, end: scanReach + 1 });
        if (scanReach >= n - 1) openAtEnd = true;
        i = j;
        continue;
      }
      if (word === 'SEC') {
        const m = /^\(\s*"((?:[^"\\\n]|\\.)*)"\s*\)$/.exec(text.slice(open, close + 1));
        if (m) {
          const nameStart = text.indexOf('"', open) + 1;
          secs.push({ start: i, end: close + 1, nameStart, name: m[1] });
          blank(i, close + 1);
        } else scans.push({ start: i, end: close + 1 });
        i = close + 1;
        continue;
      }
      if (MAP_FIELD_MACROS.has(word)) {
        const inner = text.slice(open + 1, close);
        const comma = inner.indexOf(',');
        if (comma > 0) {
          const fieldRaw = inner.slice(0, comma);
          const valueRaw = inner.slice(comma + 1);
          const fieldLead = fieldRaw.length - fieldRaw.trimStart().length;
          const valueLead = valueRaw.length - valueRaw.trimStart().length;
          let end = close + 1;
          const semi = skipSpace(text, end);
          if (text[semi] === ';') end = semi + 1;
          mapFields.push({
            start: i,
            end,
            macro: word,
            field: fieldRaw.trim(),
            fieldStart: open + 1 + fieldLead,
            value: valueRaw.trim(),
            valueStart: open + 1 + comma + 1 + valueLead,
          });
          blank(i, end);
          i = end;
          continue;
        }
        scans.push({ start: i, end: close + 1 });
        i = close + 1;
        continue;
      }
      if (LOOP_MACROS.has(word)) {
        loopMacros.push({ start: i, end: close + 1, name: word });
        blank(i, j, 'while');
        i = j;
        continue;
      }
      // __contains(...), __tag(...): attributes with arguments.
      attributes.push({ start: i, end: close + 1, name: word });
      blank(i, close + 1);
      i = close + 1;
      continue;
    }
    if (ATTRIBUTE_MACROS.has(word)) {
      attributes.push({ start: i, end: j, name: word });
      blank(i, j);
    }
    i = j;
  }
  out.push(text.slice(copied));
  return { masked: out.join(''), secs, mapFields, attributes, loopMacros, scans, openAtEnd };
}

/**
 * Masks `text` reusing `prev` (the mask of `prevText`) when the change lies inside one span of
 * `prevText` that masking treats on its own (a function definition: it starts and ends outside any
 * comment, string or macro argument list): only that span is masked again. Falls back to masking
 * everything when that cannot be shown. The result equals maskBpfSource(text).
 */
export function remaskBpfSource(
  text: string,
  prevText: string,
  prev: MaskResult,
  spans: readonly number[] | undefined,
  change?: { start: number; oldEnd: number; newEnd: number },
): MaskResult {
  // Something left open (a comment running to the end...) makes every later state depend on it.
  if (!spans || !spans.length || prev.openAtEnd) return maskBpfSource(text);
  let start: number;
  let oldEnd: number;
  if (change) ({ start, oldEnd } = change);
  else {
    start = 0;
    const min = Math.min(text.length, prevText.length);
    while (start < min && text.charCodeAt(start) === prevText.charCodeAt(start)) start++;
    oldEnd = prevText.length;
    let newEnd = text.length;
    while (oldEnd > start && newEnd > start && text.charCodeAt(newEnd - 1) === prevText.charCodeAt(oldEnd - 1)) {
      oldEnd--;
      newEnd--;
    }
  }
  if (start === prevText.length && oldEnd === start && text.length === prevText.length) return prev;
  // The span (a function definition) that holds the change, strictly inside it.
  let from = -1;
  let to = -1;
  for (let k = 0; k < spans.length; k += 2) {
    if (spans[k] < start && oldEnd < spans[k + 1]) {
      from = spans[k];
      to = spans[k + 1];
      break;
    }
    if (spans[k] > start) break;
  }
  if (from < 0) return maskBpfSource(text);
  // Nothing masked or scanned may reach across its ends (an unclosed `SEC(` scans forward).
  for (const list of [prev.secs, prev.mapFields, prev.attributes, prev.loopMacros, prev.scans])
    for (const m of list)
      if ((m.start < from && m.end > from) || (m.start < to && m.end > to)) return maskBpfSource(text);
  // The masking must be outside any comment or string at both ends, as the parser was (they can
  // disagree on garbage: `#include <vm/*linux.h>` opens a comment for the masking only).
  if (!neutralAt(prevText, from) || !neutralAt(prevText, to)) return maskBpfSource(text);
  const delta = text.length - prevText.length;
  const part = maskBpfSource(text.slice(from, to + delta));
  if (part.openAtEnd) return maskBpfSource(text);
  const join = <T extends { start: number; end: number }>(before: T[], inside: T[], after: T[]): T[] => {
    const out: T[] = [];
    for (const m of before) if (m.start < from) out.push(m);
    for (const m of inside) out.push(shiftMark(m, from));
    for (const m of after) if (m.start >= to) out.push(delta ? shiftMark(m, delta) : m);
    return out;
  };
  return {
    masked: prev.masked.slice(0, from) + part.masked + prev.masked.slice(to),
    secs: join(prev.secs, part.secs, prev.secs),
    mapFields: join(prev.mapFields, part.mapFields, prev.mapFields),
    attributes: join(prev.attributes, part.attributes, prev.attributes),
    loopMacros: join(prev.loopMacros, part.loopMacros, prev.loopMacros),
    scans: join(prev.scans, part.scans, prev.scans),
    openAtEnd: false,
  };
}

/**
 * Whether masking reaches `at` outside any comment or string, judged conservatively from the text
 * near it: no block comment open there, and nothing on its line before it that could open a string,
 * character literal or comment (only those run across lines, or within one).
 */
function neutralAt(text: string, at: number): boolean {
  const open = text.lastIndexOf('/*', at - 1);
  if (open >= 0) {
    const close = text.indexOf('*/', open + 2);
    if (close < 0 || close + 2 > at) return false;
  }
  for (let k = at - 1; k >= 0; k--) {
    const c = text.charCodeAt(k);
    if (c === 10) break;
    if (c === 34 || c === 39 || c === 47) return false; // " ' /
  }
  return true;
}

/** A mark moved by `by` characters (every offset field moves). */
function shiftMark<T extends { start: number; end: number }>(m: T, by: number): T {
  const o = { ...m } as T & Record<string, unknown>;
  o.start += by;
  o.end += by;
  for (const k of ['nameStart', 'fieldStart', 'valueStart'] as const)
    if (typeof o[k] === 'number') (o as Record<string, number>)[k] += by;
  return o;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

function skipQuoted(text: string, i: number): number {
  const q = text[i];
  let k = i + 1;
  while (k < text.length) {
    const ch = text[k];
    if (ch === '\\') k += 2;
    else if (ch === q || ch === '\n') return k + 1;
    else k++;
  }
  return text.length;
}

/** Where the last matchParen() stopped reading. */
let scanReach = 0;

/** Offset of the `)` matching the `(` at `open`, skipping strings and comments; -1 when unbalanced. */
function matchParen(text: string, open: number): number {
  const r = matchParenInner(text, open);
  if (r >= 0) scanReach = r;
  return r;
}

function matchParenInner(text: string, open: number): number {
  let depth = 0;
  let braces = 0;
  // A macro argument list longer than this is not a macro we understand; stay linear on garbage.
  const limit = Math.min(text.length, open + 20000);
  for (let k = open; k < limit; k++) {
    const ch = text[k];
    if (ch === '"' || ch === "'") {
      k = skipQuoted(text, k) - 1;
    } else if (ch === '/' && text[k + 1] === '*') {
      const e = text.indexOf('*/', k + 2);
      if (e < 0) {
        scanReach = text.length - 1;
        return -1;
      }
      k = e + 1;
    } else if (ch === '/' && text[k + 1] === '/') {
      const e = text.indexOf('\n', k);
      if (e < 0) {
        scanReach = text.length - 1;
        return -1;
      }
      k = e;
    } else if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) return k;
    } else if (ch === '{') braces++;
    else if (ch === '}') braces--;
    else if (ch === ';' && braces <= 0) {
      // `SEC(` typed but not closed yet: do not swallow the rest of the file. A `;` is only allowed
      // inside braces (an `__array(values, struct { ...; })`).
      scanReach = k;
      return -1;
    }
  }
  // Unbalanced up to the end of the text, or past the length limit (the limit is not the text's end).
  scanReach = limit >= text.length ? text.length - 1 : limit;
  return -1;
}
