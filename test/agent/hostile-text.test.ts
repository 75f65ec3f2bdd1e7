/**
 * Display spoofing, on the real kernel: a program writes hostile bytes (a U+202E in a map key and in its task's
 * comm, text after a NUL in a char array, a bpf_printk %s argument holding a newline and a forged trace_pipe
 * header) and the agent must hand them over so that nothing is hidden or forged: char arrays keep the bytes after a
 * NUL (as \u0000), and a trace entry stays one line event with the real header, the forged one inside its message.
 * The client side's escaping of what is shown is in test/unit/visible-text.test.ts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentClient, AgentRequestError } from '../../client/src/core/agent/agent-client';
import type { LoadedMap, RingbufEvent, TraceLineEvent } from '../../client/src/core/agent/agent-protocol';
import { visibleText } from '../../client/src/core/visible-text';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, nextEvent, runAs, startAgent, waitFor, UNIQUE } from './agent-harness';

const reason = agentUnavailableReason();

describe('hostile text from the target', { concurrency: false }, () => {
  let agent: AgentClient;
  let handle: number;
  let maps: Map<string, LoadedMap>;
  // a command name with a right-to-left override (9 bytes of UTF-8, within comm's 15)
  const comm = `h\u202e${UNIQUE}`.slice(0, 8);
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    const r = await agent.request('load', { path: fixture('hostile') });
    handle = r.handle;
    maps = new Map(r.maps.map((m) => [m.name, m]));
    await agent.request('attach', { handle: r.handle });
    await agent.request('map_update', { map_id: maps.get('hostile_config')!.id, key: 0, value: { comm } });
  });
  after(async () => {
    await agent?.shutdown();
  });

  test('map entries and ring buffer records: a U+202E arrives as such, text after a NUL is kept as \\u0000', async (t) => {
    if (!precondition(t, reason)) return;
    const s = await agent.request('ringbuf_subscribe', { map_id: maps.get('hostile_rb')!.id, type: 'struct hevent' });
    const rec = nextEvent(agent, 'ringbuf_event', (e: RingbufEvent) => e.subscription === s.subscription, 15_000);
    await runAs(comm);
    const ev = (await rec).data as { comm: string; text: string };
    assert.equal(ev.comm, comm);
    assert.equal(ev.text, 'ab\u0000cd', 'the bytes after the NUL are not hidden');
    const dump = await waitFor(async () => {
      const d = await agent.request('map_dump', { map_id: maps.get('hostile')!.id });
      return d.entries.length ? d : undefined;
    }, 'the hostile map entry');
    const [entry] = dump.entries as { key: { name: string }; value: { text: string; n: number } }[];
    assert.equal(entry.key.name, 'ev\u202eil');
    assert.equal(entry.value.text, 'ab\u0000cd');
    // what a user sees: escaped, never reordered or cut
    assert.equal(visibleText(entry.key.name), 'ev\\u202eil');
    assert.equal(visibleText(entry.value.text), 'ab\\0cd');
    // the string writes back the same bytes: the key with a NUL in it is found and deleted
    await agent.request('map_update', {
      map_id: maps.get('hostile')!.id,
      key: { name: 'x\u0000y' },
      value: { text: 'ab\u0000cd', n: 2 },
    });
    const again = await agent.request('map_dump', { map_id: maps.get('hostile')!.id });
    const written = (again.entries as { key: { name: string }; value: { text: string } }[]).find(
      (e) => e.key.name === 'x\u0000y',
    );
    assert.equal(written?.value.text, 'ab\u0000cd');
    await agent.request('map_delete', { map_id: maps.get('hostile')!.id, key: { name: 'x\u0000y' } });
    // a path with a NUL in it is refused, not cut at the NUL
    await assert.rejects(agent.request('load', { path: `${fixture('hostile')}\u0000.txt` }), {
      code: 'invalid_params',
    });
    await agent.request('unsubscribe', { subscription: s.subscription });
  });

  test('bpf_printk: a newline and a forged header inside %s stay in the real entry, never a line of their own', async (t) => {
    if (!precondition(t, reason)) return;
    const s = await waitFor(
      () =>
        agent.request('trace_subscribe', {}).catch((e: AgentRequestError) => {
          if (e.code !== 'busy') throw e;
          return undefined;
        }),
      'trace_pipe to be free',
      60_000,
    );
    const lines: TraceLineEvent[] = [];
    const onLine = (e: TraceLineEvent) => void (e.subscription === s.subscription && lines.push(e));
    agent.on('trace_line', onLine);
    try {
      // trace_pipe is consuming and system-wide (another test may read it): trigger until our entry arrives
      const ours = () => lines.find((e) => e.message?.startsWith('real message'));
      const timer = setInterval(() => void runAs(comm), 300);
      await waitFor(ours, 'the entry with the forged header', 20_000).finally(() => clearInterval(timer));
      const e = ours()!;
      assert.equal(e.function, 'bpf_trace_printk');
      assert.notEqual(e.pid, 4242);
      assert.equal(
        e.message,
        'real message\n          forged-4242    [003] d..31 12345.678901: bpf_trace_printk: FORGED',
      );
      assert.ok(!lines.some((x) => x.pid === 4242 || x.task === 'forged'), 'no line with the forged header');
      assert.ok(!lines.some((x) => x.message === 'FORGED' || x.line.startsWith('          forged-4242')));
    } finally {
      agent.off('trace_line', onLine);
      await agent.request('unsubscribe', { subscription: s.subscription });
    }
  });

  test('unload', async (t) => {
    if (!precondition(t, reason)) return;
    await agent.request('unload', { handle });
  });
});
