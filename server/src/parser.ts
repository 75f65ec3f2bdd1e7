/**
 * The one place that sets up web-tree-sitter with the C grammar.
 *
 * Trees are parsed from masked text (see bpf-masking.ts) and re-parsed incrementally: the edit given
 * to tree-sitter is computed from the old and new masked texts, so it is right even when masking
 * changed characters outside the user's edit (typing the `)` that completes a `SEC(...)`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Edit, Language, Parser, type Tree } from 'web-tree-sitter';

let ready: Promise<Language> | undefined;

/** Finds a wasm file next to the bundle (dist/) or, when running from source, in node_modules. */
function locate(file: string, pkg: string): string {
  const bundled = join(__dirname, file);
  if (existsSync(bundled)) return bundled;
  return require.resolve(`${pkg}/${file}`);
}

/** Loads the tree-sitter runtime and the C grammar once per process. */
export function loadCLanguage(): Promise<Language> {
  ready ??= (async () => {
    await Parser.init({ locateFile: () => locate('web-tree-sitter.wasm', 'web-tree-sitter') });
    return Language.load(locate('tree-sitter-c.wasm', 'tree-sitter-c'));
  })();
  return ready;
}

/** Parsing a file this big would take long enough to block other requests; it is refused. */
export const MAX_PARSE_CHARS = 8 * 1024 * 1024;
/** A parse that runs longer than this (pathological input) is cancelled. */
export const PARSE_TIMEOUT_MS = 2000;

/** A C parser for one document (tree-sitter parsers hold incremental state, so one per user). */
export class CParser {
  private readonly parser: Parser;

  constructor(language: Language) {
    this.parser = new Parser();
    this.parser.setLanguage(language);
  }

  /**
   * Parses `text`, reusing `old` when given (`oldText` is the text `old` was parsed from).
   * Returns null when the text is too large or parsing takes too long.
   */
  parse(text: string, old?: { tree: Tree; text: string }): Tree | null {
    if (text.length > MAX_PARSE_CHARS) return null;
    let oldTree: Tree | null = null;
    if (old) {
      const edit = diffEdit(old.text, text);
      if (!edit) return old.tree.copy();
      oldTree = old.tree.copy();
      oldTree.edit(edit);
    }
    const deadline = Date.now() + PARSE_TIMEOUT_MS;
    let tree: Tree | null;
    try {
      tree = this.parser.parse(text, oldTree, {
        progressCallback: (() => Date.now() > deadline) as unknown as () => void,
      });
    } finally {
      oldTree?.delete();
    }
    if (!tree) this.parser.reset();
    return tree;
  }

  delete(): void {
    this.parser.delete();
  }
}

/** The smallest single edit that turns `a` into `b`, or undefined when they are equal. */
export function diffEdit(a: string, b: string): Edit | undefined {
  if (a === b) return undefined;
  const start = commonPrefix(a, b);
  const tail = commonSuffix(a, b, start);
  const endA = a.length - tail;
  const endB = b.length - tail;
  const startPosition = pointAt(a, start);
  return new Edit({
    startIndex: start,
    oldEndIndex: endA,
    newEndIndex: endB,
    startPosition,
    oldEndPosition: pointAt(a, endA, start, startPosition),
    newEndPosition: pointAt(b, endB, start, startPosition),
  });
}

/**
 * Length of the common prefix of `a` and `b`, by halving: the engine compares each half natively, so a
 * one-character edit in a 100 kB text costs a few comparisons, not a JavaScript loop over every character.
 */
export function commonPrefix(a: string, b: string): number {
  let lo = 0;
  let hi = Math.min(a.length, b.length);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (a.startsWith(b.substring(lo, mid), lo)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Length of the common suffix of `a` and `b` that leaves their first `prefix` characters alone. */
export function commonSuffix(a: string, b: string, prefix: number): number {
  let lo = 0;
  let hi = Math.min(a.length, b.length) - prefix;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (a.endsWith(b.substring(b.length - mid, b.length - lo), a.length - lo)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Row and column (UTF-16 units, as web-tree-sitter counts them) of `index` in `text`. */
function pointAt(
  text: string,
  index: number,
  from = 0,
  fromPoint = { row: 0, column: 0 },
): { row: number; column: number } {
  let row = fromPoint.row;
  let lineStart = from - fromPoint.column;
  for (let k = text.indexOf('\n', from); k >= 0 && k < index; k = text.indexOf('\n', k + 1)) {
    row++;
    lineStart = k + 1;
  }
  return { row, column: index - lineStart };
}
