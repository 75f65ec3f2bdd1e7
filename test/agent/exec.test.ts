/**
 * The agent's `exec` method: refused (permission_denied, and absent from hello's capabilities)
 * unless the agent was started with --allow-exec, as bpf-ide's VM guests start it; with the flag
 * it runs argv, reports exit code and output, and kills a command that outlives its time limit.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AgentClient } from '../../client/src/core/agent/agent-client';
import { AgentRequestError } from '../../client/src/core/agent/agent-errors';
import { ensureAgent } from './agent-harness';

describe('agent exec', () => {
  const agents: AgentClient[] = [];
  after(async () => {
    for (const a of agents) await a.shutdown();
  });

  test('without --allow-exec: permission_denied, and exec is not offered in hello', async () => {
    const a = AgentClient.spawn(ensureAgent());
    agents.push(a);
    const hello = await a.hello;
    assert.ok(!hello.capabilities.includes('exec'));
    await assert.rejects(
      a.request('exec', { argv: ['true'] }),
      (e: Error) =>
        e instanceof AgentRequestError && e.code === 'permission_denied' && /--allow-exec/.test(e.body.hint ?? ''),
    );
  });

  test('with --allow-exec: exit code and output; a missing command is 127; a slow one is killed at its limit', async () => {
    const a = AgentClient.spawn(ensureAgent(), { args: ['--allow-exec'] });
    agents.push(a);
    assert.ok((await a.hello).capabilities.includes('exec'));
    const r = await a.request('exec', { argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    assert.deepEqual([r.exit_code, r.stdout, r.stderr, r.timed_out], [3, 'out\n', 'err\n', false]);
    const missing = await a.request('exec', { argv: ['/nonexistent/bpf-ide-cmd'] });
    assert.equal(missing.exit_code, 127);
    assert.match(missing.stderr, /No such file/);
    const t0 = Date.now();
    const slow = await a.request('exec', { argv: ['sleep', '30'], timeout_ms: 300 });
    assert.equal(slow.timed_out, true);
    assert.equal(slow.exit_code, null);
    assert.ok(Date.now() - t0 < 5000);
    await assert.rejects(a.request('exec', { argv: [] }), { code: 'invalid_params' });
    assert.deepEqual(await a.request('ping', {}), { pong: true });
  });
});
