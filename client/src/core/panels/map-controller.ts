/**
 * The map panel's controller: reads the map through the agent (map_dump pages, then map_watch
 * diffs for maps that fit in memory, or re-reads of the visible pages for big ones), answers the
 * webview's viewport, sort, filter, search, edit, export and plot requests, and sends it only the
 * visible rows as text.
 *
 * No `vscode` import: the extension wraps it in a webview panel; tests and the benchmark drive it
 * directly with a real agent.
 */
import { visibleLines, visibleText } from '../visible-text';
import type { MapTypes } from './btf-types';
import { toCsv, toJson, rowCells } from './export-rows';
import { bucketLabel, detectHistograms } from './histogram';
import { MapTable, type PageReply, type Row } from './map-table';
import type { FromWebview, MapUiState, PanelAgent, Post, RowMsg } from './panel-messages';
import { CounterSeries } from './prog-stats';
import { editRequest, type EditOp } from './map-edit';
import { example } from './typed-input';
import { cellValue, formatValue } from './value-format';

export interface MapMeta {
  id: number;
  name: string;
  type: string;
  key_size: number;
  value_size: number;
  max_entries: number;
  key_type: string | null;
  value_type: string | null;
}

export interface MapControllerOptions {
  agent: PanelAgent;
  map: MapMeta;
  /** key and value types from the object's BTF (typed edits); raw sizes are checked without them */
  types?: MapTypes;
  ncpus: number;
  post: Post;
  save?: (format: 'csv' | 'json', text: string, suggestedName: string) => Promise<void>;
  log?: (msg: string) => void;
  state?: Partial<MapUiState>;
  onState?: (s: MapUiState) => void;
  pageSize?: number;
  fullLimit?: number;
  /** another program's map (not loaded from this window): shown, never written */
  readOnly?: boolean;
}

const PERCPU = /percpu/;
const DEFAULT_STATE: MapUiState = { intervalMs: 1000, paused: false, hex: false, filter: '' };

export class MapController {
  /** the rows (replaced by a paged table when a live map outgrows fullLimit) */
  table: MapTable;
  private state: MapUiState;
  private viewport = { start: 0, count: 100 };
  private watchSub: number | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private renderTimer: ReturnType<typeof setTimeout> | undefined;
  private renderSeq = 0;
  private disposed = false;
  private plot: { id: string; column: string; series: CounterSeries } | undefined;
  private readonly onSnapshot = (ev: {
    subscription: number;
    full: boolean;
    entries: { key: unknown; value: unknown }[];
    removed: unknown[];
  }) => {
    if (ev.subscription !== this.watchSub) return;
    this.table.applySnapshot(ev);
    // a live map that grew past what the panel holds goes on paged (cursor reads of the visible rows)
    if (this.table.loaded > this.table.fullLimit * 1.2) void this.demote();
    else this.scheduleRender();
  };
  /** refreshes seen (snapshots applied or pages re-read), for tests and the benchmark */
  renders = 0;

  constructor(private readonly o: MapControllerOptions) {
    this.state = { ...DEFAULT_STATE, ...o.state };
    this.table = this.newTable();
    o.agent.on('map_snapshot', this.onSnapshot as never);
  }

  private newTable(): MapTable {
    return new MapTable((cursor, limit) => this.dump(cursor, limit), {
      percpu: PERCPU.test(this.o.map.type),
      pageSize: this.o.pageSize,
      fullLimit: this.o.fullLimit,
    });
  }

  private demoting = false;
  /** Drops the in-memory rows of a map that grew too big and reads it paged from the start. */
  private async demote(): Promise<void> {
    if (this.demoting) return;
    this.demoting = true;
    try {
      await this.stopRefresh();
      this.table = this.newTable();
      this.table.setSort(this.state.sort);
      this.table.setFilter(this.state.filter);
      await this.table.open();
      this.table.setPerCpuColumns(!!this.state.perCpu);
      await this.table.loadAll();
      void this.o.post({
        type: 'status',
        text: `the map grew past ${this.table.fullLimit} entries: rows now read page by page`,
      });
      this.postColumns();
      await this.render();
      await this.startRefresh();
    } finally {
      this.demoting = false;
    }
  }

  private async dump(cursor: string | undefined, limit: number): Promise<PageReply> {
    const r = (await this.o.agent.request('map_dump', { map_id: this.o.map.id, cursor, limit })) as PageReply;
    return { entries: r.entries, cursor: r.cursor, done: r.done };
  }

  /** Sends the panel its first page, then reads on and starts the live refresh. */
  async start(): Promise<void> {
    const m = this.o.map;
    const keyType = this.o.types?.key;
    const valueType = this.o.types?.value;
    void this.o.post({
      type: 'map-init',
      title: `${m.name} (map ${m.id})`,
      meta: {
        id: m.id,
        name: m.name,
        type: m.type,
        key: m.key_type ?? `${m.key_size} bytes`,
        value: m.value_type ?? `${m.value_size} bytes`,
        max_entries: m.max_entries,
        percpu: this.table.percpu,
        cpus: this.o.ncpus,
      },
      editable: !this.o.readOnly && !/rodata/.test(m.name),
      keyHint: keyType ? example(keyType) : `${m.key_size * 2} hex digits`,
      valueHint: valueType
        ? example(valueType) + (this.table.percpu ? ' (one for every CPU, or a JSON array of one per CPU)' : '')
        : `${m.value_size * 2} hex digits`,
      state: this.state,
    });
    this.table.setSort(this.state.sort);
    this.table.setFilter(this.state.filter);
    await this.table.open();
    this.table.setPerCpuColumns(!!this.state.perCpu);
    this.postColumns();
    await this.render();
    if (this.disposed) return;
    const complete = await this.table.loadAll();
    if (this.disposed) return;
    this.postColumns();
    await this.render();
    await this.startRefresh();
    void complete;
  }

  /** One message from the webview. */
  async handle(msg: FromWebview): Promise<void> {
    switch (msg.type) {
      case 'ready':
        // a webview shown again (or restored) asks for everything
        if (msg.state) this.applyUiState(msg.state);
        this.postColumns();
        await this.render();
        break;
      case 'viewport':
        this.viewport = { start: Math.max(0, msg.start | 0), count: Math.min(500, Math.max(1, msg.count | 0)) };
        await this.render();
        break;
      case 'sort':
        this.state.sort = msg.column ? { column: msg.column, descending: msg.descending } : undefined;
        this.table.setSort(this.state.sort);
        this.saveState();
        await this.render();
        break;
      case 'filter':
        this.state.filter = msg.text;
        this.table.setFilter(msg.text);
        this.saveState();
        await this.render();
        break;
      case 'search': {
        const i = this.table.search(msg.text, msg.from, msg.backwards);
        void this.o.post({ type: 'search-result', index: i, text: msg.text });
        break;
      }
      case 'interval':
        this.state.intervalMs = Math.max(100, Math.min(60_000, msg.ms | 0));
        this.saveState();
        await this.restartRefresh();
        break;
      case 'pause':
        this.state.paused = msg.paused;
        this.saveState();
        await this.restartRefresh();
        break;
      case 'hex':
        this.state.hex = msg.on;
        this.saveState();
        await this.render();
        break;
      case 'percpu':
        this.state.perCpu = msg.on;
        this.table.setPerCpuColumns(msg.on);
        this.saveState();
        this.postColumns();
        await this.render();
        break;
      case 'refresh':
        if (this.table.complete) await this.table.reloadAll();
        else await this.table.refreshWindow(this.viewport.start, this.viewport.count);
        await this.render();
        break;
      case 'select':
        this.postDetail(msg.id);
        break;
      case 'edit':
        await this.edit(msg.op, msg.key, msg.value);
        break;
      case 'export':
        await this.exportView(msg.format);
        break;
      case 'plot':
        this.plot = { id: msg.id, column: msg.column, series: new CounterSeries() };
        this.samplePlot();
        break;
      default:
        break;
    }
  }

  private applyUiState(s: Partial<MapUiState>): void {
    const before = `${this.state.intervalMs}/${this.state.paused}`;
    this.state = {
      ...this.state,
      ...pick(s, ['intervalMs', 'paused', 'hex', 'perCpu', 'sort', 'filter', 'scrollTop']),
    };
    this.table.setSort(this.state.sort);
    this.table.setFilter(this.state.filter);
    this.table.setPerCpuColumns(!!this.state.perCpu);
    if (before !== `${this.state.intervalMs}/${this.state.paused}`) void this.restartRefresh();
  }

  private saveState(): void {
    this.o.onState?.({ ...this.state });
  }

  private postColumns(): void {
    void this.o.post({ type: 'map-columns', columns: this.table.columns.map((c) => ({ id: c.id, label: c.label })) });
  }

  /** Sends the visible rows (only the latest of overlapping requests gets through). */
  async render(): Promise<void> {
    const seq = ++this.renderSeq;
    const { start, count } = this.viewport;
    const w = await this.table.window(start, count);
    if (seq !== this.renderSeq || this.disposed) return;
    const gen = this.table.changeGeneration;
    const cols = this.table.columns;
    const rows: RowMsg[] = w.rows.map((r) => ({
      id: r.id,
      cells: rowCells(cols, r, this.state.hex),
      changed: r.changed === gen && gen > 0,
    }));
    void this.o.post({
      type: 'map-window',
      start: w.start,
      total: w.total,
      complete: w.complete,
      loaded: w.loaded,
      rows,
      filterErrors: w.filterErrors,
      note: w.note,
      refreshedAt: Date.now(),
    });
    this.postHistograms();
    this.samplePlot();
  }

  private scheduleRender(): void {
    this.renders++;
    if (this.renderTimer || this.disposed) return;
    // coalesce: several snapshots in a burst make one message to the view
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      void this.render().catch((e: Error) => this.o.log?.(`map ${this.o.map.id}: ${e.message}`));
    }, 50);
  }

  private postHistograms(): void {
    const rows = this.table.allRows();
    if (rows.length === 0 || rows.length > 4096) return;
    const hs = detectHistograms(this.o.map, rows);
    if (hs.length === 0) return;
    void this.o.post({
      type: 'map-histograms',
      histograms: hs.slice(0, 32).map((h) => ({
        label: h.label,
        unit: h.unit,
        total: h.total,
        buckets: h.buckets.map((b) => ({ label: bucketLabel(b), count: b.count })),
      })),
    });
  }

  private samplePlot(): void {
    if (!this.plot) return;
    const row = this.table.row(this.plot.id);
    const col = this.table.columns.find((c) => c.id === this.plot!.column);
    if (!row || !col) return;
    const v = Number(cellValue(row, col));
    if (!Number.isFinite(v)) return;
    this.plot.series.add(Date.now(), v);
    void this.o.post({
      type: 'map-series',
      label: `${formatValue(row.key)} · ${col.label}`,
      values: this.plot.series.points.map((p) => p.v),
      rates: this.plot.series.rates().map((p) => p.v),
    });
  }

  private postDetail(id: string): void {
    const r = this.table.row(id);
    if (!r) return;
    void this.o.post({
      type: 'map-detail',
      id,
      key: visibleLines(JSON.stringify(r.key, null, 2)),
      value: visibleLines(JSON.stringify(r.value, null, 2)),
      perCpu: r.perCpu ? r.perCpu.map((v, i) => visibleText(`CPU ${i}: ${JSON.stringify(v)}`)) : null,
    });
  }

  /** A hidden panel stops refreshing (its webview is gone until shown again); the user's pause state is kept. */
  async setHidden(hidden: boolean): Promise<void> {
    if (hidden === this.hidden) return;
    this.hidden = hidden;
    await this.restartRefresh();
  }
  private hidden = false;

  private async startRefresh(): Promise<void> {
    if (this.disposed || this.state.paused || this.hidden) return;
    if (this.table.complete) {
      const r = (await this.o.agent.request('map_watch', {
        map_id: this.o.map.id,
        interval_ms: this.state.intervalMs,
      })) as { subscription: number };
      if (this.disposed || this.state.paused || this.hidden) {
        await this.o.agent.request('unsubscribe', { subscription: r.subscription }).catch(() => undefined);
        return;
      }
      this.watchSub = r.subscription;
    } else {
      this.pollTimer = setInterval(() => {
        void this.table
          .refreshWindow(this.viewport.start, this.viewport.count)
          .then(() => {
            this.renders++;
            return this.render();
          })
          .catch((e: Error) => this.o.log?.(`map ${this.o.map.id}: ${e.message}`));
      }, this.state.intervalMs);
    }
  }

  private async stopRefresh(): Promise<void> {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    const sub = this.watchSub;
    this.watchSub = undefined;
    if (sub !== undefined && !this.o.agent.isClosed)
      await this.o.agent.request('unsubscribe', { subscription: sub }).catch(() => undefined);
  }

  private async restartRefresh(): Promise<void> {
    await this.stopRefresh();
    await this.startRefresh();
  }

  private async edit(op: EditOp, keyText: string, valueText?: string): Promise<void> {
    const fail = (message: string) => void this.o.post({ type: 'edit-result', ok: false, message });
    if (this.o.readOnly) return fail("another program's map is read-only here");
    const req = editRequest(
      { map: this.o.map, types: this.o.types, percpu: this.table.percpu ? this.o.ncpus : undefined },
      op,
      keyText,
      valueText,
    );
    if (!req.ok) return fail(req.error);
    try {
      await this.o.agent.request(req.method, req.params);
    } catch (e) {
      return fail((e as Error).message);
    }
    void this.o.post({
      type: 'edit-result',
      ok: true,
      message: `${op === 'delete' ? 'deleted' : op === 'insert' ? 'inserted' : 'updated'} ${keyText.trim()}`,
    });
    if (this.table.complete) await this.table.reloadAll();
    else await this.table.refreshWindow(this.viewport.start, this.viewport.count);
    await this.render();
  }

  private async exportView(format: 'csv' | 'json'): Promise<void> {
    const rows: Row[] = this.table.exportRows();
    const text =
      format === 'csv'
        ? toCsv(this.table.columns, rows)
        : toJson(rows, {
            map: this.o.map.name,
            map_id: this.o.map.id,
            key_type: this.o.map.key_type,
            value_type: this.o.map.value_type,
            complete: this.table.complete,
          });
    await this.o.save?.(format, text, `${this.o.map.name}.${format}`);
    void this.o.post({
      type: 'status',
      text: `exported ${rows.length} rows as ${format.toUpperCase()}${this.table.complete ? '' : ' (the rows read so far: the map is larger than the panel holds)'}`,
    });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.renderTimer) clearTimeout(this.renderTimer);
    this.o.agent.off('map_snapshot', this.onSnapshot as never);
    await this.stopRefresh();
  }
}

function pick<T extends object>(o: Partial<T>, keys: (keyof T)[]): Partial<T> {
  const out: Partial<T> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
