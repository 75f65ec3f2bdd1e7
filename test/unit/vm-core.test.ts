/**
 * The VM targets' pure parts: `vm:` specs, the bzImage header check, the initramfs cpio writer (read
 * back by busybox's own cpio), kernel version order, crash lines on a console, the matrix's exit
 * code and table.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseTargetSpec } from '../../client/src/core/targets/target';
import { readBzImage } from '../../client/src/core/vm/bzimage';
import { writeCpio } from '../../client/src/core/vm/cpio-writer';
import { compareVersions } from '../../client/src/core/vm/kernel-cache';
import { crashLine } from '../../client/src/core/vm/qemu-vm';
import { NotAKernelError } from '../../client/src/core/vm/vm-errors';
import { lineFromQuotedSource, matrixExitCode, type MatrixReport } from '../../client/src/core/run/matrix';
import { formatMatrix, parseMatrixArgs } from '../../client/src/core/run/matrix-command';
import { parseRunArgs } from '../../client/src/core/run/run-command';
import { TRIGGER_ONLY_VM } from '../../client/src/core/run/trigger';

test('vm: specs name a kernel or a path; an empty one is a usage error', () => {
  assert.deepEqual(parseTargetSpec('vm:6.1'), { kind: 'vm', kernel: '6.1', spec: 'vm:6.1' });
  assert.deepEqual(parseTargetSpec('vm:/boot/vmlinuz-6.12'), {
    kind: 'vm',
    kernel: '/boot/vmlinuz-6.12',
    spec: 'vm:/boot/vmlinuz-6.12',
  });
  assert.throws(() => parseTargetSpec('vm:'), /vm: needs a kernel/);
});

test('a file that is not a bzImage is refused with the reason, before qemu sees it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-vmcore-'));
  try {
    const f = join(dir, 'notes.txt');
    writeFileSync(f, 'hello\n'.repeat(200));
    assert.throws(
      () => readBzImage(f),
      (e: Error) => e instanceof NotAKernelError && /not a Linux kernel image \(no bzImage boot header/.test(e.message),
    );
    assert.throws(() => readBzImage(join(dir, 'missing')), /no such file/);
    // a minimal header: boot flag, HdrS, protocol 2.15, loadflags LOADED_HIGH, version string pointer
    const img = Buffer.alloc(0x1000);
    img.writeUInt16LE(0xaa55, 0x1fe);
    img.write('HdrS', 0x202, 'latin1');
    img.writeUInt16LE(0x020f, 0x206);
    img.writeUInt8(1, 0x211);
    img.writeUInt16LE(0x300, 0x20e);
    img.write('6.1.0-57-cloud-amd64 (debian-kernel@lists.debian.org) #1 SMP\0', 0x500, 'latin1');
    writeFileSync(join(dir, 'vmlinuz'), img);
    assert.equal(readBzImage(join(dir, 'vmlinuz')).release, '6.1.0-57-cloud-amd64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the cpio writer makes a newc archive busybox cpio lists as written', (t) => {
  if (spawnSync('busybox', ['true']).status !== 0) {
    if (process.env.CI === 'true') assert.fail('busybox is missing: bash scripts/setup.sh installs busybox-static');
    t.skip('busybox is not installed');
    return;
  }
  const archive = writeCpio([
    { type: 'dir', path: 'bin' },
    { type: 'char', path: 'dev/console', major: 5, minor: 1 },
    { type: 'file', path: 'init', data: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'file', path: 'odd', data: Buffer.from('abc') },
  ]);
  const r = spawnSync('busybox', ['cpio', '-t', '-v'], { input: archive, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(
    lines.map(
      (l) =>
        l
          .replace(/ -> .*/, '')
          .split(/\s+/)
          .slice(-1)[0],
    ),
    ['bin', 'dev/console', 'init', 'bin/sh', 'odd'],
  );
  assert.match(lines[1], /^crw-------/);
  assert.match(lines[2], /^-rwxr-xr-x .* 10 /);
  assert.match(lines[3], /^lrwxrwxrwx .*bin\/sh -> busybox/);
});

test('kernel versions order numerically', () => {
  const v = ['linux-image-6.1.0-9-cloud-amd64', 'linux-image-6.1.0-57-cloud-amd64', 'linux-image-6.1.0-10-cloud-amd64'];
  assert.deepEqual(
    v.sort(compareVersions).map((x) => x.split('-')[3]),
    ['9', '10', '57'],
  );
  assert.ok(compareVersions('6.12.118', '6.12.9') > 0);
});

test('a panic or an oops on the console is found; a clean power-off is not', () => {
  const panic =
    '[    2.1] Run /init as init process\n[    2.5] Kernel panic - not syncing: sysrq triggered crash\n[    2.5] CPU: 0 PID: 1';
  assert.equal(crashLine(panic), 'Kernel panic - not syncing: sysrq triggered crash');
  assert.equal(
    crashLine('[ 3.0] BUG: kernel NULL pointer dereference, address: 0000000000000008'),
    'BUG: kernel NULL pointer dereference, address: 0000000000000008',
  );
  assert.equal(crashLine('bpf-ide-init: the agent exited (0)\n[ 9.1] reboot: Power down'), undefined);
});

test('matrix: exit 0 all loaded, 3 a rejection anywhere, 1 a refusal or a kernel that failed', () => {
  const rep = (a: string, b: string, kernelOk = true): MatrixReport => ({
    kernels: [
      { target: 'local', ok: true, release: '6.18' },
      { target: 'vm:6.1', ok: kernelOk, release: '6.1.0' },
    ],
    programs: [
      {
        name: 'p',
        section: 'tp/x',
        results: {
          local: { loaded: a === 'loaded', status: a as never },
          'vm:6.1': {
            loaded: b === 'loaded',
            status: b as never,
            error: b === 'loaded' ? undefined : { message: 'R1 invalid mem access', line: 7 },
          },
        },
      },
    ],
  });
  assert.equal(matrixExitCode(rep('loaded', 'loaded')), 0);
  assert.equal(matrixExitCode(rep('loaded', 'rejected')), 3);
  assert.equal(matrixExitCode(rep('loaded', 'refused')), 1);
  assert.equal(matrixExitCode(rep('loaded', 'loaded', false)), 1);
  const table = formatMatrix(rep('loaded', 'rejected'));
  assert.match(table, /vm:6\.1 \(6\.1\.0\)/);
  assert.match(table, /REJECTED at line 7/);
  assert.match(table, /p on vm:6\.1: the verifier rejected it: R1 invalid mem access \(line 7\)/);
});

test('matrix arguments: --kernels is a list, each once; --target is refused with the right flag named', () => {
  const o = parseMatrixArgs(['x.bpf.c', '--kernels', 'local, vm:6.1,ssh://root@box', '--attach', '--duration', '2']);
  assert.deepEqual(o.kernels, ['local', 'vm:6.1', 'ssh://root@box']);
  assert.equal(o.attach, true);
  assert.equal(o.durationS, 2);
  assert.deepEqual(parseMatrixArgs(['x.o']).kernels, ['local', 'vm:6.1', 'vm:6.12']);
  assert.throws(() => parseMatrixArgs(['x.o', '--kernels', 'local,local']), /twice/);
  assert.throws(() => parseMatrixArgs(['x.o', '--target', 'local']), /--kernels/);
});

test("a 6.1 log's source quote (no @ file:line) is found in the source file", () => {
  const dir = join(__dirname, '..', 'fixtures');
  const log = readFileSync(join(dir, 'verifier', 'bpf_for_6.1_l2.log'), 'utf8');
  const src = join(dir, 'vm', 'bpf-for.bpf.c');
  const hit = lineFromQuotedSource(log, src);
  assert.ok(hit);
  assert.equal(hit.file, 'bpf-for.bpf.c');
  assert.match(readFileSync(src, 'utf8').split('\n')[hit.line - 1], /while \(\(v = bpf_iter_num_next\(&it\)\)\)/);
  assert.equal(lineFromQuotedSource('; not in the file\nerror', src), undefined);
});

test('--trigger: run takes it only for a vm: target with --attach; matrix needs --attach; an empty command is refused', () => {
  const r = parseRunArgs(['x.bpf.c', '--target', 'vm:6.1', '--attach', '--trigger', 'rm -f /tmp/x']);
  assert.equal(r.trigger, 'rm -f /tmp/x');
  assert.throws(
    () => parseRunArgs(['x.bpf.c', '--attach', '--trigger', 'true']),
    /vm: guest.*--target local is not one/,
  );
  assert.throws(
    () => parseRunArgs(['x.bpf.c', '--target', 'ssh://root@box', '--attach', '--trigger', 'true']),
    /--target ssh:\/\/root@box is not one/,
  );
  assert.throws(() => parseRunArgs(['x.bpf.c', '--target', 'vm:6.1', '--trigger', 'true']), /give --attach/);
  assert.throws(() => parseRunArgs(['x.bpf.c', '--target', 'vm:6.1', '--attach', '--trigger', ' ']), /needs a command/);
  const m = parseMatrixArgs(['x.o', '--kernels', 'local,vm:6.1', '--attach', '--trigger', 'true']);
  assert.equal(m.trigger, 'true');
  assert.throws(() => parseMatrixArgs(['x.o', '--trigger', 'true']), /give --attach/);
});

test('matrix text: each kernel says how its trigger went (exit code, output tail, or why it did not run)', () => {
  const text = formatMatrix({
    kernels: [
      {
        target: 'local',
        ok: true,
        trigger: { command: 'true', exit_code: null, output_tail: '', error: TRIGGER_ONLY_VM },
      },
      { target: 'vm:6.1', ok: true, trigger: { command: 'echo hi; exit 4', exit_code: 4, output_tail: 'hi\n' } },
    ],
    programs: [],
  });
  assert.match(text, /local: trigger not run: the trigger runs only in vm: guests/);
  assert.match(text, /vm:6\.1: trigger exited 4, output:\n {4}hi/);
});
