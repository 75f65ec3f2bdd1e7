/**
 * A rejection as a diagnostic (source `verifier`) on the source line the kernel names: the kernel's
 * message, the plain-language explanation and the fix; related information points at the likely root
 * cause (core/verifier/root-cause.ts: the license line, the acquiring call, the check that let a value
 * through...), which the "Go to Root Cause" action (root-cause-action.ts) jumps to.
 */
import * as vscode from 'vscode';
import { visibleLines, visibleText } from '../../core/visible-text';
import type { VerifierDocument } from './verifier-document';

/** Builds the diagnostics of a log, grouped by file. Empty when the program was accepted. */
export async function verifierDiagnostics(
  doc: VerifierDocument,
): Promise<Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }>> {
  const out = new Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }>();
  const e = doc.report.error;
  if (!e) return out;
  const at = await doc.locate(e.source);
  const target =
    at ?? (doc.options.sourceFile ? { uri: doc.options.sourceFile, line: doc.options.fallbackLine ?? 0 } : undefined);
  if (!target) return out;
  const where = at
    ? e.source?.compilerGenerated
      ? ' (compiler-generated code; this is the nearest source line)'
      : ''
    : ` (${e.noSource ?? 'the log names no source line for it'})`;
  const parts = [`${e.message}${where}`];
  if (e.catalog) parts.push(`${e.catalog.title}: ${e.catalog.explanation}`, `Fix: ${e.catalog.fix}`);
  const d = new vscode.Diagnostic(
    new vscode.Range(target.line, 0, target.line, Number.MAX_SAFE_INTEGER),
    visibleLines(parts.join('\n')),
    vscode.DiagnosticSeverity.Error,
  );
  d.source = 'verifier';
  if (e.catalog) d.code = e.catalog.id;
  const related: vscode.DiagnosticRelatedInformation[] = [];
  for (const r of e.related) {
    const loc = await doc.locateRelated(r).catch(() => undefined);
    if (loc)
      related.push(
        new vscode.DiagnosticRelatedInformation(
          new vscode.Location(loc.uri, new vscode.Position(loc.line, 0)),
          visibleText(r.message),
        ),
      );
  }
  if (e.insnLine >= 0) {
    const insn = doc.log.insnBody(e.insnLine);
    if (at)
      related.push(
        new vscode.DiagnosticRelatedInformation(
          new vscode.Location(at.uri, new vscode.Position(at.line, 0)),
          visibleText(`failing instruction ${e.insn}: ${insn}`),
        ),
      );
  }
  if (related.length) d.relatedInformation = related;
  out.set(target.uri.toString(), { uri: target.uri, diags: [d] });
  return out;
}
