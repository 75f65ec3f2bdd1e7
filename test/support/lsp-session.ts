/**
 * A real LSP client for tests and benchmarks: spawns `node <SERVER_NODE_FLAGS> dist/bpf-ide.js lsp --stdio`, as the extension starts it (or any
 * command speaking LSP over stdio, e.g. clangd) and talks JSON-RPC to it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SERVER_NODE_FLAGS } from '../../server/src/protocol';
import {
  createProtocolConnection,
  type Diagnostic,
  type ProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';

export const ROOT = join(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'bpf-ide.js');

export interface SessionOptions {
  command?: string;
  args?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  rootUri?: string;
  initializationOptions?: unknown;
  /** Answer for workspace/configuration requests (the `bpfIde` section). */
  settings?: unknown;
}

type DiagListener = (uri: string, diags: Diagnostic[], at: number) => void;

export class LspSession {
  readonly child: ChildProcess;
  readonly conn: ProtocolConnection;
  readonly diagnostics = new Map<string, Diagnostic[]>();
  readonly notifications: { method: string; params: unknown }[] = [];
  stderr = '';
  private listeners: DiagListener[] = [];
  private versions = new Map<string, number>();

  constructor(private readonly o: SessionOptions = {}) {
    this.child = spawn(o.command ?? process.execPath, o.args ?? [...SERVER_NODE_FLAGS, CLI, 'lsp', '--stdio'], {
      cwd: o.cwd ?? ROOT,
      env: o.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => {
      if (this.stderr.length < 1 << 20) this.stderr += d;
    });
    this.conn = createProtocolConnection(
      new StreamMessageReader(this.child.stdout!),
      new StreamMessageWriter(this.child.stdin!),
    );
    this.conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: Diagnostic[] }) => {
      const at = performance.now();
      this.diagnostics.set(p.uri, p.diagnostics);
      for (const l of this.listeners) l(p.uri, p.diagnostics, at);
    });
    for (const method of ['bpf/serverStatus', 'window/logMessage', 'window/showMessage']) {
      this.conn.onNotification(method, (params: unknown) => {
        this.notifications.push({ method, params });
      });
    }
    this.conn.onRequest('workspace/configuration', (p: { items: unknown[] }) =>
      p.items.map(() => this.o.settings ?? null),
    );
    this.conn.onRequest('client/registerCapability', () => null);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.listen();
  }

  async initialize(extraCaps: Record<string, unknown> = {}): Promise<{ capabilities: Record<string, unknown> }> {
    const r = await this.conn.sendRequest('initialize', {
      processId: process.pid,
      rootUri: this.o.rootUri ?? pathToFileURL(ROOT).toString(),
      capabilities: {
        workspace: { configuration: !!this.o.settings },
        textDocument: {
          publishDiagnostics: { relatedInformation: true, dataSupport: true },
          completion: { completionItem: { snippetSupport: true } },
          ...extraCaps,
        },
      },
      initializationOptions: this.o.initializationOptions,
    });
    await this.conn.sendNotification('initialized', {});
    return r as { capabilities: Record<string, unknown> };
  }

  /** Opens a document; resolves when the next diagnostics for it arrive (or after timeoutMs). */
  open(uri: string, text: string, languageId = 'c'): void {
    this.versions.set(uri, 1);
    void this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Replaces a range (0-based line/character) with text. */
  change(
    uri: string,
    range: { start: { line: number; character: number }; end: { line: number; character: number } } | null,
    text: string,
  ): void {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    void this.conn.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [range ? { range, text } : { text }],
    });
  }

  close(uri: string): void {
    void this.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
  }

  /** Waits for a publishDiagnostics for `uri` that satisfies `pred` (default: any). */
  waitDiagnostics(
    uri: string,
    pred: (d: Diagnostic[]) => boolean = () => true,
    timeoutMs = 10000,
  ): Promise<{ diagnostics: Diagnostic[]; at: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        reject(
          new Error(
            `no matching diagnostics for ${uri} within ${timeoutMs} ms; last: ${JSON.stringify(this.diagnostics.get(uri))}\nstderr: ${this.stderr.slice(-2000)}`,
          ),
        );
      }, timeoutMs);
      const listener: DiagListener = (u, d, at) => {
        if (u !== uri || !pred(d)) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        resolve({ diagnostics: d, at });
      };
      this.listeners.push(listener);
    });
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.conn.sendRequest(method, params) as Promise<R>;
  }

  async shutdown(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 3000))]);
      await this.conn.sendNotification('exit');
    } catch {
      // the server may already be gone
    }
    const exited = new Promise((r) => this.child.once('exit', r));
    if (this.child.exitCode === null) await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    this.conn.dispose();
  }
}

/** Position of the first occurrence of `needle` in `text` (plus `delta` characters). */
export function positionOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`"${needle}" not found`);
  const offset = at + delta;
  const before = text.slice(0, offset);
  const line = before.split('\n').length - 1;
  return { line, character: offset - (before.lastIndexOf('\n') + 1) };
}
