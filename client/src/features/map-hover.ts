/**
 * Live values on hover: over the name of a map whose object is loaded from this file, the hover shows the map's
 * type, id and first entries as the agent reads them now, with a link to the map panel; over a loaded program's
 * name, its id, whether it is attached, the verifier's figures and its runs. (The language server's
 * own hover, the declaration and docs, shows next to it.) Everything from the target is shown as text.
 */
import * as vscode from 'vscode';
import type { LoadedObject } from '../core/run/load-session';
import { visibleText } from '../core/visible-text';
import type { TargetManager } from './target-manager';

const SHOWN = 5;

/** A hover's first paragraph: the name in bold, then what it is; names and text from the target stay text. */
function heading(commands: string[], name: string, rest: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.isTrusted = { enabledCommands: commands };
  md.appendMarkdown('**');
  md.appendText(visibleText(name));
  md.appendMarkdown('**');
  md.appendText(visibleText(rest));
  md.appendMarkdown('\n\n');
  return md;
}

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
    const objects = session.loaded.filter((o) => o.source === doc.uri.fsPath);
    const prog = objects.flatMap((o) => o.programs.map((p) => ({ o, p }))).find(({ p }) => p.name === word);
    if (prog) return new vscode.Hover(this.programHover(prog.o.handle, prog.p), range);
    const map = objects.flatMap((o) => o.maps).find((m) => m.name === word);
    if (!map) return undefined;
    const md = heading(
      ['bpfIde.openMap', 'bpfIde.openEvents'],
      map.name,
      ` · ${map.type} map · id ${map.id} · key ${map.key_type ?? `${map.key_size} bytes`} · value ${map.value_type ?? `${map.value_size} bytes`} · live on ${this.targets.spec}`,
    );
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
          shown.map((e) => visibleText(`${JSON.stringify(e.key)} => ${JSON.stringify(e.value)}`)).join('\n'),
          'text',
        );
    } catch (e) {
      md.appendText(`could not read it: ${visibleText((e as Error).message)}`);
      md.appendMarkdown('\n\n');
    }
    md.appendMarkdown(
      `[Open in the map panel](command:bpfIde.openMap?${encodeURIComponent(JSON.stringify([map.id]))})`,
    );
    return new vscode.Hover(md, range);
  }

  /** A loaded program: where it runs, what the verifier said, how often it ran (from the stats poll). */
  private programHover(handle: number, p: LoadedObject['programs'][number]): vscode.MarkdownString {
    const md = heading(
      ['bpfIde.showProgramLog', 'bpfIde.openStats'],
      p.name,
      ` · ${p.type} program · id ${p.id} · ${p.links.length ? 'attached' : 'loaded, not attached'} on ${this.targets.spec}`,
    );
    md.appendText(
      `verifier: ${p.verified_insns} insns verified, ${p.xlated_insns} after rewriting, ${p.jited_bytes} bytes JITed`,
    );
    md.appendMarkdown('\n\n');
    if (p.runCount !== undefined)
      md.appendText(
        `runs: ${p.runCount}${p.runCount ? `, ${Math.round((p.runTimeNs ?? 0) / p.runCount)} ns per run` : ''}`,
      );
    else md.appendText('runs: counted from the next stats poll');
    md.appendMarkdown('\n\n');
    const args = encodeURIComponent(JSON.stringify([handle, p.name]));
    md.appendMarkdown(
      `[Verifier log](command:bpfIde.showProgramLog?${args}) · [Program stats](command:bpfIde.openStats)`,
    );
    return md;
  }

  dispose(): void {
    this.registration.dispose();
  }
}
