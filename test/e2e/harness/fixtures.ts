/** Reading the fixture workspaces from the tests (line numbers of markers, so tests don't hard-code them). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from './paths';

/** The 1-based line number of the first line of `fixture/file` containing `text`; throws if there is none. */
export function fixtureLine(fixture: string, file: string, text: string): number {
  return lineIn(join(FIXTURES_DIR, fixture, file), text);
}

/** The 1-based line number of the first line of the file at `path` containing `text`; throws if there is none. */
export function lineIn(path: string, text: string): number {
  const i = readFileSync(path, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`${path} has no line containing '${text}'`);
  return i + 1;
}
