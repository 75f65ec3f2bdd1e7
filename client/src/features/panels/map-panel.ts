/**
 * bpfIde.openMap: a live table of one map's entries (decoded with BTF, paged for big maps, edits
 * checked against the BTF types, histograms as bars, export).
 */
import { BtfTypes, type MapTypes } from '../../core/panels/btf-types';
import { MapController } from '../../core/panels/map-controller';
import type { MapUiState } from '../../core/panels/panel-messages';
import type { BpfIdeContext } from '../../ctx';
import { openEventsPanel } from './events-panel';
import { PanelHost } from './panel-host';
import type { PanelState } from './panel-state';
import * as vscode from 'vscode';
import { visibleText } from '../../core/visible-text';
import { describeSystemMap, findMap, isStreamMap, isSystemMapArg, pickMap } from './pick-map';

export async function openMapPanel(
  ctx: BpfIdeContext,
  state: PanelState,
  arg: unknown,
): Promise<PanelHost | undefined> {
  const session = await ctx.targets.ensureConnected();
  const system = isSystemMapArg(arg) && !findMap(session, arg.id) ? arg : undefined;
  if (system && /^(ringbuf|perf_event_array)$/.test(system.type)) {
    // a ring buffer has one reader position and a perf event array one buffer per CPU: reading another program's
    // would take its events away from it
    void vscode.window.showInformationMessage(
      `bpf-ide: ${visibleText(system.name)} (map ${system.id}) is another program's ${system.type}: reading it here would take its events from that program, so it is not opened.`,
    );
    return undefined;
  }
  const picked = system
    ? { map: await describeSystemMap(session, system.id), obj: undefined }
    : await pickMap(session, arg, () => true, 'a map');
  if (!picked) return undefined;
  const { map, obj } = picked;
  if (isStreamMap(map)) return openEventsPanel(ctx, state, map.id);
  const key = `map:${map.id}`;
  const existing = PanelHost.find(key);
  if (existing) {
    existing.panel.reveal();
    return existing;
  }
  let types: MapTypes | undefined;
  if (obj) {
    try {
      types = BtfTypes.fromObjectFile(obj.object).mapTypes(map.name);
    } catch (e) {
      ctx.output.info(`map ${map.name}: no BTF types from ${obj.object} (${(e as Error).message}); edits take hex`);
    }
  }
  const client = session.target.client;
  const hello = await client.hello;
  const host = new PanelHost(ctx, key, 'map', `Map ${map.name}${obj ? '' : ' (read-only)'}`);
  const controller = new MapController({
    agent: client,
    map,
    types,
    ncpus: hello.kernel.ncpus,
    post: host.post,
    save: host.save,
    log: (m) => ctx.output.warn(m),
    state: state.get<MapUiState>('map', map.name),
    onState: (s) => void state.set('map', map.name, { ...s, scrollTop: undefined }),
    readOnly: !obj,
  });
  host.attach(controller);
  // the map goes away with its object or the connection
  const watch = ctx.targets.onDidChange(() => {
    const s = ctx.targets.session;
    if (!s || s !== session) void host.detach('the target disconnected: reconnect and open the map again');
    else if (obj && !findMap(s, map.id)) void host.detach('the object holding this map was unloaded');
    else return;
    watch.dispose();
  });
  host.panel.onDidDispose(() => watch.dispose());
  controller.start().catch((e: Error) => {
    ctx.output.warn(`map ${map.name}: ${e.message}`);
    void host.post({ type: 'status', text: `reading map ${map.id}: ${e.message}`, error: true });
  });
  return host;
}
