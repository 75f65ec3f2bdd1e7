/**
 * `--trigger CMD` of `run` and `matrix`: after attaching, runs `sh -c CMD` once inside the target
 * through the agent's `exec` method, so the attached programs fire (e.g. `touch /tmp/x && rm /tmp/x`
 * for the kprobe and fentry templates). Only VM guests serve `exec` (their agent has --allow-exec and
 * says `exec` in hello's capabilities); elsewhere the trigger is refused with a clear reason.
 */
import type { ConnectedTarget } from './connect';

/** The time limit passed to `exec` (the agent kills the command's process group past it). */
export const TRIGGER_TIMEOUT_MS = 30_000;
/** How much of the command's output the report keeps (its end). */
export const TRIGGER_TAIL_CHARS = 2000;

export const TRIGGER_ONLY_VM = 'the trigger runs only in vm: guests (their agent serves exec); this target does not';

/** The `trigger` field of run's JSON and of matrix's `kernels[]` entries. */
export interface TriggerReport {
  command: string;
  /** null when it did not run to its end (timed out, killed by a signal) or did not run at all. */
  exit_code: number | null;
  /** The last TRIGGER_TAIL_CHARS characters of its stdout then its stderr. */
  output_tail: string;
  timed_out?: boolean;
  signal?: string;
  duration_ms?: number;
  /** Why it did not run (not a vm: target, the agent refused). */
  error?: string;
}

/** Whether a target spec is a VM guest (the only kind whose agent serves exec). */
export function isVmSpec(spec: string): boolean {
  return spec.trim().startsWith('vm:');
}

/** Runs the trigger once; never throws for the command's or the agent's failure (it goes into `error`). */
export async function runTrigger(target: ConnectedTarget, command: string): Promise<TriggerReport> {
  const report: TriggerReport = { command, exit_code: null, output_tail: '' };
  if (!target.target.hello?.capabilities.includes('exec')) {
    report.error = TRIGGER_ONLY_VM;
    return report;
  }
  try {
    const r = await target.client.request('exec', { argv: ['sh', '-c', command], timeout_ms: TRIGGER_TIMEOUT_MS });
    report.exit_code = r.exit_code;
    report.output_tail = tail(r.stdout + r.stderr, TRIGGER_TAIL_CHARS);
    report.duration_ms = r.duration_ms;
    if (r.timed_out) report.timed_out = true;
    if (r.signal) report.signal = r.signal;
    if (r.timed_out) report.error = `the trigger did not end within ${TRIGGER_TIMEOUT_MS / 1000} s and was killed`;
  } catch (e) {
    report.error = `the trigger could not run: ${(e as Error).message}`;
  }
  return report;
}

/** One line for the text output. */
export function triggerText(t: TriggerReport): string {
  if (t.error && t.exit_code === null && !t.timed_out) return `trigger not run: ${t.error}`;
  const head = t.timed_out
    ? `trigger timed out after ${TRIGGER_TIMEOUT_MS / 1000} s`
    : t.signal
      ? `trigger killed by ${t.signal}`
      : `trigger exited ${t.exit_code}`;
  const out = t.output_tail.trimEnd();
  return `${head}${out ? `, output:\n${out.replace(/^/gm, '    ')}` : ''}`;
}

function tail(s: string, n: number): string {
  return s.length > n ? s.slice(s.length - n) : s;
}
