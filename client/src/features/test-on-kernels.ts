/**
 * `bpf-ide: Test on Kernels...`: builds the active BPF file once, then loads and attaches it on the
 * kernels the user picks (remembered per workspace: local, vm:6.1, vm:6.12, SSH hosts...), with
 * progress per kernel (fetching, booting, loading) and a matrix panel, program x kernel. A click on a
 * rejected cell puts that kernel's verdict on its source line (the diagnostic names the kernel) and
 * opens that kernel's log in the verifier stepper. The matrix itself is core/run/matrix.ts, as the
 * CLI's `bpf-ide matrix`.
 */
import { availableParallelism } from 'node:os';
import * as vscode from 'vscode';
import type { BpfIdeContext } from '../ctx';
import type { MatrixReport, MatrixResult } from '../core/run/matrix';
import { webviewShell } from './webview-shell';

const KERNELS_KEY = 'bpfIde.testOnKernels.kernels';
const DEFAULT_KERNELS = ['local', 'vm:6.1', 'vm:6.12'];

let diagnostics: vscode.DiagnosticCollection | undefined;

/** Picks the kernels (multi-select, the last choice preselected); undefined when cancelled. */
async function pickKernels(ctx: BpfIdeContext): Promise<string[] | undefined> {
  const remembered = ctx.extension.workspaceState.get<string[]>(KERNELS_KEY, DEFAULT_KERNELS);
  const { vmTargetRows } = await import('../core/vm/kernel-cache');
  const rows = new Map<string, string>([['local', 'this machine']]);
  for (const v of vmTargetRows()) rows.set(v.spec, v.description);
  try {
    // a lab of real boxes joins the same table: the Hosts of ~/.ssh/config
    const { SshConfig } = await import('../core/targets/ssh-config');
    for (const h of SshConfig.load().hostAliases()) if (!rows.has(h)) rows.set(h, 'Host in ~/.ssh/config');
  } catch (e) {
    ctx.output.warn(`~/.ssh/config could not be read for the kernel list: ${(e as Error).message}`);
  }
  for (const r of ctx.extension.globalState.get<string[]>('bpfIde.recentTargets', []))
    if (!rows.has(r)) rows.set(r, 'used before');
  for (const r of remembered) if (!rows.has(r)) rows.set(r, 'picked before');
  const items = [...rows].map(([spec, description]) => ({
    label: spec,
    description,
    picked: remembered.includes(spec),
  }));
  const picked = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: 'Test on Kernels: where to load (and attach) this file',
    placeHolder: 'vm: kernels boot in qemu; SSH hosts join the same table',
    // A multi-select survives a focus change (a panel taking focus back late): the ticks would be lost.
    ignoreFocusOut: true,
  });
  if (!picked?.length) return undefined;
  const kernels = picked.map((p) => p.label);
  await ctx.extension.workspaceState.update(KERNELS_KEY, kernels);
  return kernels;
}

/** The diagnostic of one kernel's rejection: on its source line, saying which kernel. */
function rejectionDiagnostic(program: string, target: string, release: string | undefined, r: MatrixResult) {
  const line = Math.max(0, (r.error?.line ?? 1) - 1);
  const d = new vscode.Diagnostic(
    new vscode.Range(line, 0, line, Number.MAX_SAFE_INTEGER),
    `${program} rejected by ${target}${release ? ` (${release})` : ''}: ${r.error?.message ?? 'rejected'}${r.error?.explanation ? `\n${r.error.explanation}` : ''}`,
    vscode.DiagnosticSeverity.Error,
  );
  d.source = `bpf-ide verifier (${target})`;
  return d;
}

/** What the command resolves with (tests and other features): the matrix, and the rejected-cell click. */
export interface TestOnKernelsResult {
  report: MatrixReport;
  open(program: string, target: string): Promise<void>;
}

/**
 * The command. `arg`: a file Uri (explorer, editor title), or `{uri?, kernels?}` to skip the picker
 * (tests, other features).
 */
export async function testOnKernels(ctx: BpfIdeContext, arg?: unknown): Promise<TestOnKernelsResult | undefined> {
  const given =
    arg && typeof arg === 'object' && !(arg instanceof vscode.Uri)
      ? (arg as { uri?: vscode.Uri; kernels?: string[] })
      : {};
  const uri = arg instanceof vscode.Uri ? arg : (given.uri ?? vscode.window.activeTextEditor?.document.uri);
  if (!uri || !/\.c$/.test(uri.fsPath))
    return void vscode.window.showWarningMessage('bpf-ide: open a BPF C file to test on kernels.');
  const kernels = Array.isArray(given.kernels) ? given.kernels : await pickKernels(ctx);
  if (!kernels) return undefined;
  await vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString())?.save();
  const build = await ctx.builder.build(uri);
  if (!build?.ok) return undefined;

  diagnostics ??= vscode.languages.createDiagnosticCollection('bpf-ide kernels');
  diagnostics.delete(uri);
  const media = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'matrix');
  const title = `Kernels: ${vscode.workspace.asRelativePath(uri)}`;
  const panel = vscode.window.createWebviewPanel('bpfIde.kernelMatrix', title, vscode.ViewColumn.Beside, {
    enableScripts: true,
    localResourceRoots: [media],
  });
  // set once the matrix is done; the panel's clicks read it
  const done: { report?: MatrixReport } = {};
  const stages = new Map<string, string>();
  const ready = new Promise<void>((resolve) => {
    panel.webview.onDidReceiveMessage(async (m: { type: string; program?: string; target?: string }) => {
      if (m.type === 'ready') resolve();
      if (m.type === 'open' && done.report && m.program && m.target)
        await openRejection(ctx, uri, done.report, m.program, m.target);
    });
  });
  panel.webview.html = webviewShell(panel.webview, media, {
    title,
    styles: ['matrix.css'],
    scripts: ['matrix.js'],
    images: false,
  });
  const post = (msg: unknown) => void panel.webview.postMessage(msg);
  await Promise.race([ready, new Promise((r) => setTimeout(r, 10_000))]);
  post({ type: 'init', title, kernels });

  const { runMatrix } = await import('../core/run/matrix');
  const report = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Test on Kernels', cancellable: false },
    (progress) =>
      runMatrix(
        {
          object: build.object,
          source: uri.fsPath,
          targets: kernels,
          attach: true,
          parallel: availableParallelism(),
          keepLogs: true,
        },
        (target, stage) => {
          stages.set(target, stage);
          ctx.output.info(`Test on Kernels: ${target}: ${stage}`);
          progress.report({ message: [...stages].map(([t, s]) => `${t}: ${s}`).join(' · ') });
          post({ type: 'progress', target, stage });
        },
      ),
  );
  done.report = report;
  // the panel gets no logs (they can be megabytes): a click asks for one
  post({
    type: 'report',
    report: {
      ...report,
      programs: report.programs.map((p) => ({
        ...p,
        results: Object.fromEntries(Object.entries(p.results).map(([k, v]) => [k, { ...v, log: undefined }])),
      })),
    },
  });
  const diags = report.programs.flatMap((p) =>
    Object.entries(p.results)
      .filter(([, r]) => r.status === 'rejected')
      .map(([t, r]) => rejectionDiagnostic(p.name, t, report.kernels.find((k) => k.target === t)?.release, r)),
  );
  diagnostics.set(uri, diags);
  const failed = report.kernels.filter((k) => !k.ok).map((k) => k.target);
  if (failed.length)
    void vscode.window.showWarningMessage(
      `bpf-ide: Test on Kernels could not use ${failed.join(', ')} (see the panel).`,
    );
  return { report, open: (program, target) => openRejection(ctx, uri, report, program, target) };
}

/** A click on a rejected cell: its diagnostic on the source line, the editor there, its log in the stepper. */
async function openRejection(
  ctx: BpfIdeContext,
  uri: vscode.Uri,
  report: MatrixReport,
  program: string,
  target: string,
) {
  const r = report.programs.find((p) => p.name === program)?.results[target];
  if (!r || r.status !== 'rejected') return;
  const release = report.kernels.find((k) => k.target === target)?.release;
  const d = rejectionDiagnostic(program, target, release, r);
  const others = (diagnostics?.get(uri) ?? []).filter((x) => x.source !== d.source || x.message !== d.message);
  diagnostics?.set(uri, [d, ...others]);
  const editor = await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
  editor.selection = new vscode.Selection(d.range.start, d.range.start);
  editor.revealRange(d.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  if (r.log)
    await vscode.commands.executeCommand('bpfIde.openVerifierLog', {
      text: r.log,
      title: `${program} on ${target}${release ? ` (${release})` : ''}`,
      sourceFile: uri,
      diagnostics: false,
    });
  else ctx.output.warn(`no verifier log was kept for ${program} on ${target}`);
}
