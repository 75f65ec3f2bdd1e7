/**
 * `bpf-ide matrix FILE [--kernels local,vm:6.1,vm:6.12,ssh://...] [--attach] [--duration S] [--json]`:
 * builds FILE once, then loads it (and with --attach attaches and runs it) on every kernel, targets
 * in parallel up to the core count, and prints a program x kernel table (or JSON).
 * Exit: 0 every program loaded everywhere, 3 a verifier rejected one, 1 otherwise, 2 bad usage.
 */
import { availableParallelism } from 'node:os';
import { basename, relative } from 'node:path';
import { buildBpf, ClangNotFoundError } from '../build/bpf-build';
import { matrixExitCode, runMatrix, type MatrixReport, type MatrixResult } from './matrix';
import { buildOption, targetOption, triggerOption, UsageError, type TargetArgs } from './run-command';
import { triggerText } from './trigger';

export const DEFAULT_MATRIX_KERNELS = ['local', 'vm:6.1', 'vm:6.12'];

export const MATRIX_USAGE = `usage: bpf-ide matrix FILE [--kernels local,vm:6.1,vm:6.12,ssh://user@host,...] [--attach] [--duration SECONDS]
                       [--json] [--parallel N] [-I DIR] [-D N] [--identity KEY] [--known-hosts FILE] [--accept-new-host-key]
                       [--trigger CMD]
  Builds FILE once (a .bpf.c, or give an object) and loads it on every kernel (default: ${DEFAULT_MATRIX_KERNELS.join(',')}).
  vm:NAME boots a kernel in qemu (bpf-ide kernels lists them); --attach also attaches, --duration runs that long.
  --trigger CMD (with --attach): after attaching, runs sh -c CMD once in each vm: guest (at most 30 s) so the
  programs fire, and counts their runs; other kernels still load and attach, their trigger says it did not run.
  Exit: 0 every program loaded everywhere, 3 a verifier rejected one, 1 otherwise, 2 bad usage.`;

interface MatrixArgs extends TargetArgs {
  file: string;
  kernels: string[];
  attach: boolean;
  durationS: number;
  json: boolean;
  parallel: number;
  includeDirs: string[];
  defines: string[];
  trigger?: string;
}

export function parseMatrixArgs(argv: string[]): MatrixArgs {
  const o: MatrixArgs = {
    file: '',
    target: 'local',
    kernels: DEFAULT_MATRIX_KERNELS,
    attach: false,
    durationS: 0,
    json: false,
    parallel: availableParallelism(),
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
    if (a === '--target')
      throw new UsageError('matrix takes --kernels (a comma-separated list of targets), not --target');
    if (targetOption(a, v, o) || triggerOption(a, v, o)) continue;
    if (a === '--kernels') {
      o.kernels = v()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (!o.kernels.length) throw new UsageError('--kernels needs at least one target');
      if (new Set(o.kernels).size !== o.kernels.length) throw new UsageError('--kernels lists a target twice');
    } else if (a === '--attach') o.attach = true;
    else if (a === '--json') o.json = true;
    else if (a === '--duration') {
      o.durationS = Number(v());
      if (!Number.isFinite(o.durationS) || o.durationS < 0 || o.durationS > 3600)
        throw new UsageError('--duration takes seconds (0..3600)');
    } else if (a === '--parallel') {
      o.parallel = Number(v());
      if (!Number.isInteger(o.parallel) || o.parallel < 1) throw new UsageError('--parallel takes a positive integer');
    } else if (buildOption(a, v, o)) continue;
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (o.file) throw new UsageError('give one FILE');
    else o.file = a;
  }
  if (!o.file) throw new UsageError('no FILE given');
  if (o.trigger !== undefined && !o.attach)
    throw new UsageError('--trigger makes attached programs fire: give --attach too');
  return o;
}

/** One cell of the table. */
export function cellText(r: MatrixResult | undefined): string {
  if (!r) return '-';
  const insns = r.processed_insns != null ? ` ${r.processed_insns} insns` : '';
  const t = r.verify_us != null ? ` ${(r.verify_us / 1000).toFixed(1)} ms` : '';
  if (r.status === 'loaded')
    return `loaded${insns}${t}${r.attached ? ', attached' : ''}${r.run_cnt != null ? `, ran ${r.run_cnt}x` : ''}`;
  if (r.status === 'attach_failed') return `loaded${insns}, attach failed`;
  if (r.status === 'rejected') return `REJECTED${r.error?.line != null ? ` at line ${r.error.line}` : ''}`;
  return 'refused';
}

/** The table: a row per program, a column per kernel, then the details of every failure. */
export function formatMatrix(r: MatrixReport): string {
  const cols = r.kernels.map((k) => k.target);
  const head = [
    'program',
    ...cols.map((c) => {
      const k = r.kernels.find((x) => x.target === c)!;
      return k.release ? `${c} (${k.release})` : c;
    }),
  ];
  const rows = r.programs.map((p) => [`${p.name} (${p.section})`, ...cols.map((c) => cellText(p.results[c]))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const notes: string[] = [];
  for (const k of r.kernels) if (!k.ok) notes.push(`${k.target}: ${k.error ?? 'failed'}`);
  for (const k of r.kernels) if (k.trigger) notes.push(`${k.target}: ${triggerText(k.trigger)}`);
  for (const p of r.programs) {
    for (const c of cols) {
      const x = p.results[c];
      if (!x?.error) continue;
      const where = x.error.file
        ? ` (${x.error.file}:${x.error.line})`
        : x.error.line != null
          ? ` (line ${x.error.line})`
          : '';
      notes.push(
        `${p.name} on ${c}: ${x.status === 'rejected' ? 'the verifier rejected it' : x.status}: ${x.error.message}${where}${x.error.explanation ? `\n    ${x.error.explanation}` : ''}`,
      );
    }
  }
  if (notes.length) out.push('', ...notes);
  return out.join('\n');
}

export async function runMatrixCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(MATRIX_USAGE + '\n');
    return 0;
  }
  let o: MatrixArgs;
  try {
    o = parseMatrixArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bpf-ide matrix: ${e.message}\n${MATRIX_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const log = (l: string) => process.stderr.write(l + '\n');
  let object = o.file;
  if (/\.c$/.test(o.file)) {
    try {
      const b = await buildBpf({ file: o.file, includeDirs: o.includeDirs, defines: o.defines, pch: 'reuse' });
      for (const p of b.problems)
        log(`${p.file ? `${relative(process.cwd(), p.file)}:${p.line}:${p.column}: ` : ''}${p.severity}: ${p.message}`);
      if (!b.ok) {
        log(`bpf-ide matrix: build failed: ${basename(o.file)} did not compile`);
        return 1;
      }
      object = b.object;
    } catch (e) {
      if (e instanceof ClangNotFoundError) {
        log(`bpf-ide matrix: ${e.message}`);
        return 1;
      }
      throw e;
    }
  }
  const report = await runMatrix(
    {
      object,
      source: /\.c$/.test(o.file) ? o.file : undefined,
      targets: o.kernels,
      attach: o.attach,
      durationS: o.durationS,
      trigger: o.trigger,
      parallel: o.parallel,
      identity: o.identity,
      knownHosts: o.knownHosts,
      acceptNewHostKey: o.acceptNewHostKey,
    },
    (t, stage) => log(`${t}: ${stage}`),
  );
  if (o.json) {
    const strip = {
      ...report,
      programs: report.programs.map((p) => ({
        ...p,
        results: Object.fromEntries(Object.entries(p.results).map(([k, v]) => [k, { ...v, log: undefined }])),
      })),
    };
    process.stdout.write(JSON.stringify(strip, null, 2) + '\n');
  } else process.stdout.write(formatMatrix(report) + '\n');
  return matrixExitCode(report);
}
