/**
 * The language server on real public BPF programs (not part of this repository: their code cannot be
 * committed). With BPF_IDE_REAL_PROGRAMS=<dir> (e.g. a clone's iovisor/bcc/libbpf-tools):
 *  1. scripts/measure-real-programs.mjs on it: which programs compile and pass this kernel's verifier, and the
 *     errors (false errors), warnings and information items `bpf-ide check` reports on the passing ones;
 *  2. edit -> diagnostics latency on the largest *.bpf.c there (with a vmlinux.h of this kernel on the include
 *     path), the same edits as test/bench/lsp.bench.ts makes on the committed corpus, so the two compare.
 * Without the variable it prints a `#` line saying so.
 *   BPF_IDE_REAL_PROGRAMS=~/bcc/libbpf-tools node --import tsx test/bench/real-programs.bench.ts
 * BENCH_EDITS (edit pairs, default 40).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SERVER_NODE_FLAGS } from '../../server/src/protocol';
import { CLI, LspSession } from '../support/lsp-session';

const EDITS = Number(process.env.BENCH_EDITS ?? 40);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))];
}

/** The biggest program of the directory (by lines), where per-edit analysis costs most. */
function largestProgram(dir: string): string | undefined {
  const found: { file: string; lines: number }[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && !e.name.startsWith('.')) walk(p);
      else if (e.name.endsWith('.bpf.c')) found.push({ file: p, lines: readFileSync(p, 'utf8').split('\n').length });
    }
  };
  walk(dir);
  return found.sort((a, b) => b.lines - a.lines)[0]?.file;
}

/** Statement lines inside function bodies, spread over the file (as lsp.bench.ts picks them). */
function editLines(lines: string[], count: number): number[] {
  const candidates = lines
    .map((l, i) => ({ l, i }))
    .filter(({ l }) => /^\t\S.*(bpf_ktime_get_ns\(\)|BPF_CORE_READ\(|__sync_fetch_and_add\(|bpf_map_\w+\()/.test(l))
    .map(({ i }) => i);
  const out: number[] = [];
  for (let k = 0; k < count && candidates.length; k++)
    out.push(candidates[Math.floor((k * candidates.length) / count)]);
  return [...new Set(out)];
}

async function editLatency(dir: string): Promise<void> {
  const file = largestProgram(dir);
  if (!file) return;
  const work = mkdtempSync(join(tmpdir(), 'bpf-ide-real-bench-'));
  const session = new LspSession({
    args: [...SERVER_NODE_FLAGS, CLI, 'lsp', '--stdio'],
    rootUri: pathToFileURL(dir).toString(),
    initializationOptions: { settings: { diagnostics: { clang: false }, includePaths: [dir, work] } },
    settings: { diagnostics: { clang: false }, includePaths: [dir, work] },
  });
  try {
    const vm = spawnSync(process.execPath, [CLI, 'vmlinux', '-o', join(work, 'vmlinux.h')], { encoding: 'utf8' });
    if (vm.status !== 0) throw new Error(`bpf-ide vmlinux failed: ${vm.stderr}`);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const uri = pathToFileURL(file).toString();
    await session.initialize();
    const t0 = performance.now();
    const ready = session.waitDiagnostics(uri, () => true, 60000);
    session.open(uri, text);
    const first = (await ready).at - t0;
    const targets = editLines(lines, 10);
    const edits: number[] = [];
    for (let i = 0; i < EDITS && targets.length; i++) {
      const l = targets[i % targets.length];
      // Type a character, then delete it: two edits, each timed to its diagnostics.
      for (const [range, newText] of [
        [{ start: { line: l, character: 1 }, end: { line: l, character: 1 } }, 'x'],
        [{ start: { line: l, character: 1 }, end: { line: l, character: 2 } }, ''],
      ] as const) {
        const s = performance.now();
        const got = session.waitDiagnostics(uri, () => true, 30000);
        session.change(uri, range, newText);
        edits.push((await got).at - s);
      }
    }
    console.log(
      `# largest real program: ${basename(file)} (${lines.length} lines, includes vmlinux.h of this kernel); ` +
        `${edits.length} edits inside function bodies; first analysis ${first.toFixed(0)} ms`,
    );
    console.log(
      `BENCH lsp_edit_real_program_p50 ours=${pct(edits, 0.5).toFixed(1)}ms baseline=n/a ratio=n/a (${basename(file)})`,
    );
    console.log(
      `BENCH lsp_edit_real_program_p90 ours=${pct(edits, 0.9).toFixed(1)}ms baseline=n/a ratio=n/a (${basename(file)})`,
    );
  } finally {
    await session.shutdown().catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  }
}

void (async () => {
  const dir = process.env.BPF_IDE_REAL_PROGRAMS;
  if (!dir) {
    console.log(
      '# lsp_false_errors_real_programs skipped: set BPF_IDE_REAL_PROGRAMS to a directory of real *.bpf.c programs ' +
        '(e.g. git clone https://github.com/iovisor/bcc; BPF_IDE_REAL_PROGRAMS=bcc/libbpf-tools)',
    );
    return;
  }
  const script = join(__dirname, '..', '..', 'scripts', 'measure-real-programs.mjs');
  const r = spawnSync(process.execPath, [script, dir], { stdio: 'inherit' });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
  await editLatency(resolve(dir));
})();
