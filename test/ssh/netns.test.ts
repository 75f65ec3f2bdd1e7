/**
 * A box with its own address: sshd inside a network namespace this test creates (veth pair,
 * 10.200.X.0/24), reached at 10.200.X.2. Also where a silent drop can be made: the link goes
 * down, no FIN or RST arrives, and only keepalive can notice.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../support/preconditions';
import { SshConnectionLostError } from '../../client/src/core/targets/target-errors';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import { NetnsBox, netnsUnavailableReason } from './netns-fixture';
import { Sshd } from './sshd-fixture';
import {
  alive,
  canRun,
  fixture,
  nextState,
  progExists,
  sshTestsUnavailableReason,
  targetFor,
  waitFor,
} from './ssh-harness';

const runnable = sshTestsUnavailableReason() === null && netnsUnavailableReason() === null;

describe('a box in its own network namespace', { concurrency: false }, () => {
  let box: NetnsBox;
  let sshd: Sshd;
  before(async () => {
    if (!runnable) return;
    box = NetnsBox.create();
    // ClientAlive*: the box's sshd notices a dead client within ~2 s (so its agent gets EOF)
    sshd = await Sshd.start({
      netns: box.name,
      address: box.address,
      port: 22,
      extraConfig: ['ClientAliveInterval 1', 'ClientAliveCountMax 2'],
    });
  });
  after(async () => {
    await sshd?.dispose();
    box?.dispose();
  });

  function ready(t: Parameters<typeof canRun>[0]): boolean {
    if (!canRun(t)) return false;
    const reason = netnsUnavailableReason();
    return need(t, reason === null, reason ?? '');
  }

  test('connect to its 10.200 address, deploy, load; disconnect releases everything', async (t) => {
    if (!ready(t)) return;
    const target = targetFor(sshd);
    assert.equal(target.describe(), `root@${box.address}`);
    const agent = await target.connect();
    const hello = await agent.hello;
    assert.equal(hello.privileges.privileged, true);
    const r = await agent.request('load', { path: fixture('tiny') });
    const id = r.programs[0].id;
    assert.ok(progExists(id), 'BPF ids are global: visible from the root namespace');
    t.diagnostic(`connect over the veth: ${JSON.stringify(target.lastConnect)}`);
    await target.dispose();
    await waitFor(() => !alive(hello.pid), 'the agent to exit');
    assert.equal(progExists(id), false);
  });

  test('a silent drop is noticed by keepalive; the target reconnects when the link is back', async (t) => {
    if (!ready(t)) return;
    const target = targetFor(sshd, {
      keepaliveIntervalMs: 300,
      keepaliveCountMax: 2,
      readyTimeoutMs: 1500,
      reconnect: { maxAttempts: 20, initialDelayMs: 200, maxDelayMs: 1000 },
    });
    try {
      const first = await target.connect();
      const oldPid = (await first.hello).pid;
      const r = await first.request('load', { path: fixture('tiny') });
      const lost = new Promise<Error>((resolve) => target.once('lost', resolve));
      const reconnecting = nextState(target, 'reconnecting');
      const started = Date.now();
      box.setLink(false);
      const err = await lost;
      const noticedMs = Date.now() - started;
      assert.ok(err instanceof SshConnectionLostError, `${err.name}: ${err.message}`);
      assert.match(err.message, /Keepalive/i);
      await reconnecting;
      // the box's sshd drops the dead client too (ClientAlive*): its agent gets EOF and unloads
      await waitFor(() => !alive(oldPid), 'the old agent on the box to exit', 15_000);
      await waitFor(() => !progExists(r.programs[0].id), 'its program to be released', 15_000);
      const fresh = new Promise<AgentClient>((resolve) => target.once('agent', resolve));
      box.setLink(true);
      const second = await fresh;
      assert.deepEqual(await second.request('ping', {}), { pong: true });
      assert.equal(target.state, 'connected');
      t.diagnostic(`keepalive noticed the drop after ${noticedMs} ms`);
    } finally {
      box.setLink(true);
      await target.dispose();
    }
  });
});
