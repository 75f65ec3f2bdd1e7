/** Every command of the extension in one table: id -> handler. */
import * as vscode from 'vscode';
import type { BpfIdeContext } from './ctx';

export type CommandHandler = (...args: unknown[]) => unknown;

export function createCommands(ctx: BpfIdeContext): Record<string, CommandHandler> {
  return {
    'bpfIde.restartServer': async () => {
      await ctx.restartLanguageServer();
      void vscode.window.showInformationMessage('BPF language server restarted.');
    },
    'bpfIde.showOutput': () => ctx.output.show(true),
  };
}
