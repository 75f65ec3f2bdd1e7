/**
 * The kernel matrix: one object, loaded (and optionally attached and run) on several targets at
 * once (`local`, `vm:6.1`, `vm:6.12`, `ssh://...`), each program's verdict per kernel: loaded,
 * rejected by the verifier (message, source line, explanation), refused (EPERM, a missing
 * attach point), processed instructions, verification time, attached. Targets run in parallel,
 * at most `parallel` at a time; every target is released before the matrix returns.
 *
 * No `vscode` import: the CLI (`bpf-ide matrix`) and the editor (Test on Kernels...) share it.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { AgentRequestError } from '../agent/agent-client';
import type { MethodResult } from '../agent/agent-protocol';
import type { TargetStateChange } from '../targets';
import { connectTarget, type ConnectedTarget, type ConnectOptions } from './connect';
import { isVmSpec, runTrigger, TRIGGER_ONLY_VM, type TriggerReport } from './trigger';
import { verdictFromLog } from './verdict';

export type MatrixStatus = 'loaded' | 'rejected' | 'refused' | 'attach_failed';

/** One program on one kernel. Field names are the `--json` contract. */
export interface MatrixResult {
  loaded: boolean;
  attached?: boolean;
  error?: { message: string; file?: string; line?: number; explanation?: string };
  processed_insns?: number;
  verify_us?: number;
  /** What the cell says: loaded, rejected by the verifier, refused by the kernel, attach failed. */
  status: MatrixStatus;
  /** With --attach --duration: how often the program ran (bpf_enable_stats). */
  run_cnt?: number;
  /** The verifier log of a rejection (for the stepper; left out of --json unless asked). */
  log?: string;
}

export interface MatrixKernel {
  target: string;
  release?: string;
  ok: boolean;
  error?: string;
  /** Connect time (for a VM: qemu start to the agent's hello), ms. */
  connect_ms?: number;
  /** With --trigger: the command's outcome in this kernel's guest, or why it did not run (`error`: not a vm: guest). */
  trigger?: TriggerReport;
}

export interface MatrixProgram {
  name: string;
  section: string;
  results: Record<string, MatrixResult>;
}

export interface MatrixReport {
  kernels: MatrixKernel[];
  programs: MatrixProgram[];
}

export interface MatrixOptions extends Omit<ConnectOptions, 'log'> {
  /** The compiled object. */
  object: string;
  /** Target specs as given. */
  targets: string[];
  attach?: boolean;
  durationS?: number;
  /** With attach: `sh -c CMD` run once in each vm: guest after attaching (other targets: kernels[].trigger.error). */
  trigger?: string;
  logLevel?: number;
  /** How many targets at once (default: the core count). */
  parallel: number;
  /** Keep rejection logs in the results. */
  keepLogs?: boolean;
  /** The C source the object was built from: older kernels' logs (6.1) quote source text without `@ file:line`. */
  source?: string;
}

/** Progress per target: `connecting`, `fetching kernel 6.1`, `booting ...`, `loading`, `done`, `failed`. */
export type MatrixProgress = (target: string, stage: string) => void;

/** Runs the matrix; never throws for a target's failure (it goes into kernels[].error). */
export async function runMatrix(o: MatrixOptions, progress: MatrixProgress = () => undefined): Promise<MatrixReport> {
  const bytes = readFileSync(o.object);
  const perTarget = new Map<string, { kernel: MatrixKernel; programs: (MatrixProgram & { result: MatrixResult })[] }>();
  const queue = [...o.targets];
  const worker = async () => {
    for (let spec = queue.shift(); spec !== undefined; spec = queue.shift()) {
      perTarget.set(spec, await onTarget(spec, bytes, o, progress));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, o.targets.length)) }, worker));
  // programs in the order the first target that loaded the object listed them
  const programs: MatrixProgram[] = [];
  const byName = new Map<string, MatrixProgram>();
  for (const spec of o.targets) {
    for (const p of perTarget.get(spec)!.programs) {
      let row = byName.get(p.name);
      if (!row) {
        row = { name: p.name, section: p.section, results: {} };
        byName.set(p.name, row);
        programs.push(row);
      }
      row.results[spec] = p.result;
    }
  }
  return { kernels: o.targets.map((t) => perTarget.get(t)!.kernel), programs };
}

async function onTarget(
  spec: string,
  bytes: Buffer,
  o: MatrixOptions,
  progress: MatrixProgress,
): Promise<{ kernel: MatrixKernel; programs: (MatrixProgram & { result: MatrixResult })[] }> {
  const kernel: MatrixKernel = { target: spec, ok: false };
  const programs: (MatrixProgram & { result: MatrixResult })[] = [];
  const t0 = Date.now();
  progress(spec, 'connecting');
  let target: ConnectedTarget;
  try {
    target = await connectTarget(spec, {
      ...o,
      onState: (s: TargetStateChange) => {
        if (s.state === 'deploying') progress(spec, s.message);
      },
    });
  } catch (e) {
    kernel.error = (e as Error).message;
    progress(spec, 'failed');
    return { kernel, programs };
  }
  kernel.connect_ms = Date.now() - t0;
  kernel.release = target.target.hello?.kernel.release;
  try {
    progress(spec, 'loading');
    const params = target.remote ? { object: bytes.toString('base64') } : { path: o.object };
    let loaded: MethodResult<'load'>;
    try {
      loaded = await target.client.request('load', { ...params, log_level: o.logLevel ?? 1, partial: true });
    } catch (e) {
      const body = e instanceof AgentRequestError ? e.body : undefined;
      if (
        body?.program &&
        (body.code === 'verifier_rejected' || body.code === 'load_failed' || body.code === 'permission_denied')
      ) {
        programs.push({
          name: body.program,
          section: body.section ?? '',
          results: {},
          result: failure(body.code, body.message, body.hint, body.log ?? '', body.stats ?? undefined, o),
        });
        kernel.ok = true;
        return { kernel, programs };
      }
      throw e;
    }
    kernel.ok = true;
    for (const p of loaded.programs) {
      const s = p.verifier.stats;
      programs.push({
        name: p.name,
        section: p.section,
        results: {},
        result: {
          loaded: true,
          status: 'loaded',
          ...(s?.processed_insns != null ? { processed_insns: s.processed_insns } : {}),
          ...(s?.time_usec != null ? { verify_us: s.time_usec } : {}),
        },
      });
    }
    for (const f of loaded.failed ?? []) {
      programs.push({
        name: f.name,
        section: f.section,
        results: {},
        result: failure(f.error.code, f.error.message, f.error.hint ?? undefined, f.verifier.log, f.verifier.stats, o),
      });
    }
    if (o.attach) await attachAll(target, loaded, programs, kernel, o, spec, progress);
    await target.client.request('unload', { handle: loaded.handle }).catch(() => undefined);
    progress(spec, 'done');
  } catch (e) {
    kernel.ok = false;
    kernel.error = (e as Error).message;
    progress(spec, 'failed');
  } finally {
    // a guest that went down explains itself better than "the agent exited"
    const down = (target.target as { guestFailure?: Error }).guestFailure;
    if (down && kernel.error) kernel.error = down.message;
    await target.dispose();
  }
  return { kernel, programs };
}

function failure(
  code: string,
  message: string,
  hint: string | undefined,
  log: string,
  stats: { processed_insns?: number | null; time_usec?: number | null } | undefined,
  o: Pick<MatrixOptions, 'keepLogs' | 'source'>,
): MatrixResult {
  const keepLog = o.keepLogs;
  const rejected = code === 'verifier_rejected';
  const v = rejected ? verdictFromLog(log, message) : undefined;
  if (v && v.line == null && o.source) Object.assign(v, lineFromQuotedSource(log, o.source) ?? {});
  return {
    loaded: false,
    status: rejected ? 'rejected' : 'refused',
    error: v
      ? {
          message: v.message,
          ...(v.file ? { file: v.file } : {}),
          ...(v.line != null ? { line: v.line } : {}),
          ...(v.explanation ? { explanation: v.explanation } : {}),
        }
      : { message: `${message}${hint ? ` (${hint})` : ''}` },
    ...(stats?.processed_insns != null ? { processed_insns: stats.processed_insns } : {}),
    ...(stats?.time_usec != null ? { verify_us: stats.time_usec } : {}),
    ...(keepLog && log ? { log } : {}),
  };
}

async function attachAll(
  target: ConnectedTarget,
  loaded: MethodResult<'load'>,
  programs: (MatrixProgram & { result: MatrixResult })[],
  kernel: MatrixKernel,
  o: Pick<MatrixOptions, 'durationS' | 'trigger'>,
  spec: string,
  progress: MatrixProgress,
): Promise<void> {
  const durationS = o.durationS ?? 0;
  progress(spec, 'attaching');
  for (const p of programs.filter((x) => x.result.loaded)) {
    try {
      await target.client.request('attach', { handle: loaded.handle, program: p.name });
      p.result.attached = true;
    } catch (e) {
      p.result.attached = false;
      p.result.status = 'attach_failed';
      p.result.error = { message: (e as Error).message };
    }
  }
  if (durationS <= 0 && o.trigger === undefined) return;
  await target.client.request('prog_stats', { enable: true }).catch(() => undefined);
  if (o.trigger !== undefined) {
    if (isVmSpec(spec)) {
      progress(spec, 'triggering');
      kernel.trigger = await runTrigger(target, o.trigger);
    } else kernel.trigger = { command: o.trigger, exit_code: null, output_tail: '', error: TRIGGER_ONLY_VM };
  }
  if (durationS > 0) {
    progress(spec, `running ${durationS} s`);
    await new Promise((r) => setTimeout(r, durationS * 1000));
  }
  const ids = new Map(loaded.programs.map((p) => [p.id, p.name]));
  try {
    const st = await target.client.request('prog_stats', { handle: loaded.handle, enable: true });
    for (const s of st.programs) {
      const row = programs.find((p) => p.name === ids.get(s.id));
      if (row && row.result.attached) row.result.run_cnt = s.run_cnt;
    }
  } catch {
    // run counts are a bonus: a kernel without bpf_enable_stats still gives the verdicts
  }
}

/** 0 every program loaded everywhere (and attached, with --attach); 3 a verifier rejected one; 1 otherwise. */
export function matrixExitCode(r: MatrixReport): number {
  const results = r.programs.flatMap((p) => Object.values(p.results));
  if (results.some((x) => x.status === 'rejected')) return 3;
  if (r.kernels.some((k) => !k.ok) || results.some((x) => x.status !== 'loaded') || r.programs.length === 0) return 1;
  return 0;
}

/**
 * Kernels before 6.2 quote the source line as `; text` without ` @ file:line`: the last quote before
 * the error, found once in the source file, gives the line (none when the text is not there or is
 * there more than once).
 */
export function lineFromQuotedSource(log: string, sourceFile: string): { file: string; line: number } | undefined {
  const quotes = log.split('\n').filter((l) => l.startsWith('; ') && !/ @ \S+:\d+$/.test(l));
  const text = quotes[quotes.length - 1]?.slice(2).trim();
  if (!text) return undefined;
  let lines: string[];
  try {
    lines = readFileSync(sourceFile, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const hits = lines.flatMap((l, i) => (l.trim() === text ? [i + 1] : []));
  return hits.length === 1 ? { file: basename(sourceFile), line: hits[0] } : undefined;
}
