/**
 * Opens one authenticated ssh2 connection per hop (ProxyJump hops first, each next hop through
 * `forwardOut` on the previous one), verifying each host key against known_hosts and trying
 * ssh-agent, identity files (asking the caller for passphrases) and finally a password.
 * Turns ssh2's errors into the classes of target-errors.ts.
 *
 * No `vscode` import. Secrets (passphrases, passwords, decrypted keys) are never logged; decrypted
 * keys are kept only in the caller's in-memory cache so that a reconnect does not ask again.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { Client, utils, type AuthenticationType, type ConnectConfig, type ParsedKey } from 'ssh2';
import { KnownHosts, fingerprintSha256, keyTypeOf } from './known-hosts';
import {
  HostKeyChangedError,
  HostKeyUnknownError,
  SshAuthError,
  SshConnectionRefusedError,
  SshDnsError,
  SshTargetError,
  SshTimeoutError,
} from './target-errors';

/** What the caller is asked before trusting a host that is not in known_hosts. */
export interface UnknownHostInfo {
  host: string;
  port: number;
  keyType: string;
  /** `SHA256:...`, as `ssh-keygen -lf` prints it. */
  fingerprintSha256: string;
  /** Where the key will be written on accept. */
  knownHostsFile: string;
}

/** Callbacks through which the caller supplies secrets and trust decisions. */
export interface SshPrompts {
  /**
   * The passphrase of an encrypted identity file; undefined skips the key. `attempt` counts up
   * from 1; `previousWrong` says the last answer did not decrypt it (drop a stored one).
   */
  passphrase?: (req: { keyPath: string; attempt: number; previousWrong: boolean }) => Promise<string | undefined>;
  /**
   * A password, the last resort (for `password` and for the password prompts of
   * `keyboard-interactive`); undefined skips it. `prompt` is the server's own prompt text, if any.
   */
  password?: (req: {
    host: string;
    port: number;
    user: string;
    attempt: number;
    prompt?: string;
  }) => Promise<string | undefined>;
  /** Trust an unknown host? true appends it to known_hosts. Without this callback unknown hosts are refused. */
  confirmUnknownHost?: (info: UnknownHostInfo) => Promise<boolean>;
  /**
   * A secret the caller gave turned out right: a passphrase decrypted its key, or a password
   * logged in. The extension stores it (SecretStorage) only then.
   */
  secretAccepted?: (
    what: { kind: 'passphrase'; keyPath: string } | { kind: 'password'; host: string; port: number; user: string },
  ) => void;
}

/** One host to log in to. */
export interface SshEndpoint {
  /** What the user called it (alias), for messages. */
  label: string;
  /** Where to connect (HostName). */
  host: string;
  port: number;
  user: string;
  /** Identity files to try, in order (the --identity ones first). */
  identityFiles: string[];
  /** Only the identity files, not ssh-agent (IdentitiesOnly yes). */
  identitiesOnly?: boolean;
  /** ssh-agent socket; undefined: none. */
  agentSocket?: string;
  /**
   * StrictHostKeyChecking accept-new: trust an unknown host without asking (and record it).
   * A changed key is refused all the same; `no`/`off` are treated as `ask` (bpf-ide never
   * connects to a host whose key changed).
   */
  acceptNewHostKey?: boolean;
}

export interface SshConnectOptions extends SshPrompts {
  knownHosts: KnownHosts;
  /** Write new known_hosts entries hashed (as HashKnownHosts yes). */
  hashKnownHosts?: boolean;
  /** Time for TCP connect + handshake + auth, not counting the time the caller takes to answer a prompt. */
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Decrypted identity files by path, in memory only (so a reconnect does not ask again). */
  keyCache?: Map<string, ParsedKey>;
  log?: (line: string) => void;
}

const DEFAULT_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Host key algorithms with the ones known_hosts has for this host first (as OpenSSH orders them). */
function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const first: string[] = [];
  for (const t of knownTypes) {
    if (t === 'ssh-rsa') first.push('rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa');
    else if (DEFAULT_HOST_KEY_ALGOS.includes(t)) first.push(t);
  }
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGOS])];
}

type AuthAttempt = {
  label: string;
  method: 'none' | 'publickey' | 'agent' | 'password' | 'keyboard-interactive';
  make: () => Promise<unknown>;
};

/**
 * Logs in to one host, over `sock` when given (a forwardOut stream through a jump host), else TCP.
 * Resolves with the ready client.
 */
export function connectHop(ep: SshEndpoint, opts: SshConnectOptions, sock?: Duplex, via?: string): Promise<Client> {
  const log = opts.log ?? (() => undefined);
  const client = new Client();
  const tried: string[] = [];
  let allowed: string[] = [];
  let hostKeyError: Error | undefined;
  let settled = false;

  // our own handshake timer, paused while the caller answers a prompt
  const readyMs = opts.readyTimeoutMs ?? 20_000;
  let timer: NodeJS.Timeout | undefined;
  let remaining = readyMs;
  let startedAt = Date.now();
  let onTimeout: () => void = () => undefined;
  const startTimer = () => {
    startedAt = Date.now();
    timer = setTimeout(() => onTimeout(), remaining);
  };
  const pauseTimer = () => {
    clearTimeout(timer);
    remaining = Math.max(1000, remaining - (Date.now() - startedAt));
  };
  const prompt = async <T>(fn: () => Promise<T>): Promise<T> => {
    pauseTimer();
    try {
      return await fn();
    } finally {
      if (!settled) startTimer();
    }
  };

  const attempts = authAttempts(ep, opts, prompt, log);
  const where = via ? `${ep.label} (via ${via})` : ep.label;

  return new Promise<Client>((resolve, reject) => {
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('ready');
      client.on('error', () => undefined);
      client.end();
      reject(err);
    };
    onTimeout = () => fail(new SshTimeoutError(ep.host, ep.port, via ? `through ${via}` : 'connect and log in'));

    client.on('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const method = tried[tried.length - 1] ?? 'none';
      log(`ssh: logged in to ${ep.user}@${where} (${method})`);
      if (method === 'password' || method === 'keyboard-interactive') {
        opts.secretAccepted?.({ kind: 'password', host: ep.host, port: ep.port, user: ep.user });
      }
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      const level = err.level;
      // these are reported and then ssh2 moves on to the next method: not fatal
      if (level === 'agent' || (level === 'client-authentication' && /signing/i.test(err.message))) {
        log(`ssh: ${err.message}`);
        return;
      }
      if (hostKeyError) return fail(hostKeyError);
      if (level === 'client-authentication') {
        return fail(new SshAuthError(ep.host, ep.port, ep.user, tried, allowed, { cause: err }));
      }
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || level === 'client-dns') {
        return fail(new SshDnsError(ep.host, ep.port, { cause: err }));
      }
      if (err.code === 'ECONNREFUSED' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') {
        return fail(new SshConnectionRefusedError(ep.host, ep.port, { cause: err }));
      }
      if (level === 'client-timeout' || err.code === 'ETIMEDOUT') {
        return fail(new SshTimeoutError(ep.host, ep.port, 'connect', { cause: err }));
      }
      fail(
        new SshTargetError(`ssh to ${where} port ${ep.port} failed: ${err.message}`, ep.host, ep.port, { cause: err }),
      );
    });
    client.on('close', () => {
      if (hostKeyError) return fail(hostKeyError);
      fail(new SshTargetError(`${where} port ${ep.port} closed the connection during login`, ep.host, ep.port));
    });

    const config: ConnectConfig = {
      host: ep.host,
      port: ep.port,
      username: ep.user,
      sock,
      readyTimeout: 0, // our own timer (above) leaves out prompt time
      keepaliveInterval: opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: opts.keepaliveCountMax ?? 3,
      algorithms: { serverHostKey: hostKeyAlgorithms(opts.knownHosts.knownKeyTypes(ep.host, ep.port)) as never },
      hostVerifier: ((key: Buffer, verify: (ok: boolean) => void) => {
        void verifyHostKey(ep, key, opts, prompt).then(
          (err) => {
            hostKeyError = err;
            verify(!err);
          },
          (err: Error) => {
            hostKeyError = err;
            verify(false);
          },
        );
      }) as never,
      authHandler: ((
        methodsLeft: AuthenticationType[] | null,
        _partial: boolean | null,
        next: (a: unknown) => void,
      ) => {
        if (methodsLeft) allowed = methodsLeft;
        void (async () => {
          while (attempts.length) {
            const a = attempts.shift()!;
            // skip what the server said it won't take (agent keys are publickey to the server)
            const wire = a.method === 'agent' ? 'publickey' : a.method;
            if (a.method !== 'none' && methodsLeft && !methodsLeft.includes(wire as AuthenticationType)) continue;
            let auth: unknown;
            try {
              auth = await a.make();
            } catch (err) {
              log(`ssh: skipping ${a.label}: ${(err as Error).message}`);
              continue;
            }
            if (!auth) continue;
            if (a.method !== 'none') tried.push(a.label);
            log(`ssh: trying ${a.label} for ${ep.user}@${where}`);
            next(auth);
            return;
          }
          next(false);
        })();
      }) as never,
    };
    startTimer();
    try {
      client.connect(config);
    } catch (err) {
      fail(new SshTargetError(`ssh to ${where} failed: ${(err as Error).message}`, ep.host, ep.port, { cause: err }));
    }
  });
}

/** Checks a presented host key; resolves with the error to refuse with, or undefined to accept. */
async function verifyHostKey(
  ep: SshEndpoint,
  key: Buffer,
  opts: SshConnectOptions,
  prompt: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<Error | undefined> {
  const kh = opts.knownHosts;
  const keyType = keyTypeOf(key);
  const fp = fingerprintSha256(key);
  const verdict = kh.verify(ep.host, ep.port, key);
  if (verdict.status === 'trusted') return undefined;
  if (verdict.status === 'changed') {
    const lines = verdict.entries.map((e) => e.line);
    return new HostKeyChangedError(ep.host, ep.port, keyType, fp, verdict.entries[0].file, lines);
  }
  if (verdict.status === 'revoked') {
    return new HostKeyChangedError(ep.host, ep.port, keyType, fp, verdict.entry.file, [verdict.entry.line]);
  }
  if (ep.acceptNewHostKey) {
    kh.add(ep.host, ep.port, key, { hash: opts.hashKnownHosts });
    opts.log?.(
      `ssh: StrictHostKeyChecking accept-new: added ${keyType} ${fp} for ${ep.host}:${ep.port} to ${kh.writeFile}`,
    );
    return undefined;
  }
  if (!opts.confirmUnknownHost) return new HostKeyUnknownError(ep.host, ep.port, keyType, fp, kh.writeFile);
  const ok = await prompt(() =>
    opts.confirmUnknownHost!({
      host: ep.host,
      port: ep.port,
      keyType,
      fingerprintSha256: fp,
      knownHostsFile: kh.writeFile,
    }),
  );
  if (!ok) return new HostKeyUnknownError(ep.host, ep.port, keyType, fp, kh.writeFile);
  kh.add(ep.host, ep.port, key, { hash: opts.hashKnownHosts });
  opts.log?.(`ssh: added ${keyType} ${fp} for ${ep.host}:${ep.port} to ${kh.writeFile}`);
  return undefined;
}

/** ssh-agent, then each identity file (decrypted on demand), then the password callback. */
function authAttempts(
  ep: SshEndpoint,
  opts: SshConnectOptions,
  prompt: <T>(fn: () => Promise<T>) => Promise<T>,
  log: (s: string) => void,
): AuthAttempt[] {
  const username = ep.user;
  // `none` first, as OpenSSH does: the server answers with the methods it takes, so no one is
  // asked for a password (or a passphrase) the server would not accept anyway
  const out: AuthAttempt[] = [{ label: 'none', method: 'none', make: async () => ({ type: 'none', username }) }];
  if (ep.agentSocket && !ep.identitiesOnly) {
    const agent = ep.agentSocket;
    out.push({
      label: 'ssh-agent',
      method: 'agent',
      // Windows' OpenSSH agent is a named pipe (and pageant is a name): no file to check there
      make: async () =>
        process.platform === 'win32' || agent === 'pageant' || existsSync(agent)
          ? { type: 'agent', username, agent }
          : undefined,
    });
  }
  for (const keyPath of ep.identityFiles) {
    out.push({
      label: `publickey ${keyPath}`,
      method: 'publickey',
      make: async () => {
        const key = await loadIdentity(keyPath, opts, prompt, log);
        return key ? { type: 'publickey', username, key } : undefined;
      },
    });
  }
  if (opts.password) {
    let attempt = 0;
    out.push({
      label: 'password',
      method: 'password',
      make: async () => {
        const password = await prompt(() =>
          opts.password!({ host: ep.host, port: ep.port, user: ep.user, attempt: ++attempt }),
        );
        return password === undefined ? undefined : { type: 'password', username, password };
      },
    });
    // boxes with PasswordAuthentication no often ask for the password through PAM this way
    out.push({
      label: 'keyboard-interactive',
      method: 'keyboard-interactive',
      make: async () => ({
        type: 'keyboard-interactive',
        username,
        prompt: (
          _name: string,
          _instructions: string,
          _lang: string,
          prompts: Array<{ prompt: string; echo?: boolean }>,
          finish: (answers: string[]) => void,
        ) => {
          void (async () => {
            const answers: string[] = [];
            for (const p of prompts) {
              // only hidden (password-like) prompts are answered; anything else gets an empty answer
              const answer =
                p.echo === false
                  ? await prompt(() =>
                      opts.password!({
                        host: ep.host,
                        port: ep.port,
                        user: ep.user,
                        attempt: ++attempt,
                        prompt: p.prompt,
                      }),
                    ).catch(() => undefined)
                  : undefined;
              answers.push(answer ?? '');
            }
            finish(answers);
          })();
        },
      }),
    });
  }
  return out;
}

/** Reads and (with the caller's passphrase) decrypts a private key; undefined when missing or skipped. */
async function loadIdentity(
  keyPath: string,
  opts: SshConnectOptions,
  prompt: <T>(fn: () => Promise<T>) => Promise<T>,
  log: (s: string) => void,
): Promise<ParsedKey | undefined> {
  const cached = opts.keyCache?.get(keyPath);
  if (cached) return cached;
  if (!existsSync(keyPath)) return undefined;
  const data = readFileSync(keyPath);
  const plain = utils.parseKey(data);
  if (!(plain instanceof Error)) return first(plain);
  if (!/encrypted|passphrase/i.test(plain.message)) {
    log(`ssh: ${keyPath} is not a usable private key (${plain.message})`);
    return undefined;
  }
  if (!opts.passphrase) {
    log(`ssh: ${keyPath} is encrypted and no passphrase can be asked for; skipped (load it into ssh-agent)`);
    return undefined;
  }
  let previousWrong = false;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const pass = await prompt(() => opts.passphrase!({ keyPath, attempt, previousWrong }));
    if (pass === undefined) return undefined;
    const key = utils.parseKey(data, pass);
    if (!(key instanceof Error)) {
      const k = first(key);
      opts.keyCache?.set(keyPath, k);
      opts.secretAccepted?.({ kind: 'passphrase', keyPath });
      return k;
    }
    previousWrong = true;
    log(`ssh: wrong passphrase for ${keyPath} (attempt ${attempt})`);
  }
  return undefined;
}

function first(k: ParsedKey | ParsedKey[]): ParsedKey {
  return Array.isArray(k) ? k[0] : k;
}

/** Opens a TCP-like stream to host:port through an authenticated client (ProxyJump). */
export function forwardThrough(jump: Client, ep: SshEndpoint, jumpLabel: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    jump.forwardOut('127.0.0.1', 0, ep.host, ep.port, (err, stream) => {
      if (err) {
        const refused = /refused|administratively|connect failed/i.test(err.message);
        reject(
          refused
            ? new SshConnectionRefusedError(ep.host, ep.port, { cause: err })
            : new SshTargetError(
                `the jump host ${jumpLabel} could not open a connection to ${ep.host} port ${ep.port}: ${err.message}`,
                ep.host,
                ep.port,
                { cause: err },
              ),
        );
        return;
      }
      resolve(stream);
    });
  });
}

/** Logs in through every hop; resolves with all clients, the last one being the target. */
export async function connectChain(hops: SshEndpoint[], opts: SshConnectOptions): Promise<Client[]> {
  const clients: Client[] = [];
  try {
    for (let i = 0; i < hops.length; i++) {
      const prev = clients[i - 1];
      const via = i > 0 ? hops[i - 1].label : undefined;
      const sock = prev ? await forwardThrough(prev, hops[i], via!) : undefined;
      clients.push(await connectHop(hops[i], opts, sock, via));
    }
    return clients;
  } catch (err) {
    for (const c of clients.reverse()) c.end();
    throw err;
  }
}
