/**
 * Bad input to VM targets, each with a clear error within a bounded time and nothing left running:
 * a file that is not a kernel, qemu missing (PATH without it), an initramfs that is garbage (the
 * guest panics at boot), a guest that hangs (its init never serves the port), a package apt does
 * not know, a kernel name bpf-ide does not know.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { VmTarget } from '../../client/src/core/targets/vm-target';
import { GuestFailureError } from '../../client/src/core/vm/vm-errors';
import { ensureAgent } from '../agent/agent-harness';
import { alive, ROOT, vmPrecondition } from './vm-fixture';

const CLI = join(ROOT, 'client', 'src', 'cli', 'bpf-ide.ts');
const tmp = mkdtempSync(join(tmpdir(), 'bpf-ide-vmbad-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { ...r, ms: Date.now() - t0 };
}

/** Connects and expects a failure; returns it with how long it took and the qemu pid it had. */
async function failing(o: ConstructorParameters<typeof VmTarget>[0]) {
  // a private TMPDIR for the guest's socket dir (os.tmpdir() reads it at each call): none may outlive a failed connect
  const own = mkdtempSync(join(tmp, 'guest-tmp-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = own;
  const vm = new VmTarget(o);
  let pid: number | undefined;
  vm.on('log', (l) => {
    if (l.startsWith('qemu-system')) setImmediate(() => (pid ??= vm.qemuPid));
  });
  const t0 = Date.now();
  let err: Error | undefined;
  let ms = 0;
  try {
    err = await vm.connect().then(
      () => undefined,
      (e: Error) => e,
    );
    ms = Date.now() - t0;
    await vm.dispose();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  assert.ok(err, 'connect should have failed');
  assert.deepEqual(readdirSync(own), [], 'no socket dir is left');
  return { err, ms, pid };
}

describe('VM targets: bad input', { concurrency: false }, () => {
  test('a file that is not a kernel: NotAKernelError naming the file, no qemu started', async (t) => {
    if (!vmPrecondition(t)) return;
    const f = join(tmp, 'not-a-kernel');
    writeFileSync(f, 'just text\n'.repeat(100));
    const r = cli(['run', join(ROOT, 'test', 'fixtures', 'agent', 'kprobe.bpf.c'), '--target', `vm:${f}`]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${f} is not a Linux kernel image \\(no bzImage boot header`));
    assert.ok(r.ms < 30_000);
  });

  test('qemu missing: the error says to install qemu-system-x86', async (t) => {
    if (!vmPrecondition(t)) return;
    // a PATH without qemu (node and clang are found by absolute path or not needed: an object is given)
    const obj = join(tmp, 'empty.o');
    writeFileSync(obj, '');
    const r = cli(['run', obj, '--target', 'vm:6.1'], { ...process.env, PATH: '/nonexistent' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /qemu-system-x86_64 was not found on PATH.*apt-get install qemu-system-x86/);
  });

  test('a garbage initramfs: the guest panics at boot; reported as a panic with the console tail', async (t) => {
    if (!vmPrecondition(t)) return;
    const bad = join(tmp, 'bad-initrd');
    writeFileSync(bad, Buffer.alloc(64 * 1024, 0x5a));
    const { err, ms, pid } = await failing({
      kernel: '6.12',
      agentPath: ensureAgent(),
      initrd: bad,
      bootTimeoutMs: 60_000,
    });
    assert.ok(err instanceof GuestFailureError, String(err));
    assert.equal(err.kind, 'panic');
    assert.match(err.message, /guest kernel crashed before the agent started: Kernel panic - not syncing/);
    assert.match(err.consoleTail, /Kernel panic/);
    assert.ok(ms < 60_000, `reported in ${ms} ms`);
    assert.ok(!alive(pid));
  });

  test('a guest that hangs: reported within the boot time limit, qemu killed', async (t) => {
    if (!vmPrecondition(t)) return;
    // the agent as init: it reads the console, never the port, so no hello ever comes
    const { err, ms, pid } = await failing({
      kernel: '6.1',
      agentPath: ensureAgent(),
      extraKernelArgs: ['rdinit=/bin/bpf-agent'],
      bootTimeoutMs: 10_000,
    });
    assert.ok(err instanceof GuestFailureError, String(err));
    assert.equal(err.kind, 'timeout');
    assert.match(err.message, /did not start its agent within 10 s/);
    assert.ok(ms < 20_000, `reported in ${ms} ms`);
    assert.ok(!alive(pid));
  });

  test('a package apt does not know, and a kernel name bpf-ide does not know: clear errors, exit 1', (t) => {
    if (!vmPrecondition(t)) return;
    const r = cli(['kernels', 'fetch', 'linux-image-0.0.0-bpfide-nonexistent-amd64']);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /apt does not know the package linux-image-0\.0\.0-bpfide-nonexistent-amd64.*apt-cache search linux-image/,
    );
    const u = cli(['kernels', 'fetch', 'banana']);
    assert.equal(u.status, 1);
    assert.match(u.stderr, /unknown kernel "banana": bpf-ide knows 6\.1 and 6\.12/);
    assert.ok(!existsSync(join(tmp, 'never')));
  });
});
