/**
 * Issue 15, item 6: map_dump / map_watch of maps whose value_size x max_entries is huge. The agent
 * sized its buffers by max_entries and abort()ed when realloc failed (a 10,000 x 4 MB no-prealloc
 * hash even empty; a 1,000,000 x 64 KiB hash at its first watch tick), taking down everything the
 * user had loaded. Now reads are sized by what is present, map_dump pages are cut to the agent's
 * read budget, and a map_watch whose entries exceed it is refused with `too_large`.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentClient, AgentRequestError } from '../../client/src/core/agent/agent-client';
import type { LoadedMap } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, nextEvent, startAgent } from './agent-harness';

const reason = agentUnavailableReason();

describe('agent: maps far larger than memory', { concurrency: false }, () => {
  let agent: AgentClient;
  let handle: number;
  let maps: Map<string, LoadedMap>;
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    const r = await agent.request('load', { path: fixture('big_maps') });
    handle = r.handle;
    maps = new Map(r.maps.map((m) => [m.name, m]));
  });
  after(async () => {
    await agent?.shutdown();
  });

  test('map_dump of an empty 10,000 x 4 MB no-prealloc hash: zero entries, no abort', async (t) => {
    if (!precondition(t, reason)) return;
    const d = await agent.request('map_dump', { map_id: maps.get('huge_values')!.id });
    assert.equal(d.count, 0);
    assert.equal(d.done, true);
    assert.deepEqual(await agent.request('ping', {}), { pong: true });
  });

  test('map_watch of a 1,000,000 x 64 KiB hash: empty first snapshot, then the entries written', async (t) => {
    if (!precondition(t, reason)) return;
    const map_id = maps.get('big_values')!.id;
    const first = nextEvent(agent, 'map_snapshot', (e) => e.map_id === map_id);
    const w = await agent.request('map_watch', { map_id, interval_ms: 50 });
    assert.equal((await first).count, 0);
    const filled = nextEvent(agent, 'map_snapshot', (e) => e.map_id === map_id && e.count === 3);
    await agent.request('map_update', {
      map_id,
      entries: [1, 2, 3].map((k) => ({ key: k, value: { text: `value ${k}` } })),
    });
    const snap = await filled;
    assert.deepEqual(snap.entries.map((e) => (e.value as { text: string }).text).sort(), [
      'value 1',
      'value 2',
      'value 3',
    ]);
    await agent.request('unsubscribe', { subscription: w.subscription });
  });

  test('entries beyond the read budget: map_dump pages are cut and walk them all; map_watch says too_large', async (t) => {
    if (!precondition(t, reason)) return;
    const map_id = maps.get('huge_values')!.id;
    const n = 40; // 40 x 4 MB = 160 MB present, above the agent's 128 MiB budget per read
    for (let k = 0; k < n / 2; k++) await agent.request('map_update', { map_id, key: k, value: { text: `big ${k}` } });
    // 80 MB: watched; then it grows past the budget: the watch stops and says so once
    const first = nextEvent(agent, 'map_snapshot', (e) => e.map_id === map_id);
    const w = await agent.request('map_watch', { map_id, interval_ms: 200 });
    assert.equal((await first).count, n / 2);
    const stopped = nextEvent(
      agent,
      'log',
      (e) => /map_watch \d+ stopped: map \d+ grew too large/.test(e.message),
      60_000,
    );
    for (let k = n / 2; k < n; k++) await agent.request('map_update', { map_id, key: k, value: { text: `big ${k}` } });
    assert.equal((await stopped).level, 'error');
    await agent.request('unsubscribe', { subscription: w.subscription });
    const keys: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const d = await agent.request('map_dump', { map_id, ...(cursor ? { cursor } : {}) });
      pages++;
      for (const e of d.entries!) {
        assert.equal((e.value as { text: string }).text, `big ${e.key as number}`);
        keys.push(e.key as number);
      }
      if (d.done) break;
      assert.ok(d.count > 0, 'every page but the last has entries');
      cursor = d.cursor!;
    }
    assert.ok(pages >= 2, `the dump was cut into pages (${pages})`);
    assert.deepEqual(
      keys.sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i),
    );
    await assert.rejects(agent.request('map_watch', { map_id }), (err: AgentRequestError) => {
      assert.equal(err.code, 'too_large');
      assert.match(err.message, /budget/);
      return true;
    });
    assert.deepEqual(await agent.request('ping', {}), { pong: true });
    await agent.request('unload', { handle }); // gives the 160 MB back to the kernel
  });
});
