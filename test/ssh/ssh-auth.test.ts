/**
 * SshTarget trust and login against a real OpenSSH sshd on 127.0.0.1 with throwaway keys: host
 * keys (unknown and asked, declined, accept-new, changed, hashed), authentication (wrong key with
 * the methods named, encrypted key with the passphrase callback, a real ssh-agent), and the
 * network errors (refused, DNS).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HostKeyChangedError,
  HostKeyUnknownError,
  SshAuthError,
  SshConnectionRefusedError,
  SshDnsError,
} from '../../client/src/core/targets/target-errors';
import type { UnknownHostInfo } from '../../client/src/core/targets/ssh-connect';
import { Sshd, freePort } from './sshd-fixture';
import { canRun, recordStates, rejects, sshTestsUnavailableReason, targetFor, tempDir, tempHome } from './ssh-harness';

const runnable = sshTestsUnavailableReason() === null;

describe('ssh target: host keys and login (real sshd)', { concurrency: false }, () => {
  let sshd: Sshd;
  before(async () => {
    if (runnable) sshd = await Sshd.start();
  });
  after(async () => {
    await sshd?.dispose();
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

  test('keyboard-interactive (PAM) password prompts go to the password callback', async (t) => {
    if (!canRun(t)) return;
    const pam = await Sshd.start({ keyboardInteractive: true });
    const asked: Array<{ attempt: number; prompt?: string }> = [];
    const target = targetFor(pam, {
      identityFiles: [],
      password: async (req) => {
        asked.push({ attempt: req.attempt, prompt: req.prompt });
        return req.attempt === 1 ? 'not-the-root-password' : undefined;
      },
    });
    try {
      const err = await rejects(target.connect(), SshAuthError);
      assert.ok(err.methodsTried.includes('keyboard-interactive'), err.message);
      // `none` went first, so the callback was not asked for a password the server would refuse
      assert.ok(!err.methodsTried.includes('password'), 'the server does not take plain password auth');
      assert.equal(asked.length, 1);
      assert.ok(err.methodsAllowed.includes('keyboard-interactive'));
      assert.match(asked[0]?.prompt ?? '', /password/i);
      assert.doesNotMatch(err.message, /not-the-root-password/);
    } finally {
      await target.dispose();
      await pam.dispose();
    }
  });

  test('an encrypted key is opened with the passphrase callback (asked again only when wrong)', async (t) => {
    if (!canRun(t)) return;
    const asks: Array<{ keyPath: string; attempt: number; previousWrong: boolean }> = [];
    const accepted: unknown[] = [];
    const target = targetFor(sshd, {
      identityFiles: [sshd.encryptedClientKey],
      secretAccepted: (what) => accepted.push(what),
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
      assert.deepEqual(accepted, [{ kind: 'passphrase', keyPath: sshd.encryptedClientKey }]);
      // a reconnect of the same target does not ask again (decrypted key kept in memory)
      await target.disconnect();
      await target.connect();
      assert.equal(asks.length, 2);
    } finally {
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
