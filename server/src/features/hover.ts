/** Hover: helper and kfunc docs, macros, maps (type, key, value, max_entries), what a SEC() means. */
import { basename } from 'node:path';
import { type Hover, MarkupKind, type Position } from 'vscode-languageserver/node';
import type { BpfDocument } from '../bpf-document';
import {
  helperByName,
  kfuncByName,
  macroByName,
  mapTypeByName,
  mapFlagByName,
  returnCodeSets,
} from '../catalog/catalog';
import { documentHeaderDeclarations, type HeaderFunction } from '../header-declarations';
import { functionSummaryNotes } from '../diagnostics/function-summaries';
import type { ServerContext } from '../server';
import { wordAt } from './cursor';
import { helperMarkdown, kfuncMarkdown, macroMarkdown, mapMarkdown, sectionMarkdown } from './docs';

/** A function from an included header: its signature, where it is, and what the rules know of it. */
function headerFunctionMarkdown(f: HeaderFunction, notes: string[]): string {
  const body = f.text.length > 900 ? `${f.text.slice(0, 900)}\n...` : f.text;
  return `\`\`\`c\n${f.signature}\n\`\`\`\n\nDefined in ${basename(f.file)}:${f.line + 1}${summaryMarkdown(notes)}\n\n\`\`\`c\n${body}\n\`\`\``;
}

function summaryMarkdown(notes: string[]): string {
  return notes.length ? `\n\n${notes.map((n) => `- ${n}`).join('\n')}` : '';
}

export function hover(_ctx: ServerContext, doc: BpfDocument, pos: Position): Hover | null {
  const offset = doc.offsetAt(pos);
  const sec = doc.mask.secs.find((s) => s.start <= offset && offset <= s.end);
  if (sec) {
    const prog = doc.programs.find((p) => p.sec === sec);
    const def = prog?.def;
    let value: string;
    if (def) value = sectionMarkdown(def);
    else if (sec.name === '.maps')
      value = '**SEC(".maps")**: BTF-defined maps; libbpf creates each map before loading the programs.';
    else if (sec.name === 'license')
      value = '**SEC("license")**: the license the kernel checks before allowing GPL-only helpers.';
    else value = `**SEC("${sec.name}")**: libbpf does not know this section name.`;
    return { contents: { kind: MarkupKind.Markdown, value }, range: doc.rangeOf(sec.start, sec.end) };
  }
  const w = wordAt(doc.text, offset);
  if (!w) return null;
  const range = doc.rangeOf(w.start, w.end);
  const md = (value: string): Hover => ({ contents: { kind: MarkupKind.Markdown, value }, range });
  const h = helperByName(w.word);
  if (h) return md(helperMarkdown(h));
  const k = kfuncByName(w.word);
  if (k) return md(kfuncMarkdown(k));
  const m = macroByName(w.word);
  if (m) return md(macroMarkdown(m));
  const map = doc.maps.find((x) => x.name === w.word);
  if (map) return md(mapMarkdown(map));
  const own = doc.functions.get(w.word);
  if (own) {
    // A function of this file: its signature and what the rules know of it, when they know something.
    const notes = functionSummaryNotes(doc, w.word);
    const brace = own.text.indexOf('{');
    const signature = (brace < 0 ? own.text : own.text.slice(0, brace)).trim();
    if (notes.length) return md(`\`\`\`c\n${signature}\n\`\`\`${summaryMarkdown(notes)}`);
  } else {
    const hdr = documentHeaderDeclarations(doc);
    const f = hdr.functions.get(w.word);
    if (f) return md(headerFunctionMarkdown(f, functionSummaryNotes(doc, w.word)));
    const mac = hdr.macros.get(w.word);
    if (mac)
      return md(`\`\`\`c\n${mac.text.slice(0, 600)}\n\`\`\`\n\nmacro from ${basename(mac.file)}:${mac.line + 1}`);
  }
  const mt = mapTypeByName(w.word);
  if (mt)
    return md(`**${mt.name}** (Linux ${mt.since})\n\n${mt.description}\n\n- key: ${mt.key}\n- value: ${mt.value}`);
  const flag = mapFlagByName(w.word);
  if (flag) return md(`**${flag.name}** = 0x${flag.value.toString(16)}\n\n${flag.description}`);
  for (const set of Object.values(returnCodeSets())) {
    const v = set.values.find((x) => x.name === w.word);
    if (v) return md(`**${v.name}** = ${v.value}\n\n${v.description}\n\n(${set.description})`);
  }
  return null;
}
