/** Quick fixes: each bpf-ide diagnostic carries its fixes in `data`; this turns them into code actions. */
import { type CodeAction, CodeActionKind, type CodeActionParams } from 'vscode-languageserver/node';
import type { BpfDocument } from '../bpf-document';
import { runRules } from '../diagnostics/engine';
import { type DiagnosticData, toLspDiagnostic } from '../diagnostics/to-lsp';

export function codeActions(doc: BpfDocument, params: CodeActionParams): CodeAction[] {
  const out: CodeAction[] = [];
  let diagnostics = params.context.diagnostics.filter((d) => d.source === 'bpf-ide');
  // Clients that drop `data` still get fixes: recompute the document's diagnostics.
  if (diagnostics.some((d) => d.data === undefined)) {
    const fresh = runRules(doc).map((d) => toLspDiagnostic(doc, d));
    diagnostics = diagnostics.map(
      (d) =>
        fresh.find(
          (f) =>
            f.code === d.code &&
            f.range.start.line === d.range.start.line &&
            f.range.start.character === d.range.start.character,
        ) ?? d,
    );
  }
  for (const diag of diagnostics) {
    const data = diag.data as DiagnosticData | undefined;
    for (const fix of data?.fixes ?? []) {
      out.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diag],
        isPreferred: fix.preferred,
        edit: { changes: { [doc.uri]: fix.edits } },
      });
    }
  }
  return out;
}
