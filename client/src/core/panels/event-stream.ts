/**
 * A live stream for a panel (ring buffer records, perf samples, trace_pipe lines): bounded history,
 * rate over a sliding window, drops (the agent's, perf's lost samples, and those the panel itself
 * let go when history overflowed) counted and shown, pause, filter, and coalesced delivery: at
 * 100,000 events/s the panel gets one batch per tick carrying the newest rows and the counts.
 *
 * Every event the agent consumed is accounted for: at the agent, consumed = forwarded (`received` here) +
 * `skipped` (over the subscription's max_rate) + `agentDropped` (the client did not keep up); here, `received` =
 * `shown` + `coalesced` (more in a tick than it shows) + `filtered` (did not match the filter) + `whilePaused` +
 * `pending` (waiting for the next tick).
 *
 * No `vscode` import.
 */

export interface StreamStats {
  /** events received in total */
  received: number;
  /** events per second at the source over the last window (received + skipped by the agent) */
  rate: number;
  /** reported by the agent: records it could not write to us */
  agentDropped: number;
  /** reported by the agent: records it consumed but did not forward (max_rate) */
  skipped: number;
  /** the agent's limit, events/s (0: none) */
  maxRate: number;
  /** perf buffer lost samples (the kernel overwrote them) */
  lost: number;
  /** records the BPF program counted as failed reservations (from a drops map), when known */
  programDropped?: number;
  /** rows that left the bounded history */
  evicted: number;
  /** received rows sent to the view as they arrived */
  shown: number;
  /** events not sent to the view because a tick had more than it shows */
  coalesced: number;
  /** received rows the filter hid */
  filtered: number;
  /** received while the view was paused (kept in history, not shown live) */
  whilePaused: number;
  /** received rows waiting for the next tick */
  pending: number;
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
  /** live rows since the last tick (counted as shown or coalesced when taken) */
  private pending: T[] = [];
  /** history rows the view starts over with (filter change, resume): already counted */
  private resend: T[] = [];
  private readonly perTick: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** arrivals per 100 ms slot, for the rate */
  private slots: { t: number; n: number }[] = [];
  private filter: ((row: T) => boolean) | undefined;
  private resetPending = true;
  /** what the agent skipped per second, from its last two reports */
  private skipRate = 0;
  private skipReportAt: number | undefined;
  readonly stats: StreamStats = {
    received: 0,
    rate: 0,
    agentDropped: 0,
    skipped: 0,
    maxRate: 0,
    lost: 0,
    evicted: 0,
    shown: 0,
    coalesced: 0,
    filtered: 0,
    whilePaused: 0,
    pending: 0,
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
    if (this.stats.paused) {
      this.stats.whilePaused++;
      return;
    }
    if (this.filter && !this.filter(row)) {
      this.stats.filtered++;
      return;
    }
    this.pending.push(row);
    if (this.pending.length > this.perTick * 2) {
      // keep only the newest: the view could not show more in one tick anyway
      const cut = this.pending.length - this.perTick;
      this.stats.coalesced += cut;
      this.pending = this.pending.slice(cut);
    }
  }

  /** The agent's events_dropped / unsubscribe report (totals). */
  drops(d: { dropped: number; lost: number; skipped?: number }): void {
    this.stats.agentDropped = d.dropped;
    this.stats.lost = d.lost;
    if (d.skipped !== undefined && d.skipped > this.stats.skipped) {
      // the source's rate counts what the agent skipped too (it reports about once a second)
      const t = this.now();
      if (this.skipReportAt !== undefined && t > this.skipReportAt)
        this.skipRate = ((d.skipped - this.stats.skipped) * 1000) / (t - this.skipReportAt);
      this.skipReportAt = t;
      this.stats.skipped = d.skipped;
    }
  }

  /** The agent's max_rate for this subscription (events/s, 0: none). */
  setMaxRate(r: number): void {
    this.stats.maxRate = r;
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
    // rows that were on their way to the view are not shown
    this.stats.coalesced += this.pending.length;
    this.pending = [];
    this.resend = [];
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
    let live = this.pending;
    if (live.length > this.perTick) {
      this.stats.coalesced += live.length - this.perTick;
      live = live.slice(live.length - this.perTick);
    }
    this.stats.shown += live.length;
    this.pending = [];
    this.stats.pending = 0;
    const rows = this.resend.length ? [...this.resend, ...live] : live;
    this.resend = [];
    const reset = this.resetPending;
    this.resetPending = false;
    return { rows, reset, stats: { ...this.stats } };
  }

  /** The counts as they stand (without taking a batch). */
  snapshot(): StreamStats {
    this.updateRate();
    this.stats.held = this.ring.length;
    this.stats.pending = this.pending.length;
    return { ...this.stats };
  }

  /**
   * Everything a new view should show (a webview created again after being hidden): the matching history,
   * oldest first. What was pending is part of it (counted as shown).
   */
  replay(): Batch<T> {
    this.updateRate();
    this.stats.held = this.ring.length;
    const all = this.ring.toArray();
    const rows = this.filter ? all.filter(this.filter) : all;
    this.stats.shown += this.pending.length;
    this.pending = [];
    this.stats.pending = 0;
    this.resend = [];
    this.resetPending = false;
    return { rows, reset: true, stats: { ...this.stats } };
  }

  /** After a filter change or resume: the view starts over from the newest matching history. */
  private refill(): void {
    const src = this.filter ? this.ring.toArray().filter(this.filter) : this.ring.last(this.perTick);
    // the live rows are in the history too: the newest are part of what is sent again (shown), the rest not
    const again = Math.min(this.pending.length, this.perTick);
    this.stats.shown += again;
    this.stats.coalesced += this.pending.length - again;
    this.pending = [];
    this.resend = src.slice(-this.perTick);
    this.resetPending = true;
  }

  private updateRate(): void {
    const t = this.now();
    const from = t - this.windowMs;
    while (this.slots.length && this.slots[0].t < from) this.slots.shift();
    const n = this.slots.reduce((a, s) => a + s.n, 0);
    const span = Math.max(100, Math.min(this.windowMs, t - (this.slots[0]?.t ?? t)));
    // the agent reports skips about once a second while it skips: none for 2.5 s means it stopped
    if (this.skipReportAt !== undefined && t - this.skipReportAt > 2500) this.skipRate = 0;
    this.stats.rate = Math.round((n * 1000) / span + this.skipRate);
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
