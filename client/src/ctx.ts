/**
 * The extension's context: owns the language client's lifecycle and the commands. Two kinds of
 * disposables: the extension's (live until deactivation) and the language client's (dropped on restart).
 */
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import { type ParamsOf, SERVER_NODE_FLAGS, serverStatusNotification } from '../../server/src/protocol';
import { createCommands } from './commands';
import { BuildFeature } from './features/build-feature';
import { LoadFeature } from './features/load-feature';
import { MapHover } from './features/map-hover';
import { ProgramsView } from './features/programs-view';
import { TargetManager } from './features/target-manager';
import { VmlinuxFeature } from './features/vmlinux-feature';
import { activatePanels } from './features/panels';
import { activateVerifier } from './features/verifier';

export const BPF_DOCUMENTS = [
  { scheme: 'file', language: 'c' },
  { scheme: 'untitled', language: 'c' },
  { scheme: 'file', pattern: '**/*.bpf.c' },
] satisfies vscode.DocumentFilter[];

export class BpfIdeContext {
  readonly output: vscode.LogOutputChannel;
  private readonly disposables: vscode.Disposable[] = [];
  private clientDisposables: vscode.Disposable[] = [];
  private client: LanguageClient | undefined;
  readonly targets: TargetManager;
  readonly vmlinux: VmlinuxFeature;
  readonly builder: BuildFeature;
  readonly loader: LoadFeature;
  readonly programs: ProgramsView;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('bpf-ide', { log: true });
    this.targets = new TargetManager(this);
    this.vmlinux = new VmlinuxFeature(this, this.targets);
    this.builder = new BuildFeature(this);
    this.loader = new LoadFeature(this, this.targets, this.builder);
    this.programs = new ProgramsView(this.targets);
    this.disposables.push(
      this.output,
      this.vmlinux,
      this.builder,
      this.loader,
      this.programs,
      new MapHover(this.targets),
    );
  }

  get languageClient(): LanguageClient | undefined {
    return this.client;
  }

  async start(): Promise<void> {
    for (const [id, handler] of Object.entries(createCommands(this))) {
      this.disposables.push(vscode.commands.registerCommand(id, handler));
    }
    this.disposables.push(...activateVerifier({ extension: this.extension, output: this.output }));
    this.disposables.push(...activatePanels(this));
    // The language server starts in the background: activation stays light (the first diagnostics arrive when
    // it is up, a few hundred ms later). `serverReady` settles when it has started (or failed, logged).
    this.serverReady = this.startLanguageServer().catch((err: unknown) => {
      this.output.error(`the BPF language server did not start: ${err instanceof Error ? err.message : String(err)}`);
      void vscode.window.showErrorMessage(
        `bpf-ide: the BPF language server did not start: ${String(err)}. See the bpf-ide output.`,
      );
    });
  }

  /** Settles once the language server has started (or failed to). */
  serverReady: Promise<void> = Promise.resolve();

  async startLanguageServer(): Promise<void> {
    const serverModule = this.extension.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: [...SERVER_NODE_FLAGS] } },
      debug: {
        module: serverModule,
        transport: TransportKind.ipc,
        options: { execArgv: [...SERVER_NODE_FLAGS, '--nolazy', '--inspect=6019'] },
      },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: BPF_DOCUMENTS,
      outputChannel: this.output,
      initializationOptions: {
        settings: this.withServerIncludes(JSON.parse(JSON.stringify(vscode.workspace.getConfiguration('bpfIde')))),
      },
      synchronize: { configurationSection: 'bpfIde' },
      middleware: {
        workspace: {
          // The server reads its settings through workspace/configuration: the target's cached vmlinux.h folder
          // goes at the end of its include paths (found only when the project has no vmlinux.h of its own).
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) return result;
            return result.map((r: unknown, i) =>
              params.items[i]?.section === 'bpfIde' ? this.withServerIncludes(r) : r,
            );
          },
        },
      },
      connectionOptions: { maxRestartCount: 4 },
    };
    const client = new LanguageClient('bpfIde', 'BPF language server', serverOptions, clientOptions);
    this.client = client;
    this.clientDisposables.push(
      client.onNotification(serverStatusNotification.method, (p: ParamsOf<typeof serverStatusNotification>) => {
        this.output.appendLine(`[server] ${p.message}`);
        if (p.kind === 'clang-missing') void vscode.window.showWarningMessage(p.message);
      }),
    );
    await client.start();
    void vscode.commands.executeCommand('setContext', 'bpfIde.serverRunning', true);
  }

  /** The bpfIde settings object as the server gets it, with the include folders the client adds. */
  private withServerIncludes(section: unknown): unknown {
    const extra = this.vmlinux.serverIncludeDirs();
    if (!extra.length || !section || typeof section !== 'object') return section;
    const s = section as { includePaths?: unknown };
    const own = Array.isArray(s.includePaths) ? (s.includePaths as unknown[]) : [];
    return { ...s, includePaths: [...own, ...extra.filter((d) => !own.includes(d))] };
  }

  /** Tells the language server to read its settings again (the client's additions changed). */
  settingsChangedForServer(): void {
    void this.client
      ?.sendNotification(DidChangeConfigurationNotification.type, { settings: null })
      .catch((err: unknown) => this.output.warn(`settings for the language server: ${String(err)}`));
  }

  async restartLanguageServer(): Promise<void> {
    await this.stopLanguageServer();
    await this.startLanguageServer();
  }

  private async stopLanguageServer(): Promise<void> {
    for (const d of this.clientDisposables) d.dispose();
    this.clientDisposables = [];
    const c = this.client;
    this.client = undefined;
    if (c)
      await c.stop().catch((err: unknown) => this.output.appendLine(`stopping the language server: ${String(err)}`));
    void vscode.commands.executeCommand('setContext', 'bpfIde.serverRunning', false);
  }

  async dispose(): Promise<void> {
    // Release everything loaded on the target before anything else goes.
    await this.targets.disconnect().catch(() => undefined);
    this.targets.dispose();
    await this.stopLanguageServer();
    for (const d of this.disposables) d.dispose();
  }
}
