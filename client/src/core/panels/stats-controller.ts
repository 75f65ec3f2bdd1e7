/**
 * The program stats panel's controller: run counts and run time polled with prog_stats (bpf_enable_stats on the
 * target), runs/s and ns/run over the last interval, a bounded series per program.
 *
 * No `vscode` import.
 */
import type { FromWebview, PanelAgent, Post } from './panel-messages';
import { ProgStatsTracker, type StatReading } from './prog-stats';

export interface StatsControllerOptions {
  agent: PanelAgent;
  post: Post;
  /** the programs to show (ids and types), read again on every poll */
  programs: () => { id: number; name: string; type: string }[];
  /** every program on the target (the panel's "all programs" switch, what bpftop shows), read on every poll */
  allPrograms?: () => Promise<{ id: number; name: string; type: string }[]>;
  intervalMs?: number;
  log?: (msg: string) => void;
}

/** Program run counts and run time, polled with prog_stats (bpf_enable_stats on the target). */
export class StatsController {
  private readonly tracker = new ProgStatsTracker();
  private timer: ReturnType<typeof setInterval> | undefined;
  private paused = false;
  private busy = false;
  private all = false;

  constructor(private readonly o: StatsControllerOptions) {}

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => void this.poll(), this.o.intervalMs ?? 1000);
  }

  async handle(msg: FromWebview): Promise<void> {
    if (msg.type === 'pause') this.paused = msg.paused;
    if (msg.type === 'scope') this.all = msg.all && !!this.o.allPrograms;
    if (msg.type === 'ready' || msg.type === 'refresh' || msg.type === 'scope') await this.poll(true);
  }

  async poll(force = false): Promise<void> {
    if ((this.paused && !force) || this.busy || this.o.agent.isClosed) return;
    this.busy = true;
    try {
      const all = this.all && this.o.allPrograms;
      const progs = all ? await all() : this.o.programs();
      const types = new Map(progs.map((p) => [p.id, p.type]));
      const r = progs.length
        ? ((await this.o.agent.request('prog_stats', { ids: progs.map((p) => p.id), enable: true })) as {
            enabled: boolean;
            programs: StatReading[];
          })
        : { enabled: true, programs: [] };
      const rows = this.tracker.update(Date.now(), r.programs);
      // every program on the box: the busiest first, as bpftop orders them
      if (all) rows.sort((a, b) => b.cpuPercent - a.cpuPercent || b.runs - a.runs || a.id - b.id);
      void this.o.post({
        type: 'stats-rows',
        all: !!all,
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
