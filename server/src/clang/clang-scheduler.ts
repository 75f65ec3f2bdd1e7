/**
 * Runs clang on documents after edits settle (one run per document at a time, the newest text wins)
 * and hands its diagnostics to the server to merge with the rules' own.
 */
import { Diagnostic, DiagnosticSeverity } from 'vscode-languageserver/node';
import type { ServerSettings } from '../config';
import { compileFlagsFor } from './compile-flags';
import { findClang, runClang } from './clang-runner';

export interface ClangSchedulerOptions {
  settings(): ServerSettings;
  publish(uri: string, diagnostics: Diagnostic[]): void;
  status(kind: 'clang-missing' | 'clang-found', message: string): void;
  log(message: string): void;
}

interface Pending {
  timer: NodeJS.Timeout | undefined;
  running: boolean;
  next: { file: string; text: string; version: number } | undefined;
}

export class ClangScheduler {
  private readonly pending = new Map<string, Pending>();
  private readonly results = new Map<string, Diagnostic[]>();
  private missingReported = false;

  constructor(private readonly o: ClangSchedulerOptions) {}

  /** Diagnostics of the last finished run for `uri`. */
  last(uri: string): Diagnostic[] {
    return this.results.get(uri) ?? [];
  }

  schedule(uri: string, file: string, text: string, version: number): void {
    const s = this.o.settings();
    if (!s.clangDiagnostics) {
      if (this.results.delete(uri)) this.o.publish(uri, []);
      return;
    }
    let p = this.pending.get(uri);
    if (!p) {
      p = { timer: undefined, running: false, next: undefined };
      this.pending.set(uri, p);
    }
    p.next = { file, text, version };
    if (p.timer) clearTimeout(p.timer);
    p.timer = setTimeout(() => void this.run(uri), s.clangDelayMs);
  }

  forget(uri: string): void {
    const p = this.pending.get(uri);
    if (p?.timer) clearTimeout(p.timer);
    this.pending.delete(uri);
    this.results.delete(uri);
  }

  dispose(): void {
    for (const uri of [...this.pending.keys()]) this.forget(uri);
  }

  private async run(uri: string): Promise<void> {
    const p = this.pending.get(uri);
    if (!p || p.running || !p.next) return;
    const job = p.next;
    p.next = undefined;
    p.timer = undefined;
    const s = this.o.settings();
    const clang = findClang(s.clangPath);
    if (!clang) {
      if (!this.missingReported) {
        this.missingReported = true;
        this.o.status(
          'clang-missing',
          s.clangPath
            ? `clang was not found at "${s.clangPath}" (setting bpfIde.clang.path): clang diagnostics are off; bpf-ide's own checks keep working.`
            : "clang was not found on PATH (tried clang, clang-19 ... clang-14): clang diagnostics are off; bpf-ide's own checks keep working. Install clang (apt-get install clang) or set bpfIde.clang.path.",
        );
      }
      return;
    }
    p.running = true;
    try {
      const fromDb = compileFlagsFor(job.file);
      const diags = await runClang({
        clang,
        file: job.file,
        text: job.text,
        includeDirs: [...s.includePaths, ...(fromDb?.includeDirs ?? [])],
        defines: [...s.defines, ...(fromDb?.defines ?? [])],
        extra: [...(fromDb?.extra ?? []), ...s.extraFlags],
      });
      const lines = job.text.split('\n');
      const lsp = diags.map((d) => {
        const lineText = lines[d.line] ?? '';
        const startChar = byteToUtf16(lineText, d.column);
        let endLine = d.endLine ?? d.line;
        let endChar =
          d.endColumn !== undefined ? byteToUtf16(lines[endLine] ?? '', d.endColumn + 1) : wordEnd(lineText, startChar);
        if (endLine < d.line || (endLine === d.line && endChar <= startChar)) {
          endLine = d.line;
          endChar = Math.max(startChar + 1, wordEnd(lineText, startChar));
        }
        return Diagnostic.create(
          { start: { line: d.line, character: startChar }, end: { line: endLine, character: endChar } },
          d.message,
          d.severity === 'warning' ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
          d.option,
          'clang',
        );
      });
      if (this.pending.has(uri)) {
        this.results.set(uri, lsp);
        this.o.publish(uri, lsp);
      }
    } catch (err) {
      this.o.log(`clang failed on ${job.file}: ${String(err)}`);
    } finally {
      p.running = false;
      if (p.next && !p.timer) void this.run(uri);
    }
  }
}

/** clang counts columns in bytes of UTF-8; LSP counts UTF-16 units. */
function byteToUtf16(line: string, byteCol: number): number {
  let bytes = 0;
  for (let i = 0; i < line.length; i++) {
    if (bytes >= byteCol) return i;
    const c = line.charCodeAt(i);
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 4 : 3;
    if (c >= 0xd800 && c <= 0xdbff) i++;
  }
  return line.length;
}

function wordEnd(line: string, from: number): number {
  let k = from;
  while (k < line.length && /[A-Za-z0-9_]/.test(line[k])) k++;
  return k > from ? k : Math.min(line.length, from + 1);
}
