/**
 * SshTarget against a real OpenSSH sshd on 127.0.0.1 with throwaway keys: deploy, hello, a real
 * load, reuse of the upload, cleanup on disconnect, host keys (unknown, accepted, changed),
 * authentication (wrong key, encrypted key), a connection killed mid-load, reconnection after an
 * sshd restart, ProxyJump through a second sshd, and the plain network errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../../client/src/core/agent/agent-client';
import {
  AgentDeployError,
  HostKeyChangedError,
  HostKeyUnknownError,
  SshAuthError,
  SshConnectionLostError,
  SshConnectionRefusedError,
  RemoteSudoError,
  SshDnsError,
  UnsupportedArchitectureError,
} from '../../client/src/core/targets/target-errors';
import { Sshd, freePort } from './sshd-fixture';
import {
  alive,
  canRun,
  fixture,
  mapExists,
  nextState,
  progExists,
  progIdsNamed,
  recordStates,
  sshTestsUnavailableReason,
  targetFor,
  tempDir,
  tempHome,
  waitFor,
} from './ssh-harness';
import type { UnknownHostInfo } from '../../client/src/core/targets/ssh-connect';

const runnable = sshTestsUnavailableReason() === null;

/** sftp sessions sshd logged (LogLevel VERBOSE): no session, no sftp write. */
function sftpSessions(log: string): string[] {
  return log.split('\n').filter((l) => /Starting session: subsystem 'sftp'/.test(l));
}

async function rejects<T extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${(err as Error).name}: ${(err as Error).message}`);
    return err as T;
  }
  assert.fail(`expected ${cls.name}, but it resolved`);
}

describe('ssh target against a real sshd', { concurrency: false }, () => {
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

  test('an unknown host key is shown with its SHA256 fingerprint; accepting writes known_hosts', async (t) => {
    if (!canRun(t)) return;
    const home = tempHome('unknown');
    const kh = join(home, '.ssh', 'known_hosts');
    const asked: UnknownHostInfo[] = [];
    const target = targetFor(sshd, {
      homeDir: home,
      knownHostsFile: kh,
      confirmUnknownHost: async (info) => {
        asked.push(info);
        return true;
      },
    });
    try {
      await target.connect();
    } finally {
      await target.dispose();
    }
    assert.equal(asked.length, 1);
    assert.equal(asked[0].fingerprintSha256, sshd.hostFingerprint());
    assert.equal(asked[0].keyType, 'ssh-ed25519');
    assert.equal(asked[0].host, '127.0.0.1');
    assert.equal(asked[0].port, sshd.port);
    assert.equal(asked[0].knownHostsFile, kh);
    assert.equal(readFileSync(kh, 'utf8'), sshd.knownHostsLine());
    // ssh itself accepts what we wrote
    execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', kh], { stdio: 'ignore' });

    // known now: not asked again
    const again = targetFor(sshd, {
      homeDir: home,
      knownHostsFile: kh,
      confirmUnknownHost: async () => assert.fail('asked about a known host'),
    });
    try {
      await again.connect();
    } finally {
      await again.dispose();
    }
  });

  test('an unknown host that is not trusted (or no one to ask, as the CLI) is refused', async (t) => {
    if (!canRun(t)) return;
    const home = tempHome('refuse');
    const kh = join(home, '.ssh', 'known_hosts');
    const declined = targetFor(sshd, { homeDir: home, knownHostsFile: kh, confirmUnknownHost: async () => false });
    const err = await rejects(declined.connect(), HostKeyUnknownError);
    assert.equal(err.fingerprintSha256, sshd.hostFingerprint());
    assert.equal(declined.state, 'failed');
    await declined.dispose();

    const cli = targetFor(sshd, { homeDir: home, knownHostsFile: kh, confirmUnknownHost: undefined });
    const err2 = await rejects(cli.connect(), HostKeyUnknownError);
    assert.match(err2.message, /not in .*known_hosts.*SHA256:/);
    assert.match(err2.message, /To trust it/);
    await cli.dispose();
    assert.throws(() => readFileSync(kh), /ENOENT/, 'nothing written');
  });

  test('StrictHostKeyChecking accept-new in ~/.ssh/config: an unknown host is recorded without asking', async (t) => {
    if (!canRun(t)) return;
    const home = tempHome('acceptnew');
    const kh = join(home, '.ssh', 'known_hosts');
    writeFileSync(join(home, '.ssh', 'config'), 'Host 127.0.0.1\n  StrictHostKeyChecking accept-new\n');
    const target = targetFor(sshd, { homeDir: home, knownHostsFile: kh, confirmUnknownHost: undefined });
    try {
      await target.connect();
    } finally {
      await target.dispose();
    }
    assert.equal(readFileSync(kh, 'utf8'), sshd.knownHostsLine());
  });

  test('a changed host key is refused with HostKeyChangedError, never asked about', async (t) => {
    if (!canRun(t)) return;
    const home = tempHome('changed');
    const kh = join(home, '.ssh', 'known_hosts');
    const [type, b64] = readFileSync(`${sshd.strangerKey}.pub`, 'utf8').split(/\s+/);
    writeFileSync(kh, `# old key of the box\n[127.0.0.1]:${sshd.port} ${type} ${b64}\n`);
    // accept-new applies to unknown hosts only: a changed key is refused all the same
    writeFileSync(join(home, '.ssh', 'config'), 'Host *\n  StrictHostKeyChecking accept-new\n');
    const target = targetFor(sshd, {
      homeDir: home,
      knownHostsFile: kh,
      confirmUnknownHost: async () => assert.fail('a changed key must not be offered for trust'),
      reconnect: { maxAttempts: 3, initialDelayMs: 10 },
    });
    const states = recordStates(target);
    const err = await rejects(target.connect(), HostKeyChangedError);
    assert.match(err.message, /HAS CHANGED/);
    assert.equal(err.fingerprintSha256, sshd.hostFingerprint());
    assert.deepEqual(err.lines, [2]);
    assert.equal(err.name, 'HostKeyChangedError');
    assert.equal(states.at(-1)!.state, 'failed');
    await target.dispose();
    assert.equal(readFileSync(kh, 'utf8').split('\n').length, 3, 'known_hosts untouched');
  });

  test('a hashed known_hosts entry (ssh-keygen -H) is honoured', async (t) => {
    if (!canRun(t)) return;
    const home = tempHome('hashed');
    const kh = join(home, '.ssh', 'known_hosts');
    writeFileSync(kh, sshd.knownHostsLine());
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    assert.match(readFileSync(kh, 'utf8'), /^\|1\|/);
    const target = targetFor(sshd, {
      homeDir: home,
      knownHostsFile: kh,
      confirmUnknownHost: async () => assert.fail('asked about a known (hashed) host'),
    });
    try {
      await target.connect();
    } finally {
      await target.dispose();
    }
  });

  test('a wrong client key fails with SshAuthError naming the methods tried', async (t) => {
    if (!canRun(t)) return;
    let asked = 0;
    const target = targetFor(sshd, {
      identityFiles: [sshd.strangerKey],
      password: async () => {
        asked++;
        return asked === 1 ? 'not-the-password' : undefined;
      },
    });
    const err = await rejects(target.connect(), SshAuthError);
    assert.deepEqual(err.methodsTried, [`publickey ${sshd.strangerKey}`, 'password']);
    assert.ok(err.methodsAllowed.includes('publickey'));
    assert.match(
      err.message,
      /authentication as root on 127\.0\.0\.1 .* failed; tried: publickey .*stranger_ed25519, password/,
    );
    assert.doesNotMatch(err.message, /not-the-password/);
    assert.equal(asked, 1);
    await target.dispose();
  });

  test('an encrypted key is opened with the passphrase callback (asked again only when wrong)', async (t) => {
    if (!canRun(t)) return;
    const asks: Array<{ keyPath: string; attempt: number; previousWrong: boolean }> = [];
    const target = targetFor(sshd, {
      identityFiles: [sshd.encryptedClientKey],
      passphrase: async (req) => {
        asks.push(req);
        return req.attempt === 1 ? 'wrong passphrase' : Sshd.PASSPHRASE;
      },
    });
    try {
      await target.connect();
      assert.deepEqual(asks, [
        { keyPath: sshd.encryptedClientKey, attempt: 1, previousWrong: false },
        { keyPath: sshd.encryptedClientKey, attempt: 2, previousWrong: true },
      ]);
      // a reconnect of the same target does not ask again (decrypted key kept in memory)
      await target.disconnect();
      await target.connect();
      assert.equal(asks.length, 2);
    } finally {
      await target.dispose();
    }
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

  test('ssh-agent: a key held by a real ssh-agent logs in (no identity file given)', async (t) => {
    if (!canRun(t)) return;
    const sock = join(tempDir(), `agent-${process.pid}.sock`);
    const sshAgent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      // in -D mode ssh-agent prints its environment lines once the socket is listening
      await new Promise<void>((resolve, reject) => {
        sshAgent.stdout!.on('data', (d: Buffer) => d.toString().includes('SSH_AUTH_SOCK') && resolve());
        sshAgent.once('exit', (c) => reject(new Error(`ssh-agent exited (${c})`)));
      });
      execFileSync('ssh-add', ['-q', sshd.clientKey], {
        env: { ...process.env, SSH_AUTH_SOCK: sock },
        stdio: 'ignore',
      });
      const logs: string[] = [];
      const target = targetFor(sshd, { identityFiles: [], agentSocket: sock });
      target.on('log', (l) => logs.push(l));
      try {
        await target.connect();
        assert.ok(
          logs.some((l) => /logged in to root@127\.0\.0\.1 \(ssh-agent\)/.test(l)),
          logs.join('\n'),
        );
      } finally {
        await target.dispose();
      }
    } finally {
      sshAgent.kill('SIGTERM');
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

  test('connection refused and DNS failure have their own errors', async (t) => {
    if (!canRun(t)) return;
    const port = await freePort();
    const refused = targetFor(sshd, { spec: `ssh://root@127.0.0.1:${port}` });
    const e1 = await rejects(refused.connect(), SshConnectionRefusedError);
    assert.match(e1.message, /connection refused/);
    assert.equal(e1.port, port);
    await refused.dispose();

    const dns = targetFor(sshd, { spec: 'ssh://root@no-such-host.invalid' });
    const e2 = await rejects(dns.connect(), SshDnsError);
    assert.match(e2.message, /does not resolve/);
    await dns.dispose();
  });
});

describe('ssh target reconnects and jumps', { concurrency: false }, () => {
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
