/**
 * What the VM tier shares: the precondition (qemu, busybox-static, the two kernels in the cache,
 * the agent, clang, bpftool), one booted guest per kernel per test file, objects compiled once
 * (templates against this machine's vmlinux.h: CO-RE relocates them in the guests), and the checks
 * that a guest left nothing behind (its qemu pid, its socket dir).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import '../../client/src/core/zod-setup';
import { VmTarget, type VmTargetOptions } from '../../client/src/core/targets/vm-target';
import { busyboxPath } from '../../client/src/core/vm/initramfs';
import { findCached } from '../../client/src/core/vm/kernel-cache';
import { findQemu } from '../../client/src/core/vm/qemu-vm';
import { bpfTargetArch } from '../../client/src/core/templates';
import { haveCommand, need } from '../support/preconditions';
import { ensureAgent } from '../agent/agent-harness';

export const ROOT = resolve(__dirname, '..', '..');
export const KERNELS = ['6.1', '6.12'] as const;

/** Why the VM tier can't run here (undefined: it can). */
export function vmUnavailableReason(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'VM targets need x86_64 Linux';
  if (!findQemu()) return 'qemu-system-x86_64 is not installed (bash scripts/setup.sh installs qemu-system-x86)';
  if (!busyboxPath()) return 'busybox is not installed (bash scripts/setup.sh installs busybox-static)';
  for (const k of KERNELS)
    if (!findCached(k)) return `kernel ${k} is not cached (bash scripts/setup.sh runs bpf-ide kernels fetch 6.1 6.12)`;
  if (!haveCommand('clang')) return 'clang is not installed';
  if (!haveCommand('bpftool', ['version'])) return 'bpftool is not installed';
  return undefined;
}

export function vmPrecondition(t: TestContext): boolean {
  const r = vmUnavailableReason();
  return need(t, !r, r ?? '');
}

/** A guest, booted and connected. */
export async function bootGuest(kernel: string, o: Partial<VmTargetOptions> = {}): Promise<VmTarget> {
  const t = new VmTarget({ kernel, agentPath: ensureAgent(), bootTimeoutMs: 90_000, ...o });
  await t.connect();
  return t;
}

/** True while a process with this pid exists. */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let includeDir: string | undefined;
/** A folder with this machine's vmlinux.h (made once per test process). */
export function vmlinuxInclude(): string {
  if (includeDir) return includeDir;
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-vmtest-'));
  writeFileSync(
    join(dir, 'vmlinux.h'),
    execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 256 << 20,
    }),
  );
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  includeDir = dir;
  return dir;
}

/** Compiles a BPF C file into the test's temp folder; returns the object's path. */
export function compile(source: string, clang = 'clang'): string {
  const inc = vmlinuxInclude();
  const outDir = join(inc, 'objects');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, source.replace(/[^a-z0-9]+/gi, '_') + '.o');
  if (existsSync(out)) return out;
  execFileSync(clang, [
    '-O2',
    '-g',
    '-target',
    'bpf',
    `-D__TARGET_ARCH_${bpfTargetArch(process.arch)}`,
    `-I${inc}`,
    `-I${dirname(source)}`,
    '-I/usr/include/x86_64-linux-gnu',
    '-c',
    source,
    '-o',
    out,
  ]);
  return out;
}
