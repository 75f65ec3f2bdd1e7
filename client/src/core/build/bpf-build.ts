/**
 * Builds a BPF C file into an object with `clang -O2 -g -target bpf`, the way users build by hand,
 * and turns clang's diagnostics into structured problems (file, line, column, range, severity).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { compileFlagsFor } from '../../../../server/src/clang/compile-flags';
import { findClang, targetArchDefine } from '../../../../server/src/clang/clang-runner';

export interface BuildProblem {
  file: string;
  line: number; // 1-based
  column: number; // 1-based (bytes, as clang counts)
  endLine?: number;
  endColumn?: number;
  severity: 'error' | 'warning' | 'note';
  message: string;
  option?: string;
}

export interface BuildOptions {
  file: string;
  out?: string;
  includeDirs?: string[];
  defines?: string[];
  clang?: string;
  extraArgs?: string[];
  timeoutMs?: number;
}

export interface BuildResult {
  ok: boolean;
  object: string;
  problems: BuildProblem[];
  command: string[];
  durationMs: number;
  stderr: string;
}

export class ClangNotFoundError extends Error {
  override readonly name = 'ClangNotFoundError';
  constructor(configured: string) {
    super(
      configured
        ? `clang was not found at "${configured}": set bpfIde.clang.path (or --clang) to a working clang`
        : 'clang was not found on PATH (tried clang, clang-19 ... clang-14): install it (apt-get install clang) or set bpfIde.clang.path',
    );
  }
}

/** Where a build puts the object by default: `<dir>/.output/<name>.bpf.o`... or next to the source. */
export function defaultObjectPath(file: string): string {
  const name = basename(file).replace(/\.bpf\.c$|\.c$/, '');
  return join(dirname(resolve(file)), '.output', `${name}.bpf.o`);
}

export function buildArgs(o: BuildOptions, out: string): string[] {
  const file = resolve(o.file);
  const db = compileFlagsFor(file);
  return [
    '-O2',
    '-g',
    '-target',
    'bpf',
    `-D${targetArchDefine()}`,
    '-fno-color-diagnostics',
    '-fdiagnostics-print-source-range-info',
    '-fno-caret-diagnostics',
    `-I${dirname(file)}`,
    ...(o.includeDirs ?? []).map((d) => `-I${resolve(d)}`),
    ...(db?.includeDirs ?? []).map((d) => `-I${d}`),
    '-I/usr/include/x86_64-linux-gnu',
    ...(o.defines ?? []).map((d) => `-D${d}`),
    ...(db?.defines ?? []).map((d) => `-D${d}`),
    ...(o.extraArgs ?? []),
    '-c',
    file,
    '-o',
    out,
  ];
}

/** Compiles; never throws for compile errors (they are problems), only when clang can't run. */
export async function buildBpf(o: BuildOptions): Promise<BuildResult> {
  const clang = findClang(o.clang ?? '');
  if (!clang) throw new ClangNotFoundError(o.clang ?? '');
  const out = resolve(o.out ?? defaultObjectPath(o.file));
  mkdirSync(dirname(out), { recursive: true });
  const args = buildArgs(o, out);
  const t0 = performance.now();
  const stderr = await new Promise<string>((res, rej) => {
    const child = spawn(clang, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (err.length < 4 << 20) err += d;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res(code === 0 ? err : err || `clang exited with status ${code}`);
    });
  });
  const problems = parseBuildOutput(stderr);
  const ok =
    !problems.some((p) => p.severity === 'error') &&
    existsSync(out) &&
    statSync(out).mtimeMs >= Date.now() - (performance.now() - t0) - 5000;
  return { ok, object: out, problems, command: [clang, ...args], durationMs: performance.now() - t0, stderr };
}

const LINE_RE = /^(.*?):(\d+):(\d+):((?:\{\d+:\d+-\d+:\d+\})*):? (error|warning|note|fatal error): (.*)$/;

/** Parses clang's stderr into problems, for the main file and headers alike. */
export function parseBuildOutput(stderr: string): BuildProblem[] {
  const out: BuildProblem[] = [];
  for (const line of stderr.split('\n')) {
    const m = LINE_RE.exec(line);
    if (!m) {
      // "error: ..." without a location (a bad flag, a missing file): keep it.
      const bare = /^(?:clang(?:-\d+)?: )?(error|fatal error): (.*)$/.exec(line);
      if (bare) out.push({ file: '', line: 0, column: 0, severity: 'error', message: bare[2] });
      continue;
    }
    const p: BuildProblem = {
      file: m[1],
      line: Number(m[2]),
      column: Number(m[3]),
      severity: m[5] === 'warning' ? 'warning' : m[5] === 'note' ? 'note' : 'error',
      message: m[6],
    };
    const opt = /\s\[(-W[^\]]+)\]$/.exec(p.message);
    if (opt) {
      p.option = opt[1].split(',')[0];
      p.message = p.message.slice(0, opt.index);
    }
    const range = /\{(\d+):(\d+)-(\d+):(\d+)\}/.exec(m[4]);
    if (range && Number(range[1]) === p.line) {
      p.endLine = Number(range[3]);
      p.endColumn = Number(range[4]);
    }
    out.push(p);
  }
  return out;
}
