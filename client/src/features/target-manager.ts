/**
 * The connected target in the editor: connects on demand (local by default), shows its state in the
 * status bar, tells the language server what the target's kernel can do, and releases everything it
 * loaded on disconnect, on window close and on deactivation.
 */
import * as vscode from 'vscode';
import { targetFeaturesNotification, type TargetFeaturesParams } from '../../../server/src/protocol';
import type { ConnectedTarget } from '../core/run/connect';
import type { SshPrompts } from '../core/targets';
import type { LoadSession } from '../core/run/load-session';
import type { BpfIdeContext } from '../ctx';

export type TargetState = 'disconnected' | 'connecting' | 'connected' | 'failed';

export class TargetManager implements vscode.Disposable {
  private target: ConnectedTarget | undefined;
  private sessionValue: LoadSession | undefined;
  private connecting: Promise<LoadSession> | undefined;
  private stateValue: TargetState = 'disconnected';
  private detail = '';
  private readonly status: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<void>();
  private statsTimer: NodeJS.Timeout | undefined;
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: BpfIdeContext) {
    this.status = vscode.window.createStatusBarItem('bpfIde.target', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'BPF target';
    this.status.command = 'bpfIde.selectTarget';
    this.render();
    this.status.show();
  }

  get spec(): string {
    return vscode.workspace.getConfiguration('bpfIde').get<string>('target', 'local') || 'local';
  }
  get state(): TargetState {
    return this.stateValue;
  }
  get session(): LoadSession | undefined {
    return this.sessionValue;
  }

  /** The load session on the connected target, connecting first when needed. */
  async ensureConnected(): Promise<LoadSession> {
    if (this.sessionValue && !this.target?.client.isClosed) return this.sessionValue;
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<LoadSession> {
    const spec = this.spec;
    this.setState('connecting', spec);
    try {
      // Loaded on first connect, not at activation: the targets layer brings ssh2, the agent client brings zod.
      const { connectTarget } = await import('../core/run/connect');
      const { LoadSession } = await import('../core/run/load-session');
      this.loadSessionClass = LoadSession;
      const target = await connectTarget(spec, {
        ...this.prompts(),
        reconnect: true,
        idleTimeoutSeconds: vscode.workspace.getConfiguration('bpfIde').get<number>('agent.idleTimeoutSeconds', 30),
        log: (l) => this.ctx.output.info(l),
      });
      this.target = target;
      const hello = await target.client.hello;
      this.sessionValue = this.newSession(target);
      target.target.on('state', (e) => {
        if (this.target !== target) return;
        if (e.state === 'connected')
          this.setState('connected', `${spec} · Linux ${target.target.hello?.kernel.release ?? hello.kernel.release}`);
        else if (e.state === 'reconnecting' || e.state === 'connecting' || e.state === 'deploying')
          this.setState('connecting', e.message);
        else if (e.state === 'failed') this.setState('failed', e.message);
        else if (e.state === 'disconnected') this.setState('disconnected', e.message);
      });
      target.target.on('lost', (err) => {
        if (this.target !== target) return;
        const had = this.sessionValue?.loaded.length ?? 0;
        this.sessionValue?.forget();
        this.sendFeatures(null);
        void vscode.window.showWarningMessage(
          `bpf-ide: the connection to ${spec} dropped (${err.message}).${had ? ' The agent released everything it had loaded.' : ''} Reconnecting...`,
        );
      });
      target.target.on('agent', (client) => {
        if (this.target !== target || client === target.client) return;
        target.client = client;
        this.sessionValue = this.newSession(target);
        void this.fetchFeatures(spec);
        this.changed.fire();
      });
      this.setState('connected', `${spec} · Linux ${hello.kernel.release}`);
      void this.fetchFeatures(spec);
      this.statsTimer = setInterval(() => void this.sessionValue?.refreshStats().catch(() => undefined), 2000);
      return this.sessionValue;
    } catch (e) {
      this.setState('failed', `${spec}: ${(e as Error).message}`);
      throw e;
    }
  }

  private loadSessionClass: typeof LoadSession | undefined;

  private newSession(target: ConnectedTarget): LoadSession {
    const session = new this.loadSessionClass!(target);
    // XDP/tc need an interface, cgroup programs a path, bare uprobes a binary:function: ask, remember per section.
    session.attachTarget = async (req) => {
      const key = `bpfIde.attachTarget.${req.section}`;
      const value = await vscode.window.showInputBox({
        title: `bpf-ide: attach ${req.program} (SEC("${req.section}"))`,
        prompt: `${req.program} needs ${req.need.what} on ${this.spec}`,
        placeHolder: req.need.example,
        value: this.ctx.extension.workspaceState.get<string>(key) ?? '',
        ignoreFocusOut: true,
      });
      if (value) await this.ctx.extension.workspaceState.update(key, value);
      return value || undefined;
    };
    session.on('changed', () => this.changed.fire());
    return session;
  }

  /**
   * SSH prompts: host keys are confirmed by the user with the fingerprint shown; passphrases and
   * passwords are asked once and kept in SecretStorage only after they worked (never in settings or logs).
   */
  private prompts(): Partial<SshPrompts> {
    const secrets = this.ctx.extension.secrets;
    const pending = new Map<string, string>();
    const ask = async (key: string, prompt: string, previousWrong: boolean): Promise<string | undefined> => {
      if (previousWrong) await secrets.delete(key);
      else {
        const stored = await secrets.get(key);
        if (stored) return stored;
      }
      const value = await vscode.window.showInputBox({
        title: 'bpf-ide: SSH',
        prompt,
        password: true,
        ignoreFocusOut: true,
      });
      if (value !== undefined) pending.set(key, value);
      return value;
    };
    return {
      confirmUnknownHost: async (info) => {
        const choice = await vscode.window.showWarningMessage(
          `The authenticity of host ${info.host}:${info.port} can't be established.`,
          {
            modal: true,
            detail: `${info.keyType} key fingerprint is ${info.fingerprintSha256}.\n\nCompare it with the box's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub). Trusting adds it to ${info.knownHostsFile}.`,
          },
          'Trust and Connect',
        );
        return choice === 'Trust and Connect';
      },
      passphrase: ({ keyPath, previousWrong }) =>
        ask(
          `bpfIde.passphrase:${keyPath}`,
          `${previousWrong ? 'Wrong passphrase. ' : ''}Passphrase for ${keyPath}`,
          previousWrong,
        ),
      password: ({ host, port, user, attempt, prompt }) =>
        ask(`bpfIde.password:${user}@${host}:${port}`, prompt || `Password for ${user}@${host}:${port}`, attempt > 1),
      secretAccepted: (what) => {
        const key =
          what.kind === 'passphrase'
            ? `bpfIde.passphrase:${what.keyPath}`
            : `bpfIde.password:${what.user}@${what.host}:${what.port}`;
        const value = pending.get(key);
        pending.delete(key);
        if (value !== undefined) void secrets.store(key, value);
      },
    };
  }

  private async fetchFeatures(spec: string): Promise<void> {
    try {
      const f = await this.target!.client.request('features', {});
      this.sendFeatures({
        target: spec,
        kernelRelease: f.kernel_release,
        helpersByProgramType: f.helpers,
        kfuncs: f.kfuncs,
        tracepoints: f.tracepoints ?? undefined,
        functions: f.btf_functions,
      });
    } catch (e) {
      this.ctx.output.warn(`could not read the target's features: ${(e as Error).message}`);
    }
  }

  private sendFeatures(p: TargetFeaturesParams | null): void {
    void this.ctx.languageClient?.sendNotification(targetFeaturesNotification.method, p ?? { target: null });
  }

  /**
   * Tells the user why connecting failed. A changed host key is a security warning, not a passing error: it is
   * shown in a modal that offers nothing but closing it (the key is never trusted from here).
   */
  reportConnectFailure(e: unknown): void {
    const err = e as Error;
    const msg = `bpf-ide: could not connect to ${this.spec}: ${err.message}`;
    if (err.name === 'HostKeyChangedError') void vscode.window.showErrorMessage(msg, { modal: true });
    else void vscode.window.showErrorMessage(msg);
  }

  async disconnect(): Promise<void> {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    const session = this.sessionValue;
    const target = this.target;
    this.sessionValue = undefined;
    this.target = undefined;
    await session?.dispose().catch(() => undefined);
    await target?.dispose().catch(() => undefined);
    this.sendFeatures(null);
    this.setState('disconnected', '');
  }

  private setState(s: TargetState, detail: string): void {
    this.stateValue = s;
    this.detail = detail;
    void vscode.commands.executeCommand('setContext', 'bpfIde.connected', s === 'connected');
    this.render();
    this.changed.fire();
  }

  private render(): void {
    const icon = {
      disconnected: '$(debug-disconnect)',
      connecting: '$(sync~spin)',
      connected: '$(zap)',
      failed: '$(error)',
    }[this.stateValue];
    this.status.text = `${icon} BPF: ${this.spec}`;
    this.status.tooltip = `BPF target ${this.spec}: ${this.stateValue}${this.detail ? `\n${this.detail}` : ''}\nClick to choose the target.`;
  }

  dispose(): void {
    void this.disconnect();
    this.status.dispose();
    this.changed.dispose();
  }
}
