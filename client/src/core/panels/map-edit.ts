/**
 * A map edit from the panel's text fields to the agent request: key and value parsed and checked against the
 * map's BTF types (or its raw sizes when it has none) before anything is sent.
 *
 * No `vscode` import.
 */
import type { MapTypes } from './btf-types';
import { parseTypedInput } from './typed-input';

export type EditOp = 'update' | 'insert' | 'delete';

export type EditRequest =
  { ok: true; method: 'map_update' | 'map_delete'; params: Record<string, unknown> } | { ok: false; error: string };

export interface EditTarget {
  map: { id: number; type: string; key_size: number; value_size: number };
  types?: MapTypes;
  /** per-CPU maps: the number of CPUs (a value may be one per CPU) */
  percpu?: number;
}

/**
 * The agent request for an edit, or why it cannot be sent. Insert is `noexist`; update is `exist` for hashes
 * (an update must not create) and `any` for arrays (every index exists).
 */
export function editRequest(t: EditTarget, op: EditOp, keyText: string, valueText = ''): EditRequest {
  const { map, types } = t;
  const key = parseTypedInput(keyText, types?.key ?? { size: map.key_size });
  if (!key.ok) return { ok: false, error: `key: ${key.error}` };
  const keyParam = types?.key ? { key: key.value } : { key_hex: key.value };
  if (op === 'delete') return { ok: true, method: 'map_delete', params: { map_id: map.id, ...keyParam } };
  const value = parseTypedInput(valueText, types?.value ?? { size: map.value_size }, { percpu: t.percpu });
  if (!value.ok) return { ok: false, error: `value: ${value.error}` };
  return {
    ok: true,
    method: 'map_update',
    params: {
      map_id: map.id,
      ...keyParam,
      ...(types?.value ? { value: value.value } : { value_hex: value.value }),
      flags: op === 'insert' ? 'noexist' : /array/.test(map.type) ? 'any' : 'exist',
    },
  };
}
