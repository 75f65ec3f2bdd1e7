/**
 * Rule 6: floating point. The BPF backend has no floating-point instructions: clang fails with "A call
 * to built-in function '__divdf3' is not supported" for any float arithmetic or conversion. A float
 * type in a struct only carries bytes (a warning), and an integer initialized from a float literal is
 * folded at compile time (a warning: write the integer).
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument } from '../../bpf-document';
import type { Rule, RuleDiagnostic } from '../rule';
import { functionsByName, functionsOf } from '../function-cache';
import { ancestorOfType } from '../syntax';

const MATH = new Set([
  'sqrt',
  'sqrtf',
  'pow',
  'powf',
  'exp',
  'expf',
  'exp2',
  'log',
  'logf',
  'log10',
  'sin',
  'cos',
  'tan',
  'asin',
  'acos',
  'atan',
  'atan2',
  'floor',
  'floorf',
  'ceil',
  'ceilf',
  'fabs',
  'fabsf',
  'round',
  'roundf',
  'trunc',
  'fmod',
  'fmin',
  'fmax',
  'hypot',
  'cbrt',
  'lround',
  'llround',
]);
const MATH_CALL = new RegExp(`(?<![\\w.>])(${[...MATH].join('|')})\\s*\\(`, 'g');
const FLOAT_CANDIDATE =
  /\b(float|double|_Float\d+|__float128)\b|(?<![\w.])(\d+\.\d*|\.\d+|\d+[eE][-+]?\d+|0[xX][0-9a-fA-F.]+[pP][-+]?\d+)[fFlL]?/g;
/** Whether a function has anything to look at (the same patterns, not global). */
const FLOAT_HINT = new RegExp(`${FLOAT_CANDIDATE.source}|${MATH_CALL.source}`);
const FLOAT_TYPE = /^(float|double|long double|_Float\d+|__float128)$/;
const INT_TYPE =
  /^(unsigned |signed )?(char|short|int|long|long long|u8|u16|u32|u64|s8|s16|s32|s64|__u8|__u16|__u32|__u64|__s8|__s16|__s32|__s64|size_t|uint\d+_t|int\d+_t)( int)?$/;

/** A decimal literal with a fraction or exponent, or a hex float (`0x1p3`). */
function isFloatLiteral(text: string): boolean {
  if (/^0[xX]/.test(text)) return /[pP]/.test(text);
  return /[.eE]/.test(text);
}

export const floatingPointRule: Rule = {
  id: 'floating-point',
  description: 'float/double types, float literals and math functions (BPF has no floating point)',
  ownFunctionOnly: true,
  functionFilter: FLOAT_HINT,
  runFunction({ doc, fn, report }) {
    scan(doc, [fn.startIndex, fn.endIndex], report);
  },
  runTopLevel({ doc, report }) {
    // Everything outside function definitions: globals, struct fields, prototypes.
    const ranges: number[] = [];
    let at = 0;
    for (const fn of functionsOf(doc)) {
      if (fn.startIndex > at) ranges.push(at, fn.startIndex);
      at = Math.max(at, fn.endIndex);
    }
    ranges.push(at, doc.text.length);
    scan(doc, ranges, report);
  },
};

/**
 * The matches of a global regex starting in the ranges ([from, to) pairs, in order) of the text, each
 * range searched from its start: one pass over the text, not one per range (a regex runs on past a
 * range's end to its next match, through the function bodies between the ranges).
 */
function* matchesIn(re: RegExp, text: string, ranges: readonly number[]): Generator<RegExpExecArray> {
  let k = 0;
  while (k < ranges.length && ranges[k] >= ranges[k + 1]) k += 2;
  if (k >= ranges.length) return;
  re.lastIndex = ranges[k];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    while (k < ranges.length && m.index >= ranges[k + 1]) k += 2;
    if (k >= ranges.length) return;
    if (m.index < ranges[k]) {
      re.lastIndex = ranges[k];
      continue;
    }
    yield m;
  }
}

/** Float types, literals and math calls starting in the ranges ([from, to) pairs, in order) of doc.text. */
function scan(doc: BpfDocument, ranges: readonly number[], report: (d: RuleDiagnostic) => void): void {
  const root = doc.root;
  if (!root) return;
  const text = doc.text;
  // Float types and literals are rare: find candidates in the text, confirm each with the tree.
  const typeNodes: Node[] = [];
  const literals: Node[] = [];
  for (const m of matchesIn(FLOAT_CANDIDATE, text, ranges)) {
    const n = root.descendantForIndex(m.index, m.index + m[0].length);
    if (!n) continue;
    if (m[1] && n.type === 'primitive_type') typeNodes.push(n);
    else if (!m[1] && n.type === 'number_literal' && isFloatLiteral(n.text)) literals.push(n);
  }
  const msg =
    'BPF has no floating-point instructions: clang rejects float arithmetic and conversions for the BPF target ("A call to built-in function \'__divdf3\' is not supported").';
  for (const t of typeNodes) {
    if (!FLOAT_TYPE.test(t.text)) continue;
    if (ancestorOfType(t, 'preproc_def', 'preproc_function_def')) continue;
    const inField = !!ancestorOfType(t, 'field_declaration') && !ancestorOfType(t, 'function_definition');
    report({
      start: t.startIndex,
      end: t.endIndex,
      severity: inField ? 'warning' : 'error',
      message: inField
        ? `A ${t.text} field can be copied, but any arithmetic or conversion on it fails to compile for BPF. Use a scaled integer (e.g. u64 in thousandths).`
        : `${t.text} in BPF code: ${msg} Use integers (scaled fixed point, e.g. value * 1000).`,
    });
  }
  for (const lit of literals) {
    if (ancestorOfType(lit, 'preproc_def', 'preproc_function_def', 'preproc_if', 'preproc_elif')) continue;
    const folded = foldedToInteger(lit);
    report({
      start: lit.startIndex,
      end: lit.endIndex,
      severity: folded ? 'warning' : 'error',
      message: folded
        ? `Float literal ${lit.text} converted to an integer: clang folds it at compile time, but any change that makes it arithmetic breaks the build. Write the integer (e.g. 1000000000ULL).`
        : `Float literal ${lit.text}: ${msg} Use an integer constant.`,
    });
  }
  // A local header may define an integer helper of the same name (libbpf-tools' bits.bpf.h has
  // log2()): then it is only a warning.
  let localHeaders: boolean | undefined;
  for (const m of matchesIn(MATH_CALL, text, ranges)) {
    if (functionsByName(doc).has(m[1])) continue;
    const fn = root.descendantForIndex(m.index, m.index + m[1].length);
    if (fn?.type !== 'identifier' || fn.parent?.type !== 'call_expression') continue;
    localHeaders ??= doc.includes.some((i) => !i.system && !/(^|\/)vmlinux\.h$/.test(i.path));
    report({
      start: fn.startIndex,
      end: fn.endIndex,
      severity: localHeaders ? 'warning' : 'error',
      message: `${fn.text}() is a floating-point math function: ${msg} There is no libm for BPF; use integer arithmetic.${localHeaders ? ' (If an included header defines an integer version of it, all is well.)' : ''}`,
    });
  }
}

/** `u64 ns = 1e9;`, `x = 1e9;` for an integer x, `(u64)1e9`: clang folds these to integers. */
function foldedToInteger(lit: Node): boolean {
  let p = lit.parent;
  while (p?.type === 'parenthesized_expression') p = p.parent;
  if (!p) return false;
  if (p.type === 'cast_expression') return INT_TYPE.test(p.childForFieldName('type')?.text ?? '');
  if (p.type === 'init_declarator') {
    const decl = p.parent;
    const inner = p.childForFieldName('declarator');
    return (
      decl?.type === 'declaration' &&
      inner?.type === 'identifier' &&
      INT_TYPE.test(decl.childForFieldName('type')?.text.replace(/\b(const|volatile|static)\s+/g, '') ?? '')
    );
  }
  return false;
}
