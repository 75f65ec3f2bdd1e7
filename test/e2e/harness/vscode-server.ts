/**
 * The VS Code server bundled in code-server, started directly (code-server's own CLI rejects the flags the
 * extension-test mode needs). It runs under Node 24 in its own session and process group (spawn's `detached` is
 * setsid), with HOME, TMPDIR and XDG_* inside the test's temp dir, and is stopped by killing the whole group:
 * extension hosts, the language server and file watchers would otherwise outlive it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { groupAlive, killGroupNow, trackProcessGroup, untrackProcessGroup } from './cleanup';
import { tail, VsCodeServerError } from './errors';
import { NODE24_BIN, NODE24_DIR, VSCODE_SERVER_MAIN } from './paths';

export interface VsCodeServerOptions {
  /** A fresh temp dir owned by the test: the server's data, user data, extensions and HOME go under it. */
  root: string;
  /** Where the server's stdout/stderr are copied (server.log). */
  logFile?: string;
  /** How long to wait for the server to listen. */
  startTimeoutMs?: number;
  /** Extra server flags. */
  args?: string[];
  /** Extra environment for the server and its extension hosts. */
  env?: Record<string, string>;
}

export interface VsCodeServerDirs {
  home: string;
  serverData: string;
  userData: string;
  extensions: string;
}

/** A running VS Code server. `stop()` kills its process group and is safe to call more than once. */
export class VsCodeServer {
  private output = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dirs: VsCodeServerDirs,
    readonly command: string,
    private readonly log: WriteStream | undefined,
  ) {}

  /** The address the browser opens. */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** A vscode-remote URI for a path on this machine, as the workbench's payload wants it. */
  remoteUri(absPath: string): string {
    return `vscode-remote://127.0.0.1:${this.port}${absPath}`;
  }

  /** The last lines the server printed (for error messages). */
  outputTail(lines = 30): string {
    return tail(this.output, lines);
  }

  /** The directories used by a server started under `root` (created by `start`). */
  static dirsUnder(root: string): VsCodeServerDirs {
    return {
      home: join(root, 'home'),
      serverData: join(root, 'server-data'),
      userData: join(root, 'user-data'),
      extensions: join(root, 'extensions'),
    };
  }

  /** Starts the server on a free port chosen by the server itself (--port 0) and resolves once it listens. */
  static async start(opts: VsCodeServerOptions): Promise<VsCodeServer> {
    const dirs = VsCodeServer.dirsUnder(opts.root);
    const xdg = {
      XDG_CONFIG_HOME: join(dirs.home, '.config'),
      XDG_DATA_HOME: join(dirs.home, '.local', 'share'),
      XDG_STATE_HOME: join(dirs.home, '.local', 'state'),
      XDG_CACHE_HOME: join(dirs.home, '.cache'),
      XDG_RUNTIME_DIR: join(dirs.home, 'run'),
    };
    for (const d of [...Object.values(dirs), ...Object.values(xdg), join(dirs.home, 'tmp')])
      mkdirSync(d, { recursive: true });
    const args = [
      VSCODE_SERVER_MAIN,
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--without-connection-token',
      '--accept-server-license-terms',
      '--enable-smoke-test-driver',
      '--telemetry-level',
      'off',
      '--server-data-dir',
      dirs.serverData,
      '--user-data-dir',
      dirs.userData,
      '--extensions-dir',
      dirs.extensions,
      ...(opts.args ?? []),
    ];
    const command = [NODE24_BIN, ...args].join(' ');
    const child = spawn(NODE24_BIN, args, {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: serverEnv({ ...opts.env, HOME: dirs.home, TMPDIR: join(dirs.home, 'tmp'), ...xdg }),
    });
    if (child.pid === undefined) throw new VsCodeServerError('could not spawn the VS Code server', command, '');
    trackProcessGroup(child.pid);
    const log = opts.logFile ? createWriteStream(opts.logFile) : undefined;

    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new VsCodeServerError(
              `the VS Code server did not listen within ${opts.startTimeoutMs ?? 60_000} ms`,
              command,
              tail(output, 30),
            ),
          ),
        opts.startTimeoutMs ?? 60_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        log?.write(chunk);
        const m = /Extension host agent listening on (\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new VsCodeServerError(`could not run ${NODE24_BIN}`, command, tail(output, 30), { cause: err }));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new VsCodeServerError(
            `the VS Code server exited before listening (code ${code}, signal ${signal})`,
            command,
            tail(output, 30),
          ),
        );
      });
    }).catch(async (err: unknown) => {
      await stopGroup(child.pid!);
      log?.end();
      throw err;
    });

    const server = new VsCodeServer(child, port, dirs, command, log);
    server.output = output;
    // Keep collecting output after start (the tail goes into error messages).
    child.stdout!.removeAllListeners('data');
    child.stderr!.removeAllListeners('data');
    const collect = (chunk: Buffer) => {
      server.output = tail(server.output + chunk.toString(), 400);
      log?.write(chunk);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.once('exit', () => {
      server.exited = true;
    });
    return server;
  }

  /** True while the server process itself runs. */
  get running(): boolean {
    return !this.exited;
  }

  /** Kills the server's process group (SIGTERM, then SIGKILL after a grace period) and waits until it is empty. */
  async stop(): Promise<void> {
    if (this.child.pid === undefined) return;
    await stopGroup(this.child.pid);
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
  }
}

/** The server's environment: ours minus what would leak into it (a tsx loader, a parent VS Code's variables). */
function serverEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_OPTIONS' || k.startsWith('VSCODE_') || k.startsWith('ELECTRON_') || k === 'NODE_TEST_CONTEXT')
      continue;
    env[k] = v;
  }
  // Node 24 first, so that anything the extension host spawns with `node` gets the same runtime.
  env.PATH = `${join(NODE24_DIR, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  return { ...env, ...overrides };
}

async function stopGroup(pgid: number, graceMs = 5_000): Promise<void> {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    untrackProcessGroup(pgid);
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pgid)) killGroupNow(pgid);
  while (groupAlive(pgid) && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 50));
  untrackProcessGroup(pgid);
}
