/**
 * Program statistics over time, as bpftop shows them: from successive prog_stats readings, runs per
 * second and average ns per run over the last interval, totals, and a bounded series for a small chart.
 *
 * No `vscode` import.
 */

export interface StatReading {
  id: number;
  name: string;
  run_cnt: number;
  run_time_ns: number;
  recursion_misses?: number;
}

export interface ProgRow {
  id: number;
  name: string;
  runs: number;
  runTimeNs: number;
  /** average over the program's whole life (since stats were enabled) */
  avgNs: number | null;
  /** over the last interval */
  runsPerSec: number;
  avgNsRecent: number | null;
  /** share of one CPU spent in the program over the last interval, percent */
  cpuPercent: number;
  recursionMisses: number;
  /** runs/s, oldest first (bounded) */
  series: number[];
}

export class ProgStatsTracker {
  private last = new Map<number, { at: number; cnt: number; ns: number }>();
  private readonly series = new Map<number, number[]>();
  constructor(private readonly maxPoints = 120) {}

  /** Adds one reading taken at `at` (ms); returns the rows, busiest first. */
  update(at: number, programs: StatReading[]): ProgRow[] {
    const out: ProgRow[] = [];
    const seen = new Set<number>();
    for (const p of programs) {
      seen.add(p.id);
      const prev = this.last.get(p.id);
      const dt = prev ? (at - prev.at) / 1000 : 0;
      const dc = prev ? p.run_cnt - prev.cnt : 0;
      const dn = prev ? p.run_time_ns - prev.ns : 0;
      const rps = dt > 0 && dc >= 0 ? dc / dt : 0;
      const s = this.series.get(p.id) ?? [];
      if (prev) {
        s.push(rps);
        if (s.length > this.maxPoints) s.splice(0, s.length - this.maxPoints);
      }
      this.series.set(p.id, s);
      this.last.set(p.id, { at, cnt: p.run_cnt, ns: p.run_time_ns });
      out.push({
        id: p.id,
        name: p.name,
        runs: p.run_cnt,
        runTimeNs: p.run_time_ns,
        avgNs: p.run_cnt ? p.run_time_ns / p.run_cnt : null,
        runsPerSec: rps,
        avgNsRecent: dc > 0 ? dn / dc : null,
        cpuPercent: dt > 0 && dn >= 0 ? (dn / (dt * 1e9)) * 100 : 0,
        recursionMisses: p.recursion_misses ?? 0,
        series: s.slice(),
      });
    }
    for (const id of [...this.last.keys()]) {
      if (seen.has(id)) continue;
      this.last.delete(id);
      this.series.delete(id);
    }
    return out.sort((a, b) => b.runsPerSec - a.runsPerSec || b.runs - a.runs || a.id - b.id);
  }
}

/** A bounded time series of one counter (a map cell plotted over time). */
export class CounterSeries {
  readonly points: { t: number; v: number }[] = [];
  constructor(private readonly maxPoints = 300) {}
  add(t: number, v: number): void {
    this.points.push({ t, v });
    if (this.points.length > this.maxPoints) this.points.splice(0, this.points.length - this.maxPoints);
  }
  /** Per-second rate between successive points (for counters that only grow). */
  rates(): { t: number; v: number }[] {
    const out: { t: number; v: number }[] = [];
    for (let i = 1; i < this.points.length; i++) {
      const a = this.points[i - 1];
      const b = this.points[i];
      const dt = (b.t - a.t) / 1000;
      if (dt > 0) out.push({ t: b.t, v: (b.v - a.v) / dt });
    }
    return out;
  }
}
