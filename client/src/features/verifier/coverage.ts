/**
 * Coverage: which source lines the verifier walked and how often, as decorations after the line
 * (`✓ 12×`), with the same theme colours the editor uses for passed/failed tests. Lines of the
 * program the verifier never reached are not marked (the log does not list them).
 */
import * as vscode from 'vscode';
import { LineKind } from '../../core/verifier/log-parser';
import type { VerifierDocument } from './verifier-document';

/** visits per (basename, 1-based line), from every instruction line of the log. */
export function lineVisits(doc: VerifierDocument): Map<string, Map<number, number>> {
  const log = doc.log;
  const out = new Map<string, Map<number, number>>();
  for (let k = 0; k < log.insnLines.length; k++) {
    const li = log.insnLines[k]!;
    if (log.kind[li] !== LineKind.Insn) continue;
    const id = log.aux[li]!;
    if (id < 0) continue;
    const s = log.sources[id]!;
    if (s.line <= 0) continue;
    let m = out.get(s.file);
    if (!m) out.set(s.file, (m = new Map()));
    m.set(s.line, (m.get(s.line) ?? 0) + 1);
  }
  return out;
}

export class CoverageDecorations implements vscode.Disposable {
  private readonly walked = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
    overviewRulerColor: new vscode.ThemeColor('testing.iconPassed'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly failed = vscode.window.createTextEditorDecorationType({
    backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
    isWholeLine: true,
  });
  /** file uri -> decorations */
  private current = new Map<string, { walked: vscode.DecorationOptions[]; failed: vscode.Range[] }>();
  private enabled = true;
  private readonly subs: vscode.Disposable[] = [];

  constructor() {
    this.subs.push(vscode.window.onDidChangeVisibleTextEditors(() => this.paint()));
  }

  async show(doc: VerifierDocument): Promise<void> {
    const next = new Map<string, { walked: vscode.DecorationOptions[]; failed: vscode.Range[] }>();
    for (const [file, lines] of lineVisits(doc)) {
      const uri = await doc.resolve(file);
      if (!uri) continue;
      const entry = { walked: [] as vscode.DecorationOptions[], failed: [] as vscode.Range[] };
      for (const [line, n] of lines) {
        entry.walked.push({
          range: new vscode.Range(line - 1, Number.MAX_SAFE_INTEGER, line - 1, Number.MAX_SAFE_INTEGER),
          renderOptions: { after: { contentText: `✓ verifier walked this line ${n}×` } },
          hoverMessage: `The verifier processed instructions of this line ${n} time${n === 1 ? '' : 's'} (once per path and loop iteration).`,
        });
      }
      next.set(uri.toString(), entry);
    }
    const at = await doc.locate(doc.report.error?.source);
    if (at) {
      const key = at.uri.toString();
      if (!next.has(key)) next.set(key, { walked: [], failed: [] });
      next.get(key)!.failed.push(new vscode.Range(at.line, 0, at.line, 0));
    }
    this.current = next;
    this.paint();
  }

  toggle(): boolean {
    this.enabled = !this.enabled;
    this.paint();
    return this.enabled;
  }

  clear(): void {
    this.current.clear();
    this.paint();
  }

  private paint(): void {
    for (const ed of vscode.window.visibleTextEditors) {
      const c = this.enabled ? this.current.get(ed.document.uri.toString()) : undefined;
      ed.setDecorations(this.walked, c?.walked ?? []);
      ed.setDecorations(this.failed, c?.failed ?? []);
    }
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.walked.dispose();
    this.failed.dispose();
  }
}
