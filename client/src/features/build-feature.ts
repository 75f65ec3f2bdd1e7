/**
 * Build with clang -target bpf from the editor: a command, a task type (`bpf`), build on save, and
 * clang's errors and warnings in the Problems panel with exact ranges (source `bpf-build`).
 */
import * as vscode from 'vscode';
import { expandPathSetting } from '../../../server/src/config';
import { type BuildProblem, type BuildResult, buildBpf } from '../core/build/bpf-build';
import type { BpfIdeContext } from '../ctx';

export class BuildFeature implements vscode.Disposable {
  readonly diagnostics = vscode.languages.createDiagnosticCollection('bpf-build');
  private readonly disposables: vscode.Disposable[] = [this.diagnostics];

  constructor(private readonly ctx: BpfIdeContext) {
    this.disposables.push(
      vscode.workspace.onDidSaveTextDocument((doc) => {
        const cfg = vscode.workspace.getConfiguration('bpfIde', doc.uri);
        if (isBpfSource(doc) && cfg.get<boolean>('build.onSave')) void this.build(doc.uri, { quiet: true });
      }),
      vscode.tasks.registerTaskProvider('bpf', {
        provideTasks: () => [],
        resolveTask: (task) => this.taskFor(task),
      }),
    );
  }

  private taskFor(task: vscode.Task): vscode.Task | undefined {
    const file = (task.definition as { file?: string }).file;
    if (!file) return undefined;
    const exec = new vscode.CustomExecution(async () => new BuildPty(this, file));
    return new vscode.Task(task.definition, task.scope ?? vscode.TaskScope.Workspace, `build ${file}`, 'bpf', exec, []);
  }

  /** Builds a file; problems land in the Problems panel. Returns the result (undefined when clang is missing). */
  async build(uri: vscode.Uri, o: { quiet?: boolean } = {}): Promise<BuildResult | undefined> {
    const cfg = vscode.workspace.getConfiguration('bpfIde', uri);
    const folder = vscode.workspace.getWorkspaceFolder(uri)?.uri.fsPath ?? '';
    const expand = (s: string) => expandPathSetting(s, folder);
    let result: BuildResult;
    const includeDirs = cfg.get<string[]>('includePaths', []).map(expand);
    try {
      // vmlinux.h included and none on the include path: the target's, from the cache.
      const vmlinux = await this.ctx.vmlinux.dirFor(uri, true, includeDirs).catch((e: unknown) => {
        void vscode.window.showWarningMessage(
          `bpf-ide: ${vscode.workspace.asRelativePath(uri)} includes vmlinux.h, none is on its include path, and the target's could not be had: ${(e as Error).message}`,
        );
        return undefined;
      });
      result = await buildBpf({
        file: uri.fsPath,
        clang: cfg.get<string>('clang.path') || undefined,
        includeDirs: vmlinux ? [...includeDirs, vmlinux] : includeDirs,
        defines: cfg.get<string[]>('defines', []),
        extraArgs: cfg.get<string[]>('build.extraFlags', []),
      });
    } catch (e) {
      void vscode.window.showErrorMessage(`bpf-ide: ${(e as Error).message}`);
      return undefined;
    }
    this.publish(uri, result.problems);
    this.ctx.output.info(
      `build ${uri.fsPath}: ${result.ok ? 'ok' : 'failed'} in ${result.durationMs.toFixed(0)} ms (${result.command.join(' ')})`,
    );
    if (!result.ok && !o.quiet) {
      void vscode.window.showErrorMessage(
        `bpf-ide: ${vscode.workspace.asRelativePath(uri)} did not compile: see the Problems panel.`,
      );
    }
    return result;
  }

  private publish(uri: vscode.Uri, problems: BuildProblem[]): void {
    this.diagnostics.clear();
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const p of problems) {
      if (p.severity === 'note') continue;
      const file = p.file || uri.fsPath;
      const line = Math.max(0, p.line - 1);
      const col = Math.max(0, p.column - 1);
      const end =
        p.endLine && p.endColumn ? new vscode.Position(p.endLine - 1, p.endColumn) : new vscode.Position(line, col + 1);
      const d = new vscode.Diagnostic(
        new vscode.Range(line, col, end.line, end.character),
        p.message,
        p.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
      );
      d.source = 'bpf-build';
      if (p.option) d.code = p.option;
      const list = byFile.get(file) ?? [];
      list.push(d);
      byFile.set(file, list);
    }
    for (const [file, list] of byFile) this.diagnostics.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

export function isBpfSource(doc: vscode.TextDocument): boolean {
  return (
    doc.uri.scheme === 'file' &&
    (doc.fileName.endsWith('.bpf.c') || (doc.languageId === 'c' && /\bSEC\s*\(/.test(doc.getText())))
  );
}

/** A task terminal that runs one build and prints clang's output. */
class BuildPty implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  private readonly closed = new vscode.EventEmitter<number>();
  onDidWrite = this.write.event;
  onDidClose = this.closed.event;
  constructor(
    private readonly feature: BuildFeature,
    private readonly file: string,
  ) {}
  open(): void {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    const abs = this.file.startsWith('/') ? this.file : `${folder}/${this.file}`;
    this.write.fire(`clang -target bpf ${abs}\r\n`);
    void this.feature.build(vscode.Uri.file(abs), { quiet: true }).then((r) => {
      if (r) {
        for (const line of r.stderr.split('\n')) if (line) this.write.fire(line + '\r\n');
        this.write.fire(r.ok ? `built ${r.object} in ${r.durationMs.toFixed(0)} ms\r\n` : 'build failed\r\n');
      }
      this.closed.fire(r?.ok ? 0 : 1);
    });
  }
  close(): void {}
}
