/**
 * Issue 15, item 8: a number beyond 64-bit integers anywhere in a request (JavaScript writes 2 ** 64
 * as 18446744073709552000) made jansson refuse the whole line: `parse_error` with `id: null`, so the
 * client never learned which request failed and waited out its timeout. The agent now recovers the
 * id and answers `invalid_params`, saying to send such integers as decimal strings.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentClient, AgentRequestError } from '../../client/src/core/agent/agent-client';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, nextEvent, startAgent } from './agent-harness';

const reason = agentUnavailableReason();

describe('agent: numbers beyond 64-bit integers in a request', { concurrency: false }, () => {
  let agent: AgentClient;
  let counts: number;
  let handle: number;
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    const r = await agent.request('load', { path: fixture('maps') });
    handle = r.handle;
    counts = r.maps.find((m) => m.name === 'counts')!.id;
  });
  after(async () => {
    await agent?.shutdown();
  });

  const invalid = async (p: Promise<unknown>) =>
    assert.rejects(p, (err: AgentRequestError) => {
      assert.equal(err.code, 'invalid_params', err.message);
      assert.match(err.message, /beyond 64-bit/);
      assert.match(err.hint ?? '', /decimal string/);
      return true;
    });

  test('a params value of 2^64 gets invalid_params for its own request at once', async (t) => {
    if (!precondition(t, reason)) return;
    await invalid(agent.request('ping', { x: 2 ** 64 } as never, { timeoutMs: 3000 }));
    await invalid(agent.request('map_update', { map_id: counts, key: 1, value: 2 ** 64 }, { timeoutMs: 3000 }));
    await invalid(agent.request('map_dump', { map_id: 1e20 }, { timeoutMs: 3000 }));
  });

  test('the same value as a decimal string is written, and reads back', async (t) => {
    if (!precondition(t, reason)) return;
    await agent.request('map_update', { map_id: counts, key: 1, value: '18446744073709551615' });
    const d = await agent.request('map_dump', { map_id: counts });
    assert.equal(d.entries!.find((e) => e.key === 1)?.value, '18446744073709551615');
    await agent.request('map_delete', { map_id: counts, key: 1 });
  });

  test('a string id and a real overflow (1e400) are recovered too; a line with no readable id is parse_error', async (t) => {
    if (!precondition(t, reason)) return;
    const byString = nextEvent(agent, 'protocol_error', (e) => e.line.includes('"big-1"'), 3000);
    agent.writeRaw('{"id":"big-1","method":"ping","params":{"x":1e400}}\n');
    const line = JSON.parse((await byString).line) as { id: string; error: { code: string } };
    assert.deepEqual([line.id, line.error.code], ['big-1', 'invalid_params']);
    const noId = nextEvent(agent, 'protocol_error', (e) => e.line.includes('parse_error'), 3000);
    agent.writeRaw('{"id":18446744073709551616,"method":"ping"}\n');
    assert.match((await noId).line, /"id":null/);
    assert.deepEqual(await agent.request('ping', {}), { pong: true });
    void handle;
  });
});
