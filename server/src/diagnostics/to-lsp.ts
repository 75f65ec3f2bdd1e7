/** Converts the rule engine's offset-based findings into LSP diagnostics (fixes ride in `data`). */
import { type Diagnostic, DiagnosticSeverity } from 'vscode-languageserver/node';
import type { BpfDocument } from '../bpf-document';
import type { EngineDiagnostic } from './engine';
import type { RuleFix, Severity } from './rule';

export const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** What a diagnostic carries for its quick fixes: edits already in LSP ranges. */
export interface DiagnosticData {
  fixes: { title: string; preferred?: boolean; edits: { range: Diagnostic['range']; newText: string }[] }[];
}

export function toLspDiagnostic(doc: BpfDocument, d: EngineDiagnostic): Diagnostic {
  const diag: Diagnostic = {
    range: doc.rangeOf(d.start, Math.max(d.start, d.end)),
    severity: SEVERITY[d.severity],
    code: d.code,
    source: 'bpf-ide',
    message: d.message,
  };
  if (d.related?.length) {
    diag.relatedInformation = d.related.map((r) => ({
      location: { uri: doc.uri, range: doc.rangeOf(r.start, r.end) },
      message: r.message,
    }));
  }
  if (d.fixes?.length) {
    const data: DiagnosticData = { fixes: d.fixes.map((f: RuleFix) => convertFix(doc, f)) };
    diag.data = data;
  }
  return diag;
}

function convertFix(doc: BpfDocument, f: RuleFix): DiagnosticData['fixes'][number] {
  return {
    title: f.title,
    preferred: f.preferred,
    edits: f.edits.map((e) => ({ range: doc.rangeOf(e.start, e.end), newText: e.newText })),
  };
}
