/**
 * Export of the current view as CSV (RFC 4180) or JSON. Cells that a spreadsheet would run as a
 * formula (=, +, -, @ at the start of a string from the target) are prefixed with a quote.
 *
 * No `vscode` import.
 */
import { cellValue, formatValue, type Column } from './value-format';

export interface ExportRow {
  key: unknown;
  value: unknown;
  perCpu?: unknown[];
}

function csvCell(v: unknown): string {
  let s: string;
  if (v === undefined || v === null) s = '';
  else if (typeof v === 'number' || typeof v === 'boolean') s = String(v);
  else if (typeof v === 'string') {
    s = v;
    // a string from the target must not become a formula; numbers in strings (big ints) are data
    if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  } else s = JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as CSV: one column per table column (nested values as JSON), CRLF line ends. */
export function toCsv(columns: Column[], rows: ExportRow[]): string {
  const lines = [columns.map((c) => csvCell(c.id)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(cellValue(r, c))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Rows as a JSON array of {key, value} (per-CPU maps: value summed, per_cpu as read). */
export function toJson(rows: ExportRow[], meta: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      ...meta,
      exported_at: new Date().toISOString(),
      entries: rows.map((r) =>
        r.perCpu ? { key: r.key, value: r.value, per_cpu: r.perCpu } : { key: r.key, value: r.value },
      ),
    },
    null,
    2,
  );
}

/** Cells of one row as text (for the table). */
export function rowCells(columns: Column[], row: ExportRow, hex = false): string[] {
  return columns.map((c) => formatValue(cellValue(row, c), { hex }));
}
