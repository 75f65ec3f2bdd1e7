/**
 * `bpf-ide run FILE [--target local|vm:6.1|ssh://user@host[:port]] [--identity KEY] [--known-hosts FILE]
 *   [--attach] [--duration SECONDS] [--log-level N] [--json]`
 * FILE is a .bpf.c (built first) or an object. Loads it through the agent on the target, optionally
 * attaches, reports each program's verdict, and releases everything before exiting.
 * Exit: 0 everything loaded, 3 the verifier rejected a program, 1 other errors, 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import type { LoadedMap, MethodResult } from '../agent/agent-protocol';
import { AgentExitedError, AgentRequestError } from '../agent/agent-client';
import { buildBpf, ClangNotFoundError } from '../build/bpf-build';
import { needsTargetVmlinux } from '../build/vmlinux-cache';
import { targetVmlinuxDir } from '../build/vmlinux-command';
import { connectTarget, type ConnectedTarget } from './connect';
import { isVmSpec, runTrigger, triggerText, type TriggerReport } from './trigger';
import { verdictFromLog } from './verdict';

export interface RunOptions extends TargetArgs {
  file: string;
  attach: boolean;
  durationS: number;
  logLevel: number;
  json: boolean;
  includeDirs: string[];
  defines: string[];
  /** `--trigger CMD`: run once in the vm: guest after attaching (sh -c CMD through the agent's exec). */
  trigger?: string;
}

export interface RunProgramReport {
  name: string;
  section: string;
  type: string;
  loaded: boolean;
  /** Not loaded: `rejected` by the verifier, or `refused` before it looked (no program type, no trampolines, ...). */
  verdict?: 'rejected' | 'refused';
  id?: number;
  attached?: boolean;
  attachError?: string;
  /** With --attach and --trigger or --duration: how often it ran (bpf_enable_stats), when the kernel counts. */
  run_cnt?: number;
  verifier: {
    stats?: {
      processed_insns: number | null;
      total_states: number | null;
      peak_states: number | null;
      time_usec: number | null;
      stack_depth: number | null;
    };
    error?: {
      message: string;
      file?: string;
      line?: number;
      explanation?: string;
      related?: { message: string; file?: string; line?: number }[];
    };
  };
}

export interface RunReport {
  target: string;
  programs: RunProgramReport[];
  maps: { name: string; type: string; id: number; entries?: number }[];
  error?: string;
  /** With --trigger: the command's exit code and the end of its output. */
  trigger?: TriggerReport;
}

export const RUN_USAGE = `usage: bpf-ide run FILE [--target local|vm:6.1|ssh://user@host[:port]] [--identity KEY] [--known-hosts FILE]
                    [--accept-new-host-key] [--attach] [--duration SECONDS] [--log-level N] [--json] [-I DIR] [-D N]
                    [--trigger CMD]
  FILE: a .bpf.c (built first with clang -target bpf) or a BPF object. When FILE includes vmlinux.h and
  none is on its include path, the target's is used (cached; see bpf-ide vmlinux).
  --trigger CMD (vm: targets only, with --attach): after attaching, runs sh -c CMD once inside the guest
  (at most 30 s) so the programs fire, and reports its exit code and the end of its output.
  Exit: 0 everything loaded, 3 the verifier rejected a program, 1 other errors (a trigger that could not run
  or timed out too), 2 bad usage.`;

export function parseRunArgs(argv: string[]): RunOptions {
  const o: RunOptions = {
    file: '',
    target: 'local',
    attach: false,
    durationS: 0,
    logLevel: 1,
    json: false,
    includeDirs: [],
    defines: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new UsageError(`${a} needs a value`);
      return x;
    };
    if (targetOption(a, v, o) || triggerOption(a, v, o)) continue;
    if (a === '--attach') o.attach = true;
    else if (a === '--json') o.json = true;
    else if (a === '--duration') {
      o.durationS = Number(v());
      if (!Number.isFinite(o.durationS) || o.durationS < 0 || o.durationS > 86400)
        throw new UsageError('--duration takes seconds (0..86400)');
    } else if (a === '--log-level') {
      o.logLevel = Number(v());
      if (![0, 1, 2, 4, 5, 6].includes(o.logLevel))
        throw new UsageError('--log-level is 0, 1 or 2, plus 4 for statistics');
    } else if (buildOption(a, v, o)) continue;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (o.file) throw new UsageError('give one FILE');
    else o.file = a;
  }
  if (!o.file) throw new UsageError('no FILE given');
  if (o.trigger !== undefined) {
    if (!isVmSpec(o.target))
      throw new UsageError(
        `--trigger runs a command inside a vm: guest (the only agent that serves exec); --target ${o.target} is not one`,
      );
    if (!o.attach) throw new UsageError('--trigger makes attached programs fire: give --attach too');
  }
  return o;
}

/** Takes `a` when it is a build option (`-I DIR`, `-IDIR`, `-D N`, `-DN`) that `run` and `matrix` share. */
export function buildOption(a: string, value: () => string, o: { includeDirs: string[]; defines: string[] }): boolean {
  if (a === '-I') o.includeDirs.push(value());
  else if (a.startsWith('-I')) o.includeDirs.push(a.slice(2));
  else if (a === '-D') o.defines.push(value());
  else if (a.startsWith('-D')) o.defines.push(a.slice(2));
  else return false;
  return true;
}

/** Where a command connects: the options `run` and `list` share. */
export interface TargetArgs {
  target: string;
  identity?: string;
  knownHosts?: string;
  acceptNewHostKey?: boolean;
}

/** Takes `a` (reading its value with `value`) when it is one of the target options; false otherwise. */
export function targetOption(a: string, value: () => string, o: TargetArgs): boolean {
  if (a === '--target') o.target = value();
  else if (a === '--identity') o.identity = value();
  else if (a === '--known-hosts') o.knownHosts = value();
  else if (a === '--accept-new-host-key') o.acceptNewHostKey = true;
  else return false;
  return true;
}

/** `--trigger CMD`, the option `run` and `matrix` share (see trigger.ts); true when `a` was it. */
export function triggerOption(a: string, value: () => string, o: { trigger?: string }): boolean {
  if (a !== '--trigger') return false;
  const cmd = value();
  if (!cmd.trim()) throw new UsageError('--trigger needs a command (run as sh -c CMD inside the vm: guest)');
  o.trigger = cmd;
  return true;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Log = (line: string) => void;

/** Builds (if needed), loads, attaches, waits, and releases; returns the report and the exit code. */
export async function run(o: RunOptions, log: Log): Promise<{ report: RunReport; code: number }> {
  const report: RunReport = { target: o.target, programs: [], maps: [] };
  let object = o.file;
  // Connected first when the build needs the target's vmlinux.h (none on the include path).
  let early: ConnectedTarget | undefined;
  let includeDirs = o.includeDirs;
  if (/\.c$/.test(o.file) && needsTargetVmlinux(o.file, o.includeDirs)) {
    try {
      early = await connectTarget(o.target, o);
      const dir = await targetVmlinuxDir(o.file, o.includeDirs, o, log, early);
      if (dir) includeDirs = [...includeDirs, dir];
    } catch (e) {
      await early?.dispose();
      return {
        report: {
          ...report,
          error: `${basename(o.file)} includes vmlinux.h, none is on its include path, and the target's could not be had: ${(e as Error).message}`,
        },
        code: 1,
      };
    }
  }
  const mainSource = /\.c$/.test(o.file) ? o.file : undefined;
  if (/\.c$/.test(o.file)) {
    let b;
    try {
      b = await buildBpf({ file: o.file, includeDirs, defines: o.defines, pch: 'reuse' });
    } catch (e) {
      await early?.dispose();
      if (e instanceof ClangNotFoundError) return { report: { ...report, error: e.message }, code: 1 };
      throw e;
    }
    for (const p of b.problems)
      log(`${p.file ? `${relative(process.cwd(), p.file)}:${p.line}:${p.column}: ` : ''}${p.severity}: ${p.message}`);
    if (!b.ok) {
      await early?.dispose();
      return { report: { ...report, error: `build failed: ${basename(o.file)} did not compile` }, code: 1 };
    }
    object = b.object;
    log(`built ${relative(process.cwd(), object)} in ${b.durationMs.toFixed(0)} ms`);
  }
  let target: ConnectedTarget;
  try {
    target = early ?? (await connectTarget(o.target, o));
  } catch (e) {
    return { report: { ...report, error: (e as Error).message }, code: 1 };
  }
  let code = 0;
  try {
    report.target = target.description;
    const params = target.remote
      ? { object: readFileSync(object).toString('base64'), file_name: basename(object) }
      : { path: object };
    let loaded: MethodResult<'load'>;
    try {
      loaded = await target.client.request('load', { ...params, log_level: o.logLevel, partial: true });
    } catch (e) {
      if (e instanceof AgentRequestError) {
        const body = e.body as {
          code?: string;
          message?: string;
          program?: string;
          section?: string;
          type?: string;
          log?: string;
        };
        if (body.code === 'verifier_rejected') {
          report.programs.push({
            name: body.program ?? '?',
            section: body.section ?? '',
            type: body.type ?? '',
            loaded: false,
            verdict: 'rejected',
            verifier: { error: verdictFromLog(body.log ?? '', body.message ?? e.message, mainSource) },
          });
          return { report, code: 3 };
        }
      }
      return { report: { ...report, error: (e as Error).message }, code: 1 };
    }
    for (const p of loaded.programs) {
      report.programs.push({
        name: p.name,
        section: p.section,
        type: p.type,
        loaded: true,
        id: p.id,
        verifier: { stats: p.verifier.stats },
      });
    }
    for (const f of loaded.failed ?? []) {
      const rejected = f.error.code === 'verifier_rejected';
      if (rejected) code = 3;
      else if (code === 0) code = 1;
      const error = rejected
        ? verdictFromLog(f.verifier.log, f.error.message, mainSource)
        : { message: `${f.error.message}${f.error.hint ? ` (${f.error.hint})` : ''}` };
      report.programs.push({
        name: f.name,
        section: f.section,
        type: f.type,
        loaded: false,
        verdict: rejected ? 'rejected' : 'refused',
        verifier: { stats: f.verifier.stats, error },
      });
    }
    for (const m of loaded.maps) report.maps.push({ name: m.name, type: m.type, id: m.id });
    printVerdicts(report, log);

    if (o.attach) {
      for (const p of report.programs.filter((x) => x.loaded)) {
        try {
          await target.client.request('attach', { handle: loaded.handle, program: p.name });
          p.attached = true;
          log(`attached ${p.name} (${p.section})`);
        } catch (e) {
          p.attached = false;
          p.attachError = (e as Error).message;
          log(`could not attach ${p.name}: ${(e as Error).message}`);
          if (code === 0) code = 1;
        }
      }
    }
    const countRuns = o.attach && (o.trigger !== undefined || o.durationS > 0);
    if (countRuns) await target.client.request('prog_stats', { enable: true }).catch(() => undefined);
    if (o.trigger !== undefined) {
      report.trigger = await runTrigger(target, o.trigger);
      log(triggerText(report.trigger));
      if (report.trigger.error && code === 0) code = 1;
    }
    try {
      if (o.durationS > 0) await watchMaps(target, loaded.maps, o.durationS, o.json ? () => undefined : log);
      if (countRuns) await readRunCounts(target, loaded.handle, report, log);
      for (const m of report.maps) {
        try {
          const d = await target.client.request('map_dump', { map_id: m.id, limit: 100000 });
          m.entries = d.count;
        } catch (e) {
          if (e instanceof AgentExitedError) throw e;
          // ring buffers and perf event arrays have no entries to count
        }
      }
      await target.client.request('unload', { handle: loaded.handle });
    } catch (e) {
      if (!(e instanceof AgentExitedError)) throw e;
      // the agent died (killed, crashed, the box rebooted): its programs went with it; stop now, say it once
      report.error = `${e.message}; what it had loaded and attached is gone`;
      code = 1;
    }
  } finally {
    await target.dispose();
  }
  return { report, code };
}

/** Fills run_cnt of the attached programs; run counts are a bonus, a kernel without bpf_enable_stats has none. */
async function readRunCounts(target: ConnectedTarget, handle: number, report: RunReport, log: Log): Promise<void> {
  let st: MethodResult<'prog_stats'>;
  try {
    st = await target.client.request('prog_stats', { handle, enable: true });
  } catch (e) {
    if (e instanceof AgentExitedError) throw e;
    return;
  }
  for (const p of report.programs) {
    const s = st.programs.find((x) => x.id === p.id);
    if (!s || !p.attached) continue;
    p.run_cnt = s.run_cnt;
    log(`${p.name} ran ${s.run_cnt} time${s.run_cnt === 1 ? '' : 's'}`);
  }
}

function printVerdicts(r: RunReport, log: Log): void {
  for (const p of r.programs) {
    if (p.loaded) {
      const s = p.verifier.stats;
      log(
        `✓ ${p.name} (${p.section}, ${p.type}) loaded: id ${p.id}${s?.processed_insns != null ? `, verifier processed ${s.processed_insns} insns` : ''}${s?.time_usec != null ? ` in ${s.time_usec} µs` : ''}`,
      );
    } else {
      const e = p.verifier.error;
      log(
        `✗ ${p.name} (${p.section}) ${p.verdict === 'refused' ? 'not loaded' : 'rejected'}: ${e?.message ?? 'unknown error'}${e?.file ? `\n    at ${e.file}:${e.line}` : ''}${e?.explanation ? `\n    ${e.explanation}` : ''}${(e?.related ?? []).map((x) => `\n    related: ${x.message}${x.file ? ` (${x.file}:${x.line})` : ''}`).join('')}`,
      );
    }
  }
}

async function watchMaps(target: ConnectedTarget, maps: LoadedMap[], seconds: number, log: Log): Promise<void> {
  const dumpable = maps.filter(
    (m) => !/ringbuf|perf_event_array|prog_array|\.rodata|\.bss|\.data/i.test(`${m.type} ${m.name}`),
  );
  const end = Date.now() + seconds * 1000;
  // the agent's exit ends the wait at once (map_dump then throws AgentExitedError, which stops the run)
  let wake = () => undefined as void;
  const onClose = () => wake();
  target.client.once('close', onClose);
  try {
    while (Date.now() < end) {
      await new Promise<void>((r) => {
        const timer = setTimeout(r, Math.min(1000, Math.max(0, end - Date.now())));
        wake = () => (clearTimeout(timer), r());
        if (target.client.isClosed) wake();
      });
      await readMaps(target, dumpable, log);
    }
  } finally {
    target.client.off('close', onClose);
  }
}

async function readMaps(target: ConnectedTarget, dumpable: LoadedMap[], log: Log): Promise<void> {
  // a closed client throws AgentExitedError for any request: even with no map to read, the run stops
  if (target.client.isClosed) await target.client.request('ping', {});
  for (const m of dumpable) {
    try {
      const d = await target.client.request('map_dump', { map_id: m.id, limit: 5 });
      log(
        `  ${m.name}: ${d.count} entr${d.count === 1 ? 'y' : 'ies'}${d.entries.length ? `, e.g. ${JSON.stringify(d.entries[0].key)} => ${JSON.stringify(d.entries[0].value)}` : ''}`,
      );
    } catch (e) {
      if (e instanceof AgentExitedError) throw e;
      log(`  ${m.name}: ${(e as Error).message}`);
    }
  }
}

export async function runRunCommand(argv: string[]): Promise<number> {
  let o: RunOptions;
  try {
    o = parseRunArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bpf-ide run: ${e.message}\n${RUN_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const { report, code } = await run(o, (l) => process.stderr.write(l + '\n'));
  if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  if (report.error) process.stderr.write(`bpf-ide run: ${report.error}\n`);
  return code;
}
