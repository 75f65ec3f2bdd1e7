/**
 * Include paths and defines for a BPF C file: the user's settings plus, when present, the entry for
 * the file in the nearest compile_commands.json (or the flags of a sibling file in the same folder).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface CompileFlags {
  includeDirs: string[];
  defines: string[];
  /** Other flags worth passing on (-include, -isystem, -std, -W...). */
  extra: string[];
  source: string | undefined;
}

interface CompileCommand {
  directory: string;
  file: string;
  command?: string;
  arguments?: string[];
}

const cache = new Map<string, { mtimeMs: number; entries: CompileCommand[] }>();

/** The nearest compile_commands.json at or above `dir` (or in a build/ folder there), up to 12 levels. */
export function findCompileCommands(dir: string): string | undefined {
  let cur = resolve(dir);
  for (let i = 0; i < 12; i++) {
    for (const candidate of [join(cur, 'compile_commands.json'), join(cur, 'build', 'compile_commands.json')]) {
      if (existsSync(candidate)) return candidate;
    }
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return undefined;
}

function loadCommands(path: string): CompileCommand[] {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    const hit = cache.get(path);
    if (hit && hit.mtimeMs === mtimeMs) return hit.entries;
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    const entries = Array.isArray(parsed)
      ? parsed.filter(
          (e): e is CompileCommand =>
            !!e && typeof e === 'object' && typeof e.file === 'string' && typeof e.directory === 'string',
        )
      : [];
    cache.set(path, { mtimeMs, entries });
    return entries;
  } catch {
    return [];
  }
}

/** Splits a shell command line (quotes and backslashes) the way compile_commands.json expects. */
export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < cmd.length) cur += cmd[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = '';
      has = false;
    } else cur += c;
  }
  if (has || cur) out.push(cur);
  return out;
}

/** Reads -I, -D, -isystem, -iquote, -idirafter, -include, -m*, -std, -W, -f, -U from a compiler argument list. */
export function flagsFromArgs(args: string[], directory: string): CompileFlags {
  const flags: CompileFlags = { includeDirs: [], defines: [], extra: [], source: undefined };
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(directory, p));
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = () => args[++i] ?? '';
    if (a === '-I') flags.includeDirs.push(abs(next()));
    else if (a.startsWith('-I')) flags.includeDirs.push(abs(a.slice(2)));
    else if (a === '-D') flags.defines.push(next());
    else if (a.startsWith('-D')) flags.defines.push(a.slice(2));
    else if (a === '-isystem' || a === '-iquote' || a === '-idirafter' || a === '-include')
      flags.extra.push(a, abs(next()));
    else if (/^-(isystem|iquote|idirafter|include)([^-].*)$/.test(a)) {
      const m = /^-(isystem|iquote|idirafter|include)([^-].*)$/.exec(a)!;
      flags.extra.push(`-${m[1]}`, abs(m[2]));
    } else if (
      a.startsWith('-std=') ||
      a.startsWith('-W') ||
      a.startsWith('-f') ||
      a.startsWith('-U') ||
      // -mcpu=v3, -mlittle-endian, -mattr=...: what the BPF backend may emit (atomics, jmp32...).
      (a.startsWith('-m') && a.length > 2)
    )
      flags.extra.push(a);
  }
  return flags;
}

/** Flags for `file` from the nearest compile_commands.json, if any. */
export function compileFlagsFor(file: string): CompileFlags | undefined {
  const db = findCompileCommands(dirname(file));
  if (!db) return undefined;
  const entries = loadCommands(db);
  const target = resolve(file);
  const entryFile = (e: CompileCommand) => (isAbsolute(e.file) ? e.file : resolve(e.directory, e.file));
  const entry =
    entries.find((e) => entryFile(e) === target) ?? entries.find((e) => dirname(entryFile(e)) === dirname(target));
  if (!entry) return undefined;
  const args = entry.arguments ?? splitCommand(entry.command ?? '');
  const flags = flagsFromArgs(args.slice(1), entry.directory);
  flags.source = db;
  return flags;
}
