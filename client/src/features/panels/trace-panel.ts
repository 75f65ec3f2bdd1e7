/**
 * bpfIde.openTrace: bpf_printk output (trace_pipe) with timestamps and the process that printed it.
 * trace_pipe is a consuming, system-wide reader: one panel per target, and a clear message when
 * another reader holds it.
 */
import type { StreamUiState } from '../../core/panels/panel-messages';
import { TraceController } from '../../core/panels/trace-controller';
import type { BpfIdeContext } from '../../ctx';
import { maxEventRate, PanelHost } from './panel-host';
import type { PanelState } from './panel-state';

export async function openTracePanel(ctx: BpfIdeContext, state: PanelState): Promise<PanelHost | undefined> {
  const session = await ctx.targets.ensureConnected();
  const existing = PanelHost.find('trace');
  if (existing) {
    existing.panel.reveal();
    return existing;
  }
  const host = new PanelHost(ctx, 'trace', 'trace', 'bpf_printk');
  const controller = new TraceController({
    agent: session.target.client,
    post: host.post,
    save: host.save,
    state: state.get<StreamUiState>('trace', 'trace'),
    onState: (s) => void state.set('trace', 'trace', s),
    history: 20_000,
    maxRate: maxEventRate(),
  });
  host.attach(controller);
  const watch = ctx.targets.onDidChange(() => {
    if (ctx.targets.session === session) return;
    void host.detach('the target disconnected');
    watch.dispose();
  });
  host.panel.onDidDispose(() => watch.dispose());
  controller
    .start()
    .catch((e: Error) => void host.post({ type: 'status', text: `reading trace_pipe: ${e.message}`, error: true }));
  return host;
}
