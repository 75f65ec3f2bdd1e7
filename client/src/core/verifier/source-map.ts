/**
 * From the basenames a verifier log names (`@ small.bpf.c:17`) to files in the workspace. The log
 * has only basenames, so several files may match: prefer the one next to the object's source, then
 * the one under a preferred folder, then the shortest path. Headers resolve like any other file.
 *
 * 5.x logs give the source text without a file or line: `findLineByText` locates it.
 */
import { basename, dirname, sep } from 'node:path';

export interface ResolveHints {
  /** the source file the object was built from (its folder is searched first) */
  mainSource?: string;
  /** folders to prefer, e.g. the workspace folder the log came from */
  preferDirs?: string[];
}

/** The candidate path for `name` (a basename from the log), or undefined when none matches. */
export function resolveSourceFile(
  name: string,
  candidates: readonly string[],
  hints: ResolveHints = {},
): string | undefined {
  const base = basename(name);
  const matches = candidates.filter((c) => basename(c) === base);
  if (matches.length <= 1) return matches[0];
  const score = (p: string): number => {
    let s = 0;
    if (hints.mainSource) {
      const d = dirname(hints.mainSource);
      if (dirname(p) === d) s += 1000;
      else if (p.startsWith(d + sep)) s += 500;
    }
    for (const d of hints.preferDirs ?? []) if (p.startsWith(d.endsWith(sep) ? d : d + sep)) s += 100;
    return s - p.length / 1000;
  };
  return [...matches].sort((a, b) => score(b) - score(a))[0];
}

/**
 * The 1-based line of `fileText` whose trimmed text equals (or, failing that, starts with) the
 * quoted source text; 0 when not found. Used for 5.x logs, which quote the text but not the line.
 */
export function findLineByText(fileText: string, quoted: string, nearLine = 0): number {
  const q = quoted.trim();
  if (!q) return 0;
  const lines = fileText.split('\n');
  let best = 0;
  let bestDist = Infinity;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (t === q || (q.length >= 8 && t.startsWith(q))) {
      const d = Math.abs(i + 1 - nearLine);
      if (d < bestDist) {
        best = i + 1;
        bestDist = d;
      }
    }
  }
  return best;
}

/** What a related location needs from the program's source when the log does not name its line. */
export interface RelatedSearch {
  /** the file (basename as the log names it) to search; unset: the program's main file */
  file?: string;
  /** the location is the first line matching this regular expression (source text) */
  pattern: string;
  /** search from this 1-based line (itself included) ... */
  from?: number;
  /** ... this many lines down (> 0) or up (< 0); unset: the whole file from the top */
  within?: number;
  /** no line matches: point at the end of the file (where a missing declaration goes) */
  endIfMissing?: boolean;
}

/**
 * The source location of a related location found by searching the program's source (`mainFile`:
 * the program's main file when the search names none; `read` returns a file's text by basename).
 * Undefined when the file cannot be read or nothing matches (the consumer keeps the log's location).
 */
export function resolveRelatedSearch(
  r: { find?: RelatedSearch },
  mainFile: string | undefined,
  read: (basename: string) => string | undefined,
): { file: string; line: number; text: string; compilerGenerated: boolean } | undefined {
  const f = r.find;
  const file = f?.file ?? mainFile;
  if (!f || !file) return undefined;
  const text = read(file);
  if (text === undefined) return undefined;
  const lines = text.split('\n');
  let re: RegExp;
  try {
    re = new RegExp(f.pattern);
  } catch {
    return undefined;
  }
  const at = (i: number) => ({ file, line: i + 1, text: lines[i]!.trim(), compilerGenerated: false });
  if (f.from !== undefined && f.within !== undefined) {
    const step = f.within < 0 ? -1 : 1;
    for (let k = 0, i = f.from - 1; k <= Math.abs(f.within) && i >= 0 && i < lines.length; k++, i += step)
      if (re.test(lines[i]!)) return at(i);
    return undefined;
  }
  const i = lines.findIndex((l) => re.test(l));
  if (i >= 0) return at(i);
  if (!f.endIfMissing) return undefined;
  let last = lines.length;
  while (last > 1 && lines[last - 1]!.trim() === '') last--;
  return at(last - 1);
}
