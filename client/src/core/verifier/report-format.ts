/**
 * A verifier report as text for a terminal and as JSON for tools: shared by `bpf-ide log` and by
 * `bpf-ide run` (which reports rejections through the same code).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { analyzeLog, type RelatedLocation, type SourceLocation, type VerifierReport } from './analyze';
import { parseVerifierLog } from './log-parser';
import { resolveRelatedSearch } from './source-map';

/** Maps a log basename to a path the user can open (undefined: keep the basename). */
export type PathResolver = (basename: string) => string | undefined;

/** The program's sources, for related locations the log does not name (the license line). */
export interface SourceReader {
  /** a file's text by the basename the log uses (undefined: not found) */
  read: (basename: string) => string | undefined;
  /** the program's main file when the log names none (a log with no line info) */
  mainFile?: string;
}

/** A related location as tools see it: where (resolved from the sources when the log cannot say) and why. */
export interface JsonRelated {
  message: string;
  insn: number | null;
  file: string | null;
  line: number | null;
}

/** Reads the sources next to a program's main .c file (what `run` and the editor have). */
export function sourcesBeside(mainSource: string): SourceReader {
  const dir = dirname(mainSource);
  return {
    mainFile: basename(mainSource),
    read: (base) => {
      const p = base === basename(mainSource) ? mainSource : join(dir, basename(base));
      try {
        return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** The related locations of a report, those found by searching the sources resolved when they can be read. */
export function relatedToJson(
  related: RelatedLocation[],
  resolve?: PathResolver,
  sources?: SourceReader,
): JsonRelated[] {
  const out: JsonRelated[] = [];
  for (const x of related) {
    const found = sources ? resolveRelatedSearch(x, sources.mainFile, sources.read) : undefined;
    const l = loc(found ?? x.source, resolve);
    // a search that found nothing and has no line from the log says nothing useful
    if (!l && x.find) continue;
    out.push({ message: x.message, insn: x.insn >= 0 ? x.insn : null, file: l?.file ?? null, line: l?.line ?? null });
  }
  return out;
}

export interface JsonLocation {
  /** resolved path when found, else the basename from the log (null: the log names none) */
  file: string | null;
  line: number | null;
  text: string;
  compilerGenerated: boolean;
}

/** The JSON shape of `bpf-ide log --json` (stable: tools parse it). */
export interface VerifierReportJson {
  file?: string;
  verdict: VerifierReport['verdict'];
  instructions: number;
  lines: number;
  truncated: boolean;
  oldSyntax: boolean;
  stats: VerifierReport['stats'];
  error: null | {
    message: string;
    lines: string[];
    insn: number | null;
    id: string | null;
    title: string | null;
    explanation: string | null;
    fix: string | null;
    file: string | null;
    line: number | null;
    sourceText: string | null;
    compilerGenerated: boolean;
    noSource: string | null;
    /** where the mistake likely is: the license line, the acquiring call, the check that let a value through... */
    related: JsonRelated[];
  };
}

function loc(s: SourceLocation | undefined, resolve?: PathResolver): JsonLocation | undefined {
  if (!s) return undefined;
  const file = s.file ? (resolve?.(s.file) ?? s.file) : null;
  return { file, line: s.line > 0 ? s.line : null, text: s.text, compilerGenerated: s.compilerGenerated };
}

export function reportToJson(
  r: VerifierReport,
  file?: string,
  resolve?: PathResolver,
  sources?: SourceReader,
): VerifierReportJson {
  const e = r.error;
  const src = loc(e?.source, resolve);
  return {
    ...(file !== undefined ? { file } : {}),
    verdict: r.verdict,
    instructions: r.instructions,
    lines: r.lines,
    truncated: r.truncated,
    oldSyntax: r.oldSyntax,
    stats: r.stats,
    error: e
      ? {
          message: e.message,
          lines: e.lines,
          insn: e.insn >= 0 ? e.insn : null,
          id: e.catalog?.id ?? null,
          title: e.catalog?.title ?? null,
          explanation: e.catalog?.explanation ?? null,
          fix: e.catalog?.fix ?? null,
          file: src?.file ?? null,
          line: src?.line ?? null,
          sourceText: src?.text ?? null,
          compilerGenerated: src?.compilerGenerated ?? false,
          noSource: e.noSource ?? null,
          related: relatedToJson(e.related, resolve, sources),
        }
      : null,
  };
}

function statsLine(r: VerifierReport): string {
  const s = r.stats;
  const parts: string[] = [];
  if (s.processedInsns !== null)
    parts.push(`processed ${s.processedInsns} insns${s.insnLimit !== null ? ` (limit ${s.insnLimit})` : ''}`);
  if (s.totalStates !== null)
    parts.push(`states ${s.totalStates} total, ${s.peakStates} peak, ${s.maxStatesPerInsn} max per insn`);
  if (s.verificationTimeUsec !== null) parts.push(`verification time ${s.verificationTimeUsec} us`);
  if (s.stackDepth) parts.push(`stack depth ${s.stackDepth.join('+')}`);
  return parts.length ? parts.join(', ') : 'none in the log (load at log level 4 or higher for them)';
}

/** Human-readable report, one fact per line. */
export function formatReport(r: VerifierReport, resolve?: PathResolver, sources?: SourceReader): string {
  const j = reportToJson(r, undefined, resolve, sources);
  const out: string[] = [];
  out.push(`verdict: ${r.verdict}${r.truncated ? ' (the log is truncated: the kernel kept only its tail)' : ''}`);
  const e = j.error;
  if (e) {
    out.push(`error: ${e.message}`);
    if (e.file && e.line)
      out.push(
        `  at ${e.file}:${e.line}${e.compilerGenerated ? ' (nearest line: the instruction is compiler-generated)' : ''}: ${e.sourceText ?? ''}`,
      );
    else if (e.sourceText)
      out.push(`  at source text: ${e.sourceText}${e.file ? ` in ${e.file}` : ''} (the log gives no line number)`);
    else if (e.noSource) out.push(`  no source line: ${e.noSource}`);
    if (e.insn !== null) out.push(`  instruction ${e.insn}`);
    if (e.title) out.push(`  ${e.title} [${e.id}]`);
    if (e.explanation) out.push(`  why: ${e.explanation}`);
    if (e.fix) out.push(`  fix: ${e.fix}`);
    if (!e.id) out.push('  (no explanation in the catalog for this message yet)');
    for (const x of e.related) out.push(`  related: ${x.message}${x.file && x.line ? ` (${x.file}:${x.line})` : ''}`);
  }
  out.push(`statistics: ${statsLine(r)}`);
  out.push(`instructions: ${r.instructions} (instruction lines parsed, of ${r.lines} log lines)`);
  return out.join('\n');
}

/** A rejection as `bpf-ide run`, the matrix and the load feature report it (re-exported by core/run/verdict.ts). */
export interface VerdictError {
  message: string;
  file?: string;
  line?: number;
  source?: string;
  explanation?: string;
  /** where the mistake likely is (the license line, the acquiring call, the check...): file and line when known */
  related?: { message: string; file?: string; line?: number }[];
}

/**
 * The shape `bpf-ide run` and the load feature use for a rejection (VerdictError),
 * from the full parser: the kernel's message, the source line (nearest real line for compiler-generated
 * code), and the catalog's explanation and fix. A drop-in for verdictFromLog.
 */
export function verdictErrorFromLog(log: string, fallback: string, mainSource?: string): VerdictError {
  const r = analyzeLog(parseVerifierLog(log));
  const e = r.error;
  if (!e) return { message: fallback };
  const s = e.source;
  const related = relatedToJson(e.related, undefined, mainSource ? sourcesBeside(mainSource) : undefined).map((x) => ({
    message: x.message,
    ...(x.file && x.line ? { file: x.file, line: x.line } : {}),
  }));
  return {
    message: e.message,
    ...(s && s.file && s.line > 0 ? { file: s.file, line: s.line, source: s.text } : {}),
    ...(e.catalog ? { explanation: `${e.catalog.explanation} Fix: ${e.catalog.fix}` } : {}),
    ...(related.length ? { related } : {}),
  };
}
