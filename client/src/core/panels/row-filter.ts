/**
 * The map table's filter language: space-separated terms, all of which must match a row.
 * A term is free text (found anywhere in the row, case-insensitive) or `column op value` with op one
 * of `= != > < >= <= ~` (`~`: contains). Columns are named as their headers (`count`, `in.a`,
 * `key`, `value.comm`).
 *
 * No `vscode` import.
 */
import { cellValue, compareValues, formatValue, type Column } from './value-format';

export interface FilterRow {
  key: unknown;
  value: unknown;
}

export type RowPredicate = (row: FilterRow) => boolean;

export interface ParsedFilter {
  test: RowPredicate;
  /** problems with the expression (unknown columns), shown under the filter box */
  errors: string[];
}

const TERM = /^([A-Za-z_][\w.[\]@]*)\s*(!=|>=|<=|=|>|<|~)\s*(.*)$/;

/** Splits on spaces outside double quotes. */
function terms(text: string): string[] {
  const out: string[] = [];
  const re = /(?:[^\s"]+|"[^"]*")+/g;
  for (const m of text.matchAll(re)) out.push(m[0]);
  return out;
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

/** Compiles a filter expression against the table's columns. */
export function parseFilter(text: string, columns: Column[]): ParsedFilter {
  const errors: string[] = [];
  const preds: RowPredicate[] = [];
  for (const raw of terms(text.trim())) {
    const m = TERM.exec(raw);
    if (!m) {
      const needle = unquote(raw).toLowerCase();
      preds.push((row) => rowText(row).includes(needle));
      continue;
    }
    const [, name, op, rawVal] = m;
    const col =
      columns.find((c) => c.label === name || c.id === name) ?? columns.find((c) => c.id.endsWith(`.${name}`));
    if (!col) {
      errors.push(`no column '${name}' (columns: ${columns.map((c) => c.label).join(', ')})`);
      continue;
    }
    const want = unquote(rawVal);
    const wantNum = /^-?(\d+|0x[0-9a-f]+)$/i.test(want) ? want : undefined;
    preds.push((row) => {
      const v = cellValue(row, col);
      if (op === '~') return formatValue(v).toLowerCase().includes(want.toLowerCase());
      const c = wantNum !== undefined ? compareValues(v, wantNum) : compareText(formatValue(v), want);
      switch (op) {
        case '=':
          return c === 0;
        case '!=':
          return c !== 0;
        case '>':
          return c > 0;
        case '<':
          return c < 0;
        case '>=':
          return c >= 0;
        default:
          return c <= 0;
      }
    });
  }
  return { test: (row) => preds.every((p) => p(row)), errors };
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const textCache = new WeakMap<object, string>();
/** The row as lower-case text (for free-text terms and search). */
export function rowText(row: FilterRow): string {
  const hit = typeof row === 'object' ? textCache.get(row) : undefined;
  if (hit !== undefined) return hit;
  const s = `${JSON.stringify(row.key)} ${JSON.stringify(row.value)}`.toLowerCase();
  if (typeof row === 'object') textCache.set(row, s);
  return s;
}
