/**
 * A live stream for a panel (ring buffer records, perf samples, trace_pipe lines): bounded history,
 * rate over a sliding window, drops (the agent's, perf's lost samples, and those the panel itself
 * let go when history overflowed) counted and shown, pause, filter, and coalesced delivery: at
 * 100,000 events/s the panel gets one batch per tick carrying the newest rows and the counts.
 *
 * No `vscode` import.
 */

export interface StreamStats {
  /** events received in total */
  received: number;
  /** events per second over the last window */
  rate: number;
  /** reported by the agent: records it could not write to us */
  agentDropped: number;
  /** perf buffer lost samples (the kernel overwrote them) */
  lost: number;
  /** records the BPF program counted as failed reservations (from a drops map), when known */
  programDropped?: number;
  /** rows that left the bounded history */
  evicted: number;
  /** events not sent to the view because a tick had more than it shows */
  coalesced: number;
  held: number;
  paused: boolean;
}

export interface Batch<T> {
  rows: T[];
  /** the view should drop what it holds first (history reset, filter change) */
  reset: boolean;
  stats: StreamStats;
}

export interface StreamOptions {
  /** rows kept */
  history?: number;
  /** rows sent per tick at most (the newest) */
  perTick?: number;
  /** rate window, ms */
  rateWindowMs?: number;
  now?: () => number;
}

/** A bounded ring of rows. */
export class Ring<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;
  constructor(readonly capacity: number) {
    this.buf = new Array<T | undefined>(capacity);
  }
  get length(): number {
    return this.len;
  }
  /** Adds a row; returns true when the oldest one was dropped to make room. */
  push(v: T): boolean {
    const idx = (this.head + this.len) % this.capacity;
    this.buf[idx] = v;
    if (this.len < this.capacity) {
      this.len++;
      return false;
    }
    this.head = (this.head + 1) % this.capacity;
    return true;
  }
  toArray(): T[] {
    const out = new Array<T>(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.buf[(this.head + i) % this.capacity] as T;
    return out;
  }
  /** The newest n rows, oldest first. */
  last(n: number): T[] {
    const k = Math.min(n, this.len);
    const out = new Array<T>(k);
    for (let i = 0; i < k; i++) out[i] = this.buf[(this.head + this.len - k + i) % this.capacity] as T;
    return out;
  }
  clear(): void {
    this.buf = new Array<T | undefined>(this.capacity);
    this.head = 0;
    this.len = 0;
  }
}

export class EventStream<T> {
  private readonly ring: Ring<T>;
  private pending: T[] = [];
  private pendingDropped = 0;
  private readonly perTick: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** arrivals per 100 ms slot, for the rate */
  private slots: { t: number; n: number }[] = [];
  private filter: ((row: T) => boolean) | undefined;
  private resetPending = true;
  readonly stats: StreamStats = {
    received: 0,
    rate: 0,
    agentDropped: 0,
    lost: 0,
    evicted: 0,
    coalesced: 0,
    held: 0,
    paused: false,
  };

  constructor(o: StreamOptions = {}) {
    this.ring = new Ring<T>(o.history ?? 10_000);
    this.perTick = o.perTick ?? 500;
    this.windowMs = o.rateWindowMs ?? 2000;
    this.now = o.now ?? Date.now;
  }

  /** One event arrives. Cheap: no formatting, no view work. */
  push(row: T): void {
    this.stats.received++;
    const t = this.now();
    const slot = t - (t % 100);
    const last = this.slots[this.slots.length - 1];
    if (last && last.t === slot) last.n++;
    else this.slots.push({ t: slot, n: 1 });
    if (this.ring.push(row)) this.stats.evicted++;
    if (this.stats.paused || (this.filter && !this.filter(row))) return;
    this.pending.push(row);
    if (this.pending.length > this.perTick * 2) {
      // keep only the newest: the view could not show more in one tick anyway
      const cut = this.pending.length - this.perTick;
      this.pendingDropped += cut;
      this.pending = this.pending.slice(cut);
    }
  }

  /** The agent's events_dropped report (totals). */
  drops(d: { dropped: number; lost: number }): void {
    this.stats.agentDropped = d.dropped;
    this.stats.lost = d.lost;
  }

  setPaused(p: boolean): void {
    this.stats.paused = p;
    if (!p) this.refill();
  }

  /** Filters what the view shows; the history keeps everything. */
  setFilter(f: ((row: T) => boolean) | undefined): void {
    this.filter = f;
    this.refill();
  }

  clear(): void {
    this.ring.clear();
    this.pending = [];
    this.resetPending = true;
  }

  /** Everything held (for export), oldest first. */
  history(): T[] {
    return this.ring.toArray();
  }

  /** What the view gets this tick: new rows (at most perTick, the newest) and the counts. */
  takeBatch(): Batch<T> | undefined {
    this.updateRate();
    this.stats.held = this.ring.length;
    let rows = this.pending;
    if (rows.length > this.perTick) {
      this.pendingDropped += rows.length - this.perTick;
      rows = rows.slice(rows.length - this.perTick);
    }
    this.stats.coalesced += this.pendingDropped;
    this.pendingDropped = 0;
    this.pending = [];
    const reset = this.resetPending;
    this.resetPending = false;
    return { rows, reset, stats: { ...this.stats } };
  }

  /**
   * Everything a new view should show (a webview created again after being hidden): the matching history,
   * oldest first. What was pending is part of it.
   */
  replay(): Batch<T> {
    this.updateRate();
    this.stats.held = this.ring.length;
    const all = this.ring.toArray();
    const rows = this.filter ? all.filter(this.filter) : all;
    this.pending = [];
    this.resetPending = false;
    return { rows, reset: true, stats: { ...this.stats } };
  }

  /** After a filter change or resume: the view starts over from the newest matching history. */
  private refill(): void {
    const src = this.filter ? this.ring.toArray().filter(this.filter) : this.ring.last(this.perTick);
    this.pending = src.slice(-this.perTick);
    this.resetPending = true;
  }

  private updateRate(): void {
    const t = this.now();
    const from = t - this.windowMs;
    while (this.slots.length && this.slots[0].t < from) this.slots.shift();
    const n = this.slots.reduce((a, s) => a + s.n, 0);
    const span = Math.max(100, Math.min(this.windowMs, t - (this.slots[0]?.t ?? t)));
    this.stats.rate = Math.round((n * 1000) / span);
  }
}

/** Calls `flush` at most once per `intervalMs` while work is pending (rendering coalesced). */
export class Coalescer {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  constructor(
    private readonly flush: () => void,
    private readonly intervalMs = 100,
  ) {}
  /** Something changed: flush within intervalMs. */
  poke(): void {
    if (this.timer || this.disposed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.disposed) this.flush();
    }, this.intervalMs);
  }
  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
