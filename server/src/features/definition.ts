/** Go to definition for maps, functions, globals in the file, and structs in the file or its headers. */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Location, Position } from 'vscode-languageserver/node';
import type { BpfDocument } from '../bpf-document';
import { documentHeaderDeclarations } from '../header-declarations';
import { documentHeaderPaths } from '../header-index';
import type { ServerContext } from '../server';
import { wordAt } from './cursor';

export function definition(ctx: ServerContext, doc: BpfDocument, pos: Position): Location | null {
  const offset = doc.offsetAt(pos);
  const w = wordAt(doc.text, offset);
  if (!w) return null;
  const here = (node: { startIndex: number; endIndex: number }): Location => ({
    uri: doc.uri,
    range: doc.rangeOf(node.startIndex, node.endIndex),
  });
  const map = doc.maps.find((m) => m.name === w.word);
  if (map) return here(map.nameNode ?? map.node);
  const fn = doc.functions.get(w.word);
  if (fn) {
    const prog = doc.programs.find((p) => p.node.startIndex === fn.startIndex);
    return here(prog?.nameNode ?? fn);
  }
  // A function or macro of an included header (maps.bpf.h, core_fixes.bpf.h, libbpf's).
  const hdr = documentHeaderDeclarations(doc);
  const inHeader = hdr.functions.get(w.word) ?? hdr.macros.get(w.word);
  if (inHeader && !/\b(struct|union)\s+$/.test(doc.text.slice(Math.max(0, w.start - 10), w.start)))
    return {
      uri: pathToFileURL(inHeader.file).toString(),
      range: { start: { line: inHeader.line, character: 0 }, end: { line: inHeader.line, character: 0 } },
    };
  const isStruct = /\b(struct|union)\s+$/.test(doc.text.slice(Math.max(0, w.start - 10), w.start));
  if (isStruct) {
    const local = doc.structs.get(w.word);
    if (local) return here(local.node);
    if (!doc.uri.startsWith('file:')) return null;
    const file = fileURLToPath(doc.uri);
    const headers = documentHeaderPaths(ctx.headers, file, doc.includes, ctx.settings.includePaths);
    const def = ctx.headers.findStruct(w.word, headers, ctx.settings.includePaths);
    if (def)
      return {
        uri: pathToFileURL(def.file).toString(),
        range: { start: { line: def.line, character: 0 }, end: { line: def.line, character: 0 } },
      };
    return null;
  }
  // A global declared in this file.
  const root = doc.root;
  for (const node of root?.namedChildren ?? []) {
    if (!node || node.type !== 'declaration') continue;
    for (const id of node.descendantsOfType('identifier')) {
      if (id?.text === w.word && id.parent && /declarator/.test(id.parent.type)) return here(id);
    }
  }
  return null;
}
