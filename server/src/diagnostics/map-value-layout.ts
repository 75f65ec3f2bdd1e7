/**
 * The arrays inside a file's map values, with their lengths, whether the struct is defined in the file
 * or in one of its own headers (libbpf-tools keep `struct event` in `execsnoop.h`), and constants
 * resolved through the file's and its headers' `#define`s (`#define LAST_ARG (FULL_MAX_ARGS_ARR - ARGSIZE)`).
 */
import type { BpfDocument } from '../bpf-document';
import { documentHeaderDeclarations, sharedHeaderDeclarations } from '../header-declarations';
import { field } from './fast-node';
import { memo, topLevelKey } from './function-cache';
import type { TypeSizes } from './type-sizes';

/** One array member of a map value struct. */
export interface ValueArray {
  length: number;
  /** Its elements are bytes (char, u8...): a helper's byte size counts elements. */
  bytes: boolean;
}

const BYTE_TYPES = /^(const\s+)?(char|signed char|unsigned char|u8|__u8|s8|__s8|uint8_t|int8_t)$/;

/** Evaluates a constant expression with the file's #defines, then its headers' object-like macros. */
export function constEvaluator(doc: BpfDocument, sizes: TypeSizes): (text: string) => number | undefined {
  let macros: Map<string, string> | undefined;
  const headerMacros = () => {
    if (!macros) {
      macros = new Map();
      for (const m of documentHeaderDeclarations(doc).macros.values()) {
        const d = /^\s*#\s*define\s+([A-Za-z_]\w*)[ \t]+([^\n]+)/.exec(m.text.replace(/\\\n/g, ' '));
        if (d && d[2].trim()) macros.set(d[1], d[2].replace(/\/\*.*?\*\/|\/\/.*$/g, '').trim());
      }
    }
    return macros;
  };
  return (text) => {
    const v = sizes.constValue(text);
    if (v !== undefined || !/[A-Za-z_]/.test(text)) return v;
    let t = text;
    for (let depth = 0; depth < 8; depth++) {
      let changed = false;
      t = t.replace(/\b[A-Za-z_]\w*\b/g, (id) => {
        const m = headerMacros().get(id);
        if (m === undefined) return id;
        changed = true;
        return `(${m})`;
      });
      if (!changed) break;
    }
    return t === text ? undefined : sizes.constValue(t);
  };
}

/**
 * Struct name -> array member -> its length, for the structs that are map values in this file. Read from
 * the top level and the headers only, so computed once per top level and headers (not per function the
 * rule runs on, nor per edit inside a body).
 */
export function mapValueArrays(
  doc: BpfDocument,
  konst: (text: string) => number | undefined,
): ReadonlyMap<string, ReadonlyMap<string, ValueArray>> {
  return memo(`map-value-arrays\u0000${topLevelKey(doc)}\u0000${documentHeaderDeclarations(doc).key}`, () =>
    readMapValueArrays(doc, konst),
  );
}

function readMapValueArrays(
  doc: BpfDocument,
  konst: (text: string) => number | undefined,
): Map<string, Map<string, ValueArray>> {
  const out = new Map<string, Map<string, ValueArray>>();
  for (const m of doc.maps) {
    const name = /^struct\s+(\w+)$/.exec(m.valueType?.trim() ?? '')?.[1];
    if (!name || out.has(name)) continue;
    const arrays = new Map<string, ValueArray>();
    const s = doc.structs.get(name);
    if (s) {
      for (const f of s.fields) {
        for (const d of f.node.descendantsOfType('array_declarator')) {
          const size = d && field(d, 'size');
          const n = size ? konst(size.text) : undefined;
          const base = (f.node.childForFieldName('type')?.text ?? '').trim();
          if (d && field(d, 'declarator')?.text === f.name && n !== undefined && n > 0)
            arrays.set(f.name, { length: n, bytes: BYTE_TYPES.test(base) });
        }
      }
    } else {
      // A struct of the file's own headers (not vmlinux.h, whose structs are not map values' arrays here).
      const files = documentHeaderDeclarations(doc).files;
      const def = files.length ? sharedHeaderDeclarations.headers.findStruct(name, files, [], files.length) : undefined;
      for (const mem of def?.members ?? []) {
        const a = /^(.*?)\[([^\]]+)\]$/.exec(mem.type);
        const n = a ? konst(a[2]) : undefined;
        if (a && n !== undefined && n > 0) arrays.set(mem.name, { length: n, bytes: BYTE_TYPES.test(a[1].trim()) });
      }
    }
    if (arrays.size) out.set(name, arrays);
  }
  return out;
}
