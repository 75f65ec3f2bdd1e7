/**
 * bpfIde.openEvents: records of a ring buffer or perf event array, decoded with a struct type of the
 * object's BTF (suggested, remembered per map), with rate, drops, pause, filter and bounded history.
 */
import * as vscode from 'vscode';
import { visibleText } from '../../core/visible-text';
import { BtfTypes } from '../../core/panels/btf-types';
import type { StreamUiState } from '../../core/panels/panel-messages';
import { EventsController } from '../../core/panels/events-controller';
import type { BpfIdeContext } from '../../ctx';
import { maxEventRate, PanelHost } from './panel-host';
import type { PanelState } from './panel-state';
import { findMap, isStreamMap, pickMap } from './pick-map';

export async function openEventsPanel(
  ctx: BpfIdeContext,
  state: PanelState,
  arg: unknown,
): Promise<PanelHost | undefined> {
  const session = await ctx.targets.ensureConnected();
  const picked = await pickMap(session, arg, isStreamMap, 'a ring buffer or perf event array');
  if (!picked) return undefined;
  const { map, obj } = picked;
  if (!isStreamMap(map)) {
    void vscode.window.showWarningMessage(
      `bpf-ide: ${visibleText(map.name)} is a ${map.type} map, not a ring buffer or perf event array.`,
    );
    return undefined;
  }
  const key = `events:${map.id}`;
  const existing = PanelHost.find(key);
  if (existing) {
    existing.panel.reveal();
    return existing;
  }
  let typeChoices: string[] = [];
  try {
    typeChoices = BtfTypes.fromObjectFile(obj.object).recordTypeSuggestions();
  } catch (e) {
    ctx.output.info(`events ${map.name}: no BTF in ${obj.object} (${(e as Error).message}); records show as hex`);
  }
  const saved = state.get<StreamUiState>('events', map.name);
  if (saved?.type && !typeChoices.includes(saved.type)) delete saved.type;
  const drops = obj.maps.find((m) => /drop/i.test(m.name) && /array/.test(m.type));
  const host = new PanelHost(ctx, key, 'events', `Events ${map.name}`);
  const controller = new EventsController({
    agent: session.target.client,
    map,
    typeChoices,
    dropsMap: drops ? { id: drops.id, name: drops.name } : undefined,
    post: host.post,
    save: host.save,
    log: (m) => ctx.output.warn(m),
    maxRate: maxEventRate(),
    state: saved,
    onState: (s) => void state.set('events', map.name, s),
  });
  host.attach(controller);
  const watch = ctx.targets.onDidChange(() => {
    const s = ctx.targets.session;
    if (!s || s !== session) void host.detach('the target disconnected');
    else if (!findMap(s, map.id)) void host.detach('the object holding this map was unloaded');
    else return;
    watch.dispose();
  });
  host.panel.onDidDispose(() => watch.dispose());
  controller
    .start()
    .catch(
      (e: Error) => void host.post({ type: 'status', text: `subscribing to ${map.name}: ${e.message}`, error: true }),
    );
  return host;
}
