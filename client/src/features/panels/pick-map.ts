/**
 * Finds the map a panel command is about: a Programs view map node, a map id (number or string), or
 * a quick pick over the maps of everything loaded.
 */
import * as vscode from 'vscode';
import type { LoadedMap } from '../../core/agent/agent-protocol';
import type { LoadedObject, LoadSession } from '../../core/run/load-session';

export interface PickedMap {
  map: LoadedMap;
  obj: LoadedObject;
}

/** The map id in a command argument, if there is one. */
export function mapIdOf(arg: unknown): number | undefined {
  if (typeof arg === 'number' && Number.isInteger(arg)) return arg;
  if (typeof arg === 'string' && /^\d+$/.test(arg)) return Number(arg);
  const kind = arg && typeof arg === 'object' && 'kind' in arg ? (arg as { kind: unknown }).kind : undefined;
  if (kind === 'map' || kind === 'sysmap') {
    const id = (arg as { id?: unknown }).id;
    return typeof id === 'number' ? id : undefined;
  }
  return undefined;
}

export function findMap(session: LoadSession, id: number): PickedMap | undefined {
  for (const obj of session.loaded) {
    const map = obj.maps.find((m) => m.id === id);
    if (map) return { map, obj };
  }
  return undefined;
}

/** Resolves the argument, or asks the user to pick among the loaded maps that `accept`. */
export async function pickMap(
  session: LoadSession,
  arg: unknown,
  accept: (m: LoadedMap) => boolean,
  what: string,
): Promise<PickedMap | undefined> {
  const id = mapIdOf(arg);
  if (id !== undefined) {
    const hit = findMap(session, id);
    if (!hit)
      void vscode.window.showWarningMessage(`bpf-ide: map ${id} is not part of anything loaded from this window.`);
    return hit;
  }
  const items = session.loaded.flatMap((obj) =>
    obj.maps.filter(accept).map((map) => ({
      label: map.name,
      description: `${map.type} · id ${map.id}`,
      detail: `${obj.source} · key ${map.key_type ?? `${map.key_size} B`} · value ${map.value_type ?? `${map.value_size} B`}`,
      target: { map, obj },
    })),
  );
  if (items.length === 0) {
    void vscode.window.showWarningMessage(
      `bpf-ide: nothing loaded has ${what}. Load a program first (the Load CodeLens above SEC()).`,
    );
    return undefined;
  }
  if (items.length === 1) return items[0].target;
  const choice = await vscode.window.showQuickPick(items, { placeHolder: `Pick ${what}` });
  return choice?.target;
}

/** A map of another program on the target, from the Programs view's "All on <target>" list. */
export interface SystemMapArg {
  kind: 'sysmap';
  id: number;
  name: string;
  type: string;
}

export function isSystemMapArg(arg: unknown): arg is SystemMapArg {
  return (
    !!arg &&
    typeof arg === 'object' &&
    (arg as { kind?: unknown }).kind === 'sysmap' &&
    typeof (arg as { id?: unknown }).id === 'number'
  );
}

/**
 * The description of any map on the target, read from the agent (one map_dump entry brings its BTF type names):
 * for maps this window did not load.
 */
export async function describeSystemMap(session: LoadSession, id: number): Promise<LoadedMap> {
  const r = await session.target.client.request('map_dump', { map_id: id, limit: 1 });
  return {
    id,
    name: r.name,
    type: r.type,
    key_size: r.key_size,
    value_size: r.value_size,
    max_entries: r.max_entries,
    flags: 0,
    key_type: r.key_type ?? null,
    value_type: r.value_type ?? null,
  };
}

export const isStreamMap = (m: LoadedMap): boolean => m.type === 'ringbuf' || m.type === 'perf_event_array';
