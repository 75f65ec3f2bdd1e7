/**
 * The map panel's data: entries fetched from the agent page by page with map_dump cursors, a
 * bounded cache of pages for maps too big to hold (a million entries: the first page shows at once,
 * others are fetched as the view scrolls and dropped least-recently-used), and, for maps that fit,
 * every entry in memory with map_watch diffs applied, filtering and sorting.
 *
 * No `vscode` import.
 */
import { parseFilter } from './row-filter';
import { cellValue, columnsOf, compareValues, keyId, perCpuColumns, sumPerCpu, type Column } from './value-format';

/** One entry as the agent sends it (map_dump / map_snapshot). */
export interface RawEntry {
  key: unknown;
  value: unknown;
}

/** One row of the table. */
export interface Row {
  id: string;
  key: unknown;
  /** the value; per-CPU maps: the sum over CPUs */
  value: unknown;
  /** per-CPU maps: one value per CPU */
  perCpu?: unknown[];
  /** generation of the last change (0: unchanged since the first read) */
  changed: number;
}

export interface PageReply {
  entries: RawEntry[];
  cursor: string | null;
  done: boolean;
}

/** Fetches one page of map_dump from a cursor (undefined: the start). */
export type FetchPage = (cursor: string | undefined, limit: number) => Promise<PageReply>;

export interface MapTableOptions {
  percpu: boolean;
  /** rows per fetched page when scrolling a big map */
  pageSize?: number;
  /** maps with at most this many entries are held whole (filter, sort, live diffs) */
  fullLimit?: number;
  /** pages held in paged mode */
  maxCachedPages?: number;
  /** rows held in paged mode */
  maxCachedRows?: number;
}

/** rows read per request when jumping far past what was read (only the cursors are kept) */
const SKIP_LIMIT = 50_000;

interface Page {
  /** the cursor that fetches this page (undefined: the start of the map) */
  cursor: string | undefined;
  /** where the next page starts; null at the end */
  next: string | null;
  count: number;
  rows: Row[] | undefined;
  used: number;
}

export interface WindowReply {
  rows: Row[];
  /** index of rows[0] in the view */
  start: number;
  /** rows in the view (paged mode: loaded so far, plus a page when more remain) */
  total: number;
  /** every entry is known (full mode) */
  complete: boolean;
  /** entries read from the map (whole map in full mode) */
  loaded: number;
  filterErrors: string[];
  /** paged mode: sort and filter need the whole map */
  note?: string;
}

export interface SortSpec {
  column: string;
  descending: boolean;
}

export class MapTable {
  readonly percpu: boolean;
  readonly pageSize: number;
  readonly fullLimit: number;
  private readonly maxCachedPages: number;
  private readonly maxCachedRows: number;
  private pages: Page[] = [];
  private doneReading = false;
  /** full mode: every entry, by key id */
  private all: Map<string, Row> | undefined;
  private view: Row[] | undefined;
  private sort: SortSpec | undefined;
  private filterText = '';
  private filterErrors: string[] = [];
  private generation = 0;
  private clock = 0;
  private columnsValue: Column[] = [];

  constructor(
    private readonly fetch: FetchPage,
    o: MapTableOptions,
  ) {
    this.percpu = o.percpu;
    this.pageSize = o.pageSize ?? 1000;
    this.fullLimit = o.fullLimit ?? 100_000;
    this.maxCachedPages = o.maxCachedPages ?? 64;
    this.maxCachedRows = o.maxCachedRows ?? Math.max(this.fullLimit, 200_000);
  }

  /** True when every entry is held (small maps): live diffs, filter and sort over the whole map. */
  get complete(): boolean {
    return this.all !== undefined;
  }

  get columns(): Column[] {
    return this.columnsValue;
  }

  /** Rows read so far (full mode: the map's entry count). */
  get loaded(): number {
    return this.all ? this.all.size : this.pages.reduce((n, p) => n + p.count, 0);
  }

  get changeGeneration(): number {
    return this.generation;
  }

  /** Reads the first page (what the user sees first), nothing more. */
  async open(): Promise<void> {
    const first = await this.fetch(undefined, this.pageSize);
    this.pages = [
      {
        cursor: undefined,
        next: first.cursor,
        count: first.entries.length,
        rows: this.toRows(first.entries, 0),
        used: ++this.clock,
      },
    ];
    this.doneReading = first.done || first.cursor === null;
    this.updateColumns();
    if (this.doneReading && this.loaded <= this.fullLimit) this.becomeComplete();
  }

  /**
   * Reads on until the map ends or `fullLimit` entries are read: a map that fits becomes complete.
   * Returns whether it did. Bigger maps stay paged (cursors kept, pages fetched on demand).
   */
  async loadAll(batch = 20_000): Promise<boolean> {
    if (this.all) return true;
    while (!this.doneReading && this.loaded < this.fullLimit) {
      const last = this.pages[this.pages.length - 1];
      const r = await this.fetch(last.next ?? undefined, batch);
      this.pages.push({
        cursor: last.next ?? undefined,
        next: r.cursor,
        count: r.entries.length,
        rows: this.toRows(r.entries, 0),
        used: ++this.clock,
      });
      this.doneReading = r.done || r.cursor === null;
    }
    if (this.doneReading && this.loaded <= this.fullLimit) {
      this.becomeComplete();
      return true;
    }
    this.evict();
    return false;
  }

  /** Re-reads the whole map (full mode) and marks what changed. */
  async reloadAll(): Promise<void> {
    const entries: RawEntry[] = [];
    let cursor: string | undefined;
    for (;;) {
      const r = await this.fetch(cursor, 50_000);
      entries.push(...r.entries);
      if (r.done || r.cursor === null) break;
      cursor = r.cursor;
    }
    this.replaceAll(entries);
  }

  setSort(s: SortSpec | undefined): void {
    this.sort = s;
    this.view = undefined;
  }

  setFilter(text: string): void {
    this.filterText = text;
    this.view = undefined;
  }

  /** Applies a map_watch snapshot: full ones replace everything, others carry changes and removals. */
  applySnapshot(ev: { full: boolean; entries: RawEntry[]; removed: unknown[] }): void {
    if (!this.all) return;
    if (ev.full) {
      this.replaceAll(ev.entries);
      return;
    }
    const gen = ++this.generation;
    for (const e of ev.entries) {
      const row = this.toRow(e, gen);
      this.all.set(row.id, row);
    }
    for (const k of ev.removed) this.all.delete(keyId(k));
    if (this.columnsValue.length === 0) this.updateColumns();
    this.view = undefined;
  }

  private replaceAll(entries: RawEntry[]): void {
    const old = this.all ?? new Map<string, Row>();
    const gen = ++this.generation;
    const next = new Map<string, Row>();
    for (const e of entries) {
      const id = keyId(e.key);
      const prev = old.get(id);
      const row = this.toRow(e, gen);
      if (prev && sameJson(prev.perCpu ?? prev.value, row.perCpu ?? row.value)) row.changed = prev.changed;
      next.set(id, row);
    }
    this.all = next;
    this.pages = [];
    this.doneReading = true;
    if (this.columnsValue.length === 0) this.updateColumns();
    this.view = undefined;
  }

  /** The rows from `start` (in the filtered, sorted view), fetching pages as needed. */
  async window(start: number, count: number): Promise<WindowReply> {
    start = Math.max(0, Math.floor(start));
    if (this.all) {
      const view = this.currentView();
      return {
        rows: view.slice(start, start + count),
        start,
        total: view.length,
        complete: true,
        loaded: this.all.size,
        filterErrors: this.filterErrors,
      };
    }
    // paged: walk the pages, fetching those not held and those past the end read so far
    const rows: Row[] = [];
    let offset = 0;
    for (let i = 0; rows.length < count; i++) {
      if (i >= this.pages.length) {
        if (this.doneReading) break;
        const last = this.pages[this.pages.length - 1];
        // a jump far past what was read: read on in big steps, keeping only the cursors
        const gap = start - offset;
        const limit = gap > this.pageSize * 4 ? Math.min(SKIP_LIMIT, gap - (gap % this.pageSize)) : this.pageSize;
        const r = await this.fetch(last.next ?? undefined, limit);
        const overlaps = offset + r.entries.length > start;
        this.pages.push({
          cursor: last.next ?? undefined,
          next: r.cursor,
          count: r.entries.length,
          rows: overlaps ? this.toRows(r.entries, 0) : undefined,
          used: ++this.clock,
        });
        this.doneReading = r.done || r.cursor === null;
      }
      const p = this.pages[i];
      if (offset + p.count > start) {
        if (!p.rows) await this.refetch(p, 0);
        p.used = ++this.clock;
        const from = Math.max(0, start - offset);
        rows.push(...p.rows!.slice(from, from + count - rows.length));
      }
      offset += p.count;
    }
    this.evict();
    const loaded = this.loaded;
    return {
      rows,
      start,
      total: loaded + (this.doneReading ? 0 : this.pageSize),
      complete: false,
      loaded,
      filterErrors: [],
      note:
        this.sort || this.filterText
          ? `sorting and filtering need the whole map in memory: this map has more than ${this.fullLimit} entries, so rows show in map order`
          : undefined,
    };
  }

  /**
   * Refreshes the pages that hold rows [start, start+count) in paged mode (the visible rows), marking
   * changed rows. Full mode is refreshed by map_watch (applySnapshot) or reloadAll().
   */
  async refreshWindow(start: number, count: number): Promise<void> {
    if (this.all) return;
    const gen = ++this.generation;
    let offset = 0;
    for (const p of this.pages) {
      if (offset >= start + count) break;
      if (offset + p.count > start && p.rows) await this.refetch(p, gen);
      offset += p.count;
    }
  }

  /** The index in the view of the next row (after `from`) whose text contains `needle`; -1 if none (held rows only). */
  search(needle: string, from: number, backwards = false): number {
    const n = needle.toLowerCase();
    const rows = this.all ? this.currentView() : this.pages.flatMap((p) => p.rows ?? new Array<Row>(p.count));
    const len = rows.length;
    for (let step = 1; step <= len; step++) {
      const i = (((from + (backwards ? -step : step)) % len) + len) % len;
      const r = rows[i];
      if (r && `${JSON.stringify(r.key)} ${JSON.stringify(r.value)}`.toLowerCase().includes(n)) return i;
    }
    return -1;
  }

  /** Every row of the current view (full mode), or the held rows (paged), for export. */
  exportRows(): Row[] {
    return this.all ? this.currentView() : this.pages.flatMap((p) => p.rows ?? []);
  }

  /** Every held row, unfiltered, in map order (histograms, plots). */
  allRows(): Row[] {
    return this.all ? [...this.all.values()] : this.pages.flatMap((p) => p.rows ?? []);
  }

  /** A row by its id, when held. */
  row(id: string): Row | undefined {
    return this.all?.get(id) ?? this.pages.flatMap((p) => p.rows ?? []).find((r) => r.id === id);
  }

  private currentView(): Row[] {
    if (this.view) return this.view;
    const rows = [...this.all!.values()];
    let out = rows;
    if (this.filterText.trim()) {
      const f = parseFilter(this.filterText, this.columnsValue);
      this.filterErrors = f.errors;
      out = rows.filter((r) => f.test(r));
    } else {
      this.filterErrors = [];
    }
    const s = this.sort;
    if (s) {
      const col = this.columnsValue.find((c) => c.id === s.column);
      if (col) {
        const dir = s.descending ? -1 : 1;
        // decorate: read each cell once
        const dec = out.map((r) => ({ r, v: cellValue(r, col) }));
        dec.sort((a, b) => dir * compareValues(a.v, b.v) || compareValues(a.r.key, b.r.key));
        out = dec.map((d) => d.r);
      }
    } else {
      out = out.slice().sort((a, b) => compareValues(a.key, b.key));
    }
    this.view = out;
    return out;
  }

  private becomeComplete(): void {
    const all = new Map<string, Row>();
    for (const p of this.pages) for (const r of p.rows ?? []) all.set(r.id, r);
    this.all = all;
    this.pages = [];
    this.view = undefined;
  }

  private async refetch(p: Page, gen: number): Promise<void> {
    const r = await this.fetch(p.cursor, Math.max(p.count, 1));
    const old = new Map((p.rows ?? []).map((x) => [x.id, x]));
    const rows = this.toRows(r.entries, gen);
    for (const row of rows) {
      const prev = old.get(row.id);
      if (prev && sameJson(prev.perCpu ?? prev.value, row.perCpu ?? row.value)) row.changed = prev.changed;
    }
    // the page's extent stays as first read: offsets of later pages must not move under the view
    p.rows = rows.slice(0, p.count);
    while (p.rows.length < p.count)
      p.rows.push({ id: `(gone ${p.rows.length})`, key: null, value: null, changed: gen });
    p.used = ++this.clock;
  }

  /** Drops the least recently used pages past the page and row budgets (the page just shown stays). */
  private evict(): void {
    const held = this.pages.filter((p) => p.rows);
    let rows = held.reduce((n, p) => n + p.count, 0);
    if (held.length <= this.maxCachedPages && rows <= this.maxCachedRows) return;
    held.sort((a, b) => a.used - b.used);
    let pages = held.length;
    for (const p of held) {
      if (pages <= this.maxCachedPages && rows <= this.maxCachedRows) break;
      if (p.used === this.clock) continue;
      p.rows = undefined;
      pages--;
      rows -= p.count;
    }
  }

  private toRows(entries: RawEntry[], gen: number): Row[] {
    const out = new Array<Row>(entries.length);
    for (let i = 0; i < entries.length; i++) out[i] = this.toRow(entries[i], gen);
    return out;
  }

  private toRow(e: RawEntry, gen: number): Row {
    if (this.percpu && Array.isArray(e.value))
      return { id: keyId(e.key), key: e.key, value: sumPerCpu(e.value), perCpu: e.value, changed: gen };
    return { id: keyId(e.key), key: e.key, value: e.value, changed: gen };
  }

  /** Shows each CPU's values as columns too (per-CPU maps). */
  setPerCpuColumns(on: boolean): void {
    this.perCpuColumns = on;
    this.updateColumns();
    this.view = undefined;
  }
  private perCpuColumns = false;

  private updateColumns(): void {
    const first = this.pages[0]?.rows?.[0] ?? this.all?.values().next().value;
    if (!first) return;
    const value = columnsOf('value', first.value);
    const cpus = this.perCpuColumns && first.perCpu ? perCpuColumns(value, first.perCpu.length) : [];
    this.columnsValue = [
      ...columnsOf('key', first.key),
      ...value.map((c) => (cpus.length ? { ...c, label: `${c.label} (sum)` } : c)),
      ...cpus,
    ];
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
