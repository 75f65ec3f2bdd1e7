/** Document symbols: programs with their type, maps, the license, other functions and globals. */
import { type DocumentSymbol, SymbolKind } from 'vscode-languageserver/node';
import type { BpfDocument } from '../bpf-document';
import { declaratorName } from '../bpf-document';

export function documentSymbols(doc: BpfDocument): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  const programStarts = new Set<number>();
  for (const p of doc.programs) {
    programStarts.add(p.node.startIndex);
    const start = Math.min(p.sec.start, p.node.startIndex);
    out.push({
      name: p.name,
      detail: `${p.def ? p.def.programType + ' program' : 'unknown program type'} · SEC("${p.section}")`,
      kind: SymbolKind.Function,
      range: doc.rangeOf(start, p.node.endIndex),
      selectionRange: p.nameNode ? doc.nodeRange(p.nameNode) : doc.rangeOf(p.sec.start, p.sec.end),
    });
  }
  for (const m of doc.maps) {
    out.push({
      name: m.name,
      detail: `map ${m.type ?? ''}`.trim(),
      kind: SymbolKind.Variable,
      range: doc.nodeRange(m.node),
      selectionRange: m.nameNode ? doc.nodeRange(m.nameNode) : doc.nodeRange(m.node),
    });
  }
  if (doc.license) {
    out.push({
      name: 'LICENSE',
      detail: `"${doc.license.value}"`,
      kind: SymbolKind.Constant,
      range: doc.nodeRange(doc.license.node),
      selectionRange: doc.nodeRange(doc.license.node),
    });
  }
  for (const [name, fn] of doc.functions) {
    if (programStarts.has(fn.startIndex)) continue;
    out.push({
      name,
      detail: 'function',
      kind: SymbolKind.Function,
      range: doc.nodeRange(fn),
      selectionRange: doc.nodeRange(fn),
    });
  }
  const root = doc.root;
  if (root) {
    const taken = new Set([...doc.maps.map((m) => m.node.startIndex), doc.license?.node.startIndex]);
    for (const node of root.namedChildren) {
      if (!node || node.type !== 'declaration' || taken.has(node.startIndex)) continue;
      for (const d of node.childrenForFieldName('declarator')) {
        if (!d || d.type === 'function_declarator') continue;
        const n = declaratorName(d);
        if (!n) continue;
        const isConst = /\bconst\s+volatile\b|\bvolatile\s+const\b/.test(node.text);
        out.push({
          name: n.text,
          detail: isConst ? 'const volatile: set before load' : 'global',
          kind: isConst ? SymbolKind.Constant : SymbolKind.Variable,
          range: doc.nodeRange(node),
          selectionRange: doc.nodeRange(n),
        });
      }
    }
    for (const [name, s] of doc.structs) {
      if (s.node.startIndex < 0) continue;
      out.push({
        name,
        detail: 'struct',
        kind: SymbolKind.Struct,
        range: doc.nodeRange(s.node),
        selectionRange: doc.nodeRange(s.node),
      });
    }
  }
  return out.sort(
    (a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character,
  );
}
