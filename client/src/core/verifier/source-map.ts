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
