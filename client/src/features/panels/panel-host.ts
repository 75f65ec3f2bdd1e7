/**
 * One webview panel around one controller: creates the panel with the strict HTML shell, routes the
 * webview's messages to the controller, tells it when the panel is hidden or shown, saves exports
 * through a save dialog, and disposes the controller (unsubscribing on the target) with the panel.
 */
import { homedir } from 'node:os';
import * as vscode from 'vscode';
import type { FromWebview, ToWebview } from '../../core/panels/panel-messages';
import { visibleText } from '../../core/visible-text';
import type { BpfIdeContext } from '../../ctx';
import { panelHtml, webviewOptions, type PanelKind } from './webview-html';

export interface PanelController {
  handle(msg: FromWebview): Promise<void>;
  dispose(): Promise<void> | void;
  setHidden?(hidden: boolean): Promise<void>;
  /** After dispose: shows a recreated webview what the controller last had (history, final counts). */
  replayDetached?(): void;
}

const open = new Map<string, PanelHost>();

/** Status lines and titles quote the target (names, error messages): shown with hidden characters escaped. */
function visibleTexts(msg: ToWebview): ToWebview {
  if (msg.type === 'status') return { ...msg, text: visibleText(msg.text) };
  if (msg.type === 'stream-init' || msg.type === 'map-init') return { ...msg, title: visibleText(msg.title) };
  return msg;
}

/** bpfIde.panels.maxEventRate: what the agent forwards to a streaming panel at most, events/s (0: no limit). */
export function maxEventRate(): number {
  const v = vscode.workspace.getConfiguration('bpfIde').get<number>('panels.maxEventRate', 2000);
  return Number.isFinite(v) && v >= 0 ? Math.floor(v) : 2000;
}

export class PanelHost implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  private controller: PanelController | undefined;
  /** the controller stopped by detach, and why: a webview shown again still gets its last state */
  private detached: { controller: PanelController; reason: string } | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  /** The open panel with this key (a map id, "trace"), if any. */
  static find(key: string): PanelHost | undefined {
    return open.get(key);
  }

  /** Every open panel (tests, disposal on deactivation). */
  static all(): PanelHost[] {
    return [...open.values()];
  }

  constructor(
    private readonly ctx: BpfIdeContext,
    readonly key: string,
    kind: PanelKind,
    title: string,
  ) {
    this.panel = vscode.window.createWebviewPanel(
      `bpfIde.${kind}`,
      title,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      webviewOptions(ctx.extension.extensionUri),
    );
    this.panel.webview.html = panelHtml(this.panel.webview, ctx.extension.extensionUri, kind);
    open.set(key, this);
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((msg: FromWebview) => {
        if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
        if (!this.controller && this.detached && msg.type === 'ready') {
          this.detached.controller.replayDetached?.();
          void this.post({ type: 'status', text: this.detached.reason, error: true });
          return;
        }
        void this.controller?.handle(msg).catch((e: Error) => {
          this.ctx.output.warn(`${this.key}: ${e.message}`);
          void this.post({ type: 'status', text: e.message, error: true });
        });
      }),
      this.panel.onDidChangeViewState((e) => void this.controller?.setHidden?.(!e.webviewPanel.visible)),
      this.panel.onDidDispose(() => void this.dispose()),
    );
  }

  /** Posts to the webview (dropped while it is hidden: it asks again with 'ready' when shown). */
  post = (msg: ToWebview): Thenable<boolean> =>
    this.disposed ? Promise.resolve(false) : this.panel.webview.postMessage(visibleTexts(msg));

  attach(c: PanelController): void {
    this.controller = c;
  }

  /** Saves exported text where the user says. */
  save = async (format: 'csv' | 'json', text: string, name: string): Promise<void> => {
    const base = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(homedir());
    const uri = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.joinPath(base, name),
      filters: format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] },
    });
    if (!uri) return;
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text, 'utf8'));
  };

  /** Stops the controller (the panel stays, saying why) when its target or object went away. */
  async detach(reason: string): Promise<void> {
    const c = this.controller;
    this.controller = undefined;
    await c?.dispose();
    if (c) this.detached = { controller: c, reason };
    void this.post({ type: 'status', text: reason, error: true });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (open.get(this.key) === this) open.delete(this.key);
    for (const d of this.disposables) d.dispose();
    const c = this.controller;
    this.controller = undefined;
    await Promise.resolve(c?.dispose()).catch(() => undefined);
    this.panel.dispose();
  }
}
