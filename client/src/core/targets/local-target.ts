/**
 * The `local` target: bpf-agent as a child process of this one. As root it runs directly;
 * otherwise through `sudo -n` (never a password prompt, never a hang), after checking that sudo
 * allows it, and with a LocalPrivilegeError that says how to fix it when it does not.
 *
 * No `vscode` import.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { AgentClient, agentArgs, type AgentClientOptions, type AgentLaunchOptions } from '../agent/agent-client';
import { BaseTarget, type ReconnectPolicy } from './target';
import { LocalPrivilegeError, TargetError } from './target-errors';

export interface LocalTargetOptions extends AgentClientOptions, AgentLaunchOptions {
  /** The bundled bpf-agent binary. */
  agentPath: string;
  /**
   * `auto` (default): directly as root, through `sudo -n` otherwise.
   * `always`: through `sudo -n` even as root. `never`: directly (the agent reports missing privileges in hello).
   */
  sudo?: 'auto' | 'always' | 'never';
  /** The sudo command (default `sudo` from PATH). */
  sudoPath?: string;
  /** Respawn the agent after it dies unexpectedly (default: 3 attempts with backoff); false: don't. */
  reconnect?: ReconnectPolicy | false;
}

/** Runs `cmd args`, resolving with its exit code and stderr; a spawn error (ENOENT) rejects. */
function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** bpf-agent on this machine. */
export class LocalTarget extends BaseTarget {
  readonly kind = 'local' as const;
  private child: AgentClient | undefined;
  /** True once `sudo -n` was seen to work (checked once per target). */
  private sudoChecked = false;

  constructor(private readonly options: LocalTargetOptions) {
    super(options.reconnect ?? { maxAttempts: 3 });
  }

  describe(): string {
    return 'local';
  }

  /** Whether the agent will be started through sudo. */
  get usesSudo(): boolean {
    const mode = this.options.sudo ?? 'auto';
    return mode === 'always' || (mode === 'auto' && process.getuid?.() !== 0);
  }

  protected async open(): Promise<AgentClient> {
    if (process.platform !== 'linux') {
      throw new TargetError(
        `the local target runs BPF programs on this machine, which needs Linux (this is ${process.platform}). Use an SSH target.`,
        'local',
      );
    }
    const bin = this.options.agentPath;
    try {
      accessSync(bin, constants.X_OK);
    } catch (err) {
      throw new TargetError(
        `the agent binary ${bin} is missing or not executable. Build it with \`make -C remote-agent\` (or \`npm run build\`).`,
        'local',
        { cause: err },
      );
    }
    const sudo = this.usesSudo;
    if (sudo && !this.sudoChecked) await this.checkSudo(bin);
    this.log(`starting ${sudo ? 'sudo -n ' : ''}${bin}`);
    const client = sudo
      ? spawnWithSudo(this.options.sudoPath ?? 'sudo', bin, this.options)
      : AgentClient.spawn(bin, { ...this.clientOptions(), args: agentArgs(this.options) });
    this.child = client;
    client.on('stderr', (t) => this.log(`agent: ${t.trimEnd()}`));
    try {
      const hello = await client.hello;
      if (!hello.privileges.privileged) {
        this.log(`the agent runs without BPF privileges (uid ${hello.privileges.uid}): loads will fail`);
      }
    } catch (err) {
      client.endInput();
      client.child?.kill('SIGKILL');
      throw err;
    }
    return client;
  }

  private clientOptions(): AgentClientOptions {
    return { requestTimeoutMs: this.options.requestTimeoutMs, helloTimeoutMs: this.options.helloTimeoutMs };
  }

  /** `sudo -n agent --version`: proves sudo lets this user run exactly this binary without a password. */
  private async checkSudo(bin: string): Promise<void> {
    const sudo = this.options.sudoPath ?? 'sudo';
    let r;
    try {
      r = await run(sudo, ['-n', bin, '--version'], 10_000);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LocalPrivilegeError(code === 'ENOENT' ? 'sudo is not installed' : `sudo could not run (${code})`, {
        cause: err,
      });
    }
    if (r.code !== 0) {
      const said = r.stderr.trim().split('\n').slice(-1)[0] || `exit code ${r.code}`;
      throw new LocalPrivilegeError(`\`sudo -n\` refused to run the agent (${said})`);
    }
    this.sudoChecked = true;
  }

  protected async close(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c || c.isClosed) return;
    // stdin already closed by disconnect(); a hung agent gets SIGTERM, then SIGKILL
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.endInput();
    const t1 = setTimeout(() => c.child?.kill('SIGTERM'), 3000);
    const t2 = setTimeout(() => c.child?.kill('SIGKILL'), 6000);
    await closed;
    clearTimeout(t1);
    clearTimeout(t2);
  }

  protected async lostError(agent: AgentClient): Promise<Error> {
    try {
      await agent.request('ping', {});
    } catch (err) {
      return err as Error;
    }
    return new TargetError('the local agent stopped', 'local');
  }
}

/** AgentClient.spawn with sudo, but with a sudo path of our choosing. */
function spawnWithSudo(sudoPath: string, bin: string, options: LocalTargetOptions): AgentClient {
  const clientOptions = { requestTimeoutMs: options.requestTimeoutMs, helloTimeoutMs: options.helloTimeoutMs };
  const args = agentArgs(options);
  if (sudoPath === 'sudo') return AgentClient.spawn(bin, { ...clientOptions, sudo: true, args });
  const child = spawn(sudoPath, ['-n', bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const client = new AgentClient(
    { input: child.stdin, output: child.stdout, stderr: child.stderr },
    clientOptions,
    child,
  );
  child.on('error', () => client.endInput());
  return client;
}
