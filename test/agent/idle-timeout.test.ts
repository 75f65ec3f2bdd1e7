/**
 * Issue 15, item 9 at the agent's level: `--idle-timeout SECONDS`. A client that says nothing for that
 * long is taken as gone: the agent releases what it loaded and attached, says `bye` (reason
 * idle_timeout) and exits. AgentClient pings while quiet, so a live client keeps its agent. The
 * silent network drop itself is tested against a real sshd in test/ssh/silent-drop.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { AgentClient } from '../../client/src/core/agent/agent-client';
import type { AgentEvent } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, precondition } from './preconditions';
import { bpftoolHas, ensureAgent, fixture, waitFor } from './agent-harness';

const reason = agentUnavailableReason();

async function loadAndAttach(agent: AgentClient) {
  const r = await agent.request('load', { path: fixture('attach') });
  const prog = r.programs.find((p) => p.name === 'on_raw_tp')!.id;
  const { links } = await agent.request('attach', { handle: r.handle, program: 'on_raw_tp' });
  return { prog, link: links[0].link_id! };
}

describe('agent: --idle-timeout', { concurrency: false }, () => {
  test('a silent client: everything released, bye idle_timeout, exit 0, within the timeout', async (t) => {
    if (!precondition(t, reason)) return;
    const agent = AgentClient.spawn(ensureAgent(), { args: ['--idle-timeout', '1'], keepalive: false });
    const events: AgentEvent[] = [];
    agent.on('event', (e) => events.push(e));
    const closed = new Promise<{ exitCode: number | null }>((res) => agent.once('close', res));
    assert.equal((await agent.hello).idle_timeout_s, 1);
    const { prog, link } = await loadAndAttach(agent);
    const quietSince = Date.now();
    const { exitCode } = await closed;
    const ms = Date.now() - quietSince;
    assert.equal(exitCode, 0);
    assert.ok(ms >= 900 && ms < 4000, `exited ${ms} ms after the last request`);
    assert.deepEqual(
      events.filter((e) => e.event === 'bye'),
      [{ event: 'bye', reason: 'idle_timeout' }],
    );
    // the kernel frees a program shortly after its last fd closes (deferred work)
    await waitFor(
      () => !bpftoolHas('link', link) && !bpftoolHas('prog', prog),
      'the link and program to be freed',
      3000,
    );
  });

  test('a quiet but live client keeps its agent: AgentClient pings', async (t) => {
    if (!precondition(t, reason)) return;
    const agent = AgentClient.spawn(ensureAgent(), { args: ['--idle-timeout', '2'] });
    try {
      await agent.hello;
      const { prog, link } = await loadAndAttach(agent);
      await new Promise((res) => setTimeout(res, 3500));
      assert.equal(agent.isClosed, false);
      assert.ok(bpftoolHas('prog', prog) && bpftoolHas('link', link));
    } finally {
      await agent.shutdown();
    }
  });

  test('--idle-timeout 0 turns it off; the default is 30 s; a bad value is refused', async (t) => {
    if (!precondition(t, reason)) return;
    for (const [args, want] of [
      [['--idle-timeout', '0'], 0],
      [[], 30],
    ] as const) {
      const agent = AgentClient.spawn(ensureAgent(), { args: [...args], keepalive: false });
      assert.equal((await agent.hello).idle_timeout_s, want);
      await agent.shutdown();
    }
    const bad = spawnSync(ensureAgent(), ['--idle-timeout', 'soon'], { encoding: 'utf8', input: '' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--idle-timeout takes a number of seconds/);
  });

  test('a long request is not silence: queued pings keep the agent', async (t) => {
    if (!precondition(t, reason)) return;
    const agent = AgentClient.spawn(ensureAgent(), { args: ['--idle-timeout', '1'] });
    try {
      await agent.hello;
      // SIGSTOP stands in for a request that keeps the agent busy for 2.5 s while the client pings on
      process.kill(agent.pid!, 'SIGSTOP');
      await new Promise((res) => setTimeout(res, 2500));
      process.kill(agent.pid!, 'SIGCONT');
      await new Promise((res) => setTimeout(res, 300));
      assert.deepEqual(await agent.request('ping', {}), { pong: true });
    } finally {
      await agent.shutdown();
    }
  });
});
