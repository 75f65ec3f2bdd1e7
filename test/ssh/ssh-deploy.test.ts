/**
 * SshTarget against a real OpenSSH sshd on 127.0.0.1 with throwaway keys: the agent deployed
 * (uploaded once, checked, reused), hello, a real load, cleanup on disconnect, a connection killed
 * mid-load, disconnect while connecting, and the deployment errors (architecture, sudo, cache).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AgentDeployError,
  RemoteSudoError,
  SshConnectionLostError,
  UnsupportedArchitectureError,
} from '../../client/src/core/targets/target-errors';
import { Sshd } from './sshd-fixture';
import {
  alive,
  canRun,
  fixture,
  mapExists,
  nextState,
  progExists,
  progIdsNamed,
  recordStates,
  rejects,
  sftpSessions,
  sshTestsUnavailableReason,
  targetFor,
  tempDir,
  waitFor,
} from './ssh-harness';

const runnable = sshTestsUnavailableReason() === null;

describe('ssh target: deploy, load, cleanup (real sshd)', { concurrency: false }, () => {
  let sshd: Sshd;
  before(async () => {
    if (runnable) sshd = await Sshd.start();
  });
  after(async () => {
    await sshd?.dispose();
  });

  test('connect deploys the agent, hello arrives, a real program loads and unloads', async (t) => {
    if (!canRun(t)) return;
    const target = targetFor(sshd);
    const states = recordStates(target);
    try {
      const agent = await target.connect();
      const hello = await agent.hello;
      assert.equal(hello.protocol, 1);
      assert.equal(hello.privileges.privileged, true);
      assert.deepEqual(
        states.map((s) => s.state),
        ['connecting', 'deploying', 'connected'],
      );
      const stats = target.lastConnect!;
      assert.equal(stats.deploy.uploaded, true);
      assert.ok(stats.deploy.bytesUploaded > 100_000);
      assert.match(stats.deploy.remotePath, /\/remote-cache\/\d+\.\d+\.\d+-[0-9a-f]{12}\/bpf-agent$/);
      // mode 0755 and the same bytes as the bundled agent
      assert.equal(statSync(stats.deploy.remotePath).mode & 0o777, 0o755);
      assert.deepEqual(
        readFileSync(stats.deploy.remotePath),
        readFileSync(join(__dirname, '../../remote-agent/build/bpf-agent')),
      );
      assert.equal(sftpSessions(sshd.log).length, 1, 'the upload went through one sftp session');
      t.diagnostic(`first connect (with upload): ${JSON.stringify(stats)}`);

      const r = await agent.request('load', { path: fixture('tiny') });
      assert.equal(r.programs.length, 1);
      assert.equal(r.programs[0].name, 'ssh_tiny');
      assert.ok(progExists(r.programs[0].id));
      await agent.request('unload', { handle: r.handle });
      assert.equal(progExists(r.programs[0].id), false);
    } finally {
      await target.dispose();
    }
  });

  test('a second connect reuses the uploaded agent: no sftp write, same file', async (t) => {
    if (!canRun(t)) return;
    const first = targetFor(sshd);
    await first.connect();
    const path = first.lastConnect!.deploy.remotePath;
    await first.dispose();
    const inode = statSync(path).ino;
    const mtime = statSync(path).mtimeMs;
    const logBefore = sshd.log.length;

    const target = targetFor(sshd);
    try {
      await target.connect();
      const stats = target.lastConnect!;
      assert.equal(stats.deploy.uploaded, false);
      assert.equal(stats.deploy.bytesUploaded, 0);
      assert.equal(stats.deploy.remotePath, path);
      const log = sshd.log.slice(logBefore);
      assert.match(log, /Accepted publickey for root/, 'the log covers this connect');
      assert.deepEqual(sftpSessions(log), [], 'no sftp session (so no sftp write) on a warm connect');
      assert.equal(statSync(path).ino, inode);
      assert.equal(statSync(path).mtimeMs, mtime);
      t.diagnostic(`warm connect: ${JSON.stringify(stats)}`);
    } finally {
      await target.dispose();
    }
  });

  test('a cached agent with the wrong contents is replaced', async (t) => {
    if (!canRun(t)) return;
    const first = targetFor(sshd);
    await first.connect();
    const path = first.lastConnect!.deploy.remotePath;
    await first.dispose();
    writeFileSync(path, '#!/bin/sh\necho tampered\n');
    const target = targetFor(sshd);
    try {
      const agent = await target.connect();
      assert.equal(target.lastConnect!.deploy.uploaded, true);
      assert.equal((await agent.hello).protocol, 1);
    } finally {
      await target.dispose();
    }
  });

  test('disconnect makes the agent exit and leaves nothing loaded', async (t) => {
    if (!canRun(t)) return;
    const target = targetFor(sshd);
    const agent = await target.connect();
    const pid = (await agent.hello).pid;
    const r = await agent.request('load', { path: fixture('tiny') });
    const ids = r.programs.map((p) => p.id);
    const maps = r.maps.map((m) => m.id);
    assert.ok(ids.every(progExists));
    await target.dispose();
    assert.equal(target.state, 'disconnected');
    await waitFor(() => !alive(pid), `agent ${pid} to exit`);
    for (const id of ids) assert.equal(progExists(id), false, `prog ${id} released`);
    // the kernel frees maps a moment after their last reference (deferred work): wait for it
    for (const id of maps) await waitFor(() => !mapExists(id), `map ${id} to be released`);
  });

  test('connection killed mid-load: a clear error, the agent on the box exits, nothing stays loaded', async (t) => {
    if (!canRun(t)) return;
    const slow = fixture('slow', false);
    const target = targetFor(sshd);
    const lost: Error[] = [];
    target.on('lost', (e) => lost.push(e));
    const agent = await target.connect();
    const pid = (await agent.hello).pid;
    const disconnected = nextState(target, 'disconnected');
    // log level 2 makes the verifier write a long log per program: the load takes over a second
    const load = agent.request('load', { path: slow, log_level: 2 });
    load.catch(() => undefined);
    await waitFor(() => progIdsNamed('ssh_slow').length > 0, 'the load to be under way', 20_000);
    const killed = sshd.killSessions();
    assert.ok(killed.length > 0, 'there were sshd session processes to kill');

    const err = await rejects(load, SshConnectionLostError);
    assert.match(err.message, /connection to 127\.0\.0\.1 port \d+ was lost .*load did not complete/);
    await disconnected;
    assert.equal(lost.length, 1);
    assert.ok(lost[0] instanceof SshConnectionLostError);
    await waitFor(() => !alive(pid), `agent ${pid} to exit`, 20_000);
    await waitFor(() => progIdsNamed('ssh_slow').length === 0, 'every ssh_slow program to be released', 20_000);
    await target.dispose();
  });

  test('disconnect() while connecting: connect() rejects and no ssh session is left behind', async (t) => {
    if (!canRun(t)) return;
    for (const when of ['connecting', 'deploying'] as const) {
      const target = targetFor(sshd);
      const reached = nextState(target, when);
      const connecting = target.connect();
      connecting.catch(() => undefined);
      await reached;
      await target.disconnect();
      await assert.rejects(connecting, /disconnected while connecting/);
      assert.equal(target.state, 'disconnected');
      await waitFor(() => sshd.sessionPids().length === 0, `the sshd sessions to end (disconnect while ${when})`);
      await target.dispose();
    }
  });

  test('a box that is not x86_64 gets UnsupportedArchitectureError', async (t) => {
    if (!canRun(t)) return;
    // the box's `uname -m` says aarch64: a PATH entry set by the box's sshd (SetEnv) comes first
    const bin = join(tempDir(), 'arm-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'uname'), '#!/bin/sh\necho aarch64\n');
    chmodSync(join(bin, 'uname'), 0o755);
    const arm = await Sshd.start({ extraConfig: [`SetEnv PATH=${bin}:/usr/local/bin:/usr/bin:/bin`] });
    try {
      const target = targetFor(arm);
      const err = await rejects(target.connect(), UnsupportedArchitectureError);
      assert.equal(err.machine, 'aarch64');
      assert.match(err.message, /reports the architecture aarch64 \(uname -m\).*x86_64 only/);
      assert.doesNotMatch(arm.log, /subsystem 'sftp'/, 'nothing uploaded to a box that cannot run it');
      await target.dispose();
    } finally {
      await arm.dispose();
    }
  });

  test('a non-root user without sudo rights gets RemoteSudoError saying what to add', async (t) => {
    if (!canRun(t)) return;
    // an existing unprivileged account with a shell (no account is created by this test)
    const user = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => Number(f[2]) >= 1000 && Number(f[2]) < 65534 && /\/(ba|da|z)?sh$/.test(f[6] ?? ''));
    if (!user) {
      t.skip('no unprivileged login account with a shell on this machine');
      return;
    }
    const [name, , uid, gid] = user;
    const box = await Sshd.start({ nonRootLogins: true });
    // a cache folder that account can write, outside its real home
    const cacheRoot = mkdtempSync(join(tmpdir(), 'bpf-ide-nonroot-'));
    chmodSync(cacheRoot, 0o755);
    const cache = join(cacheRoot, 'cache');
    mkdirSync(cache);
    chownSync(cache, Number(uid), Number(gid));
    try {
      const target = targetFor(box, { spec: `ssh://${name}@127.0.0.1:${box.port}`, remoteCacheDir: cache });
      const err = await rejects(target.connect(), RemoteSudoError);
      assert.equal(err.user, name);
      assert.match(
        err.message,
        new RegExp(`${name}@127\\.0\\.0\\.1 is not root and can't run the agent through sudo without a password`),
      );
      assert.match(err.message, new RegExp(`${name} ALL=\\(root\\) NOPASSWD: ${cache}/.*/bpf-agent`));
      t.diagnostic(err.message);
      await target.dispose();
    } finally {
      await box.dispose();
      rmSync(cacheRoot, { recursive: true, force: true });
    }
  });

  test('a cache folder that cannot be created is an AgentDeployError', async (t) => {
    if (!canRun(t)) return;
    const target = targetFor(sshd, { remoteCacheDir: '/proc/bpf-ide-cannot-be-here' });
    const err = await rejects(target.connect(), AgentDeployError);
    assert.equal(err.step, 'mkdir');
    assert.match(err.message, /deploying the agent to 127\.0\.0\.1:\/proc\/bpf-ide-cannot-be-here\/.* failed at mkdir/);
    await target.dispose();
  });
});
