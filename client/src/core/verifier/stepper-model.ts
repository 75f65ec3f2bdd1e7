/**
 * What the stepper panel shows, without VS Code: the visible rows (all lines or a filter), windows of
 * rows for the virtualized list, the state at a row, a value's history, search. The panel
 * (features/verifier/stepper-panel.ts) turns webview messages into calls here and posts the results.
 */
import { sourceForLine, type SourceLocation, type VerifierReport } from './analyze';
import { followBack } from './dependencies';
import { LINE_KIND_NAMES, LineKind, type VerifierLog } from './log-parser';
import { stateAtLine } from './reg-state';
import { readableValue } from './value-format';

export type RowFilter = 'all' | 'insns' | 'no-debug';

/** Kinds hidden by the 'no-debug' filter: precision backtracking, liveness, the Live regs table. */
const DEBUG_KINDS = new Set<number>([LineKind.Debug, LineKind.LiveRegs, LineKind.Blank]);
const MAX_ROWS_PER_REQUEST = 500;
const MAX_SEARCH_HITS = 5000;

export interface RowData {
  row: number;
  line: number;
  kind: string;
  insn: number;
  frame: number;
  text: string;
}

export function formatWhere(s: SourceLocation | undefined): string | null {
  if (!s) return null;
  if (s.line <= 0) return s.file ? `${s.file} (no line)` : null;
  return `${s.file}:${s.line}${s.compilerGenerated ? ' (compiler-generated)' : ''}`;
}

function order(name: string): number {
  if (name.startsWith('R')) return Number(name.slice(1));
  return 100 - Number(name.replace(/^fp/, '')); // fp-8 before fp-16
}

export class StepperModel {
  /** visible row -> log line */
  rows: Int32Array;
  filter: RowFilter = 'all';

  constructor(
    readonly log: VerifierLog,
    readonly report: VerifierReport,
    readonly title: string,
  ) {
    this.rows = this.computeRows('all');
  }

  setFilter(f: RowFilter): void {
    this.filter = f === 'insns' || f === 'no-debug' ? f : 'all';
    this.rows = this.computeRows(this.filter);
  }

  private computeRows(f: RowFilter): Int32Array {
    const log = this.log;
    if (f === 'all') {
      const r = new Int32Array(log.lineCount);
      for (let i = 0; i < r.length; i++) r[i] = i;
      return r;
    }
    if (f === 'insns') return Int32Array.from(log.insnLines);
    let n = 0;
    for (let i = 0; i < log.lineCount; i++) if (!DEBUG_KINDS.has(log.kind[i]!)) n++;
    const r = new Int32Array(n);
    for (let i = 0, k = 0; i < log.lineCount; i++) if (!DEBUG_KINDS.has(log.kind[i]!)) r[k++] = i;
    return r;
  }

  /** The visible row showing log line li, or the nearest row before it (-1: none). */
  rowOfLine(li: number): number {
    const r = this.rows;
    let lo = 0;
    let hi = r.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid]! <= li) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }

  /** The panel's header: verdict, statistics, the error with its row, branch rows. */
  init() {
    const r = this.report;
    const e = r.error;
    const branchRows: number[] = [];
    for (let row = 0; row < this.rows.length; row++)
      if (this.log.kind[this.rows[row]!] === LineKind.Branch) branchRows.push(row);
    return {
      type: 'init' as const,
      title: this.title,
      filter: this.filter,
      rowCount: this.rows.length,
      verdict: r.verdict,
      truncated: r.truncated,
      instructions: r.instructions,
      lines: r.lines,
      stats: r.stats,
      error: e
        ? {
            message: e.message,
            row: this.rowOfLine(e.insnLine >= 0 ? e.insnLine : e.logLine),
            title: e.catalog?.title ?? null,
            explanation: e.catalog?.explanation ?? null,
            fix: e.catalog?.fix ?? null,
            where: e.source ? formatWhere(e.source) : (e.noSource ?? null),
          }
        : null,
      branchRows,
    };
  }

  /** A window of rows (at most 500). */
  rowWindow(start: number, count: number) {
    const s = Math.max(0, Math.min(start | 0, this.rows.length));
    const end = Math.min(this.rows.length, s + Math.min(MAX_ROWS_PER_REQUEST, Math.max(0, count | 0)));
    const rows: RowData[] = [];
    for (let row = s; row < end; row++) {
      const li = this.rows[row]!;
      rows.push({
        row,
        line: li,
        kind: LINE_KIND_NAMES[this.log.kind[li]!] ?? 'other',
        insn: this.log.insn[li]!,
        frame: this.log.frame[li]!,
        text: this.log.line(li),
      });
    }
    return { type: 'rows' as const, start: s, rows };
  }

  /** The state at a row: every register and stack slot known there, the changed ones marked. */
  state(row: number) {
    const li = this.rows[row];
    if (li === undefined) return undefined;
    const st = stateAtLine(this.log, li);
    const regs = [...st.entries.entries()]
      .map(([key, e]) => ({
        key,
        name: e.name,
        frame: e.frame,
        value: e.value,
        readable: readableValue(e.value),
        type: e.type,
        changed: st.changed.has(key),
        precise: e.precise,
      }))
      .sort((a, b) => b.frame - a.frame || order(a.name) - order(b.name));
    const src = sourceForLine(this.log, li);
    return {
      type: 'state' as const,
      row,
      line: li,
      insn: this.log.insn[li]!,
      frame: st.frame,
      regs,
      source: formatWhere(src),
      sourceText: src?.text ?? null,
    };
  }

  /** The instructions that produced `value` (R0..R10, fp-N) as seen at a row. */
  follow(row: number, value: string) {
    const li = this.rows[row];
    // bounded so a step stays interactive: a value not produced within 60,000 lines back is reported as such
    const steps = li === undefined ? [] : followBack(this.log, li, value, 32, 60000);
    return {
      type: 'chain' as const,
      value,
      steps: steps.map((s) => ({
        row: this.rowOfLine(s.line),
        insn: s.insn,
        text: s.text,
        role: s.role,
        value: s.value,
        where: formatWhere(sourceForLine(this.log, s.line)),
      })),
    };
  }

  /** Rows whose text contains the query (case-insensitive) or matches it as a regular expression. */
  search(
    query: string,
    regex: boolean,
  ): { type: 'search'; query: string; rows: number[]; truncated: boolean; error?: string } {
    const base = { type: 'search' as const, query };
    if (!query) return { ...base, rows: [] as number[], truncated: false };
    let test: (s: string) => boolean;
    if (regex) {
      let re: RegExp;
      try {
        re = new RegExp(query, 'i');
      } catch (e) {
        return { ...base, rows: [] as number[], truncated: false, error: (e as Error).message };
      }
      test = (s) => re.test(s);
    } else {
      const q = query.toLowerCase();
      test = (s) => s.toLowerCase().includes(q);
    }
    const rows: number[] = [];
    for (let row = 0; row < this.rows.length; row++) {
      if (test(this.log.line(this.rows[row]!))) {
        rows.push(row);
        if (rows.length >= MAX_SEARCH_HITS) return { ...base, rows, truncated: true };
      }
    }
    return { ...base, rows, truncated: false };
  }

  /** The first instruction row of a source line (file: a path or basename; line 1-based), -1 if none. */
  rowOfSource(file: string, line: number): number {
    const log = this.log;
    for (let k = 0; k < log.insnLines.length; k++) {
      const li = log.insnLines[k]!;
      const s = log.sourceAt(li);
      if (s && s.line === line && (file === s.file || file.endsWith('/' + s.file) || file.endsWith('\\' + s.file)))
        return this.rowOfLine(li);
    }
    return -1;
  }
}
