/**
 * The Programs view: target -> loaded object -> programs (type, id, verified instructions, run count)
 * and maps. Context actions: attach, detach, unload, open the verifier log, open a map (its entries as JSON).
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { LoadedObject } from '../core/run/load-session';
import type { TargetManager } from './target-manager';

type Node =
  | { kind: 'target' }
  | { kind: 'object'; obj: LoadedObject }
  | { kind: 'program'; obj: LoadedObject; name: string }
  | { kind: 'failed'; obj: LoadedObject; name: string }
  | { kind: 'map'; obj: LoadedObject; id: number };

export class ProgramsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];
  readonly view: vscode.TreeView<Node>;

  constructor(private readonly targets: TargetManager) {
    this.view = vscode.window.createTreeView('bpfIde.programs', { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.view,
      targets.onDidChange(() => this.emitter.fire(undefined)),
    );
  }

  getChildren(node?: Node): Node[] {
    const session = this.targets.session;
    if (!node) return [{ kind: 'target' }];
    if (node.kind === 'target') return (session?.loaded ?? []).map((obj) => ({ kind: 'object', obj }));
    if (node.kind === 'object') {
      return [
        ...node.obj.programs.map((p) => ({ kind: 'program' as const, obj: node.obj, name: p.name })),
        ...node.obj.failed.map((p) => ({ kind: 'failed' as const, obj: node.obj, name: p.name })),
        ...node.obj.maps.map((m) => ({ kind: 'map' as const, obj: node.obj, id: m.id })),
      ];
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'target': {
        const item = new vscode.TreeItem(`${this.targets.spec}`, vscode.TreeItemCollapsibleState.Expanded);
        item.description = this.targets.state;
        item.iconPath = new vscode.ThemeIcon(this.targets.state === 'connected' ? 'vm-active' : 'vm-outline');
        item.contextValue = `target.${this.targets.state}`;
        return item;
      }
      case 'object': {
        const item = new vscode.TreeItem(basename(node.obj.source), vscode.TreeItemCollapsibleState.Expanded);
        item.description = `handle ${node.obj.handle}`;
        item.tooltip = `${node.obj.source}\nobject ${node.obj.object}\nloaded ${new Date(node.obj.loadedAt).toLocaleTimeString()}`;
        item.iconPath = new vscode.ThemeIcon('package');
        item.contextValue = 'object';
        item.resourceUri = vscode.Uri.file(node.obj.source);
        return item;
      }
      case 'program': {
        const p = node.obj.programs.find((x) => x.name === node.name)!;
        const item = new vscode.TreeItem(p.name, vscode.TreeItemCollapsibleState.None);
        const runs =
          p.runCount !== undefined
            ? ` · ${p.runCount} runs${p.runCount ? ` · ${Math.round((p.runTimeNs ?? 0) / p.runCount)} ns/run` : ''}`
            : '';
        item.description = `${p.type} · id ${p.id} · ${p.verified_insns} insns${p.links.length ? ' · attached' : ''}${runs}`;
        item.tooltip = `SEC("${p.section}")\nprogram type ${p.type}, id ${p.id}, tag ${p.tag}\nverified ${p.verified_insns} insns, ${p.xlated_insns} xlated, ${p.jited_bytes} bytes JITed`;
        item.iconPath = new vscode.ThemeIcon(p.links.length ? 'debug-start' : 'symbol-function');
        item.contextValue = p.links.length ? 'program.attached' : 'program.loaded';
        return item;
      }
      case 'failed': {
        const f = node.obj.failed.find((x) => x.name === node.name)!;
        const item = new vscode.TreeItem(f.name, vscode.TreeItemCollapsibleState.None);
        item.description = `rejected: ${f.error.message}`;
        item.tooltip = `${f.error.message}${f.error.line ? `\nat ${f.error.file}:${f.error.line}` : ''}`;
        item.iconPath = new vscode.ThemeIcon('error');
        item.contextValue = 'program.rejected';
        return item;
      }
      case 'map': {
        const m = node.obj.maps.find((x) => x.id === node.id)!;
        const item = new vscode.TreeItem(m.name, vscode.TreeItemCollapsibleState.None);
        item.description = `${m.type} · id ${m.id} · ${m.max_entries} max`;
        item.tooltip = `key ${m.key_type ?? `${m.key_size} bytes`}, value ${m.value_type ?? `${m.value_size} bytes`}`;
        item.iconPath = new vscode.ThemeIcon('symbol-array');
        item.contextValue = 'map';
        item.command = { command: 'bpfIde.openMap', title: 'Open map', arguments: [node] };
        return item;
      }
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

export type ProgramsNode = Node;
