/**
 * The verifier feature: open a log (a file from CI, or the log of a load), show the rejection as a
 * diagnostic on its source line, the coverage of the walk as decorations, and the stepper panel.
 * One entry point, `activateVerifier`, which registers its own commands:
 *   bpfIde.openVerifierLog            open a log file (or {text, title, sourceFile} from another feature)
 *   bpfIde.verifier.showInLog         select, in the stepper, the first instruction of the editor's line
 *   bpfIde.verifier.toggleCoverage    show/hide the walked-lines decorations
 *   bpfIde.verifier.clear             remove the verifier diagnostics and decorations
 *   bpfIde.verifier.goToRootCause     jump to a verifier diagnostic's likely root cause (also a code action)
 */
import * as vscode from 'vscode';
import { visibleText } from '../../core/visible-text';
import { LogStore } from '../../core/verifier/log-store';
import { CoverageDecorations } from './coverage';
import { activateRootCause } from './root-cause-action';
import { parseRestore, StepperPanel, type StepperRestore } from './stepper-panel';
import { verifierDiagnostics } from './verifier-diagnostics';
import { VerifierDocument, type OpenLogOptions } from './verifier-document';

/** What another feature passes to `bpfIde.openVerifierLog` to show a log it holds. */
export interface VerifierLogArgs {
  text: string;
  title?: string;
  /** the source the program was built from (fsPath or Uri) */
  sourceFile?: string | vscode.Uri;
  /** open the stepper panel (default true); false: diagnostics and coverage only */
  panel?: boolean;
  /** the build's include directories: headers the log names are found there */
  includeDirs?: string[];
  /** publish the rejection as a diagnostic (default true); false when the caller publishes its own (one per program) */
  diagnostics?: boolean;
}

const CONTEXT_KEY = 'bpfIde.verifierLogOpen';

export function activateVerifier(ctx: {
  extension: vscode.ExtensionContext;
  output: vscode.LogOutputChannel;
}): vscode.Disposable[] {
  const diagnostics = vscode.languages.createDiagnosticCollection('verifier');
  const coverage = new CoverageDecorations();
  let panel: StepperPanel | undefined;
  // logs from loads (text, no file), kept so that the stepper comes back after a window reload
  const store = new LogStore(vscode.Uri.joinPath(ctx.extension.globalStorageUri, 'verifier-logs').fsPath);

  function restoreFor(text: string, opts: OpenLogOptions): StepperRestore {
    const base = { title: opts.title, sourceFile: opts.sourceFile?.toString() };
    if (opts.logUri) return { ...base, logUri: opts.logUri.toString() };
    try {
      return { ...base, stored: store.save(text) };
    } catch (err) {
      ctx.output.warn(`the verifier log could not be kept for a window reload: ${String(err)}`);
      return base;
    }
  }

  async function present(
    text: string,
    opts: OpenLogOptions,
    showPanel = true,
    revived?: { panel: vscode.WebviewPanel; row?: number },
    publish = true,
  ): Promise<VerifierDocument> {
    const t0 = Date.now();
    const doc = new VerifierDocument(text, opts);
    ctx.output.info(
      `verifier log ${doc.title}: ${doc.report.verdict}, ${doc.report.instructions} instructions in ${doc.report.lines} lines, parsed in ${Date.now() - t0} ms`,
    );
    diagnostics.clear();
    if (publish) for (const { uri, diags } of (await verifierDiagnostics(doc)).values()) diagnostics.set(uri, diags);
    await coverage.show(doc);
    if (showPanel) {
      const restore = restoreFor(text, opts);
      if (panel) {
        revived?.panel.dispose(); // one stepper at a time: the one open already shows it
        panel.show(doc, restore);
      } else {
        panel = new StepperPanel(doc, ctx.extension.extensionUri, ctx.output, restore, revived);
        panel.onDidDispose(() => {
          panel = undefined;
          void vscode.commands.executeCommand('setContext', CONTEXT_KEY, false);
        });
        void vscode.commands.executeCommand('setContext', CONTEXT_KEY, true);
      }
    }
    const e = doc.report.error;
    if (publish && e && !(await doc.locate(e.source))) {
      void vscode.window.showWarningMessage(
        `bpf-ide: the verifier rejected the program (${e.message}); ${e.noSource ?? `${e.source?.file ?? 'its source file'} is not in this workspace`}.`,
      );
    }
    return doc;
  }

  async function openLog(arg?: unknown): Promise<void> {
    try {
      if (arg && typeof arg === 'object' && 'text' in arg && typeof (arg as VerifierLogArgs).text === 'string') {
        const a = arg as VerifierLogArgs;
        const src = typeof a.sourceFile === 'string' ? vscode.Uri.file(a.sourceFile) : a.sourceFile;
        await present(
          a.text,
          { title: a.title, sourceFile: src, includeDirs: a.includeDirs },
          a.panel !== false,
          undefined,
          a.diagnostics !== false,
        );
        return;
      }
      let uri = arg instanceof vscode.Uri ? arg : undefined;
      const active = vscode.window.activeTextEditor?.document;
      if (!uri && active && /\.(log|txt)$/.test(active.uri.path)) uri = active.uri;
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Open verifier log',
          filters: { 'Verifier logs': ['log', 'txt'], 'All files': ['*'] },
        });
        uri = picked?.[0];
      }
      if (!uri) return;
      const bytes = await vscode.workspace.fs.readFile(uri);
      await present(Buffer.from(bytes).toString('utf8'), { logUri: uri });
    } catch (err) {
      ctx.output.error(`open verifier log: ${String(err)}`);
      void vscode.window.showErrorMessage(
        `bpf-ide: could not open the verifier log: ${visibleText((err as Error).message)}`,
      );
    }
  }

  /** After a window reload: the stepper VS Code kept open comes back on the same log, at the same row. */
  async function revive(webviewPanel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const r = parseRestore(state);
    let text: string | undefined;
    if (r?.logUri) {
      try {
        text = Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.parse(r.logUri, true))).toString('utf8');
      } catch {
        text = undefined;
      }
    } else if (r?.stored) text = store.read(r.stored);
    if (!r || text === undefined) {
      ctx.output.info('the verifier stepper was not restored: its log is gone');
      webviewPanel.dispose();
      return;
    }
    await present(
      text,
      {
        title: r.title,
        logUri: r.logUri ? vscode.Uri.parse(r.logUri, true) : undefined,
        sourceFile: r.sourceFile ? vscode.Uri.parse(r.sourceFile, true) : undefined,
      },
      true,
      { panel: webviewPanel, row: r.row },
    );
  }

  return [
    diagnostics,
    coverage,
    ...activateRootCause(),
    { dispose: () => panel?.dispose() },
    vscode.window.registerWebviewPanelSerializer(StepperPanel.viewType, {
      deserializeWebviewPanel: (webviewPanel, state) =>
        revive(webviewPanel, state).catch((err: unknown) => {
          ctx.output.error(`restoring the verifier stepper: ${String(err)}`);
          webviewPanel.dispose();
        }),
    }),
    vscode.commands.registerCommand('bpfIde.openVerifierLog', openLog),
    vscode.commands.registerCommand('bpfIde.verifier.showInLog', () => {
      const ed = vscode.window.activeTextEditor;
      if (!panel) {
        void vscode.window.showInformationMessage('bpf-ide: open a verifier log first (bpf-ide: Open Verifier Log).');
        return;
      }
      if (!ed || !panel.revealSource(ed.document.uri.fsPath, ed.selection.active.line + 1)) {
        void vscode.window.showInformationMessage('bpf-ide: the verifier did not walk this line in the open log.');
      }
    }),
    vscode.commands.registerCommand('bpfIde.verifier.toggleCoverage', () => {
      const on = coverage.toggle();
      void vscode.window.setStatusBarMessage(`bpf-ide: verifier coverage ${on ? 'shown' : 'hidden'}`, 2000);
    }),
    vscode.commands.registerCommand('bpfIde.verifier.clear', () => {
      diagnostics.clear();
      coverage.clear();
    }),
  ];
}
