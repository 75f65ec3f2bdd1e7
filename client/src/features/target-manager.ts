/**
 * The connected target in the editor: connects on demand (local by default), shows its state in the
 * status bar, tells the language server what the target's kernel can do, and releases everything it
 * loaded on disconnect, on window close and on deactivation.
 */
import * as vscode from 'vscode';
import { targetFeaturesNotification, type TargetFeaturesParams } from '../../../server/src/protocol';
import { connectTarget, type ConnectedTarget } from '../core/run/connect';
import { LoadSession } from '../core/run/load-session';
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
      const target = await connectTarget(spec);
      this.target = target;
      const hello = await target.client.hello;
      this.sessionValue = new LoadSession(target);
      this.sessionValue.on('changed', () => this.changed.fire());
      target.client.on('close', () => {
        if (this.target === target) {
          this.target = undefined;
          this.sessionValue = undefined;
          this.setState('disconnected', `${spec}: the connection closed`);
          this.sendFeatures(null);
        }
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

  private async fetchFeatures(spec: string): Promise<void> {
    try {
      const f = await this.target!.client.request('features', {});
      this.sendFeatures({
        target: spec,
        kernelRelease: f.kernel_release,
        helpersByProgramType: f.helpers,
        kfuncs: f.kfuncs,
        tracepoints: f.tracepoints ?? undefined,
      });
    } catch (e) {
      this.ctx.output.warn(`could not read the target's features: ${(e as Error).message}`);
    }
  }

  private sendFeatures(p: TargetFeaturesParams | null): void {
    void this.ctx.languageClient?.sendNotification(targetFeaturesNotification.method, p ?? { target: null });
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
