/**
 * "Go to Root Cause": the line the verifier names is often the symptom; its diagnostic's related
 * locations name the likely mistake (the license line, the acquiring call, the check that let a value
 * through). A code action per related location on a verifier diagnostic, and the command
 * `bpfIde.verifier.goToRootCause` (palette: the verifier diagnostic at the cursor; one location goes
 * there, several are offered in a pick).
 */
import * as vscode from 'vscode';

export const GO_TO_ROOT_CAUSE = 'bpfIde.verifier.goToRootCause';

/** The related locations of a verifier diagnostic that name a root cause (not the failing instruction itself). */
export function rootCauses(d: vscode.Diagnostic): vscode.DiagnosticRelatedInformation[] {
  if (d.source !== 'verifier') return [];
  return (d.relatedInformation ?? []).filter((r) => !/^failing instruction /.test(r.message));
}

async function reveal(loc: vscode.Location): Promise<void> {
  const ed = await vscode.window.showTextDocument(loc.uri, { preview: false });
  ed.selection = new vscode.Selection(loc.range.start, loc.range.start);
  ed.revealRange(loc.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/** The command: a location given (from the code action), or the diagnostic at the cursor's. */
async function goToRootCause(uri?: vscode.Uri, range?: vscode.Range): Promise<void> {
  if (uri instanceof vscode.Uri && range instanceof vscode.Range) return reveal(new vscode.Location(uri, range));
  const ed = vscode.window.activeTextEditor;
  const line = ed?.selection.active.line ?? -1;
  const diags = ed ? vscode.languages.getDiagnostics(ed.document.uri) : [];
  const here = diags.filter((d) => d.source === 'verifier' && d.range.start.line <= line && line <= d.range.end.line);
  const causes = (here.length ? here : diags.filter((d) => d.source === 'verifier')).flatMap(rootCauses);
  if (!causes.length) {
    void vscode.window.showInformationMessage(
      'bpf-ide: no verifier rejection with a root cause here (load the program, or open its verifier log, first).',
    );
    return;
  }
  if (causes.length === 1) return reveal(causes[0]!.location);
  const pick = await vscode.window.showQuickPick(
    causes.map((c) => ({
      label: c.message,
      description: `${vscode.workspace.asRelativePath(c.location.uri)}:${c.location.range.start.line + 1}`,
      c,
    })),
    { placeHolder: 'The likely root causes of the verifier rejection' },
  );
  if (pick) await reveal(pick.c.location);
}

class RootCauseActions implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  provideCodeActions(_doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext) {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics)
      for (const r of rootCauses(d).slice(0, 4)) {
        const a = new vscode.CodeAction(`Go to root cause: ${r.message}`, vscode.CodeActionKind.QuickFix);
        a.diagnostics = [d];
        a.command = { command: GO_TO_ROOT_CAUSE, title: a.title, arguments: [r.location.uri, r.location.range] };
        out.push(a);
      }
    return out;
  }
}

/** Registers the command and the code actions (on C files, where verifier diagnostics land). */
export function activateRootCause(): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(GO_TO_ROOT_CAUSE, goToRootCause),
    vscode.languages.registerCodeActionsProvider(
      [
        { scheme: 'file', language: 'c' },
        { scheme: 'file', pattern: '**/*.{c,h}' },
      ],
      new RootCauseActions(),
      { providedCodeActionKinds: RootCauseActions.kinds },
    ),
  ];
}
