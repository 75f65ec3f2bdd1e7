/**
 * The realistic mistake corpus (test/fixtures/mistakes/): verifier-passing programs, and cases that
 * each inject one realistic mistake into a copy of one of them. manifest.json lists the cases with
 * the kernel's rejection message (a substring of the real verifier or loader error on Linux 6.18).
 * A case's first line is `// mistake: <class>: <description>`; the mistaken line (or, for a deleted
 * line, the line where the fix belongs) ends with `/* @mistake *\/`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const MISTAKES_DIR = resolve(__dirname, '..', 'fixtures', 'mistakes');
export const MISTAKE_PROGRAMS_DIR = join(MISTAKES_DIR, 'programs');
export const MISTAKE_CASES_DIR = join(MISTAKES_DIR, 'cases');
/**
 * The held-out corpus (same format): programs and mistakes written after the rules, without looking
 * at them, so its detection rate is not one the rules were tuned on.
 */
export const HELDOUT_MISTAKES_DIR = resolve(__dirname, '..', 'fixtures', 'mistakes-heldout');
/** A second held-out corpus (same format), written after the first one had been used to improve the rules. */
export const HELDOUT2_MISTAKES_DIR = resolve(__dirname, '..', 'fixtures', 'mistakes-heldout2');
/**
 * A third held-out corpus (same format), written blind after the first two had been used to improve
 * the rules; its detection rate is measured once by the lead, after the rules work ends.
 */
export const HELDOUT3_MISTAKES_DIR = resolve(__dirname, '..', 'fixtures', 'mistakes-heldout3');

export interface MistakeCase {
  id: string;
  class: string;
  /** The program (programs/<program>.bpf.c) the case is a copy of. */
  program: string;
  /** A substring of the kernel's rejection message. */
  kernelMessage: string;
  file: string;
  description: string;
  /** 0-based line of the `@mistake` marker. */
  markerLine: number;
  /** The marker stands alone on its line: the mistake is something left out of the file (e.g. the license). */
  markerAlone: boolean;
}

export interface MistakeProgram {
  name: string;
  file: string;
}

/** The passing programs of the corpus in dir (MISTAKES_DIR or HELDOUT_MISTAKES_DIR). */
export function mistakePrograms(dir = MISTAKES_DIR): MistakeProgram[] {
  const programsDir = join(dir, 'programs');
  return readdirSync(programsDir)
    .filter((f) => f.endsWith('.bpf.c'))
    .sort()
    .map((f) => ({ name: basename(f, '.bpf.c'), file: join(programsDir, f) }));
}

/** The cases of dir's manifest.json, each with its file and marker line; throws on a malformed case. */
export function mistakeCases(dir = MISTAKES_DIR): MistakeCase[] {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Omit<
    MistakeCase,
    'file' | 'description' | 'markerLine' | 'markerAlone'
  >[];
  return manifest.map((m) => {
    const file = join(dir, 'cases', `${m.id}.bpf.c`);
    const lines = readFileSync(file, 'utf8').split('\n');
    const head = /^\/\/ mistake: ([\w-]+): (.+)$/.exec(lines[0]);
    if (!head || head[1] !== m.class) throw new Error(`${file}: first line must be "// mistake: ${m.class}: ..."`);
    const marked = lines.flatMap((l, i) => (l.includes('/* @mistake */') ? [i] : []));
    if (marked.length !== 1) throw new Error(`${file}: expected one /* @mistake */ marker, found ${marked.length}`);
    return {
      ...m,
      file,
      description: head[2],
      markerLine: marked[0],
      markerAlone: lines[marked[0]].trim() === '/* @mistake */',
    };
  });
}

const execFileAsync = promisify(execFile);

function clangBpfFlags(): string[] {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x86';
  return ['-O2', '-g', '-target', 'bpf', `-D__TARGET_ARCH_${arch}`];
}

/**
 * Precompiles includeDir/vmlinux.h into includeDir/vmlinux.h.pch, which compileMistakeFile then
 * uses: parsing the 2.8 MB header is most of each corpus compile (0.8 s -> 0.2 s per file here).
 */
export async function precompileVmlinux(includeDir: string): Promise<void> {
  const header = join(includeDir, 'vmlinux.h');
  await execFileAsync('clang', [...clangBpfFlags(), '-x', 'c-header', header, '-o', `${header}.pch`]);
}

/**
 * Compiles a corpus file with clang -O2 -g -target bpf against vmlinux.h in includeDir (its
 * precompiled form when precompileVmlinux made one; the file's own #include <vmlinux.h> is then
 * skipped by the header's include guard) and the headers of the corpus's programs/ (dir:
 * MISTAKES_DIR or HELDOUT_MISTAKES_DIR).
 */
export async function compileMistakeFile(
  source: string,
  includeDir: string,
  out: string,
  dir = MISTAKES_DIR,
): Promise<string> {
  const pch = join(includeDir, 'vmlinux.h.pch');
  await execFileAsync('clang', [
    ...clangBpfFlags(),
    ...(existsSync(pch) ? ['-include-pch', pch] : []),
    `-I${includeDir}`,
    `-I${join(dir, 'programs')}`,
    '-c',
    source,
    '-o',
    out,
  ]);
  return out;
}
