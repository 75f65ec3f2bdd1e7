/**
 * Issue 15, item 5: unloading an object while one of its ring buffers is subscribed with a BTF
 * `type` (an open Events panel, then Unload or reload-on-save). The subscription decoded records
 * with the handle's BTF, which the unload freed: the unsubscribe that drained the ring read freed
 * memory (heap-use-after-free under AddressSanitizer, a segfault in 2 runs of 10 without it).
 *
 * To make the order certain the agent is stopped (SIGSTOP) while the requests are queued and the
 * records written, so that it reads `unload` and `unsubscribe` before it drains the ring.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import type { RingbufEvent } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, runAs, startAgent, UNIQUE } from './agent-harness';

const reason = agentUnavailableReason();

describe('agent: unload of a handle whose ring buffer is subscribed', { concurrency: false }, () => {
  let agent: AgentClient;
  const comm = `bpfide_u${UNIQUE}`.slice(0, 15);
  before(async () => {
    if (reason) return;
    agent = await startAgent();
  });
  after(async () => {
    await agent?.shutdown();
  });

  for (const order of ['unload, then unsubscribe', 'unload only (the stream keeps its ring)'] as const) {
    test(`records still in the ring are decoded after the unload: ${order}`, async (t) => {
      if (!precondition(t, reason)) return;
      const r = await agent.request('load', { path: fixture('events') });
      const maps = new Map(r.maps.map((m) => [m.name, m]));
      await agent.request('attach', { handle: r.handle });
      await agent.request('map_update', {
        map_id: maps.get('config')!.id,
        key: 0,
        value: { ring_burst: 20, perf_burst: 0, comm },
      });
      const s = await agent.request('ringbuf_subscribe', { map_id: maps.get('rb')!.id, type: 'struct event' });
      const got: RingbufEvent[] = [];
      agent.on('ringbuf_event', (e) => e.subscription === s.subscription && got.push(e));

      const pid = agent.pid!;
      process.kill(pid, 'SIGSTOP');
      let pids: number[];
      let unload, unsub;
      try {
        // queued in the agent's stdin before the records exist: it reads them first when it resumes
        unload = agent.request('unload', { handle: r.handle });
        unsub =
          order === 'unload, then unsubscribe' ? agent.request('unsubscribe', { subscription: s.subscription }) : null;
        await new Promise((res) => setTimeout(res, 50));
        pids = [await runAs(comm)];
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await unload;
      if (unsub) {
        const u = await unsub;
        assert.equal(u.delivered, 20, 'the unsubscribe drained the ring');
      } else {
        // the records arrive through the event loop; then the stream is ended by the client
        for (let i = 0; i < 100 && got.length < 20; i++) await new Promise((res) => setTimeout(res, 20));
        await agent.request('unsubscribe', { subscription: s.subscription });
      }
      assert.equal(got.length, 20);
      for (const e of got) {
        const d = e.data as { pid: number; comm: string };
        assert.equal(d.pid, pids[0], 'decoded with the struct event type after the unload');
        assert.equal(d.comm, comm);
      }
      assert.deepEqual(await agent.request('ping', {}), { pong: true }, 'the agent is alive');
    });
  }
});
