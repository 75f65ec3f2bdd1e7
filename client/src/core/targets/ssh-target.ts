/**
 * An SSH target: a Linux box reached with the ssh2 library, the user's ~/.ssh/config, ssh-agent,
 * identity files, known_hosts; the agent deployed once per version, run on an exec channel whose
 * streams go straight to AgentClient. Keepalive detects a dead connection; the base class
 * reconnects with backoff. Closing the channel gives the remote agent EOF: it unloads everything.
 *
 * No `vscode` import.
 */
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Client, ClientChannel, ParsedKey } from 'ssh2';
import {
  AgentClient,
  AgentExitedError,
  agentArgs,
  type AgentClientOptions,
  type AgentLaunchOptions,
} from '../agent/agent-client';
import type { AgentBinary, DeployResult } from './agent-deploy';
import { deployAndStartAgent } from './agent-deploy';
import { KnownHosts } from './known-hosts';
import { SshConfig, type JumpHost } from './ssh-config';
import { connectChain, type SshConnectOptions, type SshEndpoint, type SshPrompts } from './ssh-connect';
import { BaseTarget, parseTargetSpec, type ReconnectPolicy } from './target';
import { SshConnectionLostError, TargetSpecError } from './target-errors';

export interface SshTargetOptions extends SshPrompts, AgentClientOptions, AgentLaunchOptions {
  /** `ssh://user@host[:port]`, `user@host`, or a Host alias of the ssh config. */
  spec: string;
  /** The bundled agent (path and version). */
  agent: AgentBinary;
  /** The ssh config file (default ~/.ssh/config), or a parsed one. */
  sshConfig?: string | SshConfig;
  /** Identity files tried before the config's (as `ssh -i`; the CLI's --identity). */
  identityFiles?: string[];
  /** The known_hosts file to read and write (the CLI's --known-hosts); default: UserKnownHostsFile or ~/.ssh/known_hosts. */
  knownHostsFile?: string;
  /** Write new known_hosts entries hashed. */
  hashKnownHosts?: boolean;
  /** The ssh-agent socket (default SSH_AUTH_SOCK, on Windows the OpenSSH agent's pipe); null: don't use an agent. */
  agentSocket?: string | null;
  /** Keepalive interval (ms; default ServerAliveInterval or 15000) and misses before the connection counts as dead (default 3). */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Time for connect + login per hop, prompts not counted (ms; default ConnectTimeout or 20000). */
  readyTimeoutMs?: number;
  /** Reconnect after a drop (default 5 attempts, 0.5 s doubling to 15 s); false: don't. */
  reconnect?: ReconnectPolicy | false;
  /** Home directory for `~` in the config and the default files (default os.homedir()). */
  homeDir?: string;
  /** Remote cache folder: relative to the remote home, or absolute (default `.cache/bpf-ide/agent`). */
  remoteCacheDir?: string;
}

/** Timings of the last successful connect (ms), and what deployment did. */
export interface SshConnectStats {
  /** TCP + handshake + login, all hops. */
  sshMs: number;
  /** The launcher exec(s), and the upload when there was one: until the agent runs. */
  deployMs: number;
  /** From the agent running to its hello. */
  agentMs: number;
  totalMs: number;
  deploy: DeployResult;
}

/** bpf-agent on a box over SSH. */
export class SshTarget extends BaseTarget {
  readonly kind = 'ssh' as const;
  /** The resolved hops: jump hosts first, the box last. */
  readonly hops: SshEndpoint[];
  /** Timings of the last successful connect. */
  lastConnect: SshConnectStats | undefined;
  private readonly knownHosts: KnownHosts;
  private readonly keyCache = new Map<string, ParsedKey>();
  private session: SshSession | undefined;
  private readonly keepaliveIntervalMs: number;
  private readonly keepaliveCountMax: number;
  private readonly readyTimeoutMs: number;
  private readonly hashKnownHosts: boolean;

  constructor(private readonly options: SshTargetOptions) {
    super(options.reconnect);
    const spec = parseTargetSpec(options.spec);
    if (spec.kind !== 'ssh') throw new TargetSpecError(options.spec, 'not an ssh target');
    const home = options.homeDir ?? homedir();
    const config =
      options.sshConfig instanceof SshConfig ? options.sshConfig : SshConfig.load(options.sshConfig, { homeDir: home });
    const resolved = config.resolve(spec.host);
    const agentSocket =
      options.agentSocket === null
        ? undefined
        : (options.agentSocket ??
          process.env.SSH_AUTH_SOCK ??
          (process.platform === 'win32' ? '\\\\.\\pipe\\openssh-ssh-agent' : undefined));
    const defaultIds = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(home, '.ssh', n));
    const localUser = safeUser();
    const endpoint = (alias: string, over: JumpHost | undefined, isTarget: boolean): SshEndpoint => {
      const c = isTarget ? resolved : config.resolve(alias);
      const ids = [
        ...(options.identityFiles ?? []),
        ...c.identityFiles,
        ...(c.identityFilesFromConfig ? [] : defaultIds),
      ];
      const ia = c.identityAgent;
      return {
        label: alias,
        host: c.hostName,
        port: over?.port ?? c.port ?? 22,
        user: over?.user ?? c.user ?? localUser,
        identityFiles: [...new Set(ids)],
        identitiesOnly: c.identitiesOnly,
        agentSocket: ia === 'none' ? undefined : ia && ia !== 'SSH_AUTH_SOCK' ? ia : agentSocket,
        acceptNewHostKey: c.strictHostKeyChecking === 'accept-new',
      };
    };
    const jumps = resolved.proxyJump.map((j) => endpoint(j.host, j, false));
    this.hops = [...jumps, endpoint(spec.host, { host: spec.host, user: spec.user, port: spec.port }, true)];
    const khFiles = options.knownHostsFile
      ? [options.knownHostsFile]
      : resolved.userKnownHostsFiles.length
        ? resolved.userKnownHostsFiles
        : [join(home, '.ssh', 'known_hosts'), join(home, '.ssh', 'known_hosts2')];
    this.knownHosts = new KnownHosts(options.knownHostsFile ? khFiles : [...khFiles, '/etc/ssh/ssh_known_hosts']);
    this.keepaliveIntervalMs =
      options.keepaliveIntervalMs ?? (resolved.serverAliveIntervalS ? resolved.serverAliveIntervalS * 1000 : 15_000);
    this.keepaliveCountMax = options.keepaliveCountMax ?? resolved.serverAliveCountMax ?? 3;
    this.hashKnownHosts = options.hashKnownHosts ?? resolved.hashKnownHosts ?? false;
    this.readyTimeoutMs =
      options.readyTimeoutMs ?? (resolved.connectTimeoutS ? resolved.connectTimeoutS * 1000 : 20_000);
  }

  /** The box itself (the last hop). */
  get endpoint(): SshEndpoint {
    return this.hops[this.hops.length - 1];
  }

  describe(): string {
    const ep = this.endpoint;
    const box = `${ep.user}@${ep.host}${ep.port === 22 ? '' : `:${ep.port}`}`;
    const via = this.hops.slice(0, -1).map((h) => h.label);
    return via.length ? `${box} via ${via.join(', ')}` : box;
  }

  protected async open(generation: number): Promise<AgentClient> {
    const t0 = Date.now();
    const ep = this.endpoint;
    const connectOpts: SshConnectOptions = {
      knownHosts: this.knownHosts,
      hashKnownHosts: this.hashKnownHosts,
      readyTimeoutMs: this.readyTimeoutMs,
      keepaliveIntervalMs: this.keepaliveIntervalMs,
      keepaliveCountMax: this.keepaliveCountMax,
      keyCache: this.keyCache,
      passphrase: this.options.passphrase,
      password: this.options.password,
      confirmUnknownHost: this.options.confirmUnknownHost,
      secretAccepted: this.options.secretAccepted,
      log: (l) => this.log(l),
    };
    const clients = await connectChain(this.hops, connectOpts);
    const session: SshSession = { clients, closed: false };
    const endSession = () => {
      session.closed = true;
      session.channel?.close();
      for (const c of [...clients].reverse()) c.end();
    };
    if (this.stale(generation)) {
      endSession();
      throw new Error(`${this.describe()}: disconnected while connecting`);
    }
    // from here on disconnect() can reach this connection (close() ends this.session)
    this.session = session;
    for (const c of clients) {
      c.on('error', (err: Error) => {
        session.dropReason ??= err.message;
        this.log(`ssh: ${err.message}`);
      });
      c.on('close', () => {
        session.dropReason ??= session.closed ? 'closed by bpf-ide' : 'the connection closed';
        // a jump host going away takes the box's connection with it
        for (const other of clients) if (other !== c) other.end();
      });
    }
    const conn = clients[clients.length - 1];
    const tSsh = Date.now();

    this.setState('deploying', `deploying the agent to ${this.describe()}`);
    const ctx = {
      host: ep.host,
      port: ep.port,
      user: ep.user,
      log: (l: string) => this.log(l),
      cacheDir: this.options.remoteCacheDir,
      agentArgs: agentArgs(this.options),
    };
    const { channel, output, deploy } = await deployAndStartAgent(conn, this.options.agent, ctx);
    session.channel = channel;
    if (this.stale(generation) || session.closed) {
      endSession();
      throw new Error(`${this.describe()}: disconnected while connecting`);
    }
    const tDeploy = Date.now();
    channel.on('error', (err: Error) => this.log(`agent channel: ${err.message}`));
    const agent = new AgentClient({ input: channel, output, stderr: channel.stderr }, this.options);
    reportConnectionLoss(agent, () => this.connectionLost(session));
    agent.on('stderr', (t) => this.log(`agent: ${t.trimEnd()}`));
    try {
      const hello = await agent.hello;
      if (!hello.privileges.privileged) {
        this.log(`the agent on ${ep.host} runs without BPF privileges (uid ${hello.privileges.uid}): loads will fail`);
      }
    } catch (err) {
      endSession();
      throw err;
    }
    const now = Date.now();
    this.lastConnect = {
      sshMs: tSsh - t0,
      deployMs: tDeploy - tSsh,
      agentMs: now - tDeploy,
      totalMs: now - t0,
      deploy,
    };
    this.log(
      `connected to ${this.describe()} in ${now - t0} ms (ssh ${tSsh - t0}, deploy ${tDeploy - tSsh}${deploy.uploaded ? ' with upload' : ''}, agent ${now - tDeploy})`,
    );
    return agent;
  }

  protected async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (!session || session.closed) return;
    session.closed = true;
    // EOF, then close: the agent sees its stdin end and releases everything
    try {
      session.channel?.end();
      session.channel?.close();
    } catch {
      // already gone
    }
    for (const c of [...session.clients].reverse()) c.end();
  }

  /** When the connection (not just the agent) went away: the error that says so; else undefined. */
  private async connectionLost(session: SshSession): Promise<Error | undefined> {
    // the channel's close races with the connection's error/close: give those a moment to land
    if (!session.dropReason) {
      const conn = session.clients[session.clients.length - 1];
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 100);
        function done() {
          clearTimeout(t);
          conn.off('close', done);
          resolve();
        }
        conn.once('close', done);
      });
    }
    const ep = this.endpoint;
    return session.dropReason && !session.closed
      ? new SshConnectionLostError(ep.host, ep.port, session.dropReason)
      : undefined;
  }

  protected async lostError(agent: AgentClient): Promise<Error> {
    const session = this.session;
    const lost = session ? await this.connectionLost(session) : undefined;
    if (lost) return lost;
    try {
      await AgentClient.prototype.request.call(agent, 'ping', {} as never);
    } catch (err) {
      return err as Error;
    }
    return new AgentExitedError(null, null, '');
  }
}

/** One SSH connection (all hops) and the agent's channel on it. */
interface SshSession {
  clients: Client[];
  channel?: ClientChannel;
  /** Why the connection ended, when it ended without being asked to. */
  dropReason?: string;
  /** Closed by us (disconnect, or a failed connect). */
  closed: boolean;
}

/**
 * Makes the agent's requests fail with SshConnectionLostError (its `cause` the AgentExitedError)
 * when they fail because the SSH connection dropped: "the connection was lost" says what happened,
 * "the agent exited" would not. Wraps the instance's method, whatever its exact signature.
 */
function reportConnectionLoss(agent: AgentClient, lost: () => Promise<Error | undefined>): void {
  const original = agent.request.bind(agent) as (...args: unknown[]) => Promise<unknown>;
  const wrapped = async (...args: unknown[]): Promise<unknown> => {
    try {
      return await original(...args);
    } catch (err) {
      if (err instanceof AgentExitedError) {
        const e = await lost();
        if (e) {
          (e as { cause?: unknown }).cause = err;
          e.message += ` (${String(args[0])} did not complete)`;
          throw e;
        }
      }
      throw err;
    }
  };
  (agent as unknown as { request: typeof wrapped }).request = wrapped;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}
