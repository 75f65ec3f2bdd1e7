/**
 * Decoded map values (the agent's BTF JSON) as table cells: columns from struct members, per-CPU
 * values summed, numbers in decimal or hex, untrusted strings made visible (control and bidi
 * characters escaped), and a total order for sorting.
 *
 * No `vscode` import.
 */
import { visibleText } from '../visible-text';

/** A column of the table: a path into the decoded key or value. */
export interface Column {
  /** "key", "key.pid", "value", "value.count", "value.in.b" */
  id: string;
  label: string;
  part: 'key' | 'value';
  path: string[];
  /** per-CPU maps: this CPU's value instead of the sum */
  cpu?: number;
}

export interface FormatOptions {
  /** integers shown in hex */
  hex?: boolean;
  /** arrays longer than this are shortened in cells */
  maxArray?: number;
  /** strings longer than this are cut */
  maxString?: number;
}

/** The columns of a decoded value: its leaf members (small arrays stay one column). */
export function columnsOf(part: 'key' | 'value', sample: unknown, maxDepth = 4): Column[] {
  const out: Column[] = [];
  const walk = (v: unknown, path: string[]) => {
    if (isPlainObject(v) && path.length < maxDepth && Object.keys(v).length > 0) {
      for (const k of Object.keys(v)) walk(v[k], [...path, k]);
      return;
    }
    const id = [part, ...path].join('.');
    out.push({ id, label: path.length ? path.join('.') : part, part, path });
  };
  walk(sample, []);
  return out;
}

/**
 * Per-CPU columns: each value column once more for every CPU ("count@cpu0"), after the summed ones, as many
 * as `max` allows.
 */
export function perCpuColumns(valueColumns: Column[], ncpus: number, max = 64): Column[] {
  const out: Column[] = [];
  for (let cpu = 0; cpu < ncpus; cpu++)
    for (const c of valueColumns) {
      if (out.length >= max) return out;
      out.push({ ...c, id: `${c.id}@cpu${cpu}`, label: `${c.label}@cpu${cpu}`, cpu });
    }
  return out;
}

/** The value at a column's path. */
export function cellValue(row: { key: unknown; value: unknown; perCpu?: unknown[] }, col: Column): unknown {
  let v: unknown = col.part === 'key' ? row.key : col.cpu !== undefined ? row.perCpu?.[col.cpu] : row.value;
  for (const p of col.path) {
    if (!isPlainObject(v)) return undefined;
    v = v[p];
  }
  return v;
}

/** One cell's text. Strings from the target are untrusted: shown as text, with invisible characters escaped. */
export function formatValue(v: unknown, o: FormatOptions = {}): string {
  if (v === undefined) return '';
  if (v === null) return 'null';
  if (typeof v === 'number') return o.hex && Number.isInteger(v) ? hexOf(BigInt(v)) : String(v);
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') {
    if (/^-?\d{16,}$/.test(v)) return o.hex ? hexOf(BigInt(v)) : v; // big integers arrive as decimal strings
    return visible(v, o.maxString ?? 256);
  }
  if (Array.isArray(v)) {
    const max = o.maxArray ?? 16;
    const items = v.slice(0, max).map((x) => formatValue(x, { ...o, maxArray: 4 }));
    return `[${items.join(', ')}${v.length > max ? `, … ${v.length} items` : ''}]`;
  }
  if (isPlainObject(v)) {
    const parts = Object.entries(v)
      .slice(0, 8)
      .map(([k, x]) => `${visible(k, 64)}: ${formatValue(x, { ...o, maxArray: 4 })}`);
    return `{${parts.join(', ')}${Object.keys(v).length > 8 ? ', …' : ''}}`;
  }
  return String(v);
}

function hexOf(n: bigint): string {
  return n < 0n ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

/** Target text made visible (control, bidi and invisible characters escaped): the shared visibleText. */
export const visible = visibleText;

/** Per-CPU values (an array, one per CPU) summed member by member; non-numbers keep CPU 0's value. */
export function sumPerCpu(values: unknown[]): unknown {
  if (values.length === 0) return undefined;
  const first = values[0];
  if (typeof first === 'number' || isIntString(first)) {
    let big = false;
    let total = 0n;
    for (const v of values) {
      const n = toBig(v);
      if (n === undefined) return first;
      total += n;
      if (typeof v === 'string') big = true;
    }
    return !big && total <= BigInt(Number.MAX_SAFE_INTEGER) && total >= BigInt(Number.MIN_SAFE_INTEGER)
      ? Number(total)
      : total.toString();
  }
  if (Array.isArray(first))
    return first.map((_, i) => sumPerCpu(values.map((v) => (Array.isArray(v) ? v[i] : undefined))));
  if (isPlainObject(first)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(first)) out[k] = sumPerCpu(values.map((v) => (isPlainObject(v) ? v[k] : undefined)));
    return out;
  }
  return first;
}

/** Total order for sorting cells: numbers (also big ones in strings) numerically, then strings. */
export function compareValues(a: unknown, b: unknown): number {
  const na = numeric(a);
  const nb = numeric(b);
  if (na !== undefined && nb !== undefined) return na < nb ? -1 : na > nb ? 1 : 0;
  if (na !== undefined) return -1;
  if (nb !== undefined) return 1;
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function numeric(v: unknown): number | bigint | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    if (/^-?\d+$/.test(v)) return v.length > 15 ? BigInt(v) : Number(v);
    if (/^0x[0-9a-f]+$/i.test(v)) return BigInt(v);
  }
  return undefined;
}

function toBig(v: unknown): bigint | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (isIntString(v)) return BigInt(v as string);
  return undefined;
}

function isIntString(v: unknown): boolean {
  return typeof v === 'string' && /^-?\d+$/.test(v);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A stable identity of a decoded key (the row's id). */
export function keyId(key: unknown): string {
  return typeof key === 'number' ? String(key) : JSON.stringify(key);
}
