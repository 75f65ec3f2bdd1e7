/**
 * A target is where bpf-agent runs: this machine (`local`) or a Linux box over SSH. A target
 * hands out a connected AgentClient (hello received), reports its state as events, reconnects
 * with exponential backoff when the agent or the connection drops, and releases everything when
 * disposed (closing the agent's stdin makes it unload all it loaded).
 *
 * No `vscode` import: the extension, the CLI and the tests all use this.
 */
import { EventEmitter } from 'node:events';
import type { AgentClient } from '../agent/agent-client';
import type { HelloEvent } from '../agent/agent-protocol';
import { parseHostSpec } from './ssh-config';
import { TargetError, TargetSpecError } from './target-errors';

/** Where a target is in its life. */
export type TargetState = 'disconnected' | 'connecting' | 'deploying' | 'connected' | 'reconnecting' | 'failed';

/** One state change, with a message for a status bar or a log. */
export interface TargetStateChange {
  state: TargetState;
  previous: TargetState;
  /** Human text: what is happening or what went wrong. */
  message: string;
  /** The error behind `failed` or `reconnecting`. */
  error?: Error;
  /** For `reconnecting`: the attempt about to be made (1-based) and the delay before it. */
  attempt?: number;
  delayMs?: number;
}

/** Typed events of every target. */
export interface TargetEvents {
  /** The state changed. */
  state: [TargetStateChange];
  /** A (new) agent is connected: after connect() and after every successful reconnect. */
  agent: [AgentClient];
  /** The agent or the connection dropped; everything it had loaded is gone on the box. */
  lost: [Error];
  /** Progress and diagnostics for an output channel (never secrets). */
  log: [string];
}

/** Reconnection policy: exponential backoff, bounded attempts. */
export interface ReconnectPolicy {
  /** Attempts after a drop before giving up (state `failed`). Default 5. */
  maxAttempts?: number;
  /** Delay before the first attempt (ms). Default 500. */
  initialDelayMs?: number;
  /** Cap of the delay (ms). Default 15000. */
  maxDelayMs?: number;
}

/** The interface the extension and the CLI program against. */
export interface Target {
  readonly kind: 'local' | 'ssh' | 'vm';
  readonly state: TargetState;
  /** The connected agent, when state is `connected`. */
  readonly agent: AgentClient | undefined;
  /** The hello of the connected agent. */
  readonly hello: HelloEvent | undefined;
  /** Connects (deploying the agent if needed) and resolves once the agent's hello arrived. Idempotent. */
  connect(): Promise<AgentClient>;
  /** Closes the agent (it releases everything it loaded) and the connection; connect() may be called again. */
  disconnect(): Promise<void>;
  /** disconnect(), and no reconnection ever after. */
  dispose(): Promise<void>;
  /** `local`, or `user@host:port` (and the jump hosts). */
  describe(): string;
  on<K extends keyof TargetEvents>(event: K, listener: (...args: TargetEvents[K]) => void): this;
  once<K extends keyof TargetEvents>(event: K, listener: (...args: TargetEvents[K]) => void): this;
  off<K extends keyof TargetEvents>(event: K, listener: (...args: TargetEvents[K]) => void): this;
}

/** A parsed target spec. */
export type TargetSpec =
  | { kind: 'local' }
  /** `vm:6.1`, `vm:6.12`, `vm:<cached release>`, `vm:/path/to/vmlinuz` */
  | { kind: 'vm'; kernel: string; spec: string }
  | {
      kind: 'ssh';
      /** As written: an alias (looked up in ~/.ssh/config) or a host name / address. */
      host: string;
      user?: string;
      port?: number;
      /** The spec as the user wrote it. */
      spec: string;
    };

/**
 * Parses `local`, `vm:<kernel>`, `ssh://user@host[:port]` (user and port optional), and plain ssh config Host
 * aliases (`box`, `user@box`). Every ssh form is still looked up in ~/.ssh/config, as ssh does.
 */
export function parseTargetSpec(spec: string): TargetSpec {
  const s = spec.trim();
  if (!s) throw new TargetSpecError(spec, 'empty');
  if (s === 'local') return { kind: 'local' };
  if (s.startsWith('vm:')) {
    const kernel = s.slice(3);
    if (!kernel) throw new TargetSpecError(spec, 'vm: needs a kernel: vm:6.1, vm:6.12 or vm:/path/to/vmlinuz');
    return { kind: 'vm', kernel, spec: s };
  }
  if (/\s/.test(s)) throw new TargetSpecError(spec, 'white space in a host');
  if (s.startsWith('-')) throw new TargetSpecError(spec, 'a host can not start with "-"');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s) && !s.startsWith('ssh://')) {
    throw new TargetSpecError(spec, `unknown scheme ${s.slice(0, s.indexOf(':'))}`);
  }
  if (s.startsWith('ssh://') && /\/./.test(s.slice(6))) throw new TargetSpecError(spec, 'a path is not allowed');
  let hop;
  try {
    hop = parseHostSpec(s);
  } catch (err) {
    throw new TargetSpecError(spec, (err as Error).message);
  }
  if (!hop.host) throw new TargetSpecError(spec, 'no host');
  if (hop.user === '') throw new TargetSpecError(spec, 'empty user name');
  return { kind: 'ssh', host: hop.host, user: hop.user, port: hop.port, spec: s };
}

/** Errors after which retrying is pointless (a changed host key, a refused login, ...). */
export function isFatalTargetError(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return (
    name === 'HostKeyChangedError' ||
    name === 'HostKeyUnknownError' ||
    name === 'SshAuthError' ||
    name === 'UnsupportedArchitectureError' ||
    name === 'RemoteSudoError' ||
    name === 'LocalPrivilegeError' ||
    name === 'TargetSpecError' ||
    name === 'AgentSpawnError' ||
    name === 'AgentProtocolError' ||
    name === 'QemuMissingError' ||
    name === 'NotAKernelError' ||
    name === 'UnknownKernelError' ||
    name === 'KernelFetchError' ||
    name === 'InitramfsError' ||
    name === 'GuestFailureError'
  );
}

/**
 * The state machine shared by all targets: connect once at a time, watch the agent, reconnect
 * with backoff after a drop, dispose. Subclasses supply open() and close().
 */
export abstract class BaseTarget extends EventEmitter<TargetEvents> implements Target {
  abstract readonly kind: 'local' | 'ssh' | 'vm';
  private _state: TargetState = 'disconnected';
  private _agent: AgentClient | undefined;
  private _hello: HelloEvent | undefined;
  private connecting: Promise<AgentClient> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryWake: (() => void) | undefined;
  private reconnectActive = false;
  /** Bumped by disconnect(): a connect or reconnect loop of an older generation stops. */
  private generation = 0;
  protected disposed = false;
  private readonly policy: Required<ReconnectPolicy> | null;

  constructor(reconnect: ReconnectPolicy | false | undefined) {
    super();
    this.policy =
      reconnect === false
        ? null
        : {
            maxAttempts: reconnect?.maxAttempts ?? 5,
            initialDelayMs: reconnect?.initialDelayMs ?? 500,
            maxDelayMs: reconnect?.maxDelayMs ?? 15_000,
          };
  }

  get state(): TargetState {
    return this._state;
  }
  get agent(): AgentClient | undefined {
    return this._state === 'connected' ? this._agent : undefined;
  }
  get hello(): HelloEvent | undefined {
    return this._hello;
  }

  abstract describe(): string;

  /** Starts the agent (connecting and deploying as needed) and resolves once its hello arrived. */
  protected abstract open(generation: number): Promise<AgentClient>;
  /** Releases the transport (the agent's stdin is already closed). */
  protected abstract close(): Promise<void>;
  /** The error to report when the agent's streams closed without being asked to. */
  protected abstract lostError(agent: AgentClient): Promise<Error>;

  protected setState(state: TargetState, message: string, extra: Partial<TargetStateChange> = {}): void {
    const previous = this._state;
    this._state = state;
    this.emit('state', { state, previous, message, ...extra });
  }

  protected log(line: string): void {
    this.emit('log', line);
  }

  /** True when the given generation was superseded by disconnect()/dispose(). */
  protected stale(generation: number): boolean {
    return generation !== this.generation || this.disposed;
  }

  connect(): Promise<AgentClient> {
    if (this.disposed) return Promise.reject(new Error(`${this.describe()}: the target was disposed`));
    if (this._state === 'connected' && this._agent && !this._agent.isClosed) return Promise.resolve(this._agent);
    if (this.connecting) return this.connecting;
    // a reconnect loop is running: wake it if it is waiting, and share its outcome
    if (this.reconnectActive) {
      const p = new Promise<AgentClient>((resolve, reject) => {
        const onAgent = (a: AgentClient) => {
          this.off('state', onState);
          resolve(a);
        };
        const onState = (s: TargetStateChange) => {
          if (s.state === 'failed' || s.state === 'disconnected') {
            this.off('agent', onAgent);
            this.off('state', onState);
            reject(s.error ?? new Error(s.message));
          }
        };
        this.once('agent', onAgent);
        this.on('state', onState);
      });
      this.retryWake?.();
      return p;
    }
    const gen = this.generation;
    this.setState('connecting', `connecting to ${this.describe()}`);
    this.connecting = this.open(gen)
      .then((agent) => {
        this.connecting = undefined;
        if (this.stale(gen)) {
          // disconnect() came while open() was finishing: this agent is nobody's
          agent.endInput();
          throw new TargetError(`${this.describe()}: disconnected while connecting`, this.describe());
        }
        this.adopt(agent, gen);
        return agent;
      })
      .catch((err: Error) => {
        this.connecting = undefined;
        if (this.stale(gen)) {
          // whatever broke, it broke because disconnect() pulled the connection away
          throw new TargetError(`${this.describe()}: disconnected while connecting`, this.describe(), { cause: err });
        }
        this.setState('failed', err.message, { error: err });
        void this.close().catch(() => undefined);
        throw err;
      });
    return this.connecting;
  }

  private adopt(agent: AgentClient, gen: number): void {
    this._agent = agent;
    void agent.hello.then((h) => (this._hello = h));
    agent.once('close', () => void this.onAgentClosed(agent, gen));
    this.setState('connected', `connected to ${this.describe()}`);
    this.emit('agent', agent);
  }

  private async onAgentClosed(agent: AgentClient, gen: number): Promise<void> {
    if (this.stale(gen) || agent !== this._agent) return;
    const err = await this.lostError(agent);
    if (this.stale(gen) || agent !== this._agent) return;
    this._agent = undefined;
    this.log(err.message);
    this.emit('lost', err);
    await this.close().catch(() => undefined);
    if (!this.policy || this.disposed) {
      this.setState('disconnected', err.message, { error: err });
      return;
    }
    await this.reconnectLoop(err, gen);
  }

  private async reconnectLoop(cause: Error, gen: number): Promise<void> {
    this.reconnectActive = true;
    try {
      await this.reconnectAttempts(cause, gen);
    } finally {
      this.reconnectActive = false;
    }
  }

  private async reconnectAttempts(cause: Error, gen: number): Promise<void> {
    const p = this.policy!;
    let last: Error = cause;
    for (let attempt = 1; attempt <= p.maxAttempts; attempt++) {
      const delayMs = Math.min(p.initialDelayMs * 2 ** (attempt - 1), p.maxDelayMs);
      this.setState(
        'reconnecting',
        `${last.message}; reconnecting (attempt ${attempt} of ${p.maxAttempts}) in ${delayMs} ms`,
        {
          error: last,
          attempt,
          delayMs,
        },
      );
      await new Promise<void>((resolve) => {
        this.retryWake = () => {
          clearTimeout(this.retryTimer);
          this.retryWake = undefined;
          resolve();
        };
        this.retryTimer = setTimeout(() => this.retryWake?.(), delayMs);
      });
      if (this.stale(gen)) return;
      try {
        const agent = await this.open(gen);
        if (this.stale(gen)) {
          agent.endInput();
          return;
        }
        this.adopt(agent, gen);
        return;
      } catch (err) {
        last = err as Error;
        this.log(`reconnect attempt ${attempt} failed: ${last.message}`);
        await this.close().catch(() => undefined);
        if (this.stale(gen)) return;
        if (isFatalTargetError(err)) break;
      }
    }
    this.setState('failed', `gave up reconnecting to ${this.describe()}: ${last.message}`, { error: last });
  }

  async disconnect(): Promise<void> {
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryWake?.();
    const agent = this._agent;
    this._agent = undefined;
    if (agent && !agent.isClosed) {
      // EOF on stdin: the agent releases everything it loaded, then exits
      const closed = new Promise<void>((resolve) => agent.once('close', () => resolve()));
      agent.endInput();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    }
    await this.close().catch(() => undefined);
    if (this._state !== 'disconnected') this.setState('disconnected', `disconnected from ${this.describe()}`);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    await this.disconnect();
    this.disposed = true;
    this.removeAllListeners();
  }
}
