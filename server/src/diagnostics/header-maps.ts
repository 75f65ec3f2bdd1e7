/**
 * BTF-style maps defined in the headers a file includes (`struct { __uint(type, ...); ... } events
 * SEC(".maps");` in a project's `maps.bpf.h`): their names, types and value types, read from the header
 * text (cached per header version). vmlinux.h holds no maps and is not read.
 */
import { documentHeaderDeclarations, sharedHeaderDeclarations } from '../header-declarations';
import type { BpfDocument } from '../bpf-document';
import { memo, topLevelKey } from './function-cache';

export interface HeaderMap {
  name: string;
  /** `BPF_MAP_TYPE_RINGBUF` */
  type: string | undefined;
  valueType: string | undefined;
  file: string;
}

/** Maps defined in the document's included headers (not the file itself). */
export function headerMaps(doc: BpfDocument): HeaderMap[] {
  const decls = documentHeaderDeclarations(doc);
  if (!decls.files.length) return [];
  return memo(`header-maps\u0000${decls.key}`, () => {
    const out: HeaderMap[] = [];
    for (const file of decls.files) {
      if (/(^|\/)vmlinux\.h$/.test(file)) continue;
      const text = sharedHeaderDeclarations.headers.text(file);
      if (!text || text.length > 1 << 20 || !text.includes('.maps')) continue;
      for (const m of text.matchAll(/struct\s*\{([^{}]*)\}\s*([A-Za-z_]\w*)\s+SEC\s*\(\s*"\.maps"\s*\)/g)) {
        const body = m[1];
        out.push({
          name: m[2],
          type: /__uint\s*\(\s*type\s*,\s*(\w+)\s*\)/.exec(body)?.[1],
          valueType: /__type\s*\(\s*value\s*,\s*([^)]+?)\s*\)/.exec(body)?.[1],
          file,
        });
      }
    }
    return out;
  });
}

/** A map of the file: what the rules need of it, without its node. */
export interface FileMap {
  name: string;
  type: string | undefined;
  valueType: string | undefined;
}

/**
 * The file's own maps, cached by the text outside function bodies (an edit inside a function does not
 * rebuild the document's structure for them).
 */
export function fileMaps(doc: BpfDocument): FileMap[] {
  return memo(`file-maps\u0000${topLevelKey(doc)}`, () =>
    doc.maps.map((m) => ({ name: m.name, type: m.type, valueType: m.valueType })),
  );
}
