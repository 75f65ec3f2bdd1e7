/**
 * The verdict of a parsed log: accepted or rejected, the error block, the failing instruction, the
 * source line it belongs to (with line 0 = compiler-generated handled), the catalog's explanation,
 * and related locations (where the offending register got its value, where a leaked reference was
 * acquired). One function used by the extension's diagnostics, the stepper and `bpf-ide log`.
 */
import { matchCatalog, type CatalogEntry } from './catalog';
import { isTraceLine } from './catalog-families';
import { followBack, type DepStep } from './dependencies';
import { LineKind, type SourceRef, type VerifierLog, type VerifierStats } from './log-parser';
import { callSites, rootCauseRelated } from './root-cause';
import type { RelatedSearch } from './source-map';

export interface SourceLocation {
  /** basename as the log gives it ('' for 5.x logs, which quote only the text) */
  file: string;
  /** 1-based; for compiler-generated code, the nearest earlier real line */
  line: number;
  text: string;
  /** the instruction was attributed to line 0 (compiler-generated); `line` is the nearest real one */
  compilerGenerated: boolean;
}

export interface RelatedLocation {
  message: string;
  /** log line of the instruction (-1: the log names none) */
  logLine: number;
  /** instruction index (-1: none) */
  insn: number;
  source?: SourceLocation;
  /**
   * a location the log does not name but the program's source shows (the license declaration): the
   * consumer that can read the files resolves it (source-map.ts resolveRelatedSearch)
   */
  find?: RelatedSearch;
  /** one of a list (a call chain): kept even when another related location is on the same line */
  keep?: boolean;
}

export interface VerifierError {
  /** the kernel's message (the line the catalog matched, or the first line of the error block) */
  message: string;
  /** every line of the error block (kernel text) */
  lines: string[];
  /** log line of `message` */
  logLine: number;
  /** log line of the failing instruction (-1: the kernel rejected before walking any) */
  insnLine: number;
  insn: number;
  catalog?: { id: string; title: string; explanation: string; fix: string };
  source?: SourceLocation;
  /** why there is no source line, when there is none */
  noSource?: string;
  related: RelatedLocation[];
  /** the followed value's chain, newest first */
  chain: DepStep[];
}

export interface VerifierReport {
  verdict: 'accepted' | 'rejected' | 'unknown';
  /** number of instruction lines parsed */
  instructions: number;
  lines: number;
  truncated: boolean;
  oldSyntax: boolean;
  stats: VerifierStats;
  error?: VerifierError;
}

/** Line kinds that belong to the walk itself (anything after the last of them may be the error). */
function isTrace(k: number): boolean {
  return k === LineKind.Insn || k === LineKind.State || k === LineKind.Branch || k === LineKind.CallFrame;
}

/** The log lines of the final error block: unknown lines after the walk, before/around the stats. */
export function errorBlock(log: VerifierLog): number[] {
  let last = -1;
  for (let i = log.lineCount - 1; i >= 0; i--) {
    if (isTrace(log.kind[i]!)) {
      last = i;
      break;
    }
  }
  const out: number[] = [];
  for (let i = last + 1; i < log.lineCount; i++) {
    const k = log.kind[i];
    // libbpf/bpftool wrap the kernel's log in BEGIN/END markers; what follows END is the tool talking
    if (k === LineKind.Meta && log.line(i).includes('-- END')) break;
    // the verifier's own trace after the walk (e.g. "Func#1 ('f') is safe for any args ...") is not the verdict
    if ((k === LineKind.Other || k === LineKind.Advice) && !isTraceLine(log.line(i))) out.push(i);
  }
  // `arg#0 reference type(...)` and similar BTF notes precede the walk; they are not the verdict
  if (last < 0) return out.filter((i) => !/^(?:arg#\d|func#|Func#|Validating )/.test(log.line(i)));
  return out;
}

function looksLikeLog(log: VerifierLog): boolean {
  for (const k of log.kind) {
    if (k !== LineKind.Other && k !== LineKind.Blank && k !== LineKind.Meta && k !== LineKind.Advice) return true;
  }
  return false;
}

/** The source record for log line li, with line 0 resolved to the nearest earlier real line. */
export function sourceForLine(log: VerifierLog, li: number): SourceLocation | undefined {
  const id = li >= 0 ? log.aux[li]! : -1;
  const k = li >= 0 ? log.kind[li] : -1;
  if (id < 0 || (k !== LineKind.Insn && k !== LineKind.State && k !== LineKind.Source)) return undefined;
  const s = log.sources[id]!;
  if (s.line !== 0) return toLoc(s, false);
  for (let i = li - 1; i >= 0 && li - i < 100000; i--) {
    if (log.kind[i] === LineKind.Source) {
      const t = log.sources[log.aux[i]!]!;
      if (t.line > 0 && t.file === s.file) return toLoc(t, true);
    }
  }
  return { file: s.file, line: 0, text: s.text, compilerGenerated: true };
}

function toLoc(s: SourceRef, compilerGenerated: boolean): SourceLocation {
  return { file: s.file, line: s.line, text: s.text, compilerGenerated };
}

const ROLE_TEXT: Record<DepStep['role'], string> = {
  origin: 'gets its value here',
  move: 'is copied here',
  modify: 'is changed here',
  spill: 'is saved to the stack here',
  fill: 'is read back from the stack here',
  'call-arg': 'is passed to the function here',
  return: 'is returned here',
  load: 'is loaded from memory here',
  check: 'gets its type or range on this path from this check',
};

/** Builds the report of a parsed log. */
export function analyzeLog(log: VerifierLog): VerifierReport {
  const report: VerifierReport = {
    verdict: 'unknown',
    instructions: log.insnLines.length,
    lines: log.lineCount,
    truncated: log.truncated,
    oldSyntax: log.oldSyntax,
    stats: log.stats,
  };
  const block = errorBlock(log);
  if (block.length === 0) {
    if (log.stats.processedInsns !== null || log.insnLines.length > 0) report.verdict = 'accepted';
    return report;
  }
  const texts = block.map((i) => log.line(i));
  const cm = matchCatalog(texts);
  // text with no verifier structure and no known message is not a verifier log
  if (!cm && !looksLikeLog(log)) return report;
  report.verdict = 'rejected';
  const msgIdx = cm ? texts.findIndex((t) => t.trim() === cm.message) : 0;
  const logLine = block[Math.max(0, msgIdx)]!;
  let insnLine = -1;
  for (let i = block[0]! - 1; i >= 0; i--) {
    if (log.kind[i] === LineKind.Insn) {
      insnLine = i;
      break;
    }
    if (log.kind[i] === LineKind.Branch) break;
  }
  const err: VerifierError = {
    message: cm ? cm.message : texts[0]!.trim(),
    lines: texts,
    logLine,
    insnLine,
    insn: insnLine >= 0 ? log.insn[insnLine]! : -1,
    related: [],
    chain: [],
  };
  let entry: CatalogEntry | undefined;
  if (cm) {
    entry = cm.entry;
    err.catalog = { id: entry.id, title: entry.title, explanation: entry.explain(cm.match), fix: entry.fix };
  }
  // a message naming an instruction (infinite loop at insn N, unreachable insn N) is about that one
  if (
    entry?.insnGroup &&
    cm &&
    (entry.id === 'infinite-loop' || entry.id === 'unreachable-insn' || entry.id === 'jump-out-of-range')
  ) {
    const n = Number(cm.match[entry.insnGroup]);
    err.insn = n;
    let li = -1;
    for (let i = insnLine; i >= 0; i--)
      if (log.kind[i] === LineKind.Insn && log.insn[i] === n) {
        li = i;
        break;
      }
    if (li >= 0) err.insnLine = li;
  }
  err.source = err.insnLine >= 0 ? sourceForLine(log, err.insnLine) : undefined;
  if (!err.source) {
    err.noSource =
      err.insnLine < 0
        ? 'the kernel rejected the program before walking any instruction (a check of the whole program), so the log names no source line'
        : log.sources.length === 0
          ? 'the log has no BTF line info: build with -g (clang -O2 -g -target bpf) to get source lines'
          : 'the failing instruction has no source line in the log';
  }
  // related: where the offending register got its value
  let regName: string | undefined;
  if (entry?.registerGroup && cm) {
    const g = cm.match[entry.registerGroup] ?? cm.match[entry.registerGroup + 1];
    if (g !== undefined && /^\d+$/.test(g)) regName = `R${g}`;
  }
  if (!regName && entry?.id !== 'reference-leak') {
    const m = /\bR(\d+)\b/.exec(err.message);
    if (m) regName = `R${m[1]}`;
  }
  if (regName && err.insnLine >= 0) {
    err.chain = followBack(log, err.insnLine, regName);
    // the check that let the value through on this path (a NULL check that went the other way)
    for (const c of err.chain.filter((s) => s.role === 'check').slice(0, 1)) {
      err.related.push({
        message: `${c.value} ${ROLE_TEXT.check}: ${c.text}`,
        logLine: c.line,
        insn: c.insn,
        source: sourceForLine(log, c.line),
      });
    }
    const origin = err.chain[err.chain.length - 1];
    if (origin && origin.role !== 'check') {
      const src = sourceForLine(log, origin.line);
      err.related.push({
        message: `${origin.value} ${ROLE_TEXT[origin.role]}: ${origin.text}`,
        logLine: origin.line,
        insn: origin.insn,
        source: src,
      });
    }
  }
  // the likely mistakes behind the symptom (root-cause.ts), and the callers of inlined header helpers
  // (one related location per source line, none on the error's own line, unless found in the source)
  const seen = new Set<string>(err.source ? [`${err.source.file}:${err.source.line}`] : []);
  const add = (r: RelatedLocation) => {
    const key = r.source && !r.find && !r.keep ? `${r.source.file}:${r.source.line}` : '';
    if (key && seen.has(key)) return;
    if (key) seen.add(key);
    err.related.push(r);
  };
  const fromChain = err.related.splice(0);
  for (const r of [...fromChain, ...rootCauseRelated(log, err, sourceForLine)]) add(r);
  for (const r of callSites(log, err.related, sourceForLine)) add(r);
  // a value released earlier gets its type from the release, not from a check on the path before it
  if (err.related.some((r) => r.message.startsWith('the reference is released here')))
    err.related = err.related.filter((r) => !r.message.includes(ROLE_TEXT.check));
  report.error = err;
  return report;
}
