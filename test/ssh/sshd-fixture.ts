/**
 * A real OpenSSH sshd for the SSH tests: throwaway keys made by ssh-keygen in a temp dir (host
 * key, a client key, a passphrase-protected client key), AuthorizedKeysFile in that dir,
 * StrictModes no, UsePAM no, PidFile in the dir, sftp as internal-sftp, LogLevel VERBOSE (each
 * session is logged, so a test can tell whether an sftp session was opened at all). Listens on a free port of 127.0.0.1, or
 * inside a network namespace (`ip netns exec`). Stopped by PID (the listener and the per-connection
 * sshd processes it forked), and the temp dir removed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Why a real sshd can't run here, or null. */
export function sshdUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (sshd, and loading BPF programs through the agent)';
  if (!existsSync(SSHD)) return `no sshd at ${SSHD} (apt-get install openssh-server)`;
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'ssh-keygen is not installed (openssh-client)';
  }
  return null;
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; sshd binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface SshdOptions {
  /** Listen address (default 127.0.0.1). */
  address?: string;
  /** Port (default: a free one). */
  port?: number;
  /** Run inside this network namespace. */
  netns?: string;
  /** Reuse the keys and config dir of an earlier instance (a restart). */
  dir?: string;
  /** Extra sshd_config lines. */
  extraConfig?: string[];
  /**
   * For logins as a non-root user: UsePAM yes (with UsePAM no, sshd refuses accounts whose
   * password is locked, as service accounts' are) and a key dir that user can read.
   */
  nonRootLogins?: boolean;
  /** KbdInteractiveAuthentication yes and PasswordAuthentication no (through PAM: implies UsePAM yes). */
  keyboardInteractive?: boolean;
}

/** One running sshd with its own keys. */
export class Sshd {
  private child: ChildProcess | undefined;
  private stderr = '';
  private exited: Promise<void> = Promise.resolve();
  /** Passphrase of the encrypted client key. */
  static readonly PASSPHRASE = 'correct horse battery staple';

  private constructor(
    readonly dir: string,
    readonly address: string,
    public port: number,
    private readonly options: SshdOptions,
    private readonly ownsDir: boolean,
  ) {}

  /** Host key (public) file, client keys (private), authorized_keys. */
  get hostKeyPub(): string {
    return join(this.dir, 'host_ed25519_key.pub');
  }
  get clientKey(): string {
    return join(this.dir, 'client_ed25519');
  }
  get encryptedClientKey(): string {
    return join(this.dir, 'client_encrypted');
  }
  /** A key that is not in authorized_keys. */
  get strangerKey(): string {
    return join(this.dir, 'stranger_ed25519');
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  /** What sshd (and internal-sftp) logged so far. */
  get log(): string {
    return this.stderr;
  }

  /** `ssh-keygen -lf` of the host key: `SHA256:...`. */
  hostFingerprint(): string {
    const out = execFileSync('ssh-keygen', ['-lf', this.hostKeyPub], { encoding: 'utf8' });
    return out.split(/\s+/)[1];
  }

  /** A known_hosts line for this sshd (`[addr]:port ssh-ed25519 AAAA...`). */
  knownHostsLine(): string {
    const [type, b64] = readFileSync(this.hostKeyPub, 'utf8').trim().split(/\s+/);
    const name = this.port === 22 ? this.address : `[${this.address}]:${this.port}`;
    return `${name} ${type} ${b64}\n`;
  }

  /** Starts sshd with fresh keys (or the keys in options.dir). */
  static async start(options: SshdOptions = {}): Promise<Sshd> {
    const ownsDir = !options.dir;
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'bpf-ide-sshd-'));
    if (ownsDir) makeKeys(dir);
    if (options.nonRootLogins) {
      // sshd reads AuthorizedKeysFile as the user logging in
      chmodSync(dir, 0o755);
      chmodSync(join(dir, 'authorized_keys'), 0o644);
    }
    // sshd's privilege separation wants this folder
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    for (let tries = 0; ; tries++) {
      const port = options.port ?? (options.netns ? 22 : await freePort());
      const sshd = new Sshd(dir, options.address ?? '127.0.0.1', port, options, ownsDir);
      try {
        await sshd.launch();
        return sshd;
      } catch (err) {
        // another process took the free port between our probe and sshd's bind: try another
        if (tries < 3 && !options.port && /Address already in use/.test(String(err))) continue;
        if (ownsDir) rmSync(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  private writeConfig(): string {
    const cfg = join(this.dir, `sshd_config.${this.port}`);
    writeFileSync(
      cfg,
      [
        `Port ${this.port}`,
        `ListenAddress ${this.address}`,
        `HostKey ${join(this.dir, 'host_ed25519_key')}`,
        `PidFile ${join(this.dir, `sshd.${this.port}.pid`)}`,
        `AuthorizedKeysFile ${join(this.dir, 'authorized_keys')}`,
        'StrictModes no',
        `UsePAM ${this.options.nonRootLogins || this.options.keyboardInteractive ? 'yes' : 'no'}`,
        'PermitRootLogin yes',
        'PubkeyAuthentication yes',
        // keyboard-interactive boxes usually take passwords only that way
        `PasswordAuthentication ${this.options.keyboardInteractive ? 'no' : 'yes'}`,
        `KbdInteractiveAuthentication ${this.options.keyboardInteractive ? 'yes' : 'no'}`,
        'AllowTcpForwarding yes',
        'PrintMotd no',
        'LogLevel VERBOSE',
        // LogLevel VERBOSE logs each session ("Starting session: subsystem 'sftp'"): tests check for uploads
        'Subsystem sftp internal-sftp',
        ...(this.options.extraConfig ?? []),
        '',
      ].join('\n'),
    );
    return cfg;
  }

  private launch(): Promise<void> {
    const cfg = this.writeConfig();
    const args = ['-D', '-e', '-f', cfg];
    const [cmd, argv] = this.options.netns
      ? ['ip', ['netns', 'exec', this.options.netns, SSHD, ...args]]
      : [SSHD, args];
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.stderr = '';
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => fail(new Error(`sshd did not start listening within 10 s:\n${this.stderr}`)),
        10_000,
      );
      const onData = (d: Buffer) => {
        this.stderr += d.toString('utf8');
        if (/Server listening on/.test(this.stderr)) {
          clearTimeout(timer);
          resolve();
        }
      };
      const fail = (err: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(err);
      };
      child.stderr!.on('data', onData);
      child.once('error', fail);
      child.once('exit', (code, signal) =>
        fail(new Error(`sshd exited (${signal ?? code}) before listening:\n${this.stderr}`)),
      );
    });
  }

  /** PIDs of the per-connection sshd processes (descendants of the listener), not the agent. */
  sessionPids(): number[] {
    const root = this.child?.pid;
    if (!root) return [];
    const children = new Map<number, number[]>();
    const comm = new Map<number, string>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        const ppid = Number(stat.slice(close + 2).split(' ')[1]);
        comm.set(Number(name), stat.slice(stat.indexOf('(') + 1, close));
        const list = children.get(ppid) ?? [];
        list.push(Number(name));
        children.set(ppid, list);
      } catch {
        // the process went away while we looked
      }
    }
    const out: number[] = [];
    const walk = (pid: number) => {
      for (const c of children.get(pid) ?? []) {
        if (comm.get(c)?.startsWith('sshd')) out.push(c);
        walk(c);
      }
    };
    walk(root);
    return out;
  }

  /** Kills every per-connection sshd process (as if the box dropped the connections). */
  killSessions(): number[] {
    const pids = this.sessionPids();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    return pids;
  }

  /** Stops the listener and its sessions, by PID. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.killSessions();
    child.kill('SIGTERM');
    await this.exited;
    this.child = undefined;
  }

  /** Stops and starts again on the same port with the same keys. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops sshd and removes its temp dir. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Throwaway keys: host key, client key, encrypted client key, a stranger key; authorized_keys. */
function makeKeys(dir: string): void {
  const keygen = (file: string, pass: string, comment: string) =>
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-C', comment, '-f', join(dir, file)], {
      stdio: 'ignore',
    });
  keygen('host_ed25519_key', '', 'bpf-ide test host');
  keygen('client_ed25519', '', 'bpf-ide test client');
  keygen('client_encrypted', Sshd.PASSPHRASE, 'bpf-ide test client (encrypted)');
  keygen('stranger_ed25519', '', 'bpf-ide test stranger');
  const auth = ['client_ed25519.pub', 'client_encrypted.pub'].map((f) => readFileSync(join(dir, f), 'utf8')).join('');
  writeFileSync(join(dir, 'authorized_keys'), auth, { mode: 0o600 });
}
