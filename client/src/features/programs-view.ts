/**
 * The Programs view: target -> loaded object -> programs (type, id, verified instructions, run count)
 * and maps. Context actions: attach, detach, unload, open the verifier log, open a map (its entries as JSON).
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import type { ListedMap, ListedProgram } from '../core/agent/agent-protocol';
import { visibleText as t } from '../core/visible-text';
import type { LoadedObject } from '../core/run/load-session';
import type { TargetManager } from './target-manager';

type Node =
  | { kind: 'target' }
  | { kind: 'object'; obj: LoadedObject }
  | { kind: 'program'; obj: LoadedObject; name: string }
  | { kind: 'failed'; obj: LoadedObject; name: string }
  | { kind: 'map'; obj: LoadedObject; id: number }
  | { kind: 'system' }
  | { kind: 'syserror'; message: string }
  | { kind: 'sysgroup'; what: 'programs' | 'maps' }
  | { kind: 'sysprog'; prog: ListedProgram }
  | { kind: 'sysmap'; id: number; name: string; type: string; map: ListedMap };

/** Every program and map on the target (the agent's `list`), read when the node is expanded or refreshed. */
interface SystemList {
  programs: ListedProgram[];
  maps: ListedMap[];
  error?: string;
}

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

  private system: SystemList | undefined;
  private listing: Promise<SystemList> | undefined;

  /** Reads the target's programs and maps again (the view's refresh action). */
  refreshSystem(): void {
    this.system = undefined;
    this.emitter.fire(undefined);
  }

  private async readSystem(): Promise<SystemList> {
    const session = this.targets.session;
    if (!session) return { programs: [], maps: [], error: 'not connected' };
    try {
      const r = await session.target.client.request('list', {});
      return r;
    } catch (e) {
      return { programs: [], maps: [], error: (e as Error).message };
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    const session = this.targets.session;
    if (!node) return session ? [{ kind: 'target' }, { kind: 'system' }] : [{ kind: 'target' }];
    if (node.kind === 'system') {
      this.listing ??= this.readSystem().finally(() => (this.listing = undefined));
      this.system = await this.listing;
      if (this.system.error) return [{ kind: 'syserror', message: this.system.error }];
      return [
        { kind: 'sysgroup', what: 'programs' },
        { kind: 'sysgroup', what: 'maps' },
      ];
    }
    if (node.kind === 'sysgroup') {
      const sys = this.system;
      if (!sys) return [];
      return node.what === 'programs'
        ? sys.programs.map((prog) => ({ kind: 'sysprog' as const, prog }))
        : sys.maps.map((map) => ({ kind: 'sysmap' as const, id: map.id, name: map.name, type: map.type, map }));
    }
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
        const item = new vscode.TreeItem(t(p.name), vscode.TreeItemCollapsibleState.None);
        const runs =
          p.runCount !== undefined
            ? ` · ${p.runCount} runs${p.runCount ? ` · ${Math.round((p.runTimeNs ?? 0) / p.runCount)} ns/run` : ''}`
            : '';
        item.description = `${p.type} · id ${p.id} · ${p.verified_insns} insns${p.links.length ? ' · attached' : p.attachError ? ' · not attached' : ''}${runs}`;
        item.tooltip = `SEC("${t(p.section)}")\nprogram type ${p.type}, id ${p.id}, tag ${p.tag}\nverified ${p.verified_insns} insns, ${p.xlated_insns} xlated, ${p.jited_bytes} bytes JITed${!p.links.length && p.attachError ? `\nattach failed: ${t(p.attachError)}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(p.links.length ? 'debug-start' : 'symbol-function');
        item.contextValue = p.links.length ? 'program.attached' : 'program.loaded';
        return item;
      }
      case 'failed': {
        const f = node.obj.failed.find((x) => x.name === node.name)!;
        const item = new vscode.TreeItem(t(f.name), vscode.TreeItemCollapsibleState.None);
        const rejected = f.code === 'verifier_rejected';
        item.description = `${rejected ? 'rejected' : 'refused'}: ${t(f.error.message)}`;
        item.tooltip = `${t(f.error.message)}${f.error.line ? `\nat ${t(f.error.file ?? '')}:${f.error.line}` : ''}${f.hint ? `\n${t(f.hint)}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(rejected ? 'error' : 'circle-slash');
        item.contextValue = rejected ? 'program.rejected' : 'program.refused';
        return item;
      }
      case 'system': {
        const item = new vscode.TreeItem(`All on ${this.targets.spec}`, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = 'every program and map on the box';
        item.tooltip =
          "What bpftool prog show / map show list: every program's type, id and runs; maps open read-only.";
        item.iconPath = new vscode.ThemeIcon('server-environment');
        item.contextValue = 'system';
        return item;
      }
      case 'syserror': {
        const item = new vscode.TreeItem(`could not list: ${t(node.message)}`, vscode.TreeItemCollapsibleState.None);
        item.iconPath = new vscode.ThemeIcon('error');
        return item;
      }
      case 'sysgroup': {
        const n = (node.what === 'programs' ? this.system?.programs : this.system?.maps)?.length ?? 0;
        const item = new vscode.TreeItem(
          node.what === 'programs' ? 'Programs' : 'Maps',
          n ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
        );
        item.description = String(n);
        item.contextValue = `sysgroup.${node.what}`;
        return item;
      }
      case 'sysprog': {
        const p = node.prog;
        const item = new vscode.TreeItem(t(p.name) || `(id ${p.id})`, vscode.TreeItemCollapsibleState.None);
        const runs = p.run_cnt ? ` · ${p.run_cnt} runs · ${Math.round(p.run_time_ns / p.run_cnt)} ns/run` : '';
        item.description = `${p.type} · id ${p.id} · ${p.verified_insns} insns${runs}${p.handle ? ' · this window' : ''}`;
        item.tooltip = `${p.type} program ${t(p.name)}, id ${p.id}, tag ${p.tag}\nloaded by uid ${p.uid}${p.handle ? ' (from this window)' : ''}\nmaps: ${p.map_ids.length ? p.map_ids.join(', ') : 'none'}`;
        item.iconPath = new vscode.ThemeIcon('symbol-function');
        item.contextValue = 'sysprog';
        return item;
      }
      case 'sysmap': {
        const m = node.map;
        const item = new vscode.TreeItem(t(m.name) || `(id ${m.id})`, vscode.TreeItemCollapsibleState.None);
        item.description = `${m.type} · id ${m.id} · ${m.max_entries} max${m.handle ? ' · this window' : ''}`;
        item.tooltip = `key ${m.key_size} bytes, value ${m.value_size} bytes${m.btf_id ? `, BTF ${m.btf_id}` : ''}\nClick to watch it (read-only unless this window loaded it).`;
        item.iconPath = new vscode.ThemeIcon('symbol-array');
        item.contextValue = 'sysmap';
        item.command = { command: 'bpfIde.openMap', title: 'Open map', arguments: [node] };
        return item;
      }
      case 'map': {
        const m = node.obj.maps.find((x) => x.id === node.id)!;
        const item = new vscode.TreeItem(t(m.name), vscode.TreeItemCollapsibleState.None);
        item.description = `${m.type} · id ${m.id} · ${m.max_entries} max`;
        item.tooltip = `key ${t(m.key_type ?? `${m.key_size} bytes`)}, value ${t(m.value_type ?? `${m.value_size} bytes`)}`;
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
