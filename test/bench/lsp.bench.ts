/**
 * Language server speed next to clangd on the same real-sized BPF file (including vmlinux.h), the
 * same edits and the same completions, measured in one run.
 *   node --import tsx test/bench/lsp.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LspSession } from '../support/lsp-session';
import { bigBpfFile } from './big-bpf-file';

const EDITS = Number(process.env.BENCH_EDITS ?? 40);
const COMPLETIONS = Number(process.env.BENCH_COMPLETIONS ?? 40);

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function line(name: string, ours: number, base: number | undefined, unit: string, digits = 1): void {
  const b = base === undefined ? 'n/a' : `${base.toFixed(digits)}${unit}`;
  const ratio = base === undefined ? 'n/a' : (base / ours).toFixed(2);
  console.log(`BENCH ${name} ours=${ours.toFixed(digits)}${unit} baseline=${b} ratio=${ratio}`);
}
function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
function findClangd(): string | undefined {
  for (const c of ['clangd-19', 'clangd-16', 'clangd'])
    if (spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0) return c;
  return undefined;
}

interface Result {
  editP50: number;
  completionP50: number;
  memberP50: number;
  rss: number;
  items: number;
}

async function measure(session: LspSession, uri: string, text: string, label: string): Promise<Result> {
  await session.initialize();
  const ready = session.waitDiagnostics(uri, () => true, 60000);
  session.open(uri, text);
  await ready;
  const lines = text.split('\n');
  const editLine = lines.findIndex((l) => l.includes('__sync_fetch_and_add(val, 1);'));
  const editTimes: number[] = [];
  for (let i = 0; i < EDITS; i++) {
    // Type a character, then delete it: two edits, each timed to its diagnostics.
    for (const [range, newText] of [
      [{ start: { line: editLine, character: 1 }, end: { line: editLine, character: 1 } }, ' '],
      [{ start: { line: editLine, character: 1 }, end: { line: editLine, character: 2 } }, ''],
    ] as const) {
      const t0 = performance.now();
      const got = session.waitDiagnostics(uri, () => true, 30000);
      session.change(uri, range, newText);
      const { at } = await got;
      editTimes.push(at - t0);
    }
  }
  // Completion of an identifier prefix inside a program: `bpf_` typed on a new line.
  const compLine = editLine + 1;
  session.change(uri, { start: { line: compLine, character: 0 }, end: { line: compLine, character: 0 } }, '\tbpf_ma\n');
  await session.waitDiagnostics(uri, () => true, 30000).catch(() => undefined);
  const compTimes: number[] = [];
  let items = 0;
  for (let i = 0; i < COMPLETIONS; i++) {
    const t0 = performance.now();
    const r = await session.request<{ items: unknown[] } | unknown[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: compLine, character: 7 },
    });
    compTimes.push(performance.now() - t0);
    items = Array.isArray(r) ? r.length : r.items.length;
  }
  // Member completion on a vmlinux.h type: `task->` (indexes vmlinux.h on first use).
  const taskLine = lines.findIndex((l) => l.includes('e->ppid = BPF_CORE_READ(task, real_parent, tgid);'));
  session.change(uri, { start: { line: taskLine, character: 0 }, end: { line: taskLine, character: 0 } }, '\ttask->\n');
  await session.waitDiagnostics(uri, () => true, 30000).catch(() => undefined);
  const memberTimes: number[] = [];
  for (let i = 0; i < COMPLETIONS; i++) {
    const t0 = performance.now();
    const r = await session.request<{ items: { label: string }[] } | { label: string }[]>('textDocument/completion', {
      textDocument: { uri },
      position: { line: taskLine, character: 7 },
    });
    memberTimes.push(performance.now() - t0);
    const list = Array.isArray(r) ? r : r.items;
    if (i === 0 && !list.some((x) => x.label.replace(/^\W+/, '').startsWith('real_parent')))
      console.log(`# ${label}: member completion on task-> lacks real_parent (${list.length} items)`);
  }
  const rss = rssMb(session.child.pid);
  return { editP50: p50(editTimes), completionP50: p50(compTimes), memberP50: p50(memberTimes), rss, items };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-bench-'));
  try {
    const btf = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 64 << 20,
    });
    if (btf.status !== 0) throw new Error('bpftool btf dump failed: is bpftool installed and BTF present?');
    writeFileSync(join(dir, 'vmlinux.h'), btf.stdout);
    const text = bigBpfFile(60);
    const file = join(dir, 'big.bpf.c');
    writeFileSync(file, text);
    writeFileSync(
      join(dir, 'compile_flags.txt'),
      ['-target', 'bpf', '-D__TARGET_ARCH_x86', '-I/usr/include/x86_64-linux-gnu', `-I${dir}`, '-O2', '-g'].join('\n'),
    );
    const uri = pathToFileURL(file).toString();
    console.log(
      `# file: ${text.split('\n').length} lines including vmlinux.h (${btf.stdout.length} bytes); ${EDITS * 2} edits, ${COMPLETIONS} completions each`,
    );

    // Ours: rule diagnostics are what arrives first after an edit; clang's own pass follows after edits
    // settle, so it is off here to time the same thing on every edit.
    const ours = new LspSession({
      rootUri: pathToFileURL(dir).toString(),
      initializationOptions: { settings: { diagnostics: { clang: false } } },
    });
    const o = await measure(ours, uri, text, 'bpf-ide');
    await ours.shutdown();

    const clangd = findClangd();
    let c: Result | undefined;
    if (clangd) {
      const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache'), HOME: dir };
      const cs = new LspSession({
        command: clangd,
        args: ['--background-index=false', '--log=error'],
        cwd: dir,
        env,
        rootUri: pathToFileURL(dir).toString(),
      });
      c = await measure(cs, uri, text, clangd);
      await cs.shutdown();
      console.log(`# baseline: ${clangd} with compile_flags.txt (-target bpf)`);
    } else console.log('# clangd not found: baselines n/a (apt-get install clangd-19)');

    line('lsp_edit_to_diagnostics_p50', o.editP50, c?.editP50, 'ms', 2);
    line('lsp_completion_p50', o.completionP50, c?.completionP50, 'ms', 2);
    line('lsp_member_completion_vmlinux_p50', o.memberP50, c?.memberP50, 'ms', 2);
    line('lsp_server_rss', o.rss, c?.rss, 'MB', 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
