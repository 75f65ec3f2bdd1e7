/**
 * Preconditions for tests that need real parts (root, BPF, clang, sshd, a VS Code). A missing part
 * skips the test with the reason, except under CI=true, where it fails: CI must never pass by skipping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';

export const IN_CI = process.env.CI === 'true';

/** Returns true when the test may go on; otherwise skips it (or throws under CI). */
export function need(t: TestContext, ok: boolean, what: string): boolean {
  if (ok) return true;
  if (IN_CI) throw new Error(`precondition failed under CI: ${what}`);
  t.skip(what);
  return false;
}

export function haveCommand(cmd: string, args = ['--version']): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore', timeout: 10000 }).status === 0;
}

export const isRoot = () => process.getuid?.() === 0;
export const haveBtf = () => existsSync('/sys/kernel/btf/vmlinux');
