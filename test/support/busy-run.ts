/**
 * Runs a command while this process keeps calling openat() (every 20 ms), so a tracepoint on
 * sys_enter_openat has something to count on a quiet machine. Resolves with the command's result.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export interface BusyRunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runWhileOpening(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<BusyRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const tick = setInterval(() => closeSync(openSync('/etc/hostname', 'r')), 20);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearInterval(tick);
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status) => {
      clearInterval(tick);
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
