/**
 * The live data panels: maps, ring buffer / perf events, bpf_printk output, program stats. One entry
 * point, wired once from the extension's context.
 */
import * as vscode from 'vscode';
import { visibleText } from '../../core/visible-text';
import type { BpfIdeContext } from '../../ctx';
import { openEventsPanel } from './events-panel';
import { openMapPanel } from './map-panel';
import { PanelHost } from './panel-host';
import { PanelState } from './panel-state';
import { openStatsPanel } from './stats-panel';
import { openTracePanel } from './trace-panel';

/** Registers bpfIde.openMap, bpfIde.openEvents, bpfIde.openTrace and bpfIde.openStats. */
export function activatePanels(ctx: BpfIdeContext): vscode.Disposable[] {
  const state = new PanelState(ctx.extension.workspaceState);
  const run =
    (what: string, fn: (arg: unknown) => Promise<unknown>) =>
    async (arg?: unknown): Promise<void> => {
      try {
        await fn(arg);
      } catch (e) {
        ctx.output.error(`${what}: ${(e as Error).message}`);
        void vscode.window.showErrorMessage(`bpf-ide: ${what}: ${visibleText((e as Error).message)}`);
      }
    };
  return [
    vscode.commands.registerCommand(
      'bpfIde.openMap',
      run('opening the map', (a) => openMapPanel(ctx, state, a)),
    ),
    vscode.commands.registerCommand(
      'bpfIde.openEvents',
      run('opening the events', (a) => openEventsPanel(ctx, state, a)),
    ),
    vscode.commands.registerCommand(
      'bpfIde.openTrace',
      run('opening bpf_printk output', () => openTracePanel(ctx, state)),
    ),
    vscode.commands.registerCommand(
      'bpfIde.openStats',
      run('opening program stats', () => openStatsPanel(ctx)),
    ),
    { dispose: () => void Promise.all(PanelHost.all().map((p) => p.dispose())) },
  ];
}

export { PanelHost } from './panel-host';
