/**
 * The verifier stepper: a webview that walks the log like a debugger walks a program. The log stays
 * here, in the extension host; the webview asks for the rows it shows (virtualized list), the state at
 * the selected instruction, a register's history, search results. Everything it shows arrives by
 * postMessage and is rendered with textContent: the log is untrusted text.
 */
import * as vscode from 'vscode';
import type { RowFilter } from '../../core/verifier/stepper-model';
import { webviewShell } from '../webview-shell';
import type { VerifierDocument } from './verifier-document';

/** Messages from the webview (media/verifier/stepper.js). */
type FromWebview =
  | { type: 'ready' }
  | { type: 'rows'; start: number; count: number }
  | { type: 'select'; row: number; reveal?: boolean }
  | { type: 'follow'; row: number; value: string }
  | { type: 'search'; query: string; regex?: boolean }
  | { type: 'filter'; filter: RowFilter }
  | { type: 'openSource'; row: number };

export class StepperPanel implements vscode.Disposable {
  static readonly viewType = 'bpfIde.verifierStepper';
  private readonly panel: vscode.WebviewPanel;
  private readonly subs: vscode.Disposable[] = [];
  private readonly highlight = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
    isWholeLine: true,
  });
  private selectedRow = -1;
  private revealSeq = 0;
  private lastReveal = '';
  private readonly disposed = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposed.event;

  constructor(
    private doc: VerifierDocument,
    extensionUri: vscode.Uri,
    private readonly output: vscode.LogOutputChannel,
  ) {
    const media = vscode.Uri.joinPath(extensionUri, 'media', 'verifier');
    this.panel = vscode.window.createWebviewPanel(
      StepperPanel.viewType,
      `Verifier: ${doc.title}`,
      vscode.ViewColumn.Beside,
      {
        enableScripts: true,
        localResourceRoots: [media],
        retainContextWhenHidden: true,
      },
    );
    this.panel.webview.html = this.html(media);
    this.subs.push(
      this.panel.webview.onDidReceiveMessage((m: FromWebview) => {
        void this.onMessage(m).catch((err: unknown) => this.output.error(`verifier stepper: ${String(err)}`));
      }),
      this.panel.onDidDispose(() => this.dispose()),
    );
  }

  get document(): VerifierDocument {
    return this.doc;
  }

  /** Shows another log in the same panel. */
  show(doc: VerifierDocument): void {
    this.doc = doc;
    this.panel.title = `Verifier: ${doc.title}`;
    this.selectedRow = -1;
    this.sendInit();
    this.panel.reveal(undefined, true);
  }

  /** Selects the first instruction of a source line (from the editor: "show in verifier log"). */
  revealSource(file: string, line: number): boolean {
    const row = this.doc.model.rowOfSource(file, line);
    if (row < 0) return false;
    void this.post({ type: 'reveal', row });
    this.panel.reveal(undefined, true);
    return true;
  }

  private html(media: vscode.Uri): string {
    return webviewShell(this.panel.webview, media, {
      title: 'Verifier log',
      styles: ['stepper.css'],
      scripts: ['stepper.js'],
      images: false,
    });
  }

  private post(m: unknown): Thenable<boolean> {
    return this.panel.webview.postMessage(m);
  }

  private sendInit(): void {
    void this.post(this.doc.model.init());
  }

  private async onMessage(m: FromWebview): Promise<void> {
    const model = this.doc.model;
    switch (m.type) {
      case 'ready':
        this.sendInit();
        return;
      case 'rows':
        void this.post(model.rowWindow(m.start, m.count));
        return;
      case 'select':
        await this.select(m.row | 0, !!m.reveal);
        return;
      case 'follow':
        void this.post(model.follow(m.row | 0, String(m.value)));
        return;
      case 'search':
        void this.post(model.search(String(m.query ?? ''), !!m.regex));
        return;
      case 'filter': {
        const current = this.selectedRow >= 0 ? model.rows[this.selectedRow] : undefined;
        model.setFilter(m.filter);
        this.sendInit();
        if (current !== undefined) void this.post({ type: 'reveal', row: Math.max(0, model.rowOfLine(current)) });
        return;
      }
      case 'openSource':
        await this.select(m.row | 0, true, true);
        return;
    }
  }

  private async select(row: number, reveal: boolean, focus = false): Promise<void> {
    const d = this.doc;
    const state = d.model.state(row);
    if (!state) return;
    this.selectedRow = row;
    void this.post(state);
    if (!reveal) return;
    // holding a key steps many rows a second: only the latest selection moves the editor
    const seq = ++this.revealSeq;
    const at = await d.locate(d.sourceOf(state.line));
    if (!at || seq !== this.revealSeq) return;
    const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === at.uri.toString());
    if (shown && !focus && this.lastReveal === `${at.uri}:${at.line}`) return;
    this.lastReveal = `${at.uri}:${at.line}`;
    const ed = await vscode.window.showTextDocument(at.uri, {
      viewColumn: vscode.ViewColumn.One,
      preserveFocus: !focus,
      preview: true,
      selection: new vscode.Range(at.line, 0, at.line, 0),
    });
    ed.setDecorations(this.highlight, [new vscode.Range(at.line, 0, at.line, 0)]);
    ed.revealRange(new vscode.Range(at.line, 0, at.line, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  reveal(): void {
    this.panel.reveal(undefined, true);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.subs.length = 0;
    this.highlight.dispose();
    this.disposed.fire();
    this.disposed.dispose();
  }
}
