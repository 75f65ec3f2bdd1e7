/**
 * The verifier's message formats (data/kernel-messages.json, extracted from the kernel sources) grouped into
 * families (families/*.ts), each compiled into a matcher: the catalog's second layer, after the hand-written
 * entries of catalog.ts. Also the coverage figures `npm run catalog:coverage` reports.
 */
import messages from './data/kernel-messages.json';
import { CALL_FAMILIES } from './families/call-families';
import type { Family } from './families/family';
import { MEMORY_FAMILIES } from './families/memory-families';
import { BY_WHERE, PROGRAM_FAMILIES } from './families/program-families';
import { compileFormat, type FormatMatcher } from './format-matcher';

export type { Family } from './families/family';

/** One format string of the kernel sources, as the generator wrote it. */
export interface KernelMessage {
  fmt: string;
  /** the format does not end its line (later calls continue it) */
  part?: boolean;
  /** the kernel prints a prefix (a BTF type) before the format */
  prefixed?: boolean;
  kernels: string[];
  /** file:function of (up to 3) call sites */
  where: string[];
}

export const KERNEL_MESSAGES: readonly KernelMessage[] = messages.messages as KernelMessage[];
/** kernel version -> the source it was extracted from */
export const KERNEL_SOURCES: Readonly<Record<string, { release: string; source: string }>> = messages.kernels;

export const FAMILIES: readonly Family[] = [...MEMORY_FAMILIES, ...CALL_FAMILIES, ...PROGRAM_FAMILIES];
const byId = new Map(FAMILIES.map((f) => [f.id, f]));

/** The family that claims a format: exact text first, then patterns in order, then the function printing it. */
export function familyOf(msg: KernelMessage): Family | undefined {
  for (const f of FAMILIES) if (f.formats.some((x) => x === msg.fmt)) return f;
  for (const f of FAMILIES) if (f.formats.some((x) => typeof x !== 'string' && x.test(msg.fmt))) return f;
  const rule = BY_WHERE.find((r) => msg.where.length > 0 && msg.where.every((w) => r.where.test(w)));
  return rule ? byId.get(rule.family) : undefined;
}

/** A format compiled for matching, with the family it belongs to. */
export interface FamilyMatcher extends FormatMatcher {
  family: Family;
}

/** Formats shorter than this (in literal characters) are too vague to name a family on their own. */
const MIN_LITERAL = 8;

let matchers: FamilyMatcher[] | undefined;
function allMatchers(): FamilyMatcher[] {
  if (matchers) return matchers;
  matchers = [];
  for (const msg of KERNEL_MESSAGES) {
    const family = familyOf(msg);
    if (!family || family.trace) continue;
    const m = compileFormat(msg.fmt, msg);
    if (m.literal >= MIN_LITERAL) matchers.push({ ...m, family });
  }
  return matchers;
}

let traceMatchers: FormatMatcher[] | undefined;
/**
 * True when a line is the verifier's trace (a format of the trace family: "Func#1 ('f') is safe for any args that
 * match its prototype", "Validating f() func#1...", precision marks), not an error, even where it follows the last
 * instruction of the walk.
 */
export function isTraceLine(line: string): boolean {
  traceMatchers ??= KERNEL_MESSAGES.filter((m) => familyOf(m)?.trace)
    .map((m) => compileFormat(m.fmt, m))
    .filter((m) => m.literal >= MIN_LITERAL);
  const t = line.trim();
  return traceMatchers.some((m) => m.re.test(t));
}

/** The family of one verifier line (the most specific matching format), with the match. */
export function matchFamily(line: string): { matcher: FamilyMatcher; match: RegExpExecArray } | undefined {
  const t = line.trim();
  let best: { matcher: FamilyMatcher; match: RegExpExecArray } | undefined;
  for (const matcher of allMatchers()) {
    if (best && matcher.literal <= best.matcher.literal) continue;
    const match = matcher.re.exec(t);
    if (match) best = { matcher, match };
  }
  return best;
}

/**
 * A family's explanation with `$1`.. replaced by the matched line's conversions, and `$r1`.. by a register
 * name: older kernels print "R%d" (the group holds "8"), newer ones "%s" (the group holds "R8" or "arg#1").
 */
export function familyText(text: string, match: RegExpExecArray): string {
  return text.replace(/\$(r?)(\d)/g, (all, r: string, n: string) => {
    const v = match[Number(n)];
    if (v === undefined) return all;
    return r && /^\d+$/.test(v) ? `R${v}` : v;
  });
}

export interface KernelCoverage {
  kernel: string;
  release: string;
  /** error families (trace excluded): explained + generic + unexplained */
  families: number;
  explained: number;
  generic: number;
  /** formats no family claims; each counts as its own family */
  unexplained: string[];
  /** formats of the verifier's trace, not counted */
  traceFormats: number;
  /** error formats in explained / generic families */
  explainedFormats: number;
  genericFormats: number;
}

/** Per kernel version: how many message families the catalog explains. */
export function coverage(): KernelCoverage[] {
  const out: KernelCoverage[] = [];
  for (const [kernel, src] of Object.entries(KERNEL_SOURCES)) {
    const fams = new Set<Family>();
    const unexplained: string[] = [];
    let traceFormats = 0;
    let explainedFormats = 0;
    let genericFormats = 0;
    for (const msg of KERNEL_MESSAGES) {
      if (!msg.kernels.includes(kernel)) continue;
      const f = familyOf(msg);
      if (f?.trace) traceFormats++;
      else if (f) {
        fams.add(f);
        if (f.generic) genericFormats++;
        else explainedFormats++;
      } else unexplained.push(msg.fmt);
    }
    const list = [...fams];
    out.push({
      kernel,
      release: src.release,
      families: list.length + unexplained.length,
      explained: list.filter((f) => !f.generic).length,
      generic: list.filter((f) => f.generic).length,
      unexplained,
      traceFormats,
      explainedFormats,
      genericFormats,
    });
  }
  return out;
}
