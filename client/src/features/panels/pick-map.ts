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
  if (arg && typeof arg === 'object' && 'kind' in arg && (arg as { kind: unknown }).kind === 'map') {
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

export const isStreamMap = (m: LoadedMap): boolean => m.type === 'ringbuf' || m.type === 'perf_event_array';
