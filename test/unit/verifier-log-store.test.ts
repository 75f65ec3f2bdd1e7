/** The store that keeps verifier logs from loads for the stepper across a window reload. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogStore } from '../../client/src/core/verifier/log-store';

function withStore(keep: number, fn: (store: LogStore, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-logstore-'));
  try {
    fn(new LogStore(join(dir, 'logs'), keep), join(dir, 'logs'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a log saved is read back by its name; the same text is kept once', () =>
  withStore(8, (store, dir) => {
    const a = store.save('0: (b7) r0 = 0\nR0 !read_ok\n');
    assert.match(a, /^[0-9a-f]{16}\.log$/);
    assert.equal(store.read(a), '0: (b7) r0 = 0\nR0 !read_ok\n');
    assert.equal(store.save('0: (b7) r0 = 0\nR0 !read_ok\n'), a);
    assert.deepEqual(readdirSync(dir), [a]);
  }));

test('only the newest logs are kept', () =>
  withStore(2, (store, dir) => {
    const names = ['one', 'two', 'three'].map((t, i) => {
      const n = store.save(t);
      const when = new Date(Date.now() - (10 - i) * 1000); // distinct ages, oldest first
      utimesSync(join(dir, n), when, when);
      return n;
    });
    store.save('four');
    assert.equal(readdirSync(dir).length, 2);
    assert.equal(store.read(names[0]), undefined, 'the oldest is gone');
    assert.equal(store.read(names[1]), undefined, 'the second oldest is gone');
    assert.equal(store.read(names[2]), 'three');
  }));

test('names from a saved state cannot leave the store: anything but its own names reads as gone', () =>
  withStore(8, (store, dir) => {
    store.save('x');
    writeFileSync(join(dir, '..', 'secret.log'), 'secret');
    for (const bad of ['../secret.log', '/etc/passwd', 'secret.log', '', 42, null, undefined, { name: 'x' }])
      assert.equal(store.read(bad), undefined, String(bad));
    assert.equal(store.read('0123456789abcdef.log'), undefined, 'a well-formed name that was never saved');
    assert.ok(existsSync(join(dir, '..', 'secret.log')));
  }));
