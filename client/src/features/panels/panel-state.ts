/**
 * Panel settings remembered per workspace: a map panel's interval, sort and filter by map name, an
 * events panel's record type by map name. (What a webview shows while hidden is kept by the webview
 * itself with getState/setState.)
 */
import type * as vscode from 'vscode';

const KEY = 'bpfIde.panels.state';
const MAX_ENTRIES = 200;

export class PanelState {
  constructor(private readonly memento: vscode.Memento) {}

  get<T extends object>(kind: string, name: string): Partial<T> | undefined {
    const all = this.memento.get<Record<string, { at: number; value: unknown }>>(KEY, {});
    return all[`${kind}:${name}`]?.value as Partial<T> | undefined;
  }

  async set<T extends object>(kind: string, name: string, value: T): Promise<void> {
    const all = { ...this.memento.get<Record<string, { at: number; value: unknown }>>(KEY, {}) };
    all[`${kind}:${name}`] = { at: Date.now(), value };
    // keep the most recent ones only
    const keys = Object.keys(all).sort((a, b) => all[b].at - all[a].at);
    for (const k of keys.slice(MAX_ENTRIES)) delete all[k];
    await this.memento.update(KEY, all);
  }
}
