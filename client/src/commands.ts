/**
 * Every command of the extension in one table: id -> handler. Handlers that need something missing
 * (no target connected, nothing loaded) say so plainly instead of failing later.
 */
import * as vscode from 'vscode';
import { visibleText } from './core/visible-text';
import type { BpfIdeContext } from './ctx';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProgramsNode } from './features/programs-view';

export type CommandHandler = (...args: unknown[]) => unknown;

/** (handle, program) from a CodeLens, or a Programs view node. */
function programArgs(args: unknown[]): { handle: number; name?: string } | undefined {
  if (typeof args[0] === 'number') return { handle: args[0], name: typeof args[1] === 'string' ? args[1] : undefined };
  const node = args[0] as ProgramsNode | undefined;
  if (node && 'obj' in node) return { handle: node.obj.handle, name: 'name' in node ? node.name : undefined };
  return undefined;
}

export function createCommands(ctx: BpfIdeContext): Record<string, CommandHandler> {
  const needLoaded = (args: unknown[]) => {
    const a = programArgs(args);
    const session = ctx.targets.session;
    if (!a || !session) {
      void vscode.window.showWarningMessage(
        'bpf-ide: nothing is loaded on a connected target (use Load on a SEC() program first).',
      );
      return undefined;
    }
    return { ...a, session };
  };
  const report = (what: string) => (e: unknown) =>
    void vscode.window.showErrorMessage(`bpf-ide: ${what}: ${visibleText((e as Error).message)}`);
  return {
    'bpfIde.restartServer': async () => {
      await ctx.restartLanguageServer();
      void vscode.window.showInformationMessage('BPF language server restarted.');
    },
    'bpfIde.showOutput': () => ctx.output.show(true),
    // Loaded when used: templates bring zod.
    'bpfIde.newProgram': async (args?: unknown) => (await import('./features/new-program')).newBpfProgram(ctx, args),
    'bpfIde.build': async (uri?: unknown) => {
      const target = uri instanceof vscode.Uri ? uri : vscode.window.activeTextEditor?.document.uri;
      if (!target) return void vscode.window.showWarningMessage('bpf-ide: open a BPF C file to build.');
      await vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString())?.save();
      const r = await ctx.builder.build(target);
      if (r?.ok)
        void vscode.window.showInformationMessage(
          `bpf-ide: built ${vscode.workspace.asRelativePath(r.object)} in ${r.durationMs.toFixed(0)} ms.`,
        );
    },
    // (uri, program) from a CodeLens: that program; from the palette: the program at the cursor.
    'bpfIde.load': (uri?: unknown, program?: unknown) =>
      ctx.loader.load(uri instanceof vscode.Uri ? uri : undefined, {
        program: typeof program === 'string' ? program : undefined,
      }),
    'bpfIde.loadAndAttach': (uri?: unknown, program?: unknown) =>
      ctx.loader.load(uri instanceof vscode.Uri ? uri : undefined, {
        attach: true,
        program: typeof program === 'string' ? program : undefined,
      }),
    // Every loaded program of an object (a Programs view object, a handle, or the active file's object).
    'bpfIde.attachAll': async (...args: unknown[]) => {
      const session = ctx.targets.session;
      const active = vscode.window.activeTextEditor?.document.uri.fsPath;
      const handle =
        programArgs(args)?.handle ??
        session?.loaded.filter((o) => o.source === (args[0] instanceof vscode.Uri ? args[0].fsPath : active)).at(-1)
          ?.handle;
      if (!session || handle === undefined)
        return void vscode.window.showWarningMessage(
          'bpf-ide: nothing of this file is loaded on a connected target (use Load on a SEC() program first).',
        );
      await ctx.loader.attachAll(handle).catch(report('attaching all'));
    },
    'bpfIde.attach': async (...args: unknown[]) => {
      const a = needLoaded(args);
      if (a?.name) await a.session.attach(a.handle, a.name).catch(report(`attaching ${a.name}`));
    },
    'bpfIde.detach': async (...args: unknown[]) => {
      const a = needLoaded(args);
      if (a?.name) await a.session.detach(a.handle, a.name).catch(report(`detaching ${a.name}`));
    },
    'bpfIde.unload': async (...args: unknown[]) => {
      const a = needLoaded(args);
      if (a) await a.session.unload(a.handle).catch(report('unloading'));
    },
    'bpfIde.connect': () => ctx.targets.ensureConnected().catch((e: unknown) => ctx.targets.reportConnectFailure(e)),
    'bpfIde.disconnect': () => ctx.targets.disconnect(),
    'bpfIde.refreshPrograms': () => ctx.programs.refreshSystem(),
    // Loaded when used: reading ~/.ssh/config for the picker.
    'bpfIde.selectTarget': async () => (await import('./features/select-target')).selectTarget(ctx),
    // Loaded when used: the matrix boots VMs and brings the kernel cache.
    'bpfIde.testOnKernels': async (arg?: unknown) =>
      (await import('./features/test-on-kernels')).testOnKernels(ctx, arg),
    'bpfIde.generateVmlinux': async () => {
      // vmlinux.h for CO-RE from the selected target's kernel BTF, next to the active BPF file (or in the workspace root).
      const active = vscode.window.activeTextEditor?.document.uri;
      const dir =
        active?.scheme === 'file' ? dirname(active.fsPath) : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      if (!dir)
        return void vscode.window.showWarningMessage(
          'bpf-ide: open a folder (or a BPF C file) to write vmlinux.h into.',
        );
      try {
        const session = await ctx.targets.ensureConnected();
        const hello = await session.target.client.hello;
        const file = join(dir, 'vmlinux.h');
        const { vmlinuxBanner, vmlinuxRelease, dumpVmlinux } = await import('./core/build/vmlinux-cache');
        if (existsSync(file)) {
          // Never silently: the one there may be another kernel's on purpose.
          const old = vmlinuxRelease(file);
          const choice = await vscode.window.showWarningMessage(
            `${vscode.workspace.asRelativePath(file)} exists: replace it?`,
            {
              modal: true,
              detail: `The one there is ${old ? `of Linux ${old}` : 'of an unknown kernel (not written by bpf-ide)'}; the new one is of Linux ${hello.kernel.release} (${hello.kernel.machine}) on ${ctx.targets.spec}.`,
            },
            'Replace',
          );
          if (choice !== 'Replace') return;
        }
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `bpf-ide: vmlinux.h from ${ctx.targets.spec}` },
          async () => {
            const { text } = await dumpVmlinux(session.target.client);
            writeFileSync(file, vmlinuxBanner(hello.kernel.release, hello.kernel.machine, ctx.targets.spec) + text);
            void vscode.window.showInformationMessage(
              `bpf-ide: wrote ${vscode.workspace.asRelativePath(file)} (Linux ${hello.kernel.release}).`,
            );
          },
        );
      } catch (e) {
        report('generating vmlinux.h')(e);
      }
    },
    'bpfIde.showPrograms': () => vscode.commands.executeCommand('bpfIde.programs.focus'),
    'bpfIde.showProgramLog': async (...args: unknown[]) => {
      const a = needLoaded(args);
      const obj = a && a.session.loaded.find((o) => o.handle === a.handle);
      const log =
        obj?.programs.find((p) => p.name === a?.name)?.verifier.log ?? obj?.failed.find((p) => p.name === a?.name)?.log;
      if (log === undefined) return void vscode.window.showWarningMessage('bpf-ide: no verifier log for that program.');
      if (!log.trim()) {
        return void vscode.window.showInformationMessage(
          'bpf-ide: the verifier printed nothing at this log level: set bpfIde.load.logLevel to 2 and load again to step through it.',
        );
      }
      // The stepper: the log instruction by instruction, with register and stack state, on the source.
      // Diagnostics: the load published one per rejected program already.
      await vscode.commands.executeCommand('bpfIde.openVerifierLog', {
        text: log,
        title: a?.name,
        sourceFile: obj?.source,
        includeDirs: obj ? ctx.loader.includeDirsOf(obj.source) : undefined,
        diagnostics: false,
      });
    },
  };
}
