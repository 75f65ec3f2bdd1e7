/** Activation and deactivation only: everything else hangs off the context object. */
import './core/zod-setup'; // first: configures zod before any schema is built
import type * as vscode from 'vscode';
import { BpfIdeContext } from './ctx';

let ctx: BpfIdeContext | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<BpfIdeContext> {
  ctx = new BpfIdeContext(context);
  await ctx.start();
  return ctx;
}

export async function deactivate(): Promise<void> {
  await ctx?.dispose();
  ctx = undefined;
}
