/**
 * SshTarget across connections: reconnection with backoff after an sshd restart, giving up after
 * the bounded attempts, and ProxyJump through one and two more real sshds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import { SshConnectionRefusedError } from '../../client/src/core/targets/target-errors';
import type { UnknownHostInfo } from '../../client/src/core/targets/ssh-connect';
import { Sshd } from './sshd-fixture';
import {
  alive,
  canRun,
  fixture,
  nextState,
  progExists,
  recordStates,
  targetFor,
  tempHome,
  waitFor,
} from './ssh-harness';

describe('ssh target: reconnect and ProxyJump (real sshd)', { concurrency: false }, () => {
  test('after an sshd restart the target reconnects with backoff and a fresh agent', async (t) => {
    if (!canRun(t)) return;
    const box = await Sshd.start();
    const target = targetFor(box, { reconnect: { maxAttempts: 10, initialDelayMs: 50, maxDelayMs: 800 } });
    try {
      const first = await target.connect();
      const oldPid = (await first.hello).pid;
      const states = recordStates(target);
      const fresh = new Promise<AgentClient>((resolve) => target.once('agent', resolve));
      const reconnecting = nextState(target, 'reconnecting');
      await box.restart();
      const r = await reconnecting;
      assert.ok(r.attempt === 1 && r.delayMs === 50);
      // connect() while the loop runs shares its outcome (no second, parallel connection)
      const viaConnect = target.connect();
      const second = await fresh;
      assert.equal(await viaConnect, second);
      assert.notEqual(second, first);
      assert.equal(target.state, 'connected');
      assert.equal(target.agent, second);
      const hello = await second.hello;
      assert.notEqual(hello.pid, oldPid);
      assert.deepEqual(await second.request('ping', {}), { pong: true });
      await waitFor(() => !alive(oldPid), 'the old agent to exit');
      // the second connect after the restart reused the upload
      assert.equal(target.lastConnect!.deploy.uploaded, false);
      assert.ok(states.some((s) => s.state === 'reconnecting'));
      t.diagnostic(`states: ${states.map((s) => `${s.state}${s.attempt ? `#${s.attempt}` : ''}`).join(' -> ')}`);
    } finally {
      await target.dispose();
      await box.dispose();
    }
  });

  test('gives up after the bounded attempts when the box stays down', async (t) => {
    if (!canRun(t)) return;
    const box = await Sshd.start();
    const target = targetFor(box, { reconnect: { maxAttempts: 3, initialDelayMs: 20, maxDelayMs: 100 } });
    try {
      await target.connect();
      const failed = nextState(target, 'failed');
      const attempts: number[] = [];
      target.on('state', (s) => s.state === 'reconnecting' && attempts.push(s.attempt!));
      await box.stop();
      const f = await failed;
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.match(f.message, /gave up reconnecting/);
      assert.ok(f.error instanceof SshConnectionRefusedError);
    } finally {
      await target.dispose();
      await box.dispose();
    }
  });

  test('ProxyJump through a second sshd, from ~/.ssh/config', async (t) => {
    if (!canRun(t)) return;
    const jump = await Sshd.start();
    const box = await Sshd.start();
    const home = tempHome('jump');
    writeFileSync(
      join(home, '.ssh', 'config'),
      [
        'Host jumphost',
        '  HostName 127.0.0.1',
        `  Port ${jump.port}`,
        '  User root',
        `  IdentityFile ${jump.clientKey}`,
        '',
        'Host box-*',
        '  User root',
        '  ProxyJump jumphost',
        '',
        'Host box-behind',
        '  HostName 127.0.0.1',
        `  Port ${box.port}`,
        `  IdentityFile ${box.clientKey}`,
        '',
      ].join('\n'),
    );
    const asked: UnknownHostInfo[] = [];
    const target = targetFor(box, {
      spec: 'box-behind',
      homeDir: home,
      sshConfig: join(home, '.ssh', 'config'),
      identityFiles: [],
      confirmUnknownHost: async (info) => {
        asked.push(info);
        return true;
      },
    });
    try {
      assert.equal(target.describe(), `root@127.0.0.1:${box.port} via jumphost`);
      const agent = await target.connect();
      assert.deepEqual(
        asked.map((a) => a.port),
        [jump.port, box.port],
      );
      const r = await agent.request('load', { path: fixture('tiny') });
      assert.ok(progExists(r.programs[0].id));
      assert.match(jump.log, /Accepted publickey for root/);
      assert.match(box.log, /Accepted publickey for root/);
      await target.dispose();
      assert.equal(progExists(r.programs[0].id), false);
    } finally {
      await target.dispose();
      await box.dispose();
      await jump.dispose();
    }
  });

  test('ProxyJump with two hops (an alias, then user@host:port inline), keys tried in turn', async (t) => {
    if (!canRun(t)) return;
    const hop1 = await Sshd.start();
    const hop2 = await Sshd.start();
    const box = await Sshd.start();
    const home = tempHome('jump2');
    writeFileSync(
      join(home, '.ssh', 'config'),
      [
        'Host first-hop',
        '  HostName 127.0.0.1',
        `  Port ${hop1.port}`,
        '  User root',
        '',
        'Host far-box',
        '  HostName 127.0.0.1',
        `  Port ${box.port}`,
        '  User root',
        `  ProxyJump first-hop,root@127.0.0.1:${hop2.port}`,
        '',
      ].join('\n'),
    );
    const asked: number[] = [];
    const target = targetFor(box, {
      spec: 'far-box',
      homeDir: home,
      sshConfig: join(home, '.ssh', 'config'),
      // as `--identity` given three times: every hop tries them in order
      identityFiles: [hop1.clientKey, hop2.clientKey, box.clientKey],
      confirmUnknownHost: async (info) => {
        asked.push(info.port);
        return true;
      },
    });
    try {
      assert.equal(target.describe(), `root@127.0.0.1:${box.port} via first-hop, 127.0.0.1`);
      const agent = await target.connect();
      assert.deepEqual(asked, [hop1.port, hop2.port, box.port]);
      assert.deepEqual(await agent.request('ping', {}), { pong: true });
      for (const s of [hop1, hop2, box]) assert.match(s.log, /Accepted publickey for root/);
    } finally {
      await target.dispose();
      await box.dispose();
      await hop2.dispose();
      await hop1.dispose();
    }
  });
});
