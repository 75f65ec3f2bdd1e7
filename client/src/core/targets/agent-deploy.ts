/**
 * Puts the bundled bpf-agent on an SSH box, once per version, and starts it: a per-user cache
 * `~/.cache/bpf-ide/agent/<version>-<sha256 prefix>/bpf-agent` (mode 0755), uploaded over SFTP to
 * a temporary name, checked with `sha256sum` on the box, then renamed into place. A later connect
 * finds it there, checks its sha256 again, and uploads nothing.
 *
 * One shell script (the "launcher") does the checks and, when the cached copy is good, `exec`s
 * the agent on the same channel: a warm connect costs one exec (login shells that read a slow
 * ~/.bashrc make every exec expensive). Its first stdout line is a status line for us; every
 * later byte is the agent's.
 *
 * No `vscode` import.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { AgentDeployError, RemoteSudoError, SshTargetError, UnsupportedArchitectureError } from './target-errors';

/** The agent binary to deploy. */
export interface AgentBinary {
  /** Local path of the static x86_64 bpf-agent. */
  path: string;
  /** Its version (the cache folder is `<version>-<sha256 prefix>`). */
  version: string;
}

/** What deployAndStartAgent found and did. */
export interface DeployResult {
  /** Absolute path of the agent on the box. */
  remotePath: string;
  /** True when this call uploaded the binary; false when a valid copy was already there. */
  uploaded: boolean;
  /** Bytes written over SFTP (0 when reused). */
  bytesUploaded: number;
  /** `uname -m` of the box. */
  machine: string;
  /** Remote user's uid (0: no sudo needed). */
  uid: number;
  /** Time spent: first launcher exec, upload (0 when reused), second launcher exec (0 when reused). */
  ms: { probe: number; upload: number; verify: number };
}

/** Where the box is, for messages. */
export interface DeployContext {
  host: string;
  port: number;
  user: string;
  log?: (line: string) => void;
  /** Cache folder relative to the remote home (default `.cache/bpf-ide/agent`). */
  cacheDir?: string;
  /** The agent's command-line arguments (`--idle-timeout N`). */
  agentArgs?: string[];
}

const hashes = new Map<string, { mtimeMs: number; size: number; sha256: string; data: Buffer }>();

/** sha256 (and contents) of the local binary, memoized by path, mtime and size. */
export async function localAgentDigest(path: string): Promise<{ sha256: string; data: Buffer }> {
  const st = await stat(path);
  const hit = hashes.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
  const data = await readFile(path);
  const entry = { mtimeMs: st.mtimeMs, size: st.size, sha256: createHash('sha256').update(data).digest('hex'), data };
  hashes.set(path, entry);
  return entry;
}

/** Quotes a string for a POSIX shell. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function openSftp(conn: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => conn.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/** The launcher's status line: `BPFIDE <status> <uid> <home> [detail...]`. */
interface LaunchStatus {
  status: 'run' | 'missing' | 'arch' | 'badsum' | 'nosudo' | 'mkdirfail';
  uid: number;
  home: string;
  detail: string;
}

/**
 * The launcher script. With `tmp`, it first checks the uploaded temp file's sha256 and renames it
 * into place. Then: wrong architecture -> `arch`; a good cached copy -> `run` and exec the agent
 * (through `sudo -n` unless root, after checking sudo allows it: else `nosudo`); otherwise
 * `missing` (after creating the folder).
 */
function launcherScript(dirExpr: string, sha256: string, tmp?: string, args: string[] = []): string {
  const a = args.map((x) => ' ' + shQuote(x)).join('');
  const say = (st: string, detail = '') => `printf 'BPFIDE\\t%s\\t%s\\t%s\\t%s\\n' ${st} "$u" "$HOME" "${detail}"`;
  return [
    'm=$(uname -m); u=$(id -u)',
    `f="${dirExpr}/bpf-agent"`,
    `if [ "$m" != x86_64 ]; then ${say('arch', '$m')}; exit 0; fi`,
    ...(tmp
      ? [
          `t="${dirExpr}/${tmp}"`,
          's=$(sha256sum "$t" 2>&1 | cut -c1-64)',
          `if [ "$s" != ${sha256} ]; then rm -f "$t"; ${say('badsum', '$s')}; exit 0; fi`,
          'mv -f "$t" "$f"',
        ]
      : []),
    `if [ -x "$f" ] && [ "$(sha256sum "$f" 2>/dev/null | cut -c1-64)" = ${sha256} ]; then`,
    `  if [ "$u" = 0 ]; then ${say('run')}; exec "$f"${a}; fi`,
    `  if e=$(sudo -n "$f" --version 2>&1 >/dev/null); then ${say('run')}; exec sudo -n "$f"${a}; fi`,
    `  ${say('nosudo', '$(printf %s "$e" | tail -n 1)')}; exit 0`,
    'fi',
    `if e=$(mkdir -p -m 700 "${dirExpr}" 2>&1); then ${say('missing')}; else ${say('mkdirfail', '$e')}; fi`,
  ].join('\n');
}

/** Runs the launcher; resolves with its status line and, for `run`, the agent's streams. */
function runLauncher(
  conn: Client,
  script: string,
  ctx: DeployContext,
  timeoutMs = 30_000,
): Promise<{ status: LaunchStatus; channel?: ClientChannel; output?: Readable }> {
  return new Promise((resolve, reject) => {
    conn.exec(`sh -c ${shQuote(script)}`, (err, ch) => {
      if (err) {
        reject(
          new SshTargetError(`could not run commands on ${ctx.host}: ${err.message}`, ctx.host, ctx.port, {
            cause: err,
          }),
        );
        return;
      }
      let buf = Buffer.alloc(0);
      let stderr = '';
      let done = false;
      const timer = setTimeout(() => finish(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      const onStderr = (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000));
      const finish = (e?: Error, value?: { status: LaunchStatus; channel?: ClientChannel; output?: Readable }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        ch.removeListener('data', onData);
        ch.stderr.removeListener('data', onStderr);
        if (e) {
          ch.close();
          reject(
            new SshTargetError(
              `starting the agent on ${ctx.host} failed: ${e.message}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`,
              ctx.host,
              ctx.port,
              { cause: e },
            ),
          );
        } else resolve(value!);
      };
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const nl = buf.indexOf(10);
        if (nl < 0) {
          if (buf.length > 8192) finish(new Error('the launcher wrote no status line'));
          return;
        }
        const line = buf.subarray(0, nl).toString('utf8');
        const rest = buf.subarray(nl + 1);
        const f = line.split('\t');
        if (f[0] !== 'BPFIDE' || f.length < 5) {
          return finish(new Error(`unexpected output from the launcher: ${line.slice(0, 200)}`));
        }
        const status: LaunchStatus = {
          status: f[1] as LaunchStatus['status'],
          uid: Number(f[2]),
          home: f[3],
          detail: f.slice(4).join(' '),
        };
        if (status.status !== 'run') {
          finish(undefined, { status });
          ch.on('error', () => undefined);
          ch.close();
          return;
        }
        // everything after the status line is the agent's: hand it over, with what we already read
        ch.pause();
        const output = new PassThrough();
        if (rest.length) output.write(rest);
        ch.pipe(output);
        // a dropped connection closes the channel without an 'end': end the agent's output anyway
        ch.once('close', () => {
          if (!output.writableEnded) output.end();
        });
        finish(undefined, { status, channel: ch, output });
      };
      ch.on('data', onData);
      ch.stderr.on('data', onStderr);
      ch.on('error', () => undefined);
      ch.on('close', () => finish(new Error('the launcher exited without a status line')));
    });
  });
}

/** The agent started on the box, and how it got there. */
export interface StartedAgent {
  channel: ClientChannel;
  /** The agent's stdout (the channel's data after the launcher's status line). */
  output: Readable;
  deploy: DeployResult;
}

/**
 * Makes sure a valid copy of the agent is on the box (uploading it only when it is not) and
 * starts it on an exec channel: no pty, so closing the channel's stdin gives the agent EOF.
 */
export async function deployAndStartAgent(conn: Client, bin: AgentBinary, ctx: DeployContext): Promise<StartedAgent> {
  const log = ctx.log ?? (() => undefined);
  const { sha256, data } = await localAgentDigest(bin.path);
  const dirName = `${bin.version.replace(/[^A-Za-z0-9._+-]/g, '_')}-${sha256.slice(0, 12)}`;
  const cache = (ctx.cacheDir ?? '.cache/bpf-ide/agent').replace(/\/+$/, '');
  if (!/^[A-Za-z0-9._/+-]+$/.test(cache)) {
    throw new AgentDeployError(
      ctx.host,
      ctx.port,
      'setup',
      cache,
      'the cache folder name has characters other than letters, digits and ._/+-',
    );
  }
  // relative: under the remote user's home; absolute: as given
  const dirExpr = cache.startsWith('/') ? `${cache}/${dirName}` : `$HOME/${cache}/${dirName}`;
  const remoteDir = (home: string) => (cache.startsWith('/') ? `${cache}/${dirName}` : `${home}/${cache}/${dirName}`);

  const t0 = Date.now();
  let r = await runLauncher(conn, launcherScript(dirExpr, sha256, undefined, ctx.agentArgs), ctx);
  const ms = { probe: Date.now() - t0, upload: 0, verify: 0 };
  let remotePath = `${remoteDir(r.status.home)}/bpf-agent`;
  checkStatus(r.status, ctx, remotePath, sha256);
  if (r.status.status === 'run') {
    log(`agent ${bin.version} already on ${ctx.host} (${remotePath}, sha256 ok): no upload`);
    const deploy = { remotePath, uploaded: false, bytesUploaded: 0, machine: 'x86_64', uid: r.status.uid, ms };
    return { channel: r.channel!, output: r.output!, deploy };
  }

  // status `missing`: upload to a temp name; the launcher checks it and renames it into place
  const t1 = Date.now();
  const tmpName = `.bpf-agent.${randomBytes(6).toString('hex')}.tmp`;
  const tmp = `${remoteDir(r.status.home)}/${tmpName}`;
  let sftp: SFTPWrapper;
  try {
    sftp = await openSftp(conn);
  } catch (err) {
    throw new AgentDeployError(ctx.host, ctx.port, 'sftp', remotePath, (err as Error).message, { cause: err });
  }
  try {
    await new Promise<void>((resolve, reject) => {
      sftp.writeFile(tmp, data, { mode: 0o755 }, (err) => (err ? reject(err) : resolve()));
    });
    await new Promise<void>((resolve, reject) => sftp.chmod(tmp, 0o755, (err) => (err ? reject(err) : resolve())));
  } catch (err) {
    sftp.unlink(tmp, () => undefined);
    throw new AgentDeployError(ctx.host, ctx.port, 'upload', remotePath, (err as Error).message, { cause: err });
  } finally {
    sftp.end();
  }
  ms.upload = Date.now() - t1;

  const t2 = Date.now();
  r = await runLauncher(conn, launcherScript(dirExpr, sha256, tmpName, ctx.agentArgs), ctx);
  ms.verify = Date.now() - t2;
  remotePath = `${remoteDir(r.status.home)}/bpf-agent`;
  checkStatus(r.status, ctx, remotePath, sha256);
  if (r.status.status !== 'run') {
    throw new AgentDeployError(
      ctx.host,
      ctx.port,
      'verify',
      remotePath,
      `the uploaded agent is not there after the rename (${r.status.status})`,
    );
  }
  log(`uploaded agent ${bin.version} to ${ctx.host}:${remotePath} (${data.length} bytes, ${ms.upload} ms, sha256 ok)`);
  const deploy = { remotePath, uploaded: true, bytesUploaded: data.length, machine: 'x86_64', uid: r.status.uid, ms };
  return { channel: r.channel!, output: r.output!, deploy };
}

/** Turns a launcher status that is an error into its error class. */
function checkStatus(st: LaunchStatus, ctx: DeployContext, remotePath: string, sha256: string): void {
  switch (st.status) {
    case 'arch':
      throw new UnsupportedArchitectureError(ctx.host, ctx.port, st.detail.trim());
    case 'nosudo':
      throw new RemoteSudoError(
        ctx.host,
        ctx.port,
        ctx.user,
        remotePath,
        /sudo: (command )?not found/.test(st.detail)
          ? 'sudo is not installed on the box'
          : st.detail || 'sudo -n failed',
      );
    case 'mkdirfail':
      throw new AgentDeployError(ctx.host, ctx.port, 'mkdir', remotePath, st.detail || 'mkdir failed');
    case 'badsum':
      throw new AgentDeployError(
        ctx.host,
        ctx.port,
        'verify',
        remotePath,
        `the uploaded file has sha256 ${st.detail.trim() || '(sha256sum failed)'}, expected ${sha256}`,
      );
    default:
  }
}
