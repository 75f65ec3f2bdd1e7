/**
 * AgentClient: talks to bpf-agent over any pair of streams (a local child process, an ssh2
 * exec channel, kubectl exec). Every line is validated against the protocol schema, replies
 * are matched to requests by id, and stream events are emitted as typed events.
 *
 * No `vscode` import: usable from the extension, the CLI and tests alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import {
  AgentEvent,
  HelloEvent,
  PROTOCOL_VERSION,
  ReplyError,
  ReplyOk,
  resultSchema,
  type EventsDroppedEvent,
  type LoadProgressEvent,
  type LogEvent,
  type MapSnapshotEvent,
  type Method,
  type MethodParams,
  type RequestId,
  type ResultFor,
  type RingbufEvent,
  type TraceLineEvent,
} from './agent-protocol';
import {
  AgentExitedError,
  AgentProtocolError,
  AgentRequestError,
  AgentSpawnError,
  AgentTimeoutError,
} from './agent-errors';
import type { z } from '../zod-setup';

export * from './agent-errors';

/** The streams of a running agent: its stdin, its stdout, and optionally its stderr. */
export interface AgentStreams {
  input: Writable;
  output: Readable;
  stderr?: Readable | null;
}

export interface AgentClientOptions {
  /** Default time limit per request (ms). Loads of big programs can take seconds. */
  requestTimeoutMs?: number;
  /** Time limit for the agent's first line (ms). */
  helloTimeoutMs?: number;
  /**
   * Ping the agent when nothing was sent for a while (default true), so that an agent with an idle
   * timeout (hello's `idle_timeout_s`) knows this client is alive. A silent network drop stops the
   * pings, and the agent releases everything within its timeout. False: stay silent (tests of that).
   */
  keepalive?: boolean;
}

/** How the agent is started: its command-line options (the same for every target). */
export interface AgentLaunchOptions {
  /** The agent's `--idle-timeout` in seconds (0: never). Default: the agent's own, 30 s. */
  idleTimeoutSeconds?: number;
}

/** The agent's command-line arguments for these options. */
export function agentArgs(o: AgentLaunchOptions): string[] {
  const t = o.idleTimeoutSeconds;
  return t === undefined || !Number.isFinite(t) ? [] : ['--idle-timeout', String(Math.max(0, Math.floor(t)))];
}

/** How often a quiet client pings: a third of the agent's idle timeout, between 250 ms and 5 s. */
export function keepaliveIntervalMs(idleTimeoutS: number): number {
  return Math.min(5000, Math.max(250, Math.floor((idleTimeoutS * 1000) / 3)));
}

export interface SpawnAgentOptions extends AgentClientOptions {
  args?: string[];
  /** Run through `sudo -n` (for a non-root user on the local machine). */
  sudo?: boolean;
  env?: NodeJS.ProcessEnv;
}

/** Typed events of AgentClient. */
export interface AgentClientEvents {
  hello: [HelloEvent];
  event: [AgentEvent];
  map_snapshot: [MapSnapshotEvent];
  ringbuf_event: [RingbufEvent];
  events_dropped: [z.infer<typeof EventsDroppedEvent>];
  trace_line: [TraceLineEvent];
  log: [z.infer<typeof LogEvent>];
  load_progress: [LoadProgressEvent];
  protocol_error: [AgentProtocolError];
  stderr: [string];
  close: [{ exitCode: number | null; signal: string | null }];
}

interface Pending {
  method: Method;
  params: unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

const STDERR_TAIL = 8192;

/** A connection to one bpf-agent. */
export class AgentClient extends EventEmitter<AgentClientEvents> {
  /** Resolves with the agent's hello line; rejects if the agent dies or says nothing. */
  readonly hello: Promise<HelloEvent>;
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  private chunks: Buffer[] = [];
  private stderrTail = '';
  private closed = false;
  private closeInfo: { exitCode: number | null; signal: string | null } = { exitCode: null, signal: null };
  private readonly requestTimeoutMs: number;
  private helloResolve!: (h: HelloEvent) => void;
  private helloReject!: (e: Error) => void;
  private helloSeen = false;
  private helloTimer?: NodeJS.Timeout;
  private keepaliveTimer?: NodeJS.Timeout;
  private lastWriteAt = Date.now();
  private readonly keepalive: boolean;

  /** Spawns the agent binary as a child process and connects to it. */
  static spawn(binary: string, options: SpawnAgentOptions = {}): AgentClient {
    const cmd = options.sudo ? 'sudo' : binary;
    const args = options.sudo ? ['-n', binary, ...(options.args ?? [])] : (options.args ?? []);
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const client = new AgentClient({ input: child.stdin, output: child.stdout, stderr: child.stderr }, options, child);
    child.on('error', (err) => client.fail(new AgentSpawnError([cmd, ...args].join(' '), { cause: err })));
    child.on('exit', (code, signal) => {
      client.closeInfo = { exitCode: code, signal };
    });
    return client;
  }

  constructor(
    private readonly streams: AgentStreams,
    options: AgentClientOptions = {},
    /** The child process, when this client spawned the agent. */
    readonly child?: ChildProcess,
  ) {
    super();
    this.requestTimeoutMs = options.requestTimeoutMs ?? 120_000;
    this.keepalive = options.keepalive ?? true;
    this.hello = new Promise<HelloEvent>((resolve, reject) => {
      this.helloResolve = resolve;
      this.helloReject = reject;
    });
    // an unobserved hello failure must not crash the process; request() reports it too
    this.hello.catch(() => undefined);
    this.helloTimer = setTimeout(
      () => this.helloReject(new AgentTimeoutError('hello', options.helloTimeoutMs ?? 15_000)),
      options.helloTimeoutMs ?? 15_000,
    );
    this.helloTimer.unref?.(); // the streams keep a live agent's process going, not this timer
    streams.output.on('data', (chunk: Buffer) => this.onData(chunk));
    streams.output.on('end', () => this.onClose());
    streams.output.on('close', () => this.onClose());
    streams.input.on('error', () => undefined); // EPIPE after the agent died: reported by onClose
    streams.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
      this.emit('stderr', text);
    });
  }

  /** The agent's process id (from hello; the local child's pid before that). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True once the agent's output has closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends one request and resolves with its validated result. */
  async request<M extends Method, P extends MethodParams[M]>(
    method: M,
    params: P,
    options: { timeoutMs?: number; onId?: (id: number) => void } = {},
  ): Promise<ResultFor<M, P>> {
    if (this.closed) throw this.exitedError();
    const id = this.nextId++;
    options.onId?.(id);
    const line = JSON.stringify({ id, method, params }) + '\n';
    return new Promise<ResultFor<M, P>>((resolve, reject) => {
      const p: Pending = { method, params, resolve: resolve as (v: unknown) => void, reject };
      const ms = options.timeoutMs ?? this.requestTimeoutMs;
      if (ms > 0 && Number.isFinite(ms)) {
        p.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new AgentTimeoutError(method, ms));
        }, ms);
      }
      this.pending.set(id, p);
      this.write(line);
    });
  }

  /** Writes a raw line (for tests of the agent's handling of bad input). */
  writeRaw(text: string): void {
    this.write(text);
  }

  private write(text: string): void {
    this.lastWriteAt = Date.now();
    this.streams.input.write(text);
  }

  /** Pings when nothing else was sent for an interval; the reply (id "keepalive") is matched to no request. */
  private startKeepalive(idleTimeoutS: number | undefined): void {
    if (!this.keepalive || !idleTimeoutS || this.keepaliveTimer) return;
    const every = keepaliveIntervalMs(idleTimeoutS);
    this.keepaliveTimer = setInterval(() => {
      if (this.closed || Date.now() - this.lastWriteAt < every) return;
      this.write('{"id":"keepalive","method":"ping","params":{}}\n');
    }, every);
    this.keepaliveTimer.unref?.(); // a live agent's streams keep the process going, not this timer
  }

  /** Asks the agent to release everything and exit; waits for its output to close. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.once('close', () => resolve()));
    try {
      await this.request('shutdown', {}, { timeoutMs });
    } catch {
      // the agent may already be gone
    }
    this.streams.input.end();
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await closed;
    clearTimeout(timer);
  }

  /** Closes the agent's stdin: the agent cleans up and exits (as when an ssh session drops). */
  endInput(): void {
    this.streams.input.end();
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      let buf = chunk.subarray(start, nl);
      if (this.chunks.length) {
        this.chunks.push(buf);
        buf = Buffer.concat(this.chunks);
        this.chunks = [];
      }
      start = nl + 1;
      if (buf.length) this.onLine(buf.toString('utf8'));
    }
    if (start < chunk.length) this.chunks.push(chunk.subarray(start));
  }

  private onLine(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      this.protocolError('the agent wrote a line that is not JSON', line, err);
      return;
    }
    if (typeof raw !== 'object' || raw === null) {
      this.protocolError('the agent wrote a JSON line that is not an object', line);
      return;
    }
    // Dispatch on the shape first (faster than trying every union member), then validate.
    if ('event' in raw) {
      const ev = AgentEvent.safeParse(raw);
      if (!ev.success) {
        const issue = ev.error.issues[0];
        this.protocolError(
          `invalid ${String((raw as { event: unknown }).event)} event at ${issue?.path.join('.')}: ${issue?.message}`,
          line,
          ev.error,
        );
        return;
      }
      this.onEvent(ev.data);
      return;
    }
    if ('error' in raw) {
      const r = ReplyError.safeParse(raw);
      if (!r.success) {
        // an error this client cannot read (a newer agent's code): still the answer to its request, which
        // must fail now rather than wait out its timeout
        const rid = (raw as { id?: unknown }).id;
        const p = typeof rid === 'number' || typeof rid === 'string' ? this.pending.get(rid) : undefined;
        const err = new AgentProtocolError('invalid error reply', line.slice(0, 500), { cause: r.error });
        if (p) {
          this.settle(rid as RequestId, p);
          p.reject(err);
        }
        this.protocolError('invalid error reply', line, r.error);
        return;
      }
      const p = r.data.id === null ? undefined : this.pending.get(r.data.id);
      if (!p) {
        // an error for no request (unparseable input we sent): surface it
        this.protocolError(`agent error without a pending request: ${r.data.error.message}`, line);
        return;
      }
      this.settle(r.data.id!, p);
      p.reject(new AgentRequestError(p.method, r.data.id!, r.data.error));
      return;
    }
    const r = ReplyOk.safeParse(raw);
    if (!r.success) {
      this.protocolError('a line that is neither a reply nor an event', line, r.error);
      return;
    }
    const p = this.pending.get(r.data.id);
    if (!p) return; // the reply to a request that timed out
    this.settle(r.data.id, p);
    const result = resultSchema(p.method, p.params).safeParse(r.data.result);
    if (!result.success) {
      const issue = result.error.issues[0];
      const where = issue ? ` at ${issue.path.join('.') || '(root)'}: ${issue.message}` : '';
      const err = new AgentProtocolError(`invalid result for ${p.method}${where}`, line.slice(0, 500), {
        cause: result.error,
      });
      this.emit('protocol_error', err);
      p.reject(err);
      return;
    }
    p.resolve(result.data);
  }

  private onEvent(ev: AgentEvent): void {
    switch (ev.event) {
      case 'hello':
        if (this.helloSeen) break;
        this.helloSeen = true;
        clearTimeout(this.helloTimer);
        if (ev.protocol !== PROTOCOL_VERSION) {
          this.helloReject(
            new AgentProtocolError(
              `the agent speaks protocol ${ev.protocol}, this client ${PROTOCOL_VERSION}: update the agent`,
              JSON.stringify(ev).slice(0, 500),
            ),
          );
        } else {
          this.helloResolve(ev);
          this.startKeepalive(ev.idle_timeout_s);
        }
        this.emit('hello', ev);
        break;
      case 'map_snapshot':
        this.emit('map_snapshot', ev);
        break;
      case 'ringbuf_event':
        this.emit('ringbuf_event', ev);
        break;
      case 'events_dropped':
        this.emit('events_dropped', ev);
        break;
      case 'trace_line':
        this.emit('trace_line', ev);
        break;
      case 'log':
        this.emit('log', ev);
        break;
      case 'load_progress':
        this.emit('load_progress', ev);
        break;
      case 'bye':
        break;
    }
    this.emit('event', ev);
  }

  private settle(id: RequestId, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
  }

  private protocolError(message: string, line: string, cause?: unknown): void {
    const err = new AgentProtocolError(message, line.slice(0, 500), cause ? { cause } : undefined);
    if (this.listenerCount('protocol_error')) this.emit('protocol_error', err);
  }

  private exitedError(cause?: unknown): AgentExitedError {
    return new AgentExitedError(
      this.closeInfo.exitCode,
      this.closeInfo.signal,
      this.stderrTail,
      cause ? { cause } : undefined,
    );
  }

  private fail(err: Error): void {
    this.helloReject(err);
    for (const [id, p] of this.pending) {
      this.settle(id, p);
      p.reject(err);
    }
    this.onClose();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.helloTimer);
    clearInterval(this.keepaliveTimer);
    const finish = () => {
      const err = this.exitedError();
      this.helloReject(err);
      for (const [id, p] of this.pending) {
        this.settle(id, p);
        p.reject(err);
      }
      this.emit('close', this.closeInfo);
    };
    // a child's exit status arrives just after its stdout closes: wait for it when we can
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.once('exit', (code, signal) => {
        this.closeInfo = { exitCode: code, signal };
        finish();
      });
    } else {
      if (this.child) this.closeInfo = { exitCode: this.child.exitCode, signal: this.child.signalCode };
      finish();
    }
  }
}
