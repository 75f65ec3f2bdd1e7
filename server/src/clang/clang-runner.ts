/**
 * clang's own diagnostics for BPF C: `clang -fsyntax-only -target bpf` on the editor's text (stdin),
 * parsed into diagnostics. Finding clang is done once per path setting; a missing clang turns this
 * feature off with one message, and the rest of the server keeps working.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import type { Severity } from '../diagnostics/rule';

export interface ClangDiagnostic {
  line: number; // 0-based
  column: number; // 0-based, in bytes as clang counts them
  endLine?: number;
  endColumn?: number;
  severity: Severity;
  message: string;
  option?: string;
}

const CANDIDATES = ['clang', 'clang-19', 'clang-18', 'clang-17', 'clang-16', 'clang-15', 'clang-14'];

const found = new Map<string, string | null>();

/** The clang to use: the configured path, else the first candidate on PATH; null when none runs. */
export function findClang(configured: string): string | null {
  const key = configured || '<auto>';
  if (found.has(key)) return found.get(key)!;
  const list = configured ? [configured] : CANDIDATES;
  let result: string | null = null;
  for (const c of list) {
    const r = spawnSync(c, ['--version'], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0 && /clang version/.test(r.stdout)) {
      result = c;
      break;
    }
  }
  found.set(key, result);
  return result;
}

/** The `__TARGET_ARCH_*` define libbpf's bpf_tracing.h expects for this machine. */
export function targetArchDefine(arch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: 'x86',
    arm64: 'arm64',
    arm: 'arm',
    s390x: 's390',
    ppc64: 'powerpc',
    riscv64: 'riscv',
    loong64: 'loongarch',
    mips: 'mips',
  };
  return `__TARGET_ARCH_${map[arch] ?? 'x86'}`;
}

export interface ClangRunOptions {
  clang: string;
  file: string;
  text: string;
  includeDirs: string[];
  defines: string[];
  extra?: string[];
  timeoutMs?: number;
}

/** Arguments for a syntax-only check of `file` given on stdin. */
export function clangArgs(o: Omit<ClangRunOptions, 'clang' | 'text'>): string[] {
  return [
    '-fsyntax-only',
    '-target',
    'bpf',
    `-D${targetArchDefine()}`,
    '-g',
    '-O2',
    '-fno-color-diagnostics',
    '-fdiagnostics-print-source-range-info',
    '-fno-caret-diagnostics',
    '-ferror-limit=50',
    `-I${dirname(o.file)}`,
    ...o.includeDirs.map((d) => `-I${d}`),
    '-I/usr/include/x86_64-linux-gnu',
    ...o.defines.map((d) => `-D${d}`),
    ...(o.extra ?? []),
    '-x',
    'c',
    '-',
  ];
}

/** Runs clang on the text; resolves with diagnostics for the file itself (not its headers). */
export function runClang(o: ClangRunOptions): Promise<ClangDiagnostic[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(o.clang, clangArgs(o), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 15000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolvePromise(parseClangOutput(stderr, '<stdin>'));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.text);
  });
}

const LINE_RE = /^(.*?):(\d+):(\d+):((?:\{\d+:\d+-\d+:\d+\})*):? (error|warning|note|fatal error): (.*)$/;

/** One line of clang's diagnostics, as clang counts: 1-based lines and (byte) columns. */
export interface ClangMessage {
  /** The file as clang names it; '' for a message without a location (a bad flag, a missing input). */
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  severity: 'error' | 'warning' | 'note';
  message: string;
  /** The -W option behind a warning. */
  option?: string;
}

/** Every diagnostic line clang printed (`file:line:col:{ranges}: severity: message [-Woption]`). */
export function parseClangMessages(stderr: string): ClangMessage[] {
  const out: ClangMessage[] = [];
  for (const line of stderr.split('\n')) {
    const m = LINE_RE.exec(line);
    if (!m) {
      const bare = /^(?:clang(?:-\d+)?: )?(error|fatal error): (.*)$/.exec(line);
      if (bare) out.push({ file: '', line: 0, column: 0, severity: 'error', message: bare[2] });
      continue;
    }
    const d: ClangMessage = {
      file: m[1],
      line: Number(m[2]),
      column: Number(m[3]),
      severity: m[5] === 'warning' ? 'warning' : m[5] === 'note' ? 'note' : 'error',
      message: m[6],
    };
    const opt = /\s\[(-W[^\]]+)\]$/.exec(d.message);
    if (opt) {
      d.option = opt[1].split(',')[0];
      d.message = d.message.slice(0, opt.index);
    }
    const range = /\{(\d+):(\d+)-(\d+):(\d+)\}/.exec(m[4]);
    if (range && Number(range[1]) === d.line) {
      d.endLine = Number(range[3]);
      d.endColumn = Number(range[4]);
    }
    out.push(d);
  }
  return out;
}

/** Clang's diagnostics for `file` (as clang names it), 0-based; notes attach to nothing and are dropped. */
export function parseClangOutput(stderr: string, file: string): ClangDiagnostic[] {
  return parseClangMessages(stderr)
    .filter((m) => m.file === file && m.severity !== 'note')
    .map((m) => ({
      line: m.line - 1,
      column: m.column - 1,
      ...(m.endLine !== undefined ? { endLine: m.endLine - 1, endColumn: m.endColumn! - 1 } : {}),
      severity: m.severity === 'warning' ? 'warning' : 'error',
      message: m.message,
      ...(m.option ? { option: m.option } : {}),
    }));
}
