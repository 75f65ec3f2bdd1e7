/**
 * The map panel's controller with a simulated agent (no kernel): what the webview is sent for sort, filter,
 * search, hex, selection, export and edits; edits that fail the BTF check never reach the agent.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MapController } from '../../client/src/core/panels/map-controller';
import type { PanelAgent, ToWebview } from '../../client/src/core/panels/panel-messages';
import type { TypeInfo } from '../../client/src/core/panels/btf-types';

const u32: TypeInfo = { kind: 'int', name: 'u32', size: 4, bits: 32, signed: false, bool: false, char: false };
const value: TypeInfo = {
  kind: 'struct',
  name: 'struct v',
  size: 24,
  members: [
    {
      name: 'count',
      type: { kind: 'int', name: 'u64', size: 8, bits: 64, signed: false, bool: false, char: false },
      bitSize: 0,
    },
    {
      name: 'comm',
      type: {
        kind: 'array',
        name: 'char[16]',
        length: 16,
        elem: { kind: 'int', name: 'char', size: 1, bits: 8, signed: true, bool: false, char: true },
      },
      bitSize: 0,
    },
  ],
};

/** A map in memory behind map_dump / map_update / map_delete, recording the requests. */
function fakeAgent(entries: Map<number, { count: number | string; comm: string }>) {
  const requests: { method: string; params: Record<string, unknown> }[] = [];
  const agent = Object.assign(new EventEmitter(), {
    isClosed: false,
    async request(method: string, params: Record<string, unknown>) {
      requests.push({ method, params });
      if (method === 'map_dump') {
        const all = [...entries.entries()].sort((a, b) => a[0] - b[0]);
        const start = params.cursor ? Number(String(params.cursor).slice(2)) : 0;
        const limit = Number(params.limit ?? 1000);
        const page = all.slice(start, start + limit);
        const done = start + limit >= all.length;
        return {
          entries: page.map(([key, v]) => ({ key, value: v })),
          cursor: done ? null : `b:${start + limit}`,
          done,
        };
      }
      if (method === 'map_update') {
        const k = params.key as number;
        if (params.flags === 'noexist' && entries.has(k)) throw new Error('update failed: File exists');
        entries.set(k, { count: 0, comm: '', ...(params.value as object) });
        return { map_id: 1, updated: true };
      }
      if (method === 'map_delete') {
        entries.delete(params.key as number);
        return { map_id: 1, deleted: true };
      }
      if (method === 'map_watch') return { subscription: 7, map_id: 1, interval_ms: 1000 };
      return { subscription: 7 };
    },
  });
  return { agent: agent as unknown as PanelAgent & EventEmitter, requests };
}

async function setup(n = 50, readOnly = false) {
  const data = new Map(
    Array.from({ length: n }, (_, i) => [i, { count: (i * 37) % 101, comm: i % 2 ? `odd${i}` : `even${i}` }]),
  );
  const { agent, requests } = fakeAgent(data);
  const msgs: ToWebview[] = [];
  const saved: { format: string; text: string }[] = [];
  const c = new MapController({
    agent,
    map: {
      id: 1,
      name: 'stats',
      type: 'hash',
      key_size: 4,
      value_size: 24,
      max_entries: 1024,
      key_type: 'u32',
      value_type: 'struct v',
    },
    types: { key: u32, value },
    ncpus: 2,
    post: (m) => void msgs.push(m),
    save: async (format, text) => void saved.push({ format, text }),
    readOnly,
  });
  await c.start();
  const last = <T extends ToWebview['type']>(t: T) =>
    [...msgs].reverse().find((m) => m.type === t) as Extract<ToWebview, { type: T }>;
  return { c, msgs, last, requests, saved, data, agent };
}

describe('map controller (simulated agent)', () => {
  test('columns, first window, sort, filter, search, hex', async () => {
    const { c, last } = await setup();
    assert.deepEqual(
      last('map-columns').columns.map((x) => x.label),
      ['key', 'count', 'comm'],
    );
    assert.equal(last('map-window').total, 50);
    await c.handle({ type: 'sort', column: 'value.count', descending: true });
    assert.equal(last('map-window').rows[0].cells[1], '100');
    await c.handle({ type: 'filter', text: 'comm~odd count>50' });
    const w = last('map-window');
    assert.ok(w.total > 0 && w.rows.every((r) => r.cells[2].startsWith('odd') && Number(r.cells[1]) > 50));
    await c.handle({ type: 'filter', text: 'nope=1' });
    assert.match(last('map-window').filterErrors[0], /no column 'nope'/);
    await c.handle({ type: 'filter', text: '' });
    await c.handle({ type: 'sort', column: null, descending: false });
    await c.handle({ type: 'search', text: 'odd7', from: -1 });
    assert.equal(last('search-result').index, 7);
    await c.handle({ type: 'hex', on: true });
    assert.equal(last('map-window').rows[10].cells[0], '0xa');
    await c.dispose();
  });
  test("another program's map (read-only): no edit controls, and an edit that arrives anyway is refused unsent", async () => {
    const { c, msgs, last, requests } = await setup(5, true);
    const init = msgs.find((m) => m.type === 'map-init') as Extract<ToWebview, { type: 'map-init' }>;
    assert.equal(init.editable, false);
    const before = requests.length;
    await c.handle({ type: 'edit', op: 'update', key: '3', value: '{"count": 1, "comm": "x"}' });
    assert.equal(last('edit-result').ok, false);
    assert.match(last('edit-result').message, /read-only/);
    assert.equal(requests.length, before, 'nothing was sent');
    await c.dispose();
  });
  test('edits: typed values sent as the agent reads them; a bad one is refused before sending', async () => {
    const { c, last, requests, data } = await setup();
    const before = requests.length;
    await c.handle({ type: 'edit', op: 'update', key: '3', value: '{"comm": "far-too-long-for-char16"}' });
    assert.equal(last('edit-result').ok, false);
    assert.match(last('edit-result').message, /^value: .*does not fit char\[16\]/);
    await c.handle({ type: 'edit', op: 'update', key: '-1', value: '{}' });
    assert.match(last('edit-result').message, /^key: .*does not fit u32/);
    assert.equal(requests.length, before, 'nothing was sent');
    await c.handle({
      type: 'edit',
      op: 'update',
      key: '3',
      value: '{"count": 18446744073709551615, "comm": "edited"}',
    });
    assert.equal(last('edit-result').ok, true);
    const upd = requests.find((r) => r.method === 'map_update')!;
    assert.deepEqual(upd.params, {
      map_id: 1,
      key: 3,
      value: { count: '18446744073709551615', comm: 'edited' },
      flags: 'exist',
    });
    assert.equal(data.get(3)!.comm, 'edited');
    await c.handle({ type: 'edit', op: 'insert', key: '3', value: '{}' });
    assert.match(last('edit-result').message, /exists/);
    await c.handle({ type: 'edit', op: 'delete', key: '3' });
    assert.equal(data.has(3), false);
    await c.dispose();
  });
  test('selection detail, export as CSV and JSON', async () => {
    const { c, last, saved } = await setup(3);
    await c.handle({ type: 'select', id: '1' });
    assert.deepEqual(JSON.parse(last('map-detail').value), { count: 37, comm: 'odd1' });
    await c.handle({ type: 'export', format: 'csv' });
    await c.handle({ type: 'export', format: 'json' });
    assert.equal(saved[0].text, 'key,value.count,value.comm\r\n0,0,even0\r\n1,37,odd1\r\n2,74,even2\r\n');
    assert.equal(JSON.parse(saved[1].text).entries.length, 3);
    assert.match(last('status').text, /exported 3 rows as JSON/);
    await c.dispose();
  });
  test('live: map_watch snapshots of its own subscription only, coalesced into one view message', async () => {
    const { c, msgs, agent } = await setup(5);
    const n0 = msgs.filter((m) => m.type === 'map-window').length;
    agent.emit('map_snapshot', {
      subscription: 99,
      full: false,
      entries: [{ key: 1, value: { count: 1, comm: 'x' } }],
      removed: [],
    });
    for (let i = 0; i < 5; i++)
      agent.emit('map_snapshot', {
        subscription: 7,
        full: false,
        entries: [{ key: 1, value: { count: 1000 + i, comm: 'x' } }],
        removed: [2],
      });
    await new Promise((r) => setTimeout(r, 120));
    const wins = msgs.filter((m) => m.type === 'map-window').slice(n0) as Extract<ToWebview, { type: 'map-window' }>[];
    assert.equal(wins.length, 1);
    assert.equal(wins[0].total, 4);
    const row = wins[0].rows.find((r) => r.cells[0] === '1')!;
    assert.equal(row.cells[1], '1004');
    assert.equal(row.changed, true);
    await c.dispose();
  });
});
