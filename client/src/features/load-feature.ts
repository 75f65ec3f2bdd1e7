/**
 * The load loop in the editor: CodeLens above each SEC() program (Load, Load + Attach, and once loaded
 * Attach/Detach/Unload), the commands behind them with progress, and rejections reported on the
 * program's source line (diagnostics with source `verifier`).
 */
import * as vscode from 'vscode';
import type { LoadOutcome } from '../core/run/load-session';
import type { BpfIdeContext } from '../ctx';
import type { BuildFeature } from './build-feature';
import type { TargetManager } from './target-manager';

const SEC_RE = /^\s*SEC\s*\(\s*"([^"]+)"\s*\)/;

export class LoadFeature implements vscode.Disposable, vscode.CodeLensProvider {
  readonly verifierDiagnostics = vscode.languages.createDiagnosticCollection('bpf-verifier');
  private readonly lensChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensChanged.event;
  private readonly disposables: vscode.Disposable[] = [this.verifierDiagnostics, this.lensChanged];
  /** The last outcome per source file, for the verifier log command. */
  readonly lastOutcome = new Map<string, LoadOutcome>();

  constructor(
    private readonly ctx: BpfIdeContext,
    private readonly targets: TargetManager,
    private readonly builder: BuildFeature,
  ) {
    this.disposables.push(
      vscode.languages.registerCodeLensProvider([{ scheme: 'file', language: 'c' }], this),
      // Only when what the lenses show changed: each refresh retires the commands of the lenses on screen, and a
      // click that lands on a retired lens is lost ("command not found"), so run counts are not shown here.
      targets.onDidChange(() => this.refreshLenses()),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (
          doc.uri.scheme === 'file' &&
          vscode.workspace.getConfiguration('bpfIde', doc.uri).get<boolean>('reloadOnSave') &&
          this.loadedFrom(doc.uri.fsPath).length
        ) {
          void this.load(doc.uri, {
            attach: this.loadedFrom(doc.uri.fsPath).some((o) => o.programs.some((p) => p.links.length)),
            replace: true,
          });
        }
      }),
    );
  }

  private lensState = '[]';

  /** Fires onDidChangeCodeLenses when the loaded objects, programs or their links changed. */
  private refreshLenses(): void {
    const state = JSON.stringify(
      (this.targets.session?.loaded ?? []).map((o) => [
        o.source,
        o.handle,
        o.programs.map((p) => [p.name, p.section, p.id, p.verified_insns, p.links.length]),
      ]),
    );
    if (state === this.lensState) return;
    this.lensState = state;
    this.lensChanged.fire();
  }

  private loadedFrom(file: string) {
    return this.targets.session?.loaded.filter((o) => o.source === file) ?? [];
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    if (!/\bSEC\s*\(/.test(doc.getText())) return lenses;
    const loaded = this.loadedFrom(doc.uri.fsPath);
    for (let line = 0; line < doc.lineCount; line++) {
      const m = SEC_RE.exec(doc.lineAt(line).text);
      if (!m || m[1] === '.maps' || m[1] === 'license' || m[1].startsWith('.')) continue;
      const range = new vscode.Range(line, 0, line, 0);
      const prog = loaded.flatMap((o) => o.programs.filter((p) => p.section === m[1]).map((p) => ({ o, p })))[0];
      if (!prog) {
        lenses.push(
          new vscode.CodeLens(range, { title: '$(play) Load', command: 'bpfIde.load', arguments: [doc.uri] }),
          new vscode.CodeLens(range, {
            title: '$(debug-start) Load + Attach',
            command: 'bpfIde.loadAndAttach',
            arguments: [doc.uri],
          }),
        );
        continue;
      }
      const { o, p } = prog;
      const stats = `id ${p.id} · ${p.verified_insns} insns verified`;
      lenses.push(
        new vscode.CodeLens(range, {
          title: `$(check) loaded: ${stats}`,
          command: 'bpfIde.showPrograms',
          arguments: [],
        }),
      );
      if (p.links.length)
        lenses.push(
          new vscode.CodeLens(range, { title: 'Detach', command: 'bpfIde.detach', arguments: [o.handle, p.name] }),
        );
      else
        lenses.push(
          new vscode.CodeLens(range, { title: 'Attach', command: 'bpfIde.attach', arguments: [o.handle, p.name] }),
        );
      lenses.push(new vscode.CodeLens(range, { title: 'Unload', command: 'bpfIde.unload', arguments: [o.handle] }));
    }
    return lenses;
  }

  /** Build + load (+ attach) the file of `uri` on the current target, with progress. */
  async load(
    uri: vscode.Uri | undefined,
    o: { attach?: boolean; replace?: boolean } = {},
  ): Promise<LoadOutcome | undefined> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file') {
      void vscode.window.showErrorMessage('bpf-ide: open a BPF C file (or an object) to load.');
      return undefined;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
    if (doc?.isDirty) await doc.save();
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `bpf-ide: ${o.attach ? 'load + attach' : 'load'} ${vscode.workspace.asRelativePath(target)}`,
        cancellable: false,
      },
      async (progress) => {
        progress.report({ message: `connecting to ${this.targets.spec}` });
        let session;
        try {
          session = await this.targets.ensureConnected();
        } catch (e) {
          this.targets.reportConnectFailure(e);
          return undefined;
        }
        progress.report({ message: 'building and loading' });
        const cfg = vscode.workspace.getConfiguration('bpfIde', target);
        const folder = vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath ?? '';
        const outcome = await session.load(target.fsPath, {
          attach: o.attach,
          replace: o.replace ?? true,
          logLevel: cfg.get<number>('load.logLevel', 1),
          clang: cfg.get<string>('clang.path') || undefined,
          includeDirs: cfg.get<string[]>('includePaths', []).map((s) => s.replace(/\$\{workspaceFolder\}/g, folder)),
          defines: cfg.get<string[]>('defines', []),
        });
        this.lastOutcome.set(target.fsPath, outcome);
        this.ctx.output.info(
          `load ${target.fsPath} on ${this.targets.spec}: ${outcome.loaded ? `${outcome.loaded.programs.length} loaded` : 'nothing loaded'}, ${outcome.rejected.length} rejected${outcome.error ? ` (${outcome.error})` : ''}`,
        );
        if (outcome.build) this.builder.diagnostics.set(target, []);
        this.reportRejections(target, outcome);
        if (outcome.build && !outcome.build.ok) {
          await this.builder.build(target);
        } else if (outcome.rejected.length) {
          const first = outcome.rejected[0];
          const step = first.log.trim() ? ['Step Through the Log'] : [];
          // Not awaited: the load is done; the button opens the stepper on the rejected program's log.
          void vscode.window
            .showErrorMessage(
              `bpf-ide: the verifier rejected ${outcome.rejected.map((r) => r.name).join(', ')}: ${first.error.message}`,
              ...step,
            )
            .then((choice) => {
              if (choice)
                void vscode.commands.executeCommand('bpfIde.openVerifierLog', {
                  text: first.log,
                  title: first.name,
                  sourceFile: target.fsPath,
                });
            });
        } else if (outcome.error) {
          void vscode.window.showErrorMessage(`bpf-ide: ${outcome.error}`);
        } else if (outcome.loaded) {
          const n = outcome.loaded.programs.length;
          void vscode.window.showInformationMessage(
            `bpf-ide: loaded ${n} program${n === 1 ? '' : 's'}${o.attach ? ' and attached' : ''} on ${this.targets.spec}.`,
          );
        }
        this.refreshLenses();
        return outcome;
      },
    );
  }

  private reportRejections(uri: vscode.Uri, outcome: LoadOutcome): void {
    this.verifierDiagnostics.set(uri, []);
    const first = outcome.rejected[0];
    if (!first) return;
    if (first.log) {
      // The verifier feature puts the rejection on its source line, explained, with coverage and the stepper.
      void vscode.commands.executeCommand('bpfIde.openVerifierLog', {
        text: first.log,
        title: first.name,
        sourceFile: uri.fsPath,
        panel: false,
      });
      return;
    }
    const line = this.secLine(uri, first.section);
    const d = new vscode.Diagnostic(
      new vscode.Range(line, 0, line, 1000),
      `${first.name}: ${first.error.message}`,
      vscode.DiagnosticSeverity.Error,
    );
    d.source = 'verifier';
    this.verifierDiagnostics.set(uri, [d]);
  }

  private secLine(uri: vscode.Uri, section: string): number {
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc) return 0;
    for (let i = 0; i < doc.lineCount; i++) if (doc.lineAt(i).text.includes(`"${section}"`)) return i;
    return 0;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
