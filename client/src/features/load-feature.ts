/**
 * The load loop in the editor: a CodeLens above each SEC() program that acts on THAT program (Load,
 * Load + Attach; once loaded its own state: loaded / attached / rejected / refused, with Attach, Detach,
 * Unload), the commands behind them with per-program progress and Cancel, a notification that gives the
 * clicked program's verdict first and counts the others, and one verifier diagnostic per rejected program
 * on the line the kernel names (headers on the build's include path included).
 */
import * as vscode from 'vscode';
import { expandPathSetting } from '../../../server/src/config';
import { visibleText } from '../core/visible-text';
import { summarizeLoad } from '../core/run/load-summary';
import type { LoadedObject, LoadOptions, LoadOutcome, ProgramFailure } from '../core/run/load-session';
import { programsInSource, type SourceProgram } from '../core/run/source-programs';
import type { BpfIdeContext } from '../ctx';
import type { BuildFeature } from './build-feature';
import type { TargetManager } from './target-manager';
import { verifierDiagnostics } from './verifier/verifier-diagnostics';
import { VerifierDocument } from './verifier/verifier-document';

const short = (s: string, n = 90) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export class LoadFeature implements vscode.Disposable, vscode.CodeLensProvider {
  readonly verifierDiagnostics = vscode.languages.createDiagnosticCollection('bpf-verifier');
  private readonly lensChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensChanged.event;
  private readonly disposables: vscode.Disposable[] = [this.verifierDiagnostics, this.lensChanged];
  /** The last outcome per source file, for the verifier log command. */
  readonly lastOutcome = new Map<string, LoadOutcome>();
  /** The include directories of each source's last build (headers named by verifier logs are found there). */
  private readonly includeDirs = new Map<string, string[]>();

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
          void this.reload(doc.uri);
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
        o.programs.map((p) => [p.name, p.id, p.verified_insns, p.links.length, p.attachError]),
        o.failed.map((f) => [f.name, f.code]),
      ]),
    );
    if (state === this.lensState) return;
    this.lensState = state;
    this.lensChanged.fire();
  }

  private loadedFrom(file: string): LoadedObject[] {
    return this.targets.session?.loaded.filter((o) => o.source === file) ?? [];
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const lenses: vscode.CodeLens[] = [];
    const text = doc.getText();
    if (!/\bSEC\s*\(/.test(text)) return lenses;
    const obj = this.loadedFrom(doc.uri.fsPath).at(-1);
    for (const sp of programsInSource(text)) {
      const range = new vscode.Range(sp.line, 0, sp.line, 0);
      const add = (title: string, command: string, ...args: unknown[]) =>
        lenses.push(new vscode.CodeLens(range, { title, command, arguments: args }));
      const p = obj?.programs.find((x) => x.name === sp.name);
      const f = obj?.failed.find((x) => x.name === sp.name);
      if (obj && p) {
        const stats = `id ${p.id} · ${p.verified_insns} insns verified`;
        add(
          p.links.length ? `$(debug-start) loaded: ${stats} · attached` : `$(check) loaded: ${stats}`,
          'bpfIde.showPrograms',
        );
        if (!p.links.length && p.attachError)
          add(`$(warning) not attached: ${short(p.attachError)}`, 'bpfIde.showPrograms');
        if (p.links.length) add('Detach', 'bpfIde.detach', obj.handle, p.name);
        else add('Attach', 'bpfIde.attach', obj.handle, p.name);
        add('Unload', 'bpfIde.unload', obj.handle);
      } else if (obj && f) {
        if (f.code === 'verifier_rejected')
          add(`$(error) rejected: ${short(f.error.message)}`, 'bpfIde.showProgramLog', obj.handle, f.name);
        else add(`$(circle-slash) refused: ${short(f.hint ?? f.error.message)}`, 'bpfIde.showPrograms');
        add('Reload', 'bpfIde.load', doc.uri, sp.name);
      } else {
        // Not loaded (no object yet; or the object did not load this one: bpfIde.load.programs = clicked, SEC("?...")).
        add('$(play) Load', 'bpfIde.load', doc.uri, sp.name);
        add('$(debug-start) Load + Attach', 'bpfIde.loadAndAttach', doc.uri, sp.name);
      }
    }
    return lenses;
  }

  /** The program whose SEC() is at or above the cursor in the active editor of `uri`. */
  private programAtCursor(uri: vscode.Uri): SourceProgram | undefined {
    const ed = vscode.window.activeTextEditor;
    if (!ed || ed.document.uri.toString() !== uri.toString()) return undefined;
    const line = ed.selection.active.line;
    return programsInSource(ed.document.getText())
      .filter((p) => p.line <= line)
      .at(-1);
  }

  /**
   * Load (and attach) `program` of the file `uri` on the current target, with progress. Without a program
   * (the command palette) the one at the cursor is meant; with none there, Load + Attach attaches every program.
   * When the file's object is loaded already and the program is not yet attached, it is loaded into that object
   * (when missing) and attached: nothing is reloaded.
   */
  async load(
    uri: vscode.Uri | undefined,
    o: { attach?: boolean; program?: string; reload?: boolean; names?: string[] } = {},
  ): Promise<LoadOutcome | undefined> {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (!target || target.scheme !== 'file') {
      void vscode.window.showErrorMessage('bpf-ide: open a BPF C file (or an object) to load.');
      return undefined;
    }
    const clicked = o.program ?? this.programAtCursor(target)?.name;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
    const existing = this.loadedFrom(target.fsPath).at(-1);
    const into =
      !o.reload && clicked && existing && !existing.failed.some((f) => f.name === clicked) && !doc?.isDirty
        ? existing
        : undefined;
    if (doc?.isDirty) await doc.save();
    const verb = o.attach ? 'load + attach' : 'load';
    return vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `bpf-ide: ${verb} ${clicked ?? vscode.workspace.asRelativePath(target)}`,
        cancellable: true,
      },
      async (progress, token) => {
        progress.report({ message: `connecting to ${this.targets.spec}` });
        let session;
        try {
          session = await this.targets.ensureConnected();
        } catch (e) {
          this.targets.reportConnectFailure(e);
          return undefined;
        }
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        const cfg = vscode.workspace.getConfiguration('bpfIde', target);
        const folder = vscode.workspace.getWorkspaceFolder(target)?.uri.fsPath ?? '';
        let last = 0;
        const opts: LoadOptions = {
          attach: o.attach,
          clicked,
          programs: cfg.get<'object' | 'clicked'>('load.programs', 'object'),
          names: o.names,
          replace: true,
          logLevel: cfg.get<number>('load.logLevel', 1),
          clang: cfg.get<string>('clang.path') || undefined,
          includeDirs: cfg.get<string[]>('includePaths', []).map((s) => expandPathSetting(s, folder)),
          defines: cfg.get<string[]>('defines', []),
          signal: abort.signal,
          onProgress: (p) => {
            const pct = (100 * p.index) / p.total;
            progress.report({
              message: `${p.index}/${p.total} programs verified: ${p.program} ${p.verdict}`,
              increment: pct - last,
            });
            last = pct;
          },
        };
        if (!into) {
          // vmlinux.h included and none on the include path: the target's, from the cache.
          const vmlinux = await this.ctx.vmlinux.dirFor(target, true, opts.includeDirs).catch((e: unknown) => {
            this.ctx.output.warn(`vmlinux.h for ${target.fsPath}: ${(e as Error).message}`);
            return undefined;
          });
          if (vmlinux) opts.includeDirs = [...(opts.includeDirs ?? []), vmlinux];
        }
        progress.report({ message: into ? `loading ${clicked} into the loaded object` : 'building and loading' });
        let outcome: LoadOutcome;
        try {
          outcome =
            into && clicked
              ? await session.loadInto(into.handle, { ...opts, clicked })
              : await session.load(target.fsPath, opts);
        } finally {
          sub.dispose();
        }
        this.lastOutcome.set(target.fsPath, outcome);
        this.ctx.output.info(
          `${verb} ${clicked ?? ''} ${target.fsPath} on ${this.targets.spec}: ${outcome.loaded ? `${outcome.loaded.programs.length} loaded` : 'nothing loaded'}, ${outcome.rejected.length} rejected, ${outcome.refused.length} refused, attached [${outcome.attached.join(', ')}]${outcome.error ? ` (${outcome.error})` : ''}`,
        );
        if (outcome.build) {
          this.builder.diagnostics.set(target, []);
          this.includeDirs.set(
            target.fsPath,
            outcome.build.command.filter((a) => a.startsWith('-I')).map((a) => a.slice(2)),
          );
        }
        if (outcome.build && !outcome.build.ok) {
          await this.builder.build(target);
        } else {
          await this.reportRejections(target, outcome, !into);
          this.notify(target, outcome, !!o.attach);
        }
        // Once more at the end of every load, whatever the last state was: a lens request VS Code had in flight
        // while the load changed things must not leave the old lenses on screen.
        this.lensState = '';
        this.refreshLenses();
        return outcome;
      },
    );
  }

  /** The include directories of the last build of `source` (for finding the headers a verifier log names). */
  includeDirsOf(source: string): string[] | undefined {
    return this.includeDirs.get(source);
  }

  /** Attach every loaded program of an object (the Programs view's and the palette's Attach All). */
  async attachAll(handle: number): Promise<void> {
    const session = this.targets.session;
    const obj = session?.loaded.find((o) => o.handle === handle);
    if (!session || !obj) return;
    const outcome: LoadOutcome = { loaded: obj, rejected: [], refused: [], attached: [], attachFailed: [] };
    for (const p of obj.programs.filter((x) => !x.links.length)) {
      try {
        await session.attach(handle, p.name, false);
        outcome.attached.push(p.name);
      } catch (e) {
        outcome.attachFailed.push({ name: p.name, message: p.attachError ?? (e as Error).message });
      }
    }
    session.emit('changed');
    this.notify(vscode.Uri.file(obj.source), outcome, true);
  }

  /** reloadOnSave: the object again, the programs that were attached attached again, the old one released. */
  private async reload(uri: vscode.Uri): Promise<void> {
    const old = this.loadedFrom(uri.fsPath).at(-1);
    const attached = old?.programs.filter((p) => p.links.length).map((p) => p.name) ?? [];
    // The same programs as before (whatever bpfIde.load.programs says), then the same ones attached.
    const names = old ? [...old.programs, ...old.failed].map((p) => p.name) : undefined;
    const outcome = await this.load(uri, { reload: true, program: attached[0] ?? names?.[0], names });
    const session = this.targets.session;
    if (!outcome?.loaded || !session) return;
    for (const name of attached)
      if (outcome.loaded.programs.some((p) => p.name === name))
        await session.attach(outcome.loaded.handle, name).catch((e: unknown) => {
          this.ctx.output.warn(`re-attaching ${name} after reload: ${(e as Error).message}`);
        });
  }

  /** One notification: the clicked program's verdict, the others counted, every rejection with its message. */
  private notify(uri: vscode.Uri, outcome: LoadOutcome, attach: boolean): void {
    const s = summarizeLoad(outcome, { target: this.targets.spec, attach });
    const buttons = [...(s.stepThrough ? ['Step Through the Log'] : []), ...(outcome.loaded ? ['Show Programs'] : [])];
    const show =
      s.severity === 'error'
        ? vscode.window.showErrorMessage
        : s.severity === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    // Not awaited: the load is done; the buttons open the stepper on a rejected program's log, or the Programs view.
    void show(`bpf-ide: ${visibleText(s.message)}`, ...buttons).then((choice) => {
      if (choice === 'Show Programs') void vscode.commands.executeCommand('bpfIde.showPrograms');
      else if (choice && s.stepThrough)
        void vscode.commands.executeCommand('bpfIde.openVerifierLog', {
          text: s.stepThrough.log,
          title: s.stepThrough.name,
          sourceFile: uri.fsPath,
          includeDirs: this.includeDirs.get(uri.fsPath),
          diagnostics: false,
        });
    });
  }

  /**
   * One diagnostic per rejected program (source `verifier`), on the line the kernel names (in a header when it
   * names one on the include path), explained; coverage of the clicked (or first) rejected program's walk.
   * `fresh`: a new object (earlier diagnostics of the file go); else they are kept and the new ones added.
   */
  private async reportRejections(uri: vscode.Uri, outcome: LoadOutcome, fresh: boolean): Promise<void> {
    const mine = fresh ? new Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }>() : this.diagsOf(uri);
    const includeDirs = this.includeDirs.get(uri.fsPath);
    for (const f of outcome.rejected) {
      const diags = f.log.trim() ? await this.logDiagnostics(f, uri, includeDirs) : [];
      if (!diags.length) {
        const line = programsInSource(await this.textOf(uri)).find((p) => p.name === f.name)?.line ?? 0;
        const d = new vscode.Diagnostic(
          new vscode.Range(line, 0, line, 1000),
          `${f.name}: ${f.error.message}`,
          vscode.DiagnosticSeverity.Error,
        );
        d.source = 'verifier';
        diags.push({ uri, d });
      }
      for (const { uri: at, d } of diags) {
        // which kernel said so, when it is not this machine's (vm:6.1, an SSH box)
        if (this.targets.spec !== 'local') d.source = `verifier (${this.targets.spec})`;
        const e = mine.get(at.toString()) ?? { uri: at, diags: [] };
        e.diags.push(d);
        mine.set(at.toString(), e);
      }
    }
    this.bySource.set(uri.fsPath, mine);
    this.publishDiagnostics();
    const first =
      outcome.rejected.find((f) => f.name === outcome.clicked && f.log.trim()) ??
      outcome.rejected.find((f) => f.log.trim());
    if (first)
      // The verifier feature shows the walked lines of the clicked (or first) rejected program; diagnostics are ours.
      void vscode.commands.executeCommand('bpfIde.openVerifierLog', {
        text: first.log,
        title: first.name,
        sourceFile: uri.fsPath,
        includeDirs,
        panel: false,
        diagnostics: false,
      });
  }

  /** The verifier diagnostics of each source's last load, by the file they sit in (the source or a header). */
  private readonly bySource = new Map<string, Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }>>();

  private diagsOf(uri: vscode.Uri): Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }> {
    const m = new Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }>();
    for (const [k, v] of this.bySource.get(uri.fsPath) ?? []) m.set(k, { uri: v.uri, diags: [...v.diags] });
    return m;
  }

  private publishDiagnostics(): void {
    const all = new Map<string, { uri: vscode.Uri; diags: vscode.Diagnostic[] }>();
    for (const files of this.bySource.values())
      for (const [k, v] of files) {
        const e = all.get(k) ?? { uri: v.uri, diags: [] };
        e.diags.push(...v.diags);
        all.set(k, e);
      }
    this.verifierDiagnostics.clear();
    for (const { uri, diags } of all.values()) this.verifierDiagnostics.set(uri, diags);
  }

  private async logDiagnostics(
    f: ProgramFailure,
    uri: vscode.Uri,
    includeDirs: string[] | undefined,
  ): Promise<{ uri: vscode.Uri; d: vscode.Diagnostic }[]> {
    const fallbackLine = programsInSource(await this.textOf(uri)).find((p) => p.name === f.name)?.line;
    const doc = new VerifierDocument(f.log, { title: f.name, sourceFile: uri, includeDirs, fallbackLine });
    const out: { uri: vscode.Uri; d: vscode.Diagnostic }[] = [];
    for (const { uri: at, diags } of (await verifierDiagnostics(doc)).values())
      for (const d of diags) {
        d.message = `${f.name}: ${d.message}`;
        out.push({ uri: at, d });
      }
    return out;
  }

  private async textOf(uri: vscode.Uri): Promise<string> {
    try {
      return (await vscode.workspace.openTextDocument(uri)).getText();
    } catch {
      return '';
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
