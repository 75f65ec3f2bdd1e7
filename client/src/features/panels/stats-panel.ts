/**
 * bpfIde.openStats: run count, run time, average ns per run and runs per second of every program
 * loaded from this window, or of every program on the target, with a small chart per program (what bpftop shows).
 */
import { StatsController } from '../../core/panels/stats-controller';
import type { BpfIdeContext } from '../../ctx';
import { PanelHost } from './panel-host';

export async function openStatsPanel(ctx: BpfIdeContext): Promise<PanelHost | undefined> {
  const session = await ctx.targets.ensureConnected();
  const existing = PanelHost.find('stats');
  if (existing) {
    existing.panel.reveal();
    return existing;
  }
  const host = new PanelHost(ctx, 'stats', 'stats', 'BPF program stats');
  const controller = new StatsController({
    agent: session.target.client,
    post: host.post,
    programs: () =>
      ctx.targets.session === session
        ? session.loaded.flatMap((o) => o.programs.map((p) => ({ id: p.id, name: p.name, type: p.type })))
        : [],
    allPrograms: async () =>
      (await session.target.client.request('list', {})).programs.map((p) => ({ id: p.id, name: p.name, type: p.type })),
    log: (m) => ctx.output.warn(m),
  });
  host.attach({ handle: (m) => controller.handle(m), dispose: () => controller.dispose() });
  const watch = ctx.targets.onDidChange(() => {
    if (ctx.targets.session === session) return;
    void host.detach('the target disconnected');
    watch.dispose();
  });
  host.panel.onDidDispose(() => watch.dispose());
  controller.start().catch((e: Error) => void host.post({ type: 'status', text: e.message, error: true }));
  return host;
}
