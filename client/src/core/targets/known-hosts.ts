/**
 * known_hosts in OpenSSH's format: plain and hashed (`|1|salt|hash`) host fields, several
 * comma-separated patterns per line (wildcards, `!negation`), `[host]:port` for ports other
 * than 22, `@revoked` lines, and `@cert-authority` lines (ignored: bpf-ide does not do host
 * certificates). Looks a presented key up, and appends newly trusted hosts.
 *
 * No `vscode` import; no network.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { matchHostPatterns } from './ssh-config';

/** One key line of a known_hosts file. */
export interface KnownHostEntry {
  file: string;
  /** 1-based line number. */
  line: number;
  marker?: '@revoked' | '@cert-authority';
  /** The host field as written (patterns, or one hashed name). */
  hosts: string;
  keyType: string;
  /** The key blob (base64-decoded). */
  key: Buffer;
}

/** The result of looking a presented host key up. */
export type HostKeyVerdict =
  | { status: 'trusted'; entry: KnownHostEntry }
  /** Known under this name, with other keys only: refuse. */
  | { status: 'changed'; entries: KnownHostEntry[] }
  /** This very key is listed as @revoked: refuse. */
  | { status: 'revoked'; entry: KnownHostEntry }
  | { status: 'unknown' };

/** The name known_hosts uses for a host and port: `host`, or `[host]:port` when port is not 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64 without padding>` of a key blob, as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The key type named inside a key blob (its first SSH string), e.g. `ssh-ed25519`. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const n = key.readUInt32BE(0);
  if (n > 64 || 4 + n > key.length) return 'unknown';
  return key.subarray(4, 4 + n).toString('latin1');
}

/** Does a host field (hashed or patterns) name `name`? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return mac === hash;
  }
  return matchHostPatterns(field.split(','), name);
}

/** A hashed host field for `name`, as `ssh-keygen -H` writes it. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const mac = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${mac}`;
}

/** Parses known_hosts text; bad lines are skipped (as OpenSSH does). */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (parts[0].startsWith('@')) {
      const m = parts.shift()!;
      if (m !== '@revoked' && m !== '@cert-authority') continue;
      marker = m;
    }
    if (parts.length < 3) continue;
    const [hosts, keyType, b64] = parts;
    const key = Buffer.from(b64, 'base64');
    if (!key.length) continue;
    out.push({ file, line: i + 1, marker, hosts, keyType, key });
  }
  return out;
}

/** The known_hosts files to read, and the one to write. */
export class KnownHosts {
  /**
   * @param files files to read, in order; the first is the one new hosts are appended to.
   *   Missing files are fine (an empty list of hosts).
   */
  constructor(readonly files: string[]) {
    if (!files.length) throw new Error('KnownHosts needs at least one file');
  }

  /** The file new hosts are appended to. */
  get writeFile(): string {
    return this.files[0];
  }

  /** Every entry of every file (read now: the files may have changed since the last call). */
  entries(): KnownHostEntry[] {
    const out: KnownHostEntry[] = [];
    for (const f of this.files) {
      if (!existsSync(f)) continue;
      try {
        out.push(...parseKnownHosts(readFileSync(f, 'utf8'), f));
      } catch {
        // unreadable (permissions): as if empty, like OpenSSH
      }
    }
    return out;
  }

  /** Key types this host is known with (so the client can ask the server for those first). */
  knownKeyTypes(host: string, port: number): string[] {
    const name = knownHostsName(host, port);
    return [
      ...new Set(
        this.entries()
          .filter((e) => !e.marker && hostFieldMatches(e.hosts, name))
          .map((e) => e.keyType),
      ),
    ];
  }

  /** Looks the key a host presented up. */
  verify(host: string, port: number, key: Buffer): HostKeyVerdict {
    const name = knownHostsName(host, port);
    const all = this.entries();
    const revoked = all.find((e) => e.marker === '@revoked' && e.key.equals(key));
    if (revoked) return { status: 'revoked', entry: revoked };
    const forHost = all.filter((e) => !e.marker && hostFieldMatches(e.hosts, name));
    const same = forHost.find((e) => e.key.equals(key));
    if (same) return { status: 'trusted', entry: same };
    // Known with other keys (same type or not): OpenSSH orders its host key algorithms so a
    // box that still has the known key presents it, so any other key means the box changed.
    if (forHost.length) return { status: 'changed', entries: forHost };
    return { status: 'unknown' };
  }

  /** Appends `host key` to the write file (creating it, and ~/.ssh, with OpenSSH's modes). */
  add(host: string, port: number, key: Buffer, options: { hash?: boolean } = {}): void {
    const name = knownHostsName(host, port);
    const field = options.hash ? hashHostName(name) : name;
    const file = this.writeFile;
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    let prefix = '';
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      if (text.length && !text.endsWith('\n')) prefix = '\n';
    }
    appendFileSync(file, `${prefix}${field} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
  }
}
