/**
 * ~/.ssh/config resolution (pure, no network) and target spec parsing. Where OpenSSH's own
 * `ssh -G` is installed, resolution is checked against it for the same file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshConfig, matchHostPatterns, parseProxyJump } from '../../client/src/core/targets/ssh-config';
import { parseTargetSpec } from '../../client/src/core/targets/target';
import { TargetSpecError } from '../../client/src/core/targets/target-errors';
import { need } from '../support/preconditions';
import { tempHome } from './ssh-harness';

const CONFIG = `
# global defaults come first in a real file? no: first value wins, so they go last
Host build-box
    HostName 10.0.0.5
    User alice
    Port 2222
    IdentityFile ~/.ssh/id_build
    IdentityFile ~/.ssh/id_%h_%r

Host *.lab !bad.lab
    User labuser
    ProxyJump bastion,admin@hop2:2200
    IdentityFile="%d/.ssh/lab key"

Host bastion
    HostName bastion.example.org
    User jump

Host "quoted alias"
    HostName q.example.org

Match exec "false"
    User never

Host *
    User fallback
    Port 22
    ServerAliveInterval 7
    ConnectTimeout 9
    IdentitiesOnly yes
`;

describe('ssh config', () => {
  const home = '/home/tester';
  const cfg = SshConfig.parse(CONFIG, { homeDir: home, localUser: 'tester' });

  test('an alias takes HostName, User, Port, several IdentityFiles with ~ and tokens', () => {
    const r = cfg.resolve('build-box');
    assert.equal(r.hostName, '10.0.0.5');
    assert.equal(r.user, 'alice');
    assert.equal(r.port, 2222);
    assert.deepEqual(r.identityFiles, ['/home/tester/.ssh/id_build', '/home/tester/.ssh/id_10.0.0.5_alice']);
    assert.equal(r.identityFilesFromConfig, true);
    assert.deepEqual(r.proxyJump, []);
    // options of `Host *` still apply where the alias did not set them
    assert.equal(r.serverAliveIntervalS, 7);
    assert.equal(r.connectTimeoutS, 9);
    assert.equal(r.identitiesOnly, true);
  });

  test('wildcards and negation; ProxyJump with several hops; Key=Value and quoted values', () => {
    const r = cfg.resolve('db.lab');
    assert.equal(r.hostName, 'db.lab');
    assert.equal(r.user, 'labuser');
    assert.equal(r.port, 22);
    assert.deepEqual(r.proxyJump, [
      { user: undefined, host: 'bastion', port: undefined },
      { user: 'admin', host: 'hop2', port: 2200 },
    ]);
    assert.deepEqual(r.identityFiles, ['/home/tester/.ssh/lab key']);
    const bad = cfg.resolve('bad.lab');
    assert.equal(bad.user, 'fallback');
    assert.deepEqual(bad.proxyJump, []);
    assert.equal(cfg.resolve('quoted alias').hostName, 'q.example.org');
  });

  test('first value wins; Match blocks are not applied; unknown hosts get the defaults', () => {
    const r = cfg.resolve('somewhere');
    assert.equal(r.hostName, 'somewhere');
    assert.equal(r.user, 'fallback');
    assert.equal(r.identityFilesFromConfig, false);
    assert.deepEqual(cfg.hostAliases().sort(), ['bastion', 'build-box', 'quoted alias']);
  });

  test('ProxyJump none, ssh:// hops, IPv6 hops', () => {
    assert.deepEqual(parseProxyJump('none'), []);
    assert.deepEqual(parseProxyJump('ssh://u@h:2,[fe80::1]:23'), [
      { user: 'u', host: 'h', port: 2 },
      { user: undefined, host: 'fe80::1', port: 23 },
    ]);
  });

  test('patterns: * ? ! and case', () => {
    assert.equal(matchHostPatterns(['web-??'], 'web-01'), true);
    assert.equal(matchHostPatterns(['web-??'], 'web-1'), false);
    assert.equal(matchHostPatterns(['*', '!secret'], 'secret'), false);
    assert.equal(matchHostPatterns(['BOX'], 'box'), true);
  });

  test('Include (relative to ~/.ssh, with a glob) inside and outside Host blocks', () => {
    const h = tempHome('include');
    mkdirSync(join(h, '.ssh', 'conf.d'));
    writeFileSync(join(h, '.ssh', 'conf.d', 'a.conf'), 'Host inc-a\n  HostName a.example\n');
    writeFileSync(join(h, '.ssh', 'conf.d', 'b.conf'), 'Port 2022\n');
    writeFileSync(
      join(h, '.ssh', 'config'),
      'Include conf.d/a.conf\nHost inc-b\n  Include conf.d/b.conf\n  User bob\n',
    );
    const c = SshConfig.load(undefined, { homeDir: h });
    assert.equal(c.resolve('inc-a').hostName, 'a.example');
    assert.equal(c.resolve('inc-b').port, 2022);
    assert.equal(c.resolve('inc-b').user, 'bob');
    assert.equal(c.resolve('inc-a').port, undefined, 'an Include inside Host inc-b applies to inc-b only');
  });

  test('agrees with `ssh -G` for the same file', (t) => {
    if (!need(t, spawnSync('ssh', ['-V'], { stdio: 'ignore' }).status === 0, 'no OpenSSH client (ssh -G)')) return;
    const h = tempHome('sshG');
    const file = join(h, '.ssh', 'config');
    writeFileSync(file, CONFIG.replace(/^Match exec.*\n.*\n/m, ''));
    const ours = SshConfig.load(file, { homeDir: h });
    for (const host of ['build-box', 'db.lab', 'bad.lab', 'elsewhere']) {
      const r = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8', env: { ...process.env, HOME: h } });
      const g = new Map<string, string[]>();
      for (const line of r.stdout.split('\n')) {
        const [k, ...v] = line.split(' ');
        if (k) g.set(k, [...(g.get(k) ?? []), v.join(' ')]);
      }
      const mine = ours.resolve(host);
      assert.equal(mine.hostName, g.get('hostname')![0], `${host} hostname`);
      assert.equal(mine.user, g.get('user')![0], `${host} user`);
      assert.equal(String(mine.port ?? 22), g.get('port')![0], `${host} port`);
      // ssh -G prints identity files before token expansion (ssh expands them when it loads keys)
      const ids = (g.get('identityfile') ?? []).map((p) =>
        p.replace(/^~/, h).replace(/%d/g, h).replace(/%h/g, g.get('hostname')![0]).replace(/%r/g, g.get('user')![0]),
      );
      if (mine.identityFilesFromConfig) assert.deepEqual(mine.identityFiles, ids, `${host} identity files`);
      const pj = g.get('proxyjump')?.[0];
      assert.equal(
        mine.proxyJump.map((j) => `${j.user ? `${j.user}@` : ''}${j.host}${j.port ? `:${j.port}` : ''}`).join(',') ||
          undefined,
        pj,
        `${host} proxyjump`,
      );
    }
  });
});

describe('target specs', () => {
  test('local, ssh:// URLs, aliases and user@alias', () => {
    assert.deepEqual(parseTargetSpec('local'), { kind: 'local' });
    assert.deepEqual(parseTargetSpec('ssh://root@10.0.0.1:2222'), {
      kind: 'ssh',
      host: '10.0.0.1',
      user: 'root',
      port: 2222,
      spec: 'ssh://root@10.0.0.1:2222',
    });
    assert.deepEqual(parseTargetSpec('ssh://box'), {
      kind: 'ssh',
      host: 'box',
      user: undefined,
      port: undefined,
      spec: 'ssh://box',
    });
    assert.deepEqual(parseTargetSpec('ssh://[::1]:22/'), {
      kind: 'ssh',
      host: '::1',
      user: undefined,
      port: 22,
      spec: 'ssh://[::1]:22/',
    });
    assert.deepEqual(parseTargetSpec('my-box'), {
      kind: 'ssh',
      host: 'my-box',
      user: undefined,
      port: undefined,
      spec: 'my-box',
    });
    assert.deepEqual(parseTargetSpec('bob@my-box'), {
      kind: 'ssh',
      host: 'my-box',
      user: 'bob',
      port: undefined,
      spec: 'bob@my-box',
    });
  });

  test('bad specs say what is wrong', () => {
    for (const bad of ['', 'http://x', 'ssh://h:99999', 'ssh://h/path', '-oProxyCommand=x', 'a b', 'ssh://@h']) {
      assert.throws(() => parseTargetSpec(bad), TargetSpecError, bad);
    }
    assert.throws(() => parseTargetSpec('ftp://x'), /unknown scheme ftp.*Use local, ssh:\/\/user@host\[:port\]/);
  });
});
