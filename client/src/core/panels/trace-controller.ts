/**
 * The bpf_printk panel's controller: trace_pipe lines (trace_subscribe) with time, task, pid, CPU and message.
 *
 * No `vscode` import.
 */
import type { ColumnMsg } from './panel-messages';
import { StreamController, type StreamControllerBase } from './stream-controller';
import { formatValue } from './value-format';

/** A trace_line event as the controller reads it. */
interface LineEvent {
  subscription: number;
  line: string;
  task?: string;
  pid?: number;
  cpu?: number;
  timestamp?: number;
  function?: string | null;
  message?: string;
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
  /** the subscription being ended: the agent delivers what was in the buffer before it replies */
  private draining: number | undefined;
  /** lines that arrive while trace_subscribe is in flight (before the reply resumes start()): see EventsController */
  private early: LineEvent[] | undefined;
  private readonly onLine = (ev: LineEvent) => {
    if (ev.subscription !== this.sub && ev.subscription !== this.draining) {
      if (this.early && this.early.length < 1_000_000) this.early.push(ev);
      return;
    }
    this.take(ev);
  };

  private take(ev: LineEvent): void {
    this.stream.push({
      timestamp: ev.timestamp,
      task: ev.task,
      pid: ev.pid,
      cpu: ev.cpu,
      fn: ev.function,
      message: ev.message ?? ev.line,
    });
    this.coalescer.poke();
  }

  private readonly onDropped = (ev: { subscription: number; dropped: number; lost: number; skipped?: number }) => {
    if (ev.subscription !== this.sub && ev.subscription !== this.draining) return;
    this.stream.drops(ev);
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
    o.agent.on('events_dropped', this.onDropped as never);
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
      this.early = [];
      const r = (await this.o.agent.request('trace_subscribe', {
        ...(this.o.filter ? { filter: this.o.filter } : {}),
        ...this.rateParams(),
      })) as {
        subscription: number;
      };
      const early = this.early ?? [];
      this.early = undefined;
      if (this.disposed) {
        await this.o.agent.request('unsubscribe', { subscription: r.subscription }).catch(() => undefined);
        return;
      }
      this.sub = r.subscription;
      for (const ev of early) if (ev.subscription === r.subscription) this.take(ev);
      void this.base.post({ type: 'status', text: '' });
    } catch (e) {
      this.early = undefined;
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
    this.draining = sub;
    if (sub !== undefined && !this.o.agent.isClosed) {
      const r = (await this.o.agent.request('unsubscribe', { subscription: sub }).catch(() => undefined)) as
        { dropped?: number; skipped?: number } | undefined;
      if (r?.dropped !== undefined) this.stream.drops({ dropped: r.dropped, lost: 0, skipped: r.skipped });
    }
    this.o.agent.off('trace_line', this.onLine as never);
    this.o.agent.off('events_dropped', this.onDropped as never);
    await super.dispose();
  }
}
