/**
 * A last line of defence for what a test started: process groups and temp dirs registered here are killed and
 * removed when the test process exits or is interrupted, even if the test's own cleanup never ran (a hung step,
 * a runner timeout that abandons the test's promise). The normal path is the session's `finally`.
 */
import { rmSync } from 'node:fs';

const groups = new Set<number>();
const dirs = new Set<string>();
let installed = false;

/** Registers a process group (the pid of its leader, started detached = setsid) to kill at exit. */
export function trackProcessGroup(pgid: number): void {
  install();
  groups.add(pgid);
}

export function untrackProcessGroup(pgid: number): void {
  groups.delete(pgid);
}

/** Registers a temp dir to remove at exit. */
export function trackTempDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackTempDir(dir: string): void {
  dirs.delete(dir);
}

/** True while any process of the group is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    // EPERM means a process exists that we may not signal: still alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Synchronous: usable from an 'exit' handler. */
export function killGroupNow(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function cleanupNow(): void {
  for (const g of groups) killGroupNow(g);
  groups.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true, maxRetries: 3 });
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupNow();
      process.kill(process.pid, sig);
    });
  }
}
