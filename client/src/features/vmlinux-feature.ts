/**
 * vmlinux.h in the editor, never a manual step: when a BPF C file includes "vmlinux.h" and none is on its
 * include path, Build, Load and the language server use the connected target's, from the cache
 * (core/build/vmlinux-cache.ts), and say so once per kernel. The language server gets the cache folder at the
 * end of its include paths (the workspace/configuration answer is extended; nothing in the server changes).
 */
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { cachedVmlinux, type CachedVmlinux, needsTargetVmlinux } from '../core/build/vmlinux-cache';
import type { BpfIdeContext } from '../ctx';
import type { TargetManager } from './target-manager';

const STATE_KEY = 'bpfIde.vmlinuxDir';

export class VmlinuxFeature implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly said = new Set<string>();
  private readonly inFlight = new Map<object, Promise<CachedVmlinux>>();
  /** The folder of the target's cached vmlinux.h the language server has on its include path. */
  private dir: string | undefined;

  constructor(
    private readonly ctx: BpfIdeContext,
    private readonly targets: TargetManager,
  ) {
    const kept = ctx.extension.globalState.get<Record<string, string>>(STATE_KEY, {})[targets.spec];
    if (kept && existsSync(kept)) this.dir = kept;
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((doc) => void this.forServer(doc)),
      targets.onDidChange(() => {
        if (this.targets.session) for (const doc of vscode.workspace.textDocuments) void this.forServer(doc);
      }),
    );
  }

  /** Include folders for the language server: the cache folder last (found only when nothing else has vmlinux.h). */
  serverIncludeDirs(): string[] {
    return this.dir ? [this.dir] : [];
  }

  /** An open document that needs the target's vmlinux.h, with a target connected: get it for the server. */
  private async forServer(doc: vscode.TextDocument): Promise<void> {
    if (doc.uri.scheme !== 'file' || doc.languageId !== 'c' || !this.targets.session) return;
    try {
      await this.dirFor(doc.uri, false);
    } catch (e) {
      this.ctx.output.warn(`vmlinux.h for ${doc.uri.fsPath}: ${(e as Error).message}`);
    }
  }

  /**
   * The folder holding the target's vmlinux.h when `uri` needs it (includes it, none on its include path);
   * undefined when it does not. `connect`: connect to the target when not connected (Build, Load).
   */
  async dirFor(uri: vscode.Uri, connect = true, includeDirs: string[] = []): Promise<string | undefined> {
    if (!needsTargetVmlinux(uri.fsPath, includeDirs)) return undefined;
    const session = connect ? await this.targets.ensureConnected() : this.targets.session;
    if (!session) return undefined;
    // One fetch per connection at a time (opening a file and loading it ask together).
    let pending = this.inFlight.get(session.target.client);
    if (!pending) {
      pending = cachedVmlinux(session.target.client, this.targets.spec).finally(() =>
        this.inFlight.delete(session.target.client),
      );
      this.inFlight.set(session.target.client, pending);
    }
    const v = await pending;
    const key = `${this.targets.spec} ${v.release} ${v.btfId}`;
    if (!this.said.has(key)) {
      this.said.add(key);
      void vscode.window.showInformationMessage(
        `bpf-ide: ${vscode.workspace.asRelativePath(uri)} includes vmlinux.h and none is on its include path: using the one of Linux ${v.release} on ${this.targets.spec}${v.made ? ', generated from its BTF' : ''} (cached in ${v.dir}).`,
      );
      this.ctx.output.info(`vmlinux.h for ${uri.fsPath}: ${v.file}${v.made ? ' (generated)' : ' (cached)'}`);
    }
    if (this.dir !== v.dir) {
      this.dir = v.dir;
      const kept = this.ctx.extension.globalState.get<Record<string, string>>(STATE_KEY, {});
      await this.ctx.extension.globalState.update(STATE_KEY, { ...kept, [this.targets.spec]: v.dir });
      this.ctx.settingsChangedForServer();
    }
    return v.dir;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
