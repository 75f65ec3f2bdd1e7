/**
 * `bpf-ide check`: the language server's diagnostics, headless, for CI pipelines and pre-commit hooks.
 *   bpf-ide check [--json] [--no-clang] [-I DIR]... [-D NAME[=VALUE]]... FILE...
 * Exit 0 when no error was found, 1 when one was, 2 on bad usage or unreadable files, 3 when a rule failed
 * (threw) on some file, so that file's findings are incomplete.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileFlagsFor } from './clang/compile-flags';
import { findClang, runClang } from './clang/clang-runner';
import { RULE_FAILED, runRules } from './diagnostics/engine';
import type { Rule } from './diagnostics/rule';
import type { Severity } from './diagnostics/rule';
import { DocumentStore } from './document-store';
import { sharedHeaderDeclarations } from './header-declarations';
import { loadCLanguage } from './parser';

export interface CheckFinding {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  endLine: number;
  endColumn: number;
  severity: Severity;
  code: string;
  message: string;
  source: 'bpf-ide' | 'clang';
}

export interface CheckOptions {
  files: string[];
  json: boolean;
  includeDirs: string[];
  defines: string[];
  clang: boolean;
  disabledRules: string[];
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const CHECK_USAGE = `usage: bpf-ide check [--json] [--no-clang] [--disable RULE]... [-I DIR]... [-D NAME[=VALUE]]... FILE...
  Reports what the BPF verifier or loader will reject, before the kernel sees the code.
  --json        print one JSON array of {file, line, column, endLine, endColumn, severity, code, message, source}
  --no-clang    skip clang -fsyntax-only (on by default when clang is found)
  --disable R   turn off rule R (e.g. stack-size); may repeat
  -I DIR, -D N  include directories and defines for clang (compile_commands.json is read too)
Exit status: 0 no error, 1 errors found, 2 bad usage or unreadable file, 3 a rule failed (its findings are missing).`;

export function parseCheckArgs(argv: string[]): CheckOptions {
  const o: CheckOptions = { files: [], json: false, includeDirs: [], defines: [], clang: true, disabledRules: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (flag: string) => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (a === '--json') o.json = true;
    else if (a === '--no-clang') o.clang = false;
    else if (a === '--disable') o.disabledRules.push(value(a));
    else if (a === '-I') o.includeDirs.push(value(a));
    else if (a.startsWith('-I')) o.includeDirs.push(a.slice(2));
    else if (a === '-D') o.defines.push(value(a));
    else if (a.startsWith('-D')) o.defines.push(a.slice(2));
    else if (a === '--') {
      o.files.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (o.files.length === 0) throw new UsageError('no FILE given');
  return o;
}

/** Runs the check; returns findings per file, or throws UsageError / reports unreadable files. */
export async function check(
  o: CheckOptions,
  rules?: readonly Rule[],
): Promise<{ findings: CheckFinding[]; unreadable: { file: string; error: string }[] }> {
  const store = new DocumentStore(await loadCLanguage());
  const findings: CheckFinding[] = [];
  const unreadable: { file: string; error: string }[] = [];
  const clang = o.clang ? findClang(process.env.BPF_IDE_CLANG ?? '') : null;
  for (const file of o.files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      unreadable.push({
        file,
        error: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((err as Error).message),
      });
      continue;
    }
    const abs = resolve(file);
    const db = compileFlagsFor(abs);
    // The rules read functions and macros of the file's headers from these directories too.
    sharedHeaderDeclarations.setSearchDirs([...o.includeDirs, ...(db?.includeDirs ?? [])]);
    const doc = store.analyseOnce(pathToFileURL(abs).toString(), text);
    for (const d of runRules(doc, {
      disabledRules: o.disabledRules,
      log: (m) => process.stderr.write(m + '\n'),
      rules,
    })) {
      const s = doc.positionAt(d.start);
      const e = doc.positionAt(Math.max(d.start, d.end));
      findings.push({
        file,
        line: s.line + 1,
        column: s.character + 1,
        endLine: e.line + 1,
        endColumn: e.character + 1,
        severity: d.severity,
        code: d.code,
        message: d.message,
        source: 'bpf-ide',
      });
    }
    doc.dispose();
    if (clang) {
      const diags = await runClang({
        clang,
        file: abs,
        text,
        includeDirs: [...o.includeDirs, ...(db?.includeDirs ?? [])],
        defines: [...o.defines, ...(db?.defines ?? [])],
        extra: db?.extra,
      });
      for (const d of diags) {
        findings.push({
          file,
          line: d.line + 1,
          column: d.column + 1,
          endLine: (d.endLine ?? d.line) + 1,
          endColumn: (d.endColumn ?? d.column) + 2,
          severity: d.severity,
          code: d.option ?? 'clang',
          message: d.message,
          source: 'clang',
        });
      }
    }
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return { findings, unreadable };
}

/** The CLI subcommand: prints findings and returns the exit code. */
export async function runCheckCommand(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
  rules?: readonly Rule[],
): Promise<number> {
  let o: CheckOptions;
  try {
    o = parseCheckArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`bpf-ide check: ${e.message}\n${CHECK_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  const { findings, unreadable } = await check(o, rules);
  for (const u of unreadable) err.write(`bpf-ide check: cannot read ${u.file}: ${u.error}\n`);
  if (o.json) out.write(JSON.stringify(findings, null, 2) + '\n');
  else {
    for (const f of findings)
      out.write(
        `${relative(process.cwd(), resolve(f.file)) || f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message} [${f.code}]\n`,
      );
    const errors = findings.filter((f) => f.severity === 'error').length;
    const warnings = findings.filter((f) => f.severity === 'warning').length;
    err.write(`${o.files.length - unreadable.length} file(s) checked: ${errors} error(s), ${warnings} warning(s)\n`);
  }
  const failed = findings.filter((f) => f.code === RULE_FAILED);
  for (const f of failed) err.write(`bpf-ide check: ${f.file}: ${f.message}\n`);
  if (unreadable.length) return 2;
  if (failed.length) return 3;
  return findings.some((f) => f.severity === 'error') ? 1 : 0;
}
