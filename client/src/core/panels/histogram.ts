/**
 * Log2 histograms, the BCC / libbpf-tools pattern: an array (or hash) keyed by slot index whose
 * values are counts, or a value struct with a `slots` array (`struct hist { u32 slots[26]; }`).
 * Slot i counts values in [2^i, 2^(i+1)-1] (slot 0: [0, 1]), as bpf_log2l() buckets them.
 *
 * No `vscode` import.
 */
import { isPlainObject } from './value-format';

export interface Bucket {
  low: bigint;
  high: bigint;
  count: number;
}

export interface Histogram {
  /** the row the histogram came from (a `slots` struct keyed by e.g. comm), or "" for a slot-keyed map */
  label: string;
  buckets: Bucket[];
  total: number;
  /** unit guessed from names (usecs, nsecs, msecs, bytes), "" when unknown */
  unit: string;
}

const HIST_NAME = /hist|slot|dist|lat|log2/i;

/** Bucket bounds of log2 slot i. */
export function log2Bounds(i: number): { low: bigint; high: bigint } {
  const high = (1n << BigInt(i + 1)) - 1n;
  let low = (1n << BigInt(i + 1)) >> 1n;
  if (low === high) low -= 1n;
  return { low, high };
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/** Buckets from slot counts (trailing empty slots dropped, leading ones kept from slot 0). */
export function log2Buckets(slots: number[]): Bucket[] {
  let last = slots.length - 1;
  while (last > 0 && !slots[last]) last--;
  const out: Bucket[] = [];
  for (let i = 0; i <= last; i++) out.push({ ...log2Bounds(i), count: slots[i] ?? 0 });
  return out;
}

function unitOf(...names: string[]): string {
  const s = names.join(' ').toLowerCase();
  if (/usec|_us\b|micro/.test(s)) return 'usecs';
  if (/nsec|_ns\b|nano/.test(s)) return 'nsecs';
  if (/msec|_ms\b|milli/.test(s)) return 'msecs';
  if (/byte|size|len/.test(s)) return 'bytes';
  return '';
}

/**
 * Finds log2 histograms in a map's rows (values already summed over CPUs). Returns [] when the map
 * does not look like one: a slot-keyed map needs a histogram-like name (or value type), small
 * integer keys and integer values.
 */
export function detectHistograms(
  map: { name: string; type: string; value_type?: string | null; max_entries: number },
  rows: { key: unknown; value: unknown }[],
): Histogram[] {
  if (rows.length === 0) return [];
  // 1. values with a `slots` array: one histogram per row
  const first = rows[0].value;
  if (isPlainObject(first)) {
    const slotsKey = Object.keys(first).find((k) => /^slots?$|^buckets?$|hist/i.test(k) && Array.isArray(first[k]));
    if (slotsKey) {
      const out: Histogram[] = [];
      for (const r of rows) {
        const v = r.value as Record<string, unknown>;
        const arr = Array.isArray(v[slotsKey]) ? (v[slotsKey] as unknown[]).map((x) => num(x) ?? 0) : [];
        const others = Object.entries(v)
          .filter(([k]) => k !== slotsKey)
          .map(([k, x]) => `${k}=${typeof x === 'object' ? JSON.stringify(x) : String(x)}`);
        const label = [keyLabel(r.key), ...others].filter(Boolean).join(' ');
        const buckets = log2Buckets(arr);
        out.push({
          label,
          buckets,
          total: arr.reduce((a, b) => a + b, 0),
          unit: unitOf(map.name, map.value_type ?? ''),
        });
      }
      return out;
    }
  }
  // 2. a value that is itself an array of counts (a one-slot array of slots)
  if (
    Array.isArray(first) &&
    first.length >= 8 &&
    first.every((x) => num(x) !== undefined) &&
    HIST_NAME.test(`${map.name} ${map.value_type ?? ''}`)
  ) {
    return rows.map((r) => {
      const arr = (r.value as unknown[]).map((x) => num(x) ?? 0);
      return {
        label: keyLabel(r.key),
        buckets: log2Buckets(arr),
        total: arr.reduce((a, b) => a + b, 0),
        unit: unitOf(map.name),
      };
    });
  }
  // 3. slot-keyed: key = slot index, value = count
  if (!HIST_NAME.test(map.name) || !/array|hash/.test(map.type)) return [];
  if (map.max_entries > 128 && map.type.includes('array')) return [];
  const slots: number[] = [];
  for (const r of rows) {
    const k = num(r.key);
    const v = num(r.value);
    if (k === undefined || v === undefined || k > 127) return [];
    slots[k] = (slots[k] ?? 0) + v;
  }
  for (let i = 0; i < slots.length; i++) slots[i] ??= 0;
  return [{ label: '', buckets: log2Buckets(slots), total: slots.reduce((a, b) => a + b, 0), unit: unitOf(map.name) }];
}

function keyLabel(k: unknown): string {
  if (k === null || k === undefined) return '';
  return typeof k === 'object' ? JSON.stringify(k) : String(k);
}

/** Bucket text as BCC prints it: "      4 -> 7". */
export function bucketLabel(b: Bucket): string {
  return `${b.low} -> ${b.high}`;
}
