/**
 * The local target: the agent as a child of this process (we run as root here), a real load,
 * cleanup on dispose, respawn after the agent dies, and the privilege errors when sudo is
 * missing or refuses (never a hang).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { LocalTarget } from '../../client/src/core/targets/local-target';
import { SshTarget, createTarget } from '../../client/src/core/targets/index';
import { LocalPrivilegeError, TargetError } from '../../client/src/core/targets/target-errors';
import {
  agentBinary,
  alive,
  canRun,
  fixture,
  nextState,
  progExists,
  recordStates,
  tempDir,
  waitFor,
} from './ssh-harness';

describe('local target', { concurrency: false }, () => {
  test('as root: spawns the agent directly, loads a program, dispose releases it', async (t) => {
    if (!canRun(t)) return;
    const target = new LocalTarget({ agentPath: agentBinary().path });
    assert.equal(target.usesSudo, false);
    assert.equal(target.describe(), 'local');
    const states = recordStates(target);
    const agent = await target.connect();
    assert.equal(await target.connect(), agent, 'connect() is idempotent');
    const hello = await agent.hello;
    assert.equal(hello.privileges.privileged, true);
    assert.equal(target.hello?.pid, hello.pid);
    const r = await agent.request('load', { path: fixture('tiny') });
    const id = r.programs[0].id;
    assert.ok(progExists(id));
    await target.dispose();
    assert.deepEqual(
      states.map((s) => s.state),
      ['connecting', 'connected', 'disconnected'],
    );
    assert.equal(alive(hello.pid), false);
    assert.equal(progExists(id), false);
  });

  test('an agent that dies is respawned (state events), its programs are gone', async (t) => {
    if (!canRun(t)) return;
    const target = new LocalTarget({
      agentPath: agentBinary().path,
      reconnect: { maxAttempts: 3, initialDelayMs: 20 },
    });
    try {
      const first = await target.connect();
      const pid = (await first.hello).pid;
      const r = await first.request('load', { path: fixture('tiny') });
      const lost = new Promise<Error>((resolve) => target.once('lost', resolve));
      const reconnected = nextState(target, 'connected');
      process.kill(pid, 'SIGKILL');
      const err = await lost;
      assert.match(err.message, /the agent exited \(signal SIGKILL\)/);
      await reconnected;
      assert.notEqual(target.agent, first);
      assert.notEqual((await target.agent!.hello).pid, pid);
      await waitFor(() => !progExists(r.programs[0].id), 'the killed agent’s program to be released');
    } finally {
      await target.dispose();
    }
  });

  test('sudo missing: LocalPrivilegeError at once, saying how to fix it', async (t) => {
    if (!canRun(t)) return;
    const target = new LocalTarget({
      agentPath: agentBinary().path,
      sudo: 'always',
      sudoPath: join(tempDir(), 'no-such-sudo'),
    });
    const started = Date.now();
    await assert.rejects(target.connect(), (err: Error) => {
      assert.ok(err instanceof LocalPrivilegeError);
      assert.equal(err.name, 'LocalPrivilegeError');
      assert.match(err.message, /sudo is not installed/);
      assert.match(err.message, /NOPASSWD: <path to bpf-agent>/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
    assert.equal(target.state, 'failed');
    await target.dispose();
  });

  test('sudo refusing (a password would be needed): LocalPrivilegeError with what sudo said', async (t) => {
    if (!canRun(t)) return;
    // /bin/false stands where sudo would be: it exits 1 as `sudo -n` does when it wants a password
    const target = new LocalTarget({ agentPath: agentBinary().path, sudo: 'always', sudoPath: '/bin/false' });
    await assert.rejects(target.connect(), (err: Error) => {
      assert.ok(err instanceof LocalPrivilegeError);
      assert.match(err.message, /`sudo -n` refused to run the agent \(exit code 1\)/);
      return true;
    });
    await target.dispose();
  });

  test('a missing agent binary is a clear error, not a hang', async (t) => {
    if (!canRun(t)) return;
    const target = new LocalTarget({ agentPath: join(tempDir(), 'no-agent-here') });
    await assert.rejects(target.connect(), (err: Error) => {
      assert.ok(err instanceof TargetError);
      assert.match(err.message, /missing or not executable.*make -C remote-agent/);
      return true;
    });
    await target.dispose();
  });

  test('createTarget: local, ssh:// and aliases become the right Target', (t) => {
    if (!canRun(t)) return;
    const agent = agentBinary();
    const local = createTarget('local', { agent });
    assert.ok(local instanceof LocalTarget);
    const home = tempDir();
    const ssh = createTarget('ssh://alice@10.9.8.7:2200', { agent, homeDir: home, sshConfig: join(home, 'none') });
    assert.ok(ssh instanceof SshTarget);
    assert.equal(ssh.describe(), 'alice@10.9.8.7:2200');
    assert.equal(ssh.state, 'disconnected');
    assert.throws(() => createTarget('ftp://x', { agent }), /unknown scheme/);
  });
});
