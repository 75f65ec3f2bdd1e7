/**
 * Verifier logs kept for the stepper across a window reload: a log that came from a load (text, no file) is
 * written here under its content hash; the panel's saved state names it, and the restored panel reads it back.
 * Only the newest few are kept. Names from a saved state are checked against the store's own pattern, so a
 * state can never name a file outside the folder.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const NAME = /^[0-9a-f]{16}\.log$/;

export class LogStore {
  constructor(
    readonly dir: string,
    private readonly keep = 8,
  ) {}

  /** Saves `text` (once per content) and returns its name; drops the oldest beyond `keep`. */
  save(text: string): string {
    const name = `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.log`;
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, name);
    try {
      const now = new Date();
      utimesSync(file, now, now); // already kept: now the newest
    } catch {
      writeFileSync(file, text);
    }
    this.prune();
    return name;
  }

  /** The text saved under `name`, or undefined when the name is not one of the store's or the log is gone. */
  read(name: unknown): string | undefined {
    if (typeof name !== 'string' || !NAME.test(name)) return undefined;
    try {
      return readFileSync(join(this.dir, name), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** The names kept, newest first. */
  names(): string[] {
    let entries: string[];
    try {
      entries = readdirSync(this.dir).filter((n) => NAME.test(n));
    } catch {
      return [];
    }
    return entries
      .map((n) => ({ n, t: statSync(join(this.dir, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t || a.n.localeCompare(b.n))
      .map((e) => e.n);
  }

  private prune(): void {
    for (const n of this.names().slice(this.keep)) unlinkSync(join(this.dir, n));
  }
}
