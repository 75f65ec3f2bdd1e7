/**
 * known_hosts handling, checked against OpenSSH's own ssh-keygen: fingerprints (-lf), hashed
 * names (-H, and -F finding what we hash), [host]:port naming, changed and revoked keys.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  KnownHosts,
  fingerprintSha256,
  hashHostName,
  hostFieldMatches,
  keyTypeOf,
  knownHostsName,
  parseKnownHosts,
} from '../../client/src/core/targets/known-hosts';
import { need } from '../support/preconditions';
import { tempDir, tempHome } from './ssh-harness';

const haveKeygen = spawnSync('ssh-keygen', ['-?'], { stdio: 'ignore' }).error === undefined;

/** A fresh public key made by ssh-keygen: [type, blob, file]. */
function newKey(type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): [string, Buffer, string] {
  const file = join(tempDir(), `k-${type}-${Math.random().toString(36).slice(2)}`);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file]);
  const [t, b64] = readFileSync(`${file}.pub`, 'utf8').split(/\s+/);
  return [t, Buffer.from(b64, 'base64'), `${file}.pub`];
}

describe('known_hosts', () => {
  test('fingerprints and key types match ssh-keygen -lf', (t) => {
    if (!need(t, haveKeygen, 'ssh-keygen is not installed')) return;
    for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
      const [kt, blob, pub] = newKey(type);
      const out = execFileSync('ssh-keygen', ['-lf', pub], { encoding: 'utf8' }).split(/\s+/)[1];
      assert.equal(fingerprintSha256(blob), out);
      assert.equal(keyTypeOf(blob), kt);
    }
  });

  test('hashed names: what ssh-keygen -H writes we match; what we hash ssh-keygen -F finds', (t) => {
    if (!need(t, haveKeygen, 'ssh-keygen is not installed')) return;
    const [type, blob] = newKey();
    const file = join(tempHome('kh'), '.ssh', 'known_hosts');
    writeFileSync(
      file,
      `box.example ${type} ${blob.toString('base64')}\n[10.0.0.9]:2222 ${type} ${blob.toString('base64')}\n`,
    );
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const entries = parseKnownHosts(readFileSync(file, 'utf8'));
    assert.ok(entries.every((e) => e.hosts.startsWith('|1|')));
    assert.ok(hostFieldMatches(entries[0].hosts, 'box.example'));
    assert.ok(!hostFieldMatches(entries[0].hosts, 'other.example'));
    assert.ok(hostFieldMatches(entries[1].hosts, '[10.0.0.9]:2222'));

    const kh = new KnownHosts([join(tempHome('kh2'), '.ssh', 'known_hosts')]);
    kh.add('10.1.2.3', 2200, blob, { hash: true });
    kh.add('plain.example', 22, blob);
    const text = readFileSync(kh.writeFile, 'utf8');
    assert.match(text, /^\|1\|[^ ]+ ssh-ed25519 /);
    assert.match(text, /\nplain\.example ssh-ed25519 /);
    assert.equal(statSync(kh.writeFile).mode & 0o777, 0o600);
    for (const name of ['[10.1.2.3]:2200', 'plain.example']) {
      const r = spawnSync('ssh-keygen', ['-F', name, '-f', kh.writeFile], { encoding: 'utf8' });
      assert.equal(r.status, 0, `ssh-keygen -F ${name}`);
    }
    assert.equal(hashHostName('x', Buffer.alloc(20)).split('|').length, 4);
  });

  test('verify: trusted, unknown, changed (same or other type), revoked; ports and patterns', (t) => {
    if (!need(t, haveKeygen, 'ssh-keygen is not installed')) return;
    const [type, blob] = newKey();
    const [, other] = newKey();
    const [ecType, ecBlob] = newKey('ecdsa');
    const file = join(tempHome('kh3'), '.ssh', 'known_hosts');
    writeFileSync(
      file,
      [
        '# comment',
        `box,10.0.0.1 ${type} ${blob.toString('base64')}`,
        `[box]:2222 ${type} ${other.toString('base64')}`,
        `*.lab,!evil.lab ${type} ${blob.toString('base64')}`,
        `@cert-authority *.corp ${type} ${other.toString('base64')}`,
        `@revoked * ${ecType} ${ecBlob.toString('base64')}`,
        `ecbox ${ecType} ${ecBlob.toString('base64')}`,
        'garbage line',
        '',
      ].join('\n'),
    );
    const kh = new KnownHosts([file, join(tempDir(), 'missing_known_hosts')]);
    assert.equal(kh.verify('box', 22, blob).status, 'trusted');
    assert.equal(kh.verify('10.0.0.1', 22, blob).status, 'trusted');
    const changed = kh.verify('box', 2222, blob);
    assert.equal(changed.status, 'changed');
    assert.deepEqual(changed.status === 'changed' && changed.entries.map((e) => e.line), [3]);
    assert.equal(kh.verify('db.lab', 22, blob).status, 'trusted');
    assert.equal(kh.verify('evil.lab', 22, blob).status, 'unknown');
    assert.equal(kh.verify('host.corp', 22, blob).status, 'unknown', '@cert-authority lines are not host keys');
    assert.equal(kh.verify('ecbox', 22, ecBlob).status, 'revoked');
    assert.equal(kh.verify('box', 22, ecBlob).status, 'revoked');
    // a key of another type for a known host counts as changed
    const [, ed2] = newKey();
    assert.equal(kh.verify('10.0.0.1', 22, ed2).status, 'changed');
    assert.deepEqual(kh.knownKeyTypes('box', 22), [type]);
    assert.equal(knownHostsName('h', 22), 'h');
    assert.equal(knownHostsName('h', 2), '[h]:2');
  });
});
