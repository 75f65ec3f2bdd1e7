/**
 * The base of the streaming panels' controllers (ring buffer / perf records, bpf_printk lines): events go into
 * an EventStream (bounded, counted) and reach the webview in coalesced batches of text cells; pause, filter,
 * clear, follow, export and a replay of the history for a webview shown again.
 *
 * No `vscode` import.
 */
import { parseFilter } from './row-filter';
import { Coalescer, EventStream } from './event-stream';
import type { ColumnMsg, FromWebview, StreamUiState, PanelAgent, Post } from './panel-messages';
import { toCsv, toJson } from './export-rows';
import type { Column } from './value-format';

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
  /**
   * events per second the agent forwards at most (its `max_rate`; 0: no limit). The agent consumes and counts
   * the rest (`skipped`): the back-pressure of a busy stream lands on the agent, not on the editor.
   */
  maxRate?: number;
}

const DEFAULT_STREAM: StreamUiState = { paused: false, filter: '', follow: true };

export abstract class StreamController<T> {
  protected readonly stream: EventStream<T>;
  protected state: StreamUiState;
  protected readonly coalescer: Coalescer;
  protected disposed = false;
  protected columns: Column[] = [];
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  /** the webview is hidden: nothing is posted (it asks for a replay with 'ready' when shown) */
  private hidden = false;

  constructor(protected readonly base: StreamControllerBase) {
    this.state = { ...DEFAULT_STREAM, ...base.state };
    this.stream = new EventStream<T>({ history: base.history ?? 10_000 });
    this.coalescer = new Coalescer(() => this.flush(), base.tickMs ?? 100);
    // the rate and counts move even when nothing arrives
    this.tickTimer = setInterval(() => this.coalescer.poke(), 1000);
    this.stream.setPaused(this.state.paused);
    this.stream.setMaxRate(base.maxRate ?? 0);
  }

  /** The agent's max_rate for subscribe requests (omitted when there is no limit). */
  protected rateParams(): { max_rate?: number } {
    return this.base.maxRate ? { max_rate: this.base.maxRate } : {};
  }

  /** The stream's counts (received, rate, drops and skips of every kind). */
  get stats(): Readonly<import('./event-stream').StreamStats> {
    return this.stream.snapshot();
  }

  async setHidden(hidden: boolean): Promise<void> {
    this.hidden = hidden;
  }

  /** Text cells of one row. */
  protected abstract cells(row: T): string[];
  protected abstract columnMsgs(): ColumnMsg[];
  protected abstract filterRow(row: T): { key: unknown; value: unknown };

  /** Builds and sends the batch of this tick. */
  flush(final = false): void {
    if ((this.disposed && !final) || this.hidden) return;
    const b = this.stream.takeBatch();
    if (!b) return;
    void this.base.post({
      type: 'stream-batch',
      rows: b.rows.map((r) => this.cells(r)),
      reset: b.reset,
      stats: { ...b.stats },
    });
  }

  /** After dispose: a webview created again gets the columns, the history and the final counts. */
  replayDetached(): void {
    this.sendInit();
    this.replay();
  }

  /** Sends a new view the whole matching history at once (also after dispose: the final counts). */
  private replay(): void {
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
    // the view keeps the final counts (the subscription's own, after its drain)
    this.flush(true);
    this.disposed = true;
    this.coalescer.dispose();
    if (this.tickTimer) clearInterval(this.tickTimer);
  }
}
