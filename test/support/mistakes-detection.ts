/**
 * What the language server's rules flag on the realistic mistake corpus, before any load: the
 * measurement behind the `lsp_mistakes_flagged` and `lsp_false_errors` bench lines and the floors
 * test. A case counts as flagged when an error or warning starts or ends on its `@mistake` line, or
 * points at it through its related information (e.g. "the function exits here holding the
 * reference"); a case whose marker stands alone (something left out of the file, such as the
 * license) counts when any error or warning is reported. Looser, also reported: an error or warning
 * the case has and its program has not, in the function of the mistake.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sharedHeaderDeclarations } from '../../server/src/header-declarations';
import { BpfDocument } from '../../server/src/bpf-document';
import { runRules, type EngineDiagnostic } from '../../server/src/diagnostics/engine';
import type { CParser } from '../../server/src/parser';
import { MISTAKES_DIR, mistakeCases, mistakePrograms, type MistakeCase } from './mistakes-corpus';

export interface CaseResult {
  case: MistakeCase;
  /** An error or warning on the mistaken line, or naming it. */
  flagged: boolean;
  /** A new error or warning in the mistaken function (looser). */
  inFunction: boolean;
  diagnostics: string[];
}

export interface FalseError {
  file: string;
  line: number;
  code: string;
  message: string;
}

const REALISTIC_DIR = resolve(__dirname, '..', 'fixtures', 'realistic');

function analyse(parser: CParser, file: string): { doc: BpfDocument; diags: EngineDiagnostic[] } {
  const doc = new BpfDocument(`file://${file}`, 0, readFileSync(file, 'utf8'), parser);
  const diags = runRules(doc).filter((d) => d.severity === 'error' || d.severity === 'warning');
  return { doc, diags };
}

/**
 * Puts a vmlinux.h of this kernel (bpftool btf dump) on the rules' include path, as a user's project has
 * one; returns a cleanup, or undefined when there is no bpftool or no kernel BTF.
 */
export function withVmlinuxHeader(): (() => void) | undefined {
  if (!existsSync('/sys/kernel/btf/vmlinux')) return undefined;
  const r = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-mistakes-'));
  writeFileSync(join(dir, 'vmlinux.h'), r.stdout);
  sharedHeaderDeclarations.setSearchDirs([dir]);
  return () => {
    sharedHeaderDeclarations.setSearchDirs([]);
    rmSync(dir, { recursive: true, force: true });
  };
}

const key = (d: EngineDiagnostic) => `${d.code}\u0000${d.message.replace(/\d+/g, '#')}`;

/** Runs fn with the corpus's programs/ on the rules' header search path, as the files are compiled (-I programs/). */
function withProgramsDir<T>(dir: string, fn: () => T): T {
  const dirs = sharedHeaderDeclarations.searchDirectories();
  sharedHeaderDeclarations.setSearchDirs([...dirs, join(dir, 'programs')]);
  try {
    return fn();
  } finally {
    sharedHeaderDeclarations.setSearchDirs(dirs);
  }
}

/** Runs the rules over every case of the corpus in dir (MISTAKES_DIR or HELDOUT_MISTAKES_DIR). */
export function detectMistakes(parser: CParser, dir = MISTAKES_DIR): CaseResult[] {
  // The cases include the programs' headers (maps.bpf.h, ...) through -I programs/, as they are compiled.
  return withProgramsDir(dir, () => detect(parser, dir));
}

function detect(parser: CParser, dir: string): CaseResult[] {
  const programDiags = new Map<string, Set<string>>();
  for (const p of mistakePrograms(dir)) {
    const { doc, diags } = analyse(parser, p.file);
    programDiags.set(p.name, new Set(diags.map(key)));
    doc.dispose();
  }
  return mistakeCases(dir).map((c) => {
    const { doc, diags } = analyse(parser, c.file);
    const line = (o: number) => doc.positionAt(o).line;
    const covers = (s: number, e: number) => line(s) <= c.markerLine && line(Math.max(s, e)) >= c.markerLine;
    const flagged = diags.some(
      (d) => c.markerAlone || covers(d.start, d.end) || (d.related ?? []).some((r) => covers(r.start, r.end)),
    );
    const marker = doc.offsetAt({ line: c.markerLine, character: 0 });
    const fn = doc.root
      ?.descendantsOfType('function_definition')
      .find((f) => f && f.startIndex <= marker && marker <= f.endIndex);
    const known = programDiags.get(c.program) ?? new Set<string>();
    const inFunction =
      flagged || diags.some((d) => !known.has(key(d)) && (!fn || (fn.startIndex <= d.start && d.start <= fn.endIndex)));
    const result = {
      case: c,
      flagged,
      inFunction,
      diagnostics: diags.map((d) => `${line(d.start) + 1}: ${d.severity} [${d.code}] ${d.message}`),
    };
    doc.dispose();
    return result;
  });
}

/**
 * Errors on programs that pass the verifier: the programs of the corpus in dir, plus
 * test/fixtures/realistic for the main corpus (MISTAKES_DIR).
 */
export function falseErrors(parser: CParser, dir = MISTAKES_DIR): { files: number; errors: FalseError[] } {
  const files = [
    ...mistakePrograms(dir).map((p) => p.file),
    ...(dir === MISTAKES_DIR
      ? readdirSync(REALISTIC_DIR)
          .filter((f) => f.endsWith('.bpf.c'))
          .map((f) => join(REALISTIC_DIR, f))
      : []),
  ];
  return withProgramsDir(dir, () => ({ files: files.length, errors: errorsIn(parser, files) }));
}

function errorsIn(parser: CParser, files: string[]): FalseError[] {
  const errors: FalseError[] = [];
  for (const file of files) {
    const { doc, diags } = analyse(parser, file);
    for (const d of diags)
      if (d.severity === 'error')
        errors.push({ file, line: doc.positionAt(d.start).line + 1, code: d.code, message: d.message });
    doc.dispose();
  }
  return errors;
}
