/**
 * The verifier stepper: a webview that walks the log like a debugger walks a program. The log stays
 * here, in the extension host; the webview asks for the rows it shows (virtualized list), the state at
 * the selected instruction, a register's history, search results. Everything it shows arrives by
 * postMessage and is rendered with textContent: the log is untrusted text.
 */
import * as vscode from 'vscode';
import { visibleDeep } from '../../core/visible-text';
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

/**
 * What the webview keeps in its saved state so that the panel comes back after a window reload: where the log
 * is (its file, or its name in the log store), the title and source file, and the selected row.
 */
export interface StepperRestore {
  logUri?: string;
  stored?: string;
  title?: string;
  sourceFile?: string;
  row?: number;
}

/** A saved state as VS Code hands it back (the webview's own, but checked like any input). */
export function parseRestore(state: unknown): StepperRestore | undefined {
  if (!state || typeof state !== 'object') return undefined;
  const r = (state as { restore?: unknown }).restore;
  if (!r || typeof r !== 'object') return undefined;
  const o = r as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v.length < 4096 ? v : undefined);
  const out: StepperRestore = {
    logUri: str(o.logUri),
    stored: str(o.stored),
    title: str(o.title),
    sourceFile: str(o.sourceFile),
    row: Number.isInteger((state as { row?: unknown }).row) ? (state as { row: number }).row : undefined,
  };
  return out.logUri || out.stored ? out : undefined;
}

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

  /**
   * A new panel beside the editor, or, after a window reload, the panel VS Code restored (`revived`, with the row
   * that was selected).
   */
  constructor(
    private doc: VerifierDocument,
    extensionUri: vscode.Uri,
    private readonly output: vscode.LogOutputChannel,
    private restore: StepperRestore,
    revived?: { panel: vscode.WebviewPanel; row?: number },
  ) {
    const media = vscode.Uri.joinPath(extensionUri, 'media', 'verifier');
    const options = { enableScripts: true, localResourceRoots: [media], retainContextWhenHidden: true };
    if (revived) {
      this.panel = revived.panel;
      this.panel.webview.options = options;
      this.panel.title = `Verifier: ${doc.title}`;
      this.pendingRow = revived.row;
    } else {
      this.panel = vscode.window.createWebviewPanel(
        StepperPanel.viewType,
        `Verifier: ${doc.title}`,
        vscode.ViewColumn.Beside,
        options,
      );
    }
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
  show(doc: VerifierDocument, restore: StepperRestore): void {
    this.doc = doc;
    this.restore = restore;
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
    // log lines quote the program's source (BTF line info): bidi and control characters are shown escaped
    return this.panel.webview.postMessage(visibleDeep(m));
  }

  private pendingRow: number | undefined;

  private sendInit(): void {
    void this.post(this.doc.model.init());
    // the webview saves this (and its selected row) as its state: what brings the panel back after a reload
    void this.post({ type: 'restore', restore: this.restore });
    const row = this.pendingRow;
    this.pendingRow = undefined;
    if (row !== undefined && row >= 0 && row < this.doc.model.rows.length) void this.post({ type: 'reveal', row });
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
