/**
 * Live values on hover: over the name of a map whose object is loaded from this file, the hover shows the map's
 * type, id and first entries as the agent reads them now, with a link to the map panel. (The language server's
 * own hover, the declaration and docs, shows next to it.) Everything from the target is shown as text.
 */
import * as vscode from 'vscode';
import type { TargetManager } from './target-manager';

const SHOWN = 5;

export class MapHover implements vscode.HoverProvider, vscode.Disposable {
  private readonly registration: vscode.Disposable;

  constructor(private readonly targets: TargetManager) {
    this.registration = vscode.languages.registerHoverProvider({ scheme: 'file', language: 'c' }, this);
  }

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    const session = this.targets.session;
    if (!session) return undefined;
    const range = doc.getWordRangeAtPosition(pos, /[A-Za-z_][A-Za-z0-9_]*/);
    if (!range) return undefined;
    const word = doc.getText(range);
    const map = session.loaded
      .filter((o) => o.source === doc.uri.fsPath)
      .flatMap((o) => o.maps)
      .find((m) => m.name === word);
    if (!map) return undefined;
    const md = new vscode.MarkdownString();
    md.isTrusted = { enabledCommands: ['bpfIde.openMap', 'bpfIde.openEvents'] };
    md.appendMarkdown('**');
    md.appendText(map.name);
    md.appendMarkdown('**');
    md.appendText(
      ` · ${map.type} map · id ${map.id} · key ${map.key_type ?? `${map.key_size} bytes`} · value ${map.value_type ?? `${map.value_size} bytes`} · live on ${this.targets.spec}`,
    );
    md.appendMarkdown('\n\n');
    if (map.type === 'ringbuf' || map.type === 'perf_event_array') {
      md.appendMarkdown(
        `[Open the events panel](command:bpfIde.openEvents?${encodeURIComponent(JSON.stringify([map.id]))})`,
      );
      return new vscode.Hover(md, range);
    }
    try {
      const r = await session.target.client.request('map_dump', { map_id: map.id, limit: SHOWN });
      const shown = r.entries.slice(0, SHOWN);
      const more = !r.done || r.entries.length > SHOWN;
      md.appendText(
        shown.length === 0
          ? 'no entries yet'
          : `${more ? `first ${shown.length} entries` : `${shown.length} ${shown.length === 1 ? 'entry' : 'entries'}`}:`,
      );
      if (shown.length)
        md.appendCodeblock(
          shown.map((e) => `${JSON.stringify(e.key)} => ${JSON.stringify(e.value)}`).join('\n'),
          'text',
        );
    } catch (e) {
      md.appendText(`could not read it: ${(e as Error).message}`);
      md.appendMarkdown('\n\n');
    }
    md.appendMarkdown(
      `[Open in the map panel](command:bpfIde.openMap?${encodeURIComponent(JSON.stringify([map.id]))})`,
    );
    return new vscode.Hover(md, range);
  }

  dispose(): void {
    this.registration.dispose();
  }
}
