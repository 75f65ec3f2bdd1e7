/**
 * Controllers of the streaming panels: ring buffer / perf buffer records (ringbuf_subscribe,
 * perfbuf_subscribe), bpf_printk output (trace_subscribe) and program statistics (prog_stats).
 * Events go into an EventStream (bounded, counted) and reach the webview in coalesced batches of
 * text cells.
 *
 * No `vscode` import.
 */
import { parseFilter } from './row-filter';
import { Coalescer, EventStream } from './event-stream';
import type { ColumnMsg, FromWebview, PanelAgent, Post, StreamUiState } from './panel-messages';
import { ProgStatsTracker, type StatReading } from './prog-stats';
import { toCsv, toJson } from './export-rows';
import { cellValue, columnsOf, formatValue, type Column } from './value-format';

export interface StreamControllerBase {
  agent: PanelAgent;
  post: Post;
  log?: (msg: string) => void;
  state?: Partial<StreamUiState>;
  onState?: (s: StreamUiState) => void;
  save?: (format: 'csv' | 'json', text: string, suggestedName: string) => Promise<void>;
  /** history rows kept */
  history?: number;
  /** ms between batches to the view */
  tickMs?: number;
}

/** A record of a ring buffer or perf buffer, as kept in history. */
export interface RecordRow {
  seq: number;
  /** ms since the panel opened */
  t: number;
  cpu?: number;
  size: number;
  data: unknown;
}

export interface EventsControllerOptions extends StreamControllerBase {
  map: { id: number; name: string; type: string };
  /** record types suggested from the object's BTF, best first */
  typeChoices: string[];
  /** a map of the same object that counts failed reservations (read once a second), if any */
  dropsMap?: { id: number; name: string };
}

const DEFAULT_STREAM: StreamUiState = { paused: false, filter: '', follow: true };

abstract class StreamController<T> {
  protected readonly stream: EventStream<T>;
  protected state: StreamUiState;
  protected readonly coalescer: Coalescer;
  protected disposed = false;
  protected columns: Column[] = [];
  private tickTimer: ReturnType<typeof setInterval> | undefined;

  constructor(protected readonly base: StreamControllerBase) {
    this.state = { ...DEFAULT_STREAM, ...base.state };
    this.stream = new EventStream<T>({ history: base.history ?? 10_000 });
    this.coalescer = new Coalescer(() => this.flush(), base.tickMs ?? 100);
    // the rate and counts move even when nothing arrives
    this.tickTimer = setInterval(() => this.coalescer.poke(), 1000);
    this.stream.setPaused(this.state.paused);
  }

  /** Text cells of one row. */
  protected abstract cells(row: T): string[];
  protected abstract columnMsgs(): ColumnMsg[];
  protected abstract filterRow(row: T): { key: unknown; value: unknown };

  /** Builds and sends the batch of this tick. */
  flush(): void {
    if (this.disposed) return;
    const b = this.stream.takeBatch();
    if (!b) return;
    void this.base.post({
      type: 'stream-batch',
      rows: b.rows.map((r) => this.cells(r)),
      reset: b.reset,
      stats: { ...b.stats },
    });
  }

  /** Sends a new view the whole matching history at once. */
  private replay(): void {
    if (this.disposed) return;
    const b = this.stream.replay();
    void this.base.post({
      type: 'stream-batch',
      rows: b.rows.map((r) => this.cells(r)),
      reset: true,
      stats: { ...b.stats },
    });
  }

  protected setFilter(text: string): void {
    this.state.filter = text;
    if (!text.trim()) this.stream.setFilter(undefined);
    else {
      const f = parseFilter(text, this.columns);
      this.stream.setFilter((r) => f.test(this.filterRow(r)));
    }
    this.coalescer.poke();
  }

  async handle(msg: FromWebview): Promise<void> {
    switch (msg.type) {
      case 'ready':
        if (msg.state) {
          if (msg.state.filter !== undefined) this.setFilter(msg.state.filter);
          if (msg.state.paused !== undefined) this.stream.setPaused((this.state.paused = msg.state.paused));
        }
        this.sendInit();
        this.setFilter(this.state.filter);
        this.replay();
        break;
      case 'pause':
        this.state.paused = msg.paused;
        this.stream.setPaused(msg.paused);
        this.coalescer.poke();
        break;
      case 'filter':
        this.setFilter(msg.text);
        break;
      case 'clear':
        this.stream.clear();
        this.coalescer.poke();
        break;
      case 'follow':
        this.state.follow = msg.on;
        break;
      case 'export': {
        const rows = this.stream.history();
        const cols = this.columns;
        const asRows = rows.map((r) => this.filterRow(r));
        const text = msg.format === 'csv' ? toCsv(cols, asRows) : toJson(asRows);
        await this.base.save?.(msg.format, text, `${this.exportName()}.${msg.format}`);
        void this.base.post({ type: 'status', text: `exported ${rows.length} rows as ${msg.format.toUpperCase()}` });
        break;
      }
      default:
        await this.handleOther(msg);
    }
    this.base.onState?.({ ...this.state });
  }

  protected async handleOther(_msg: FromWebview): Promise<void> {}
  protected abstract sendInit(): void;
  protected abstract exportName(): string;

  async dispose(): Promise<void> {
    this.disposed = true;
    this.coalescer.dispose();
    if (this.tickTimer) clearInterval(this.tickTimer);
  }
}

/** Ring buffer and perf buffer records, decoded with the struct type the user picked. */
export class EventsController extends StreamController<RecordRow> {
  private sub: number | undefined;
  private seq = 0;
  private readonly opened = Date.now();
  private type: string | null;
  private dropsTimer: ReturnType<typeof setInterval> | undefined;
  /** the subscription's total from unsubscribe / the latest events_dropped */
  delivered = 0;
  private readonly onEvent = (ev: { subscription: number; cpu?: number; size: number; data: unknown }) => {
    if (ev.subscription !== this.sub) return;
    const row: RecordRow = { seq: ++this.seq, t: Date.now() - this.opened, cpu: ev.cpu, size: ev.size, data: ev.data };
    if (this.columns.length <= 3) this.learnColumns(ev.data);
    this.stream.push(row);
    this.coalescer.poke();
  };
  private readonly onDropped = (ev: { subscription: number; dropped: number; lost: number; delivered: number }) => {
    if (ev.subscription !== this.sub) return;
    this.stream.drops(ev);
    this.delivered = ev.delivered;
    this.coalescer.poke();
  };

  constructor(private readonly o: EventsControllerOptions) {
    super(o);
    this.type = o.state?.type !== undefined ? o.state.type : (o.typeChoices[0] ?? null);
    o.agent.on('ringbuf_event', this.onEvent as never);
    o.agent.on('events_dropped', this.onDropped as never);
    this.learnColumns(undefined);
  }

  get subscription(): number | undefined {
    return this.sub;
  }

  get received(): number {
    return this.stream.stats.received;
  }

  /** The stream's counts (received, rate, drops of every kind). */
  get stats(): Readonly<import('./event-stream').StreamStats> {
    return this.stream.stats;
  }

  private learnColumns(sample: unknown): void {
    const fixed: Column[] = [
      { id: 'key.seq', label: '#', part: 'key', path: ['seq'] },
      { id: 'key.t', label: 'time (s)', part: 'key', path: ['t'] },
      ...(this.o.map.type.includes('perf')
        ? [{ id: 'key.cpu', label: 'cpu', part: 'key' as const, path: ['cpu'] }]
        : []),
    ];
    const data =
      sample === undefined
        ? []
        : columnsOf('value', sample).map((c) => ({ ...c, label: c.path.length ? c.path.join('.') : 'data' }));
    this.columns = [...fixed, ...data];
    if (sample !== undefined) this.sendInit();
  }

  protected columnMsgs(): ColumnMsg[] {
    return this.columns.map((c) => ({ id: c.id, label: c.label }));
  }

  protected filterRow(r: RecordRow): { key: unknown; value: unknown } {
    return { key: { seq: r.seq, t: r.t / 1000, cpu: r.cpu }, value: r.data };
  }

  protected cells(r: RecordRow): string[] {
    const fr = this.filterRow(r);
    return this.columns.map((c) => (c.id === 'key.t' ? (r.t / 1000).toFixed(3) : formatValue(cellValue(fr, c))));
  }

  protected sendInit(): void {
    void this.base.post({
      type: 'stream-init',
      title: `${this.o.map.name} (${this.o.map.type}, map ${this.o.map.id})`,
      columns: this.columnMsgs(),
      state: { ...this.state, type: this.type },
      choices: { types: this.o.typeChoices, current: this.type },
    });
  }

  protected exportName(): string {
    return `${this.o.map.name}-events`;
  }

  /** Subscribes with the chosen record type (null: raw bytes as hex). */
  async start(): Promise<void> {
    this.sendInit();
    const method = this.o.map.type.includes('perf') ? 'perfbuf_subscribe' : 'ringbuf_subscribe';
    const r = (await this.o.agent.request(method, {
      map_id: this.o.map.id,
      ...(this.type ? { type: this.type } : {}),
    })) as { subscription: number };
    this.sub = r.subscription;
    if (this.o.dropsMap && !this.dropsTimer) {
      const dm = this.o.dropsMap;
      this.dropsTimer = setInterval(() => {
        void this.o.agent
          .request('map_dump', { map_id: dm.id, limit: 16 })
          .then((d) => {
            const entries = (d as { entries: { value: unknown }[] }).entries;
            const n = entries.reduce(
              (a, e) =>
                a +
                (typeof e.value === 'number'
                  ? e.value
                  : Array.isArray(e.value)
                    ? e.value.reduce((x: number, y) => x + (Number(y) || 0), 0)
                    : 0),
              0,
            );
            this.stream.stats.programDropped = n;
          })
          .catch(() => undefined);
      }, 1000);
    }
  }

  private async stop(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    if (sub !== undefined && !this.o.agent.isClosed) {
      const r = (await this.o.agent.request('unsubscribe', { subscription: sub }).catch(() => undefined)) as
        { delivered?: number; dropped?: number; lost?: number } | undefined;
      if (r?.delivered !== undefined) this.delivered = r.delivered;
      if (r?.dropped !== undefined) this.stream.drops({ dropped: r.dropped, lost: r.lost ?? 0 });
    }
  }

  protected override async handleOther(msg: FromWebview): Promise<void> {
    if (msg.type === 'record-type') {
      this.type = msg.name;
      this.state.type = msg.name;
      await this.stop();
      this.stream.clear();
      this.learnColumns(undefined);
      this.sendInit();
      await this.start().catch((e: Error) => void this.base.post({ type: 'status', text: e.message, error: true }));
    }
  }

  /** Unsubscribes; resolves after the agent has delivered what was in the ring. */
  override async dispose(): Promise<void> {
    if (this.dropsTimer) clearInterval(this.dropsTimer);
    await this.stop();
    // the unsubscribe reply follows the last records: they are counted
    this.o.agent.off('ringbuf_event', this.onEvent as never);
    this.o.agent.off('events_dropped', this.onDropped as never);
    await super.dispose();
  }
}

/** One trace_pipe line. */
export interface TraceRow {
  timestamp?: number;
  task?: string;
  pid?: number;
  cpu?: number;
  fn?: string | null;
  message: string;
}

/** bpf_printk output from trace_pipe: time, process, pid, CPU, message. */
export class TraceController extends StreamController<TraceRow> {
  private sub: number | undefined;
  private readonly onLine = (ev: {
    subscription: number;
    line: string;
    task?: string;
    pid?: number;
    cpu?: number;
    timestamp?: number;
    function?: string | null;
    message?: string;
  }) => {
    if (ev.subscription !== this.sub) return;
    this.stream.push({
      timestamp: ev.timestamp,
      task: ev.task,
      pid: ev.pid,
      cpu: ev.cpu,
      fn: ev.function,
      message: ev.message ?? ev.line,
    });
    this.coalescer.poke();
  };

  constructor(private readonly o: StreamControllerBase & { filter?: string }) {
    super(o);
    this.columns = ['time', 'task', 'pid', 'cpu', 'function', 'message'].map((n) => ({
      id: `value.${n}`,
      label: n,
      part: 'value' as const,
      path: [n],
    }));
    o.agent.on('trace_line', this.onLine as never);
  }

  get received(): number {
    return this.stream.stats.received;
  }

  protected columnMsgs(): ColumnMsg[] {
    return this.columns.map((c) => ({ id: c.id, label: c.label }));
  }

  protected filterRow(r: TraceRow): { key: unknown; value: unknown } {
    return {
      key: null,
      value: { time: r.timestamp, task: r.task, pid: r.pid, cpu: r.cpu, function: r.fn, message: r.message },
    };
  }

  protected cells(r: TraceRow): string[] {
    return [
      r.timestamp !== undefined ? r.timestamp.toFixed(6) : '',
      formatValue(r.task ?? ''),
      r.pid !== undefined ? String(r.pid) : '',
      r.cpu !== undefined ? String(r.cpu) : '',
      formatValue(r.fn ?? ''),
      formatValue(r.message, { maxString: 4096 }),
    ];
  }

  protected sendInit(): void {
    void this.base.post({
      type: 'stream-init',
      title: 'bpf_printk (trace_pipe)',
      columns: this.columnMsgs(),
      state: this.state,
    });
  }

  protected exportName(): string {
    return 'trace';
  }

  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Subscribes to trace_pipe. trace_pipe has one reader at a time: while another one holds it (busy), the panel
   * says so and tries again every `retryMs` until it gets it; other errors are thrown.
   */
  async start(retryMs = 2000): Promise<void> {
    this.sendInit();
    try {
      const r = (await this.o.agent.request('trace_subscribe', this.o.filter ? { filter: this.o.filter } : {})) as {
        subscription: number;
      };
      if (this.disposed) {
        await this.o.agent.request('unsubscribe', { subscription: r.subscription }).catch(() => undefined);
        return;
      }
      this.sub = r.subscription;
      void this.base.post({ type: 'status', text: '' });
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code !== 'busy' && !/busy/i.test(err.message)) throw e;
      void this.base.post({
        type: 'status',
        text: `${err.message} (trying again every ${retryMs / 1000} s)`,
        error: true,
      });
      if (!this.disposed) this.retryTimer = setTimeout(() => void this.start(retryMs).catch(() => undefined), retryMs);
    }
  }

  override async dispose(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.disposed = true;
    const sub = this.sub;
    this.sub = undefined;
    if (sub !== undefined && !this.o.agent.isClosed)
      await this.o.agent.request('unsubscribe', { subscription: sub }).catch(() => undefined);
    this.o.agent.off('trace_line', this.onLine as never);
    await super.dispose();
  }
}

export interface StatsControllerOptions {
  agent: PanelAgent;
  post: Post;
  /** the programs to show (ids and types), read again on every poll */
  programs: () => { id: number; name: string; type: string }[];
  intervalMs?: number;
  log?: (msg: string) => void;
}

/** Program run counts and run time, polled with prog_stats (bpf_enable_stats on the target). */
export class StatsController {
  private readonly tracker = new ProgStatsTracker();
  private timer: ReturnType<typeof setInterval> | undefined;
  private paused = false;
  private busy = false;

  constructor(private readonly o: StatsControllerOptions) {}

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.o.intervalMs ?? 1000);
  }

  async handle(msg: FromWebview): Promise<void> {
    if (msg.type === 'pause') this.paused = msg.paused;
    if (msg.type === 'ready' || msg.type === 'refresh') await this.poll(true);
  }

  async poll(force = false): Promise<void> {
    if ((this.paused && !force) || this.busy || this.o.agent.isClosed) return;
    const progs = this.o.programs();
    this.busy = true;
    try {
      const types = new Map(progs.map((p) => [p.id, p.type]));
      const r = progs.length
        ? ((await this.o.agent.request('prog_stats', { ids: progs.map((p) => p.id), enable: true })) as {
            enabled: boolean;
            programs: StatReading[];
          })
        : { enabled: true, programs: [] };
      const rows = this.tracker.update(Date.now(), r.programs);
      void this.o.post({
        type: 'stats-rows',
        enabled: r.enabled,
        at: Date.now(),
        rows: rows.map((x) => ({
          id: x.id,
          name: x.name,
          type: types.get(x.id) ?? '',
          runs: x.runs.toLocaleString('en-US'),
          runsPerSec: x.runsPerSec.toFixed(x.runsPerSec < 10 ? 1 : 0),
          avgNs: x.avgNs === null ? '' : x.avgNs.toFixed(0),
          avgNsRecent: x.avgNsRecent === null ? '' : x.avgNsRecent.toFixed(0),
          cpuPercent: x.cpuPercent.toFixed(3),
          runTime: (x.runTimeNs / 1e6).toFixed(3),
          misses: String(x.recursionMisses),
          series: x.series,
        })),
      });
    } catch (e) {
      void this.o.post({ type: 'status', text: `prog_stats: ${(e as Error).message}`, error: true });
    } finally {
      this.busy = false;
    }
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
