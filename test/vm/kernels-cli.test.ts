/**
 * `bpf-ide kernels [--json]` and `bpf-ide kernels fetch` on the cache scripts/setup.sh filled: this
 * machine, vm:6.1 and vm:6.12 listed with their releases, where they come from and that they are
 * cached; a fetch of a cached kernel answers from the cache (no apt).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KernelsReport } from '../../client/src/core/run/kernels-command';
import { ROOT, vmPrecondition } from './vm-fixture';

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'client', 'src', 'cli', 'bpf-ide.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });

test('kernels --json: local, vm:6.1 and vm:6.12 with release, source and cache state; qemu found', (t) => {
  if (!vmPrecondition(t)) return;
  const r = cli(['kernels', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const k = JSON.parse(r.stdout) as KernelsReport;
  const row = (target: string) => k.kernels.find((x) => x.target === target)!;
  assert.equal(row('local').cached, true);
  assert.match(row('vm:6.1').release!, /^6\.1\.0-\d+-cloud-amd64$/);
  assert.match(row('vm:6.1').source, /linux-image-6\.1\.0-\*-cloud-amd64/);
  assert.match(row('vm:6.12').release!, /^6\.12\.\d+\+deb12-cloud-amd64$/);
  for (const target of ['vm:6.1', 'vm:6.12']) {
    assert.equal(row(target).cached, true);
    assert.ok(existsSync(join(row(target).dir!, 'vmlinuz')), `${target}: vmlinuz in the cache`);
  }
  assert.ok(k.qemu.path && /QEMU emulator/.test(k.qemu.version ?? ''));
  const table = cli(['kernels']);
  assert.match(table.stdout, /^vm:6\.1\s+6\.1\.0-\d+-cloud-amd64\s+cached/m);
});

test('kernels fetch of a cached kernel answers from the cache at once', (t) => {
  if (!vmPrecondition(t)) return;
  const t0 = Date.now();
  const r = cli(['kernels', 'fetch', '6.1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^6\.1: 6\.1\.0-\d+-cloud-amd64 in .*kernels\/6\.1\.0-\d+-cloud-amd64$/m);
  assert.doesNotMatch(r.stderr, /apt-get download/);
  assert.ok(Date.now() - t0 < 30_000);
});
