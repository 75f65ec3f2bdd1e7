/**
 * `bpf-ide log FILE [--json]`: reads a saved verifier log and prints the verdict, the error with its
 * file, line and explanation, the statistics and the number of instruction lines parsed.
 * Exit codes: 0 accepted, 3 rejected (as `bpf-ide run`), 2 usage error or unreadable / not a log.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve as resolvePath } from 'node:path';
import { analyzeLog } from './analyze';
import { parseVerifierLog } from './log-parser';
import { formatReport, reportToJson, type SourceReader } from './report-format';
import type { SourceLocation } from './analyze';
import { findLineByText, resolveSourceFile } from './source-map';

export const LOG_USAGE = `usage: bpf-ide log FILE [--json] [--source-dir DIR]...
Reads a BPF verifier log (any level, kernels 5.x to 6.x) and prints the verdict, the error with its
source file, line, explanation and fix, the verifier's statistics and the instruction count.
  --json            one JSON object on stdout (fields: verdict, instructions, stats, error, ...)
  --source-dir DIR  where to look for the sources the log names (default: the log's folder and .)
exit codes: 0 accepted, 3 rejected, 2 usage error or unreadable file`;

const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'out', '.vscode-test']);

/** C sources and headers under dir (bounded, so a log in / does not walk the disk). */
export function listSources(dir: string, max = 5000, depth = 6): string[] {
  const out: string[] = [];
  const walk = (d: string, level: number) => {
    if (out.length >= max || level > depth) return;
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      if (out.length >= max) return;
      if (n.startsWith('.') || SKIP_DIRS.has(n)) continue;
      const p = join(d, n);
      if (/\.(?:c|h)$/.test(n)) out.push(p);
      else {
        try {
          if (statSync(p).isDirectory()) walk(p, level + 1);
        } catch {
          /* unreadable entries are skipped */
        }
      }
    }
  };
  walk(dir, 0);
  return out;
}

export async function runLogCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(LOG_USAGE + '\n');
    return 0;
  }
  let json = false;
  const files: string[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--source-dir') {
      const d = argv[++i];
      if (!d) {
        process.stderr.write(`bpf-ide log: --source-dir needs a folder\n${LOG_USAGE}\n`);
        return 2;
      }
      dirs.push(d);
    } else if (a.startsWith('-') && a !== '-') {
      process.stderr.write(`bpf-ide log: unknown option ${a}\n${LOG_USAGE}\n`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    process.stderr.write(`bpf-ide log: give exactly one log file\n${LOG_USAGE}\n`);
    return 2;
  }
  const file = files[0]!;
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    process.stderr.write(`bpf-ide log: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return 2;
  }
  // invalid UTF-8 (a binary or cut file) decodes to U+FFFD: never a throw
  const log = parseVerifierLog(text);
  const report = analyzeLog(log);
  const searchDirs = dirs.length ? dirs : [...new Set([file === '-' ? '.' : dirname(file), '.'])];
  let candidates: string[] | undefined;
  const resolveName = (base: string): string | undefined => {
    candidates ??= searchDirs.flatMap((d) => listSources(resolvePath(d)));
    const hit = resolveSourceFile(base, candidates, { preferDirs: searchDirs.map((d) => resolvePath(d)) });
    if (!hit) return undefined;
    const rel = relative(process.cwd(), hit);
    return rel.startsWith('..') || isAbsolute(rel) ? hit : rel;
  };
  // 5.x logs quote the source text without file or line: find it in the sources around the log
  // (the log's own folder first: a unique match there wins over matches further away)
  const textCache = new Map<string, string>();
  const byText = (loc: SourceLocation | undefined) => {
    if (!loc || loc.file || loc.line > 0 || !loc.text) return;
    for (const d of searchDirs) {
      const hits: { file: string; line: number }[] = [];
      for (const c of listSources(resolvePath(d), 500)) {
        let body = textCache.get(c);
        if (body === undefined) {
          try {
            body = readFileSync(c, 'utf8');
          } catch {
            body = '';
          }
          textCache.set(c, body);
        }
        const line = findLineByText(body, loc.text);
        if (line > 0) hits.push({ file: c, line });
      }
      if (hits.length === 1) {
        loc.file = basename(hits[0]!.file);
        loc.line = hits[0]!.line;
        return;
      }
    }
  };
  byText(report.error?.source);
  for (const r of report.error?.related ?? []) byText(r.source);
  // related locations the log cannot name (the license line) are found in the sources it names
  const sources: SourceReader = {
    read: (base) => {
      const p = resolveName(base);
      if (!p) return undefined;
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
  };
  if (json) process.stdout.write(JSON.stringify(reportToJson(report, file, resolveName, sources), null, 2) + '\n');
  else {
    if (report.verdict === 'unknown') process.stderr.write(`bpf-ide log: ${file} does not look like a verifier log\n`);
    process.stdout.write(`${file}\n${formatReport(report, resolveName, sources)}\n`);
  }
  if (report.verdict === 'accepted') return 0;
  if (report.verdict === 'rejected') return 3;
  return 2;
}
