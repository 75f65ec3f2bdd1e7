/**
 * Builds a BPF C file into an object with `clang -O2 -g -target bpf`, the way users build by hand,
 * and turns clang's diagnostics into structured problems (file, line, column, range, severity).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { compileFlagsFor } from '../../../../server/src/clang/compile-flags';
import {
  type ClangMessage,
  findClang,
  parseClangMessages,
  targetArchDefine,
} from '../../../../server/src/clang/clang-runner';

/** A problem clang reported: 1-based line and (byte) column, as clang counts. */
export type BuildProblem = ClangMessage;

export interface BuildOptions {
  file: string;
  out?: string;
  includeDirs?: string[];
  defines?: string[];
  clang?: string;
  extraArgs?: string[];
  timeoutMs?: number;
  /**
   * Reuse a precompiled vmlinux.h (default true). Parsing the 2.8 MB header is most of a build; when
   * the file includes vmlinux.h before anything else, a cached PCH gives byte-identical objects ~5x
   * faster. true: the PCH is made in the background after a build without one (long-lived callers);
   * 'reuse': use one if present, never make one (one-shot CLI runs); false: never.
   */
  pch?: boolean | 'reuse';
}

export interface BuildResult {
  ok: boolean;
  object: string;
  problems: BuildProblem[];
  command: string[];
  durationMs: number;
  stderr: string;
  /** A precompiled vmlinux.h was used. */
  usedPch: boolean;
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
    ...(db?.extra ?? []),
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
  const pch = o.pch === false ? undefined : pchFor(clang, o, args, out);
  let usedPch = false;
  let r: { code: number | null; stderr: string };
  if (pch && existsSync(pch.path)) {
    r = await runClang(clang, ['-include-pch', pch.path, ...args], o.timeoutMs);
    usedPch = r.code === 0;
    // A stale or foreign PCH: drop it and build the plain way.
    if (!usedPch && /precompiled|PCH|AST file/i.test(r.stderr)) {
      rmSync(pch.path, { force: true });
      r = await runClang(clang, args, o.timeoutMs);
    } else if (!usedPch) usedPch = true; // a real compile error, with the PCH in use: same diagnostics
  } else {
    r = await runClang(clang, args, o.timeoutMs);
    if (pch && r.code === 0 && o.pch !== 'reuse') makePch(clang, pch);
  }
  const stderr = r.code === 0 ? r.stderr : r.stderr || `clang exited with status ${r.code}`;
  const problems = parseBuildOutput(stderr);
  const ok = r.code === 0 && !problems.some((p) => p.severity === 'error') && existsSync(out);
  return { ok, object: out, problems, command: [clang, ...args], durationMs: performance.now() - t0, stderr, usedPch };
}

function runClang(clang: string, args: string[], timeoutMs = 120000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn(clang, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
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
      res({ code, stderr: err });
    });
  });
}

interface PchPlan {
  path: string;
  header: string;
  args: string[];
}

/**
 * The PCH for this build, when the source includes vmlinux.h first (nothing before it can change how
 * it is read). Keyed by the header's identity, clang and every flag, so a change makes a new one.
 */
function pchFor(clang: string, o: BuildOptions, args: string[], out: string): PchPlan | undefined {
  let text: string;
  try {
    text = readFileSync(o.file, 'utf8');
  } catch {
    return undefined;
  }
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const first = /^\s*#\s*(\w+)\s*([<"][^>"]+[>"])?/.exec(code);
  if (!first || first[1] !== 'include' || !first[2] || !/^[<"]vmlinux\.h[>"]$/.test(first[2])) return undefined;
  const dirs = [dirname(resolve(o.file)), ...(o.includeDirs ?? []).map((d) => resolve(d))];
  const header = dirs.map((d) => join(d, 'vmlinux.h')).find((p) => existsSync(p));
  if (!header) return undefined;
  const st = statSync(header);
  const flags = args.slice(0, args.indexOf('-c'));
  const key = createHash('sha256')
    .update(JSON.stringify([clang, header, st.size, st.mtimeMs, flags]))
    .digest('hex')
    .slice(0, 16);
  return { path: join(dirname(out), '.pch', `vmlinux-${key}.pch`), header, args: [...flags, '-x', 'c-header', header] };
}

const pchInFlight = new Set<string>();

/** Makes the PCH in the background (temp file, then rename), once per key. */
function makePch(clang: string, plan: PchPlan): void {
  if (pchInFlight.has(plan.path)) return;
  pchInFlight.add(plan.path);
  mkdirSync(dirname(plan.path), { recursive: true });
  const tmp = `${plan.path}.${process.pid}.tmp`;
  const child = spawn(clang, [...plan.args, '-o', tmp], { stdio: 'ignore' });
  child.unref();
  child.on('error', () => pchInFlight.delete(plan.path));
  child.on('close', (code) => {
    pchInFlight.delete(plan.path);
    try {
      if (code === 0) renameSync(tmp, plan.path);
      else rmSync(tmp, { force: true });
    } catch {
      // another build made it first
    }
  });
}

/** Parses clang's stderr into problems, for the main file and headers alike (notes kept). */
export function parseBuildOutput(stderr: string): BuildProblem[] {
  return parseClangMessages(stderr);
}
