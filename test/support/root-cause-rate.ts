/**
 * The root-cause rate on the realistic mistake corpus (issue 13, point 2): for each case, is the mistaken
 * line (its `/* @mistake *\/` marker) the verifier error's line or one of its related locations? Reads
 * the kernel's level-1 logs captured from the cases (test/fixtures/verifier/mistakes/<id>.log, made by
 * make-logs.mjs there). Shared by the bench (verifier.bench.ts) and the floor test (verifier-root-cause.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { analyzeLog } from '../../client/src/core/verifier/analyze';
import { parseVerifierLog } from '../../client/src/core/verifier/log-parser';
import { resolveRelatedSearch } from '../../client/src/core/verifier/source-map';
import { MISTAKE_PROGRAMS_DIR, mistakeCases, type MistakeCase } from './mistakes-corpus';

export const MISTAKE_LOGS_DIR = join(__dirname, '..', 'fixtures', 'verifier', 'mistakes');
/**
 * Cases in the corpus's format written after the root-cause heuristics were (on copies of the corpus's
 * programs), to see how they do on mistakes they were not tuned on; their logs are in logs/ there.
 */
export const HELDOUT_DIR = join(__dirname, '..', 'fixtures', 'verifier', 'root-cause-heldout');

export interface RootCauseResult {
  id: string;
  class: string;
  /** the mistaken line is the error's line ('error'), a related location's ('related'), or neither (null) */
  hit: 'error' | 'related' | null;
  message: string;
  /** `file:line` of the error, then of each related location */
  shown: string[];
  /** `file:line` of the mistake */
  mistake: string;
}

/** Scores one case from its log. */
export function scoreCase(c: MistakeCase, logText: string): RootCauseResult {
  const report = analyzeLog(parseVerifierLog(logText));
  const e = report.error;
  const caseBase = basename(c.file);
  const fileOf = (base: string) => (base === caseBase ? c.file : join(MISTAKE_PROGRAMS_DIR, base));
  const read = (base: string) => {
    const p = fileOf(base);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  };
  const mistake = `${caseBase}:${c.markerLine + 1}`;
  const where = (file: string | undefined, line: number | undefined) =>
    file && line && line > 0 ? `${file}:${line}` : '?';
  const shown: string[] = [];
  if (e) {
    shown.push(where(e.source?.file, e.source?.line));
    for (const r of e.related) {
      const s = resolveRelatedSearch(r, caseBase, read) ?? r.source;
      shown.push(where(s?.file, s?.line));
    }
  }
  const hit = shown[0] === mistake ? 'error' : shown.slice(1).includes(mistake) ? 'related' : null;
  return { id: c.id, class: c.class, hit, message: e?.message ?? '(no error found)', shown, mistake };
}

/** The held-out cases, read like the corpus's (first line `// mistake: class: ...`, one `@mistake` marker). */
export function heldOutCases(): MistakeCase[] {
  const manifest = JSON.parse(readFileSync(join(HELDOUT_DIR, 'manifest.json'), 'utf8')) as {
    id: string;
    class: string;
    program: string;
    kernelMessage: string;
  }[];
  return manifest.map((m) => {
    const file = join(HELDOUT_DIR, 'cases', `${m.id}.bpf.c`);
    const lines = readFileSync(file, 'utf8').split('\n');
    const markerLine = lines.findIndex((l) => l.includes('/* @mistake */'));
    return {
      ...m,
      file,
      description: lines[0]!.replace(/^\/\/ mistake: [\w-]+: /, ''),
      markerLine,
      markerAlone: lines[markerLine]!.trim() === '/* @mistake */',
    };
  });
}

/** Scores the held-out cases from their logs. */
export function heldOutResults(): RootCauseResult[] {
  return heldOutCases().map((c) => scoreCase(c, readFileSync(join(HELDOUT_DIR, 'logs', `${c.id}.log`), 'utf8')));
}

/** Scores every case that has a captured log. */
export function rootCauseResults(): RootCauseResult[] {
  const out: RootCauseResult[] = [];
  for (const c of mistakeCases()) {
    const f = join(MISTAKE_LOGS_DIR, `${c.id}.log`);
    if (existsSync(f)) out.push(scoreCase(c, readFileSync(f, 'utf8')));
  }
  return out;
}
