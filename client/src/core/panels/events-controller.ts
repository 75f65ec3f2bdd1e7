/**
 * The events panel's controller: ring buffer and perf buffer records (ringbuf_subscribe, perfbuf_subscribe),
 * decoded with the struct type the user picked, counted with every kind of drop.
 *
 * No `vscode` import.
 */
import type { ColumnMsg, FromWebview } from './panel-messages';
import { StreamController, type StreamControllerBase } from './stream-controller';
import { cellValue, columnsOf, formatValue, type Column } from './value-format';

/** A ringbuf_event as the controller reads it. */
interface RecordEvent {
  subscription: number;
  map_id: number;
  cpu?: number;
  size: number;
  data: unknown;
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

/** Ring buffer and perf buffer records, decoded with the struct type the user picked. */
export class EventsController extends StreamController<RecordRow> {
  private sub: number | undefined;
  /** the subscription being ended: the agent delivers what was in the buffer before it replies */
  private draining: number | undefined;
  private seq = 0;
  private readonly opened = Date.now();
  private type: string | null;
  private dropsTimer: ReturnType<typeof setInterval> | undefined;
  /** the subscription's total from unsubscribe / the latest events_dropped */
  delivered = 0;
  /**
   * Records of this map that arrive while the subscribe request is in flight: the agent writes its reply before the
   * first records, but a chunk holding both is dispatched before the awaited reply resumes start(), so the records
   * come first here. Kept until the reply says which subscription is ours.
   */
  private early: RecordEvent[] | undefined;
  private readonly onEvent = (ev: RecordEvent) => {
    if (ev.subscription !== this.sub && ev.subscription !== this.draining) {
      if (this.early && ev.map_id === this.o.map.id && this.early.length < 1_000_000) this.early.push(ev);
      return;
    }
    this.take(ev);
  };
  private take(ev: RecordEvent): void {
    const row: RecordRow = { seq: ++this.seq, t: Date.now() - this.opened, cpu: ev.cpu, size: ev.size, data: ev.data };
    if (this.columns.length <= 3) this.learnColumns(ev.data);
    this.stream.push(row);
    this.coalescer.poke();
  }
  private readonly onDropped = (ev: {
    subscription: number;
    dropped: number;
    lost: number;
    delivered: number;
    skipped?: number;
  }) => {
    if (ev.subscription !== this.sub && ev.subscription !== this.draining) return;
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
    this.early = [];
    const r = (await this.o.agent
      .request(method, {
        map_id: this.o.map.id,
        ...(this.type ? { type: this.type } : {}),
        ...this.rateParams(),
      })
      .catch((e: unknown) => {
        this.early = undefined;
        throw e;
      })) as { subscription: number };
    const early = this.early ?? [];
    this.early = undefined;
    this.sub = r.subscription;
    for (const ev of early) if (ev.subscription === r.subscription) this.take(ev);
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
    this.draining = sub;
    if (sub !== undefined && !this.o.agent.isClosed) {
      const r = (await this.o.agent.request('unsubscribe', { subscription: sub }).catch(() => undefined)) as
        { delivered?: number; dropped?: number; lost?: number; skipped?: number } | undefined;
      if (r?.delivered !== undefined) this.delivered = r.delivered;
      if (r?.dropped !== undefined) this.stream.drops({ dropped: r.dropped, lost: r.lost ?? 0, skipped: r.skipped });
      this.coalescer.poke();
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
