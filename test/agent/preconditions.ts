/**
 * Preconditions of the real-kernel agent tests. A test that cannot run says why and skips;
 * under CI=true it fails instead, so a CI machine that lost root or BTF is noticed.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';

/** Why the agent tests cannot run here, or null when they can. */
export function agentUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'the agent needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN) to load BPF programs';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  for (const tool of ['clang', 'bpftool']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (scripts/setup.sh installs it)`;
    }
  }
  return null;
}

/** Why network tests cannot run (no `ip` for namespaces and veth pairs), or null. */
export function netUnavailableReason(): string | null {
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'iproute2 (`ip`) is not installed';
  }
}

/** Skips the test (or fails it under CI=true) when reason is not null. Returns true to go on. */
export function precondition(t: TestContext, reason: string | null): boolean {
  if (!reason) return true;
  if (process.env.CI === 'true') assert.fail(`precondition not met under CI: ${reason}`);
  t.skip(reason);
  return false;
}
