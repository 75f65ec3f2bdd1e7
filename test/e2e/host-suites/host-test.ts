/**
 * A minimal test runner for code that runs inside the extension host (no node:test there: the host is not a
 * test runner process). Each test runs in order with its own time bound; every result is printed (the console
 * reaches the browser log the harness keeps) and run() throws if any failed, which makes the workbench exit 1.
 */
import type * as vscode from 'vscode';

export interface HostTest {
  name: string;
  fn: () => Promise<void>;
  timeoutMs?: number;
}

/** Runs the tests one by one; throws an Error listing the failures. */
export async function runHostTests(suite: string, tests: HostTest[]): Promise<void> {
  const failures: string[] = [];
  for (const t of tests) {
    const started = Date.now();
    try {
      await withTimeout(t.fn(), t.timeoutMs ?? 30_000, t.name);
      console.log(`[host-test] ok - ${suite}: ${t.name} (${Date.now() - started} ms)`);
    } catch (err) {
      const msg = err instanceof Error ? (err.stack ?? err.message) : String(err);
      console.log(`[host-test] not ok - ${suite}: ${t.name} (${Date.now() - started} ms)\n${msg}`);
      failures.push(`${t.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  console.log(`[host-test] ${suite}: ${tests.length - failures.length}/${tests.length} passed`);
  if (failures.length) throw new Error(`${failures.length} host test(s) failed in ${suite}:\n${failures.join('\n')}`);
}

/**
 * Resolves with the first value `probe` returns that is not undefined, checking now and on every `event`.
 * Event-driven: no polling, no sleeps. Rejects after `timeoutMs` with `what` in the message.
 */
export function waitForEvent<T>(
  event: vscode.Event<unknown>,
  probe: () => T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const now = probe();
    if (now !== undefined) return resolve(now);
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const sub = event(() => {
      const v = probe();
      if (v === undefined) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(v);
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>(
      (_, reject) => (t = setTimeout(() => reject(new Error(`'${name}' timed out after ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(t));
}
