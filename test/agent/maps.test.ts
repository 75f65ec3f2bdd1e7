/**
 * map_dump / map_update / map_delete / map_watch on every map type the IDE shows: hash,
 * array, per-CPU, LRU, with BTF-typed struct values (nested structs, arrays, enums, char
 * arrays as strings, bitfields), paging with cursors, raw bytes, and typed writes.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import type { LoadedMap, MapSnapshotEvent } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, nextEvent, runAs, startAgent, waitFor, UNIQUE } from './agent-harness';

const reason = agentUnavailableReason();

describe('agent maps', { concurrency: false }, () => {
  let agent: AgentClient;
  let maps: Map<string, LoadedMap>;
  let ncpus = 1;
  let childPid = 0;
  const comm = `bpfide_m${UNIQUE}`.slice(0, 15);
  const id = (name: string) => maps.get(name)!.id;
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    ncpus = (await agent.hello).kernel.ncpus;
    const r = await agent.request('load', { path: fixture('maps'), map_sizes: { big: 5000 } });
    maps = new Map(r.maps.map((m) => [m.name, m]));
    await agent.request('attach', { handle: r.handle });
    childPid = await runAs(comm);
  });
  after(async () => {
    await agent?.shutdown();
  });

  test('hash u32 -> u64: the exec count of our child', async (t) => {
    if (!precondition(t, reason)) return;
    const d = await waitFor(async () => {
      const x = await agent.request('map_dump', { map_id: id('counts') });
      return x.entries.some((e) => e.key === childPid) ? x : undefined;
    }, 'the child in counts');
    assert.equal(d.type, 'hash');
    assert.equal(d.key_type, 'u32');
    assert.equal(d.value_type, 'u64');
    assert.equal(d.done, true);
    assert.equal(d.cursor, null);
    assert.equal(d.entries.find((e) => e.key === childPid)!.value, 1);
  });

  test('struct values decode: nested struct, arrays, enum by name, char array as string, bitfields, negatives', async (t) => {
    if (!precondition(t, reason)) return;
    const d = await agent.request('map_dump', { map_id: id('structs') });
    const e = d.entries.find((x) => x.key === childPid);
    assert.ok(e, 'our child is in structs');
    assert.deepEqual(e.value, {
      count: 1,
      comm,
      color: 'GREEN',
      in: { a: childPid, b: [1, 2, 3] },
      neg: -5,
      flag: 1,
      level: 5,
    });
  });

  test('array, per-CPU array (one value per CPU), LRU hash with struct values', async (t) => {
    if (!precondition(t, reason)) return;
    const arr = await agent.request('map_dump', { map_id: id('arr') });
    assert.equal(arr.entries.length, 4);
    assert.ok((arr.entries[0].value as number) >= 1);
    const pc = await agent.request('map_dump', { map_id: id('pcpu') });
    assert.equal(pc.percpu, true);
    const v0 = pc.entries[0].value as number[];
    assert.equal(v0.length, ncpus);
    assert.ok(v0.reduce((a, b) => a + b, 0) >= 1);
    const lru = await agent.request('map_dump', { map_id: id('lru') });
    assert.equal(lru.type, 'lru_hash');
    assert.deepEqual(lru.entries.find((x) => x.key === childPid)?.value, { a: childPid, b: [0, 0, 0] });
  });

  test('typed writes: struct from JSON, big u64 as string, per-CPU values, hex keys; delete', async (t) => {
    if (!precondition(t, reason)) return;
    const value = { count: 7, comm: 'hello', color: 'BLUE', in: { a: 9, b: [4, 5, 6] }, neg: -9, flag: 1, level: 3 };
    await agent.request('map_update', { map_id: id('structs'), key: 4242, value });
    const d = await agent.request('map_dump', { map_id: id('structs'), raw: true });
    const e = d.entries.find((x) => x.key === 4242)!;
    assert.deepEqual(e.value, value);
    assert.equal(e.key_hex, '92100000');
    await agent.request('map_update', { map_id: id('counts'), key: 1, value: '18446744073709551615' });
    await agent.request('map_update', { map_id: id('counts'), key_hex: '02000000', value_hex: '0500000000000000' });
    const c = await agent.request('map_dump', { map_id: id('counts') });
    assert.equal(c.entries.find((x) => x.key === 1)!.value, '18446744073709551615', 'past 2^53 as a decimal string');
    assert.equal(c.entries.find((x) => x.key === 2)!.value, 5);
    const each = Array.from({ length: ncpus }, (_, i) => i + 10);
    await agent.request('map_update', { map_id: id('pcpu_hash'), key: 3, value: each });
    await agent.request('map_update', { map_id: id('pcpu_hash'), key: 4, value: 8 });
    const ph = await agent.request('map_dump', { map_id: id('pcpu_hash') });
    assert.deepEqual(ph.entries.find((x) => x.key === 3)!.value, each);
    assert.deepEqual(ph.entries.find((x) => x.key === 4)!.value, Array(ncpus).fill(8));
    await agent.request('map_delete', { map_id: id('counts'), key: 1 });
    await assert.rejects(agent.request('map_delete', { map_id: id('counts'), key: 1 }), { code: 'not_found' });
    await assert.rejects(agent.request('map_update', { map_id: id('structs'), key: 1, value: { nope: 1 } }), {
      code: 'invalid_params',
    });
    await assert.rejects(
      agent.request('map_update', { map_id: id('structs'), key: 1, value: { comm: 'x'.repeat(40) } }),
      {
        code: 'invalid_params',
      },
    );
    await assert.rejects(agent.request('map_update', { map_id: id('arr'), key: 99, value: 1 }), { code: 'map_error' });
    await assert.rejects(agent.request('map_dump', { map_id: 0x7ffffff0 }), { code: 'not_found' });
  });

  test('paging: limit and cursor walk a 5000-entry hash exactly once (batch lookups)', async (t) => {
    if (!precondition(t, reason)) return;
    const entries = Array.from({ length: 5000 }, (_, i) => ({ key: i, value: i * 3 }));
    const u = await agent.request('map_update', { map_id: id('big'), entries });
    assert.equal(u.count, 5000);
    const seen = new Map<number, number>();
    let cursor: string | undefined;
    let pages = 0;
    for (;;) {
      const d = await agent.request('map_dump', { map_id: id('big'), limit: 700, cursor });
      pages++;
      for (const e of d.entries) {
        assert.equal(seen.has(e.key as number), false, 'no entry twice');
        seen.set(e.key as number, e.value as number);
      }
      if (d.done) break;
      assert.ok(d.cursor);
      cursor = d.cursor;
    }
    assert.equal(seen.size, 5000);
    assert.ok(pages >= 7);
    assert.equal(seen.get(4999), 4999 * 3);
    await assert.rejects(agent.request('map_dump', { map_id: id('big'), cursor: 'garbage' }), {
      code: 'invalid_params',
    });
  });

  test('a map type without batch lookups (LPM trie) is read key by key, with cursors', async (t) => {
    if (!precondition(t, reason)) return;
    const entries = Array.from({ length: 10 }, (_, i) => ({ key: { prefixlen: 24, addr: [10, 200, i, 0] }, value: i }));
    await agent.request('map_update', { map_id: id('routes'), entries });
    const all: unknown[] = [];
    let cursor: string | undefined;
    for (;;) {
      const d = await agent.request('map_dump', { map_id: id('routes'), limit: 3, cursor });
      assert.equal(d.type, 'lpm_trie');
      assert.equal(d.key_type, 'struct lpm_key');
      all.push(...d.entries);
      if (d.done) break;
      assert.match(d.cursor!, /^k:/);
      cursor = d.cursor!;
    }
    assert.equal(all.length, 10);
    assert.deepEqual(
      all.find((e) => (e as { value: number }).value === 7),
      { key: { prefixlen: 24, addr: [10, 200, 7, 0] }, value: 7 },
    );
  });

  test('map_watch: a full first snapshot, then only what changed', async (t) => {
    if (!precondition(t, reason)) return;
    const first = nextEvent(agent, 'map_snapshot', (e) => e.map_id === id('big'));
    const w = await agent.request('map_watch', { map_id: id('big'), interval_ms: 20 });
    const snap = await first;
    assert.equal(snap.full, true);
    assert.equal(snap.count, 5000);
    // the two changes may land in one tick or in two: gather diffs until both were seen
    const diffs: MapSnapshotEvent[] = [];
    const both = nextEvent(
      agent,
      'map_snapshot',
      (e) => {
        if (e.subscription !== w.subscription || e.seq === 1) return false;
        diffs.push(e);
        const changed = diffs.flatMap((d) => d.entries);
        const removed = diffs.flatMap((d) => d.removed);
        return changed.some((x) => x.key === 17 && x.value === 1717) && removed.includes(18);
      },
      10_000,
    );
    await agent.request('map_update', { map_id: id('big'), key: 17, value: 1717 });
    await agent.request('map_delete', { map_id: id('big'), key: 18 });
    await both;
    for (const d of diffs) assert.equal(d.full, false, 'a big map sends only what changed');
    assert.deepEqual(
      diffs.flatMap((d) => d.entries),
      [{ key: 17, value: 1717 }],
    );
    assert.deepEqual(
      diffs.flatMap((d) => d.removed),
      [18],
    );
    const u = await agent.request('unsubscribe', { subscription: w.subscription });
    assert.equal(u.kind, 'map_watch');
  });

  test('ring buffers are not dumped: a coded error says how to read them', async (t) => {
    if (!precondition(t, reason)) return;
    const ev = await agent.request('load', { path: fixture('events') });
    const rb = ev.maps.find((m) => m.name === 'rb')!;
    await assert.rejects(agent.request('map_dump', { map_id: rb.id }), { code: 'not_supported' });
    await agent.request('unload', { handle: ev.handle });
  });

  test('queue and stack maps are not dumped (reading pops them): a coded error says why, nothing is popped', async (t) => {
    if (!precondition(t, reason)) return;
    const q = await agent.request('load', { path: fixture('queue') });
    try {
      await agent.request('attach', { handle: q.handle });
      await runAs(comm); // one pid pushed onto each
      for (const name of ['pending', 'recent']) {
        const m = q.maps.find((x) => x.name === name)!;
        await assert.rejects(agent.request('map_dump', { map_id: m.id }), (e: Error & { code?: string }) => {
          assert.equal(e.code, 'not_supported');
          assert.match(
            e.message,
            new RegExp(`is a ${m.type}: it has no keys to list, and reading its entries would pop them`),
          );
          return true;
        });
      }
      // still there: bpftool's peek (lookup without a key) sees the pushed pid
      const pending = q.maps.find((x) => x.name === 'pending')!;
      const peek = spawnSync('bpftool', ['map', 'peek', 'id', String(pending.id)], { encoding: 'utf8' });
      assert.equal(peek.status, 0, peek.stderr);
    } finally {
      await agent.request('unload', { handle: q.handle });
    }
  });
});
