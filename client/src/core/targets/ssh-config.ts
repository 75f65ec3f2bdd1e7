/**
 * ~/.ssh/config, read the way OpenSSH reads it for the options bpf-ide uses: Host blocks with
 * patterns (`*`, `?`, `!negation`, several per line), first value wins, IdentityFile (and
 * UserKnownHostsFile) accumulate, `~` and `%d %h %p %r %u %%` expanded, Include (globs,
 * relative to ~/.ssh), Match blocks skipped (only `Match all` applies).
 *
 * No `vscode` import; no network.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';

/** What ~/.ssh/config says about one host (the alias the user typed). */
export interface SshHostConfig {
  /** What the user typed: an alias or a host name. */
  alias: string;
  /** Where to connect (HostName, with %h expanded; the alias itself when unset). */
  hostName: string;
  user?: string;
  port?: number;
  /** Identity files in order, `~` and tokens expanded. */
  identityFiles: string[];
  /** True when IdentityFile entries were given (then OpenSSH's default keys are not tried). */
  identityFilesFromConfig: boolean;
  identitiesOnly?: boolean;
  /** ProxyJump hops, outermost first (`none` resolves to no hops). */
  proxyJump: JumpHost[];
  userKnownHostsFiles: string[];
  connectTimeoutS?: number;
  serverAliveIntervalS?: number;
  serverAliveCountMax?: number;
  /** IdentityAgent (a socket path, or `none`, or SSH_AUTH_SOCK). */
  identityAgent?: string;
  /** HashKnownHosts: write new known_hosts entries hashed. */
  hashKnownHosts?: boolean;
  /** StrictHostKeyChecking as written (yes, no, ask, accept-new, off). */
  strictHostKeyChecking?: string;
}

/** One ProxyJump hop as written: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface JumpHost {
  user?: string;
  host: string;
  port?: number;
}

interface Block {
  /** null: applies to every host (options before the first Host line, or `Match all`). */
  patterns: string[] | null;
  /** true for a Match block that we do not evaluate (skipped). */
  skip: boolean;
  options: Array<[string, string[]]>;
}

/** Options whose values accumulate instead of first-wins. */
const MULTI = new Set(['identityfile', 'userknownhostsfile', 'certificatefile']);

/** Splits a config line into words, honouring double quotes. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let have = false;
  for (const ch of line) {
    if (ch === '"') {
      inQuote = !inQuote;
      have = true;
    } else if (!inQuote && /\s/.test(ch)) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else {
      cur += ch;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

/** OpenSSH's pattern match: `*` any run, `?` one character, case-insensitive. */
export function matchPattern(pattern: string, text: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
        .join('') +
      '$',
    'i',
  );
  return re.test(text);
}

/** A Host line's pattern list against a host: any positive match and no negated match. */
export function matchHostPatterns(patterns: string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchPattern(p.slice(1), host)) return false;
    } else if (matchPattern(p, host)) {
      matched = true;
    }
  }
  return matched;
}

/** Parses ProxyJump's value: comma-separated hops, or `none`. */
export function parseProxyJump(value: string): JumpHost[] {
  if (!value || value.toLowerCase() === 'none') return [];
  return value.split(',').map((hop) => parseHostSpec(hop.trim()));
}

/** `[user@]host[:port]`, `ssh://[user@]host[:port]`, `[v6addr]:port`. */
export function parseHostSpec(spec: string): JumpHost {
  let s = spec.startsWith('ssh://') ? spec.slice(6) : spec;
  s = s.replace(/\/$/, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = decodeURIComponent(s.slice(0, at));
    s = s.slice(at + 1);
  }
  let host = s;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (v6) {
    host = v6[1];
    if (v6[2]) port = Number(v6[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(s);
    if (m) {
      host = m[1];
      port = Number(m[2]);
    }
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new Error(`bad port in "${spec}"`);
  }
  return { user, host, port };
}

export interface SshConfigOptions {
  /** The home directory for `~` and %d (default: os.homedir()). */
  homeDir?: string;
  /** The local user name for %u (default: os.userInfo().username). */
  localUser?: string;
}

/** A parsed ssh config file (with its Includes). */
export class SshConfig {
  private readonly blocks: Block[] = [];
  private readonly home: string;
  private readonly localUser: string;

  private constructor(options: SshConfigOptions) {
    this.home = options.homeDir ?? homedir();
    this.localUser = options.localUser ?? safeUserName();
  }

  /** Parses config text. `file` names it (its folder is where relative Includes are looked up: ~/.ssh). */
  static parse(text: string, options: SshConfigOptions & { file?: string } = {}): SshConfig {
    const c = new SshConfig(options);
    c.addText(text, options.file, 0);
    return c;
  }

  /** Reads a config file (default ~/.ssh/config); a missing file is an empty config. */
  static load(file?: string, options: SshConfigOptions = {}): SshConfig {
    const c = new SshConfig(options);
    const path = file ?? join(c.home, '.ssh', 'config');
    if (existsSync(path)) c.addText(readFileSync(path, 'utf8'), path, 0);
    return c;
  }

  /** Host patterns that name one concrete host (no wildcards): candidates for a target picker. */
  hostAliases(): string[] {
    const out = new Set<string>();
    for (const b of this.blocks) {
      for (const p of b.patterns ?? []) if (!/[*?!]/.test(p)) out.add(p);
    }
    return [...out];
  }

  /** Everything the config says about `host` (an alias or a name). */
  resolve(host: string): SshHostConfig {
    const first = new Map<string, string[]>();
    const multi = new Map<string, string[]>();
    for (const b of this.blocks) {
      if (b.skip) continue;
      if (b.patterns && !matchHostPatterns(b.patterns, host)) continue;
      for (const [key, args] of b.options) {
        if (MULTI.has(key)) {
          const list = multi.get(key) ?? [];
          // UserKnownHostsFile takes several files on one line
          list.push(...(key === 'userknownhostsfile' ? args : [args.join(' ')]));
          multi.set(key, list);
        } else if (!first.has(key)) {
          first.set(key, args);
        }
      }
    }
    const one = (k: string) => first.get(k)?.join(' ');
    const hostName = (one('hostname') ?? host).replace(/%h/g, host).replace(/%%/g, '%');
    const portText = one('port');
    const port = portText ? Number(portText) : undefined;
    const user = one('user');
    const tokens = (s: string) =>
      this.expand(s, { h: hostName, p: String(port ?? 22), r: user ?? this.localUser, n: host });
    const identityFiles = (multi.get('identityfile') ?? []).filter((f) => f.toLowerCase() !== 'none').map(tokens);
    const yes = (k: string) => (one(k) === undefined ? undefined : one(k)!.toLowerCase() === 'yes');
    const num = (k: string) => (one(k) === undefined ? undefined : Number(one(k)));
    const proxy = one('proxyjump');
    return {
      alias: host,
      hostName,
      user,
      port: port !== undefined && Number.isInteger(port) ? port : undefined,
      identityFiles,
      identityFilesFromConfig: identityFiles.length > 0,
      identitiesOnly: yes('identitiesonly'),
      proxyJump: proxy ? parseProxyJump(proxy) : [],
      userKnownHostsFiles: (multi.get('userknownhostsfile') ?? []).map(tokens),
      connectTimeoutS: num('connecttimeout'),
      serverAliveIntervalS: num('serveraliveinterval'),
      serverAliveCountMax: num('serveralivecountmax'),
      identityAgent: one('identityagent') === undefined ? undefined : tokens(one('identityagent')!),
      hashKnownHosts: yes('hashknownhosts'),
      strictHostKeyChecking: one('stricthostkeychecking')?.toLowerCase(),
    };
  }

  /** `~` at the start and the tokens OpenSSH expands in file names. */
  expand(path: string, t: { h?: string; p?: string; r?: string; n?: string } = {}): string {
    let s = path.replace(/%([%dhpruln])/g, (all, c: string) => {
      switch (c) {
        case '%':
          return '%';
        case 'd':
          return this.home;
        case 'u':
          return this.localUser;
        case 'h':
          return t.h ?? all;
        case 'p':
          return t.p ?? all;
        case 'r':
          return t.r ?? all;
        case 'n':
          return t.n ?? all;
        default:
          return all;
      }
    });
    if (s === '~') s = this.home;
    else if (s.startsWith('~/')) s = join(this.home, s.slice(2));
    return s;
  }

  private addText(text: string, file: string | undefined, depth: number): void {
    // options before any Host line apply to every host
    let block: Block = { patterns: null, skip: false, options: [] };
    this.blocks.push(block);
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      // `Key=Value` and `Key Value` are both allowed
      const eq = /^(\S+?)\s*=\s*(.*)$/.exec(line);
      const parts = eq && !/\s/.test(eq[1]) ? [eq[1], ...words(eq[2])] : words(line);
      if (!parts.length) continue;
      const key = parts[0].toLowerCase();
      const args = parts.slice(1);
      if (key === 'host') {
        block = { patterns: args, skip: false, options: [] };
        this.blocks.push(block);
      } else if (key === 'match') {
        const all = args.length === 1 && args[0].toLowerCase() === 'all';
        block = { patterns: null, skip: !all, options: [] };
        this.blocks.push(block);
      } else if (key === 'include') {
        if (depth > 8) continue;
        for (const pattern of args) {
          for (const f of this.globFiles(pattern, file)) {
            // an Include inside a Host block applies within that block: keep its conditions
            const before = this.blocks.length;
            this.addText(readFileSync(f, 'utf8'), f, depth + 1);
            if (block.patterns !== null || block.skip) {
              for (const b of this.blocks.slice(before)) {
                if (b.patterns === null && !b.skip) {
                  b.patterns = block.patterns;
                  b.skip = block.skip;
                }
              }
            }
          }
        }
        // options after an Include continue the enclosing block
        block = { patterns: block.patterns, skip: block.skip, options: [] };
        this.blocks.push(block);
      } else {
        block.options.push([key, args]);
      }
    }
  }

  private globFiles(pattern: string, file: string | undefined): string[] {
    let p = this.expand(pattern);
    if (!isAbsolute(p)) p = join(file ? dirname(file) : join(this.home, '.ssh'), p);
    if (!/[*?]/.test(basename(p))) return existsSync(p) ? [p] : [];
    const dir = dirname(p);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((n) => matchPattern(basename(p), n))
      .sort()
      .map((n) => join(dir, n));
  }
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}
