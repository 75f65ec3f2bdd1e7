/**
 * The verifier stepper: a webview that walks the log like a debugger walks a program. The log stays
 * here, in the extension host; the webview asks for the rows it shows (virtualized list), the state at
 * the selected instruction, a register's history, search results. Everything it shows arrives by
 * postMessage and is rendered with textContent: the log is untrusted text.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { followBack } from '../../core/verifier/dependencies';
import { LINE_KIND_NAMES, LineKind } from '../../core/verifier/log-parser';
import { stateAtLine } from '../../core/verifier/reg-state';
import { contentSecurityPolicy } from '../panels/webview-html';
import type { RowFilter, VerifierDocument } from './verifier-document';

/** Messages from the webview (media/verifier/stepper.js). */
type FromWebview =
  | { type: 'ready' }
  | { type: 'rows'; start: number; count: number }
  | { type: 'select'; row: number; reveal?: boolean }
  | { type: 'follow'; row: number; value: string }
  | { type: 'search'; query: string; regex?: boolean }
  | { type: 'filter'; filter: RowFilter }
  | { type: 'openSource'; row: number };

const MAX_ROWS_PER_REQUEST = 500;
const MAX_SEARCH_HITS = 5000;

export class StepperPanel implements vscode.Disposable {
  static readonly viewType = 'bpfIde.verifierStepper';
  private readonly panel: vscode.WebviewPanel;
  private readonly subs: vscode.Disposable[] = [];
  private readonly highlight = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
    isWholeLine: true,
  });
  private selectedRow = -1;
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
    const log = this.doc.log;
    for (let k = 0; k < log.insnLines.length; k++) {
      const li = log.insnLines[k]!;
      const s = log.sourceAt(li);
      if (s && s.line === line && (file.endsWith('/' + s.file) || file === s.file)) {
        const row = this.doc.rowOfLine(li);
        void this.post({ type: 'reveal', row });
        this.panel.reveal(undefined, true);
        return true;
      }
    }
    return false;
  }

  private html(media: vscode.Uri): string {
    const w = this.panel.webview;
    const nonce = randomBytes(18).toString('base64');
    const uri = (f: string) => w.asWebviewUri(vscode.Uri.joinPath(media, f)).toString();
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(w.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('stepper.css')}">
<title>Verifier log</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${uri('stepper.js')}"></script>
</body>
</html>`;
  }

  private post(m: unknown): Thenable<boolean> {
    return this.panel.webview.postMessage(m);
  }

  private sendInit(): void {
    const d = this.doc;
    const r = d.report;
    const e = r.error;
    const branchRows: number[] = [];
    for (let row = 0; row < d.rows.length; row++)
      if (d.log.kind[d.rows[row]!] === LineKind.Branch) branchRows.push(row);
    void this.post({
      type: 'init',
      title: d.title,
      filter: d.filter,
      rowCount: d.rows.length,
      verdict: r.verdict,
      truncated: r.truncated,
      instructions: r.instructions,
      lines: r.lines,
      stats: r.stats,
      error: e
        ? {
            message: e.message,
            row: e.insnLine >= 0 ? d.rowOfLine(e.insnLine) : d.rowOfLine(e.logLine),
            title: e.catalog?.title ?? null,
            explanation: e.catalog?.explanation ?? null,
            fix: e.catalog?.fix ?? null,
            where: e.source ? `${e.source.file}:${e.source.line}` : (e.noSource ?? null),
          }
        : null,
      branchRows,
    });
  }

  private async onMessage(m: FromWebview): Promise<void> {
    const d = this.doc;
    switch (m.type) {
      case 'ready':
        this.sendInit();
        return;
      case 'rows': {
        const start = Math.max(0, Math.min(m.start | 0, d.rows.length));
        const end = Math.min(d.rows.length, start + Math.min(MAX_ROWS_PER_REQUEST, Math.max(0, m.count | 0)));
        const rows = [];
        for (let row = start; row < end; row++) {
          const li = d.rows[row]!;
          rows.push({
            row,
            line: li,
            kind: LINE_KIND_NAMES[d.log.kind[li]!],
            insn: d.log.insn[li],
            frame: d.log.frame[li],
            text: d.log.line(li),
          });
        }
        void this.post({ type: 'rows', start, rows });
        return;
      }
      case 'select':
        await this.select(m.row | 0, !!m.reveal);
        return;
      case 'follow': {
        const li = d.rows[m.row | 0];
        if (li === undefined) return;
        const steps = followBack(d.log, li, String(m.value));
        void this.post({
          type: 'chain',
          value: String(m.value),
          steps: steps.map((s) => ({
            row: d.rowOfLine(s.line),
            insn: s.insn,
            text: s.text,
            role: s.role,
            value: s.value,
            where: fmt(d.sourceOf(s.line)),
          })),
        });
        return;
      }
      case 'search': {
        const hits = this.search(String(m.query ?? ''), !!m.regex);
        void this.post({ type: 'search', query: m.query, ...hits });
        return;
      }
      case 'filter': {
        const current = this.selectedRow >= 0 ? d.rows[this.selectedRow] : undefined;
        d.setFilter(m.filter === 'insns' || m.filter === 'no-debug' ? m.filter : 'all');
        this.sendInit();
        if (current !== undefined) void this.post({ type: 'reveal', row: Math.max(0, d.rowOfLine(current)) });
        return;
      }
      case 'openSource':
        await this.select(m.row | 0, true, true);
        return;
    }
  }

  private async select(row: number, reveal: boolean, focus = false): Promise<void> {
    const d = this.doc;
    const li = d.rows[row];
    if (li === undefined) return;
    this.selectedRow = row;
    const st = stateAtLine(d.log, li);
    const regs = [...st.entries.entries()]
      .map(([key, e]) => ({
        key,
        name: e.name,
        frame: e.frame,
        value: e.value,
        type: e.type,
        changed: st.changed.has(key),
        precise: e.precise,
      }))
      .sort((a, b) => b.frame - a.frame || order(a.name) - order(b.name));
    const src = d.sourceOf(li);
    void this.post({
      type: 'state',
      row,
      line: li,
      insn: d.log.insn[li],
      frame: st.frame,
      regs,
      source: fmt(src),
      sourceText: src?.text ?? null,
    });
    if (!reveal) return;
    const at = await d.locate(src);
    if (!at) return;
    const ed = await vscode.window.showTextDocument(at.uri, {
      viewColumn: vscode.ViewColumn.One,
      preserveFocus: !focus,
      preview: true,
      selection: new vscode.Range(at.line, 0, at.line, 0),
    });
    ed.setDecorations(this.highlight, [new vscode.Range(at.line, 0, at.line, 0)]);
    ed.revealRange(new vscode.Range(at.line, 0, at.line, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private search(query: string, regex: boolean): { rows: number[]; truncated: boolean; error?: string } {
    const d = this.doc;
    if (!query) return { rows: [], truncated: false };
    let test: (s: string) => boolean;
    if (regex) {
      let re: RegExp;
      try {
        re = new RegExp(query, 'i');
      } catch (e) {
        return { rows: [], truncated: false, error: (e as Error).message };
      }
      test = (s) => re.test(s);
    } else {
      const q = query.toLowerCase();
      test = (s) => s.toLowerCase().includes(q);
    }
    const rows: number[] = [];
    for (let row = 0; row < d.rows.length; row++) {
      if (test(d.log.line(d.rows[row]!))) {
        rows.push(row);
        if (rows.length >= MAX_SEARCH_HITS) return { rows, truncated: true };
      }
    }
    return { rows, truncated: false };
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

function order(name: string): number {
  if (name.startsWith('R')) return Number(name.slice(1));
  const off = Number(name.replace(/^fp/, ''));
  return 100 - off; // fp-8 before fp-16
}

function fmt(s: { file: string; line: number; compilerGenerated: boolean } | undefined): string | null {
  if (!s) return null;
  if (s.line <= 0) return s.file ? `${s.file} (no line)` : null;
  return `${s.file}:${s.line}${s.compilerGenerated ? ' (compiler-generated)' : ''}`;
}
