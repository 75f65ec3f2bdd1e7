/**
 * A CO-RE read through a local "flavor" of a kernel struct (`struct task_struct___o`, the convention for
 * a struct as an older or newer kernel has it) of a field the kernel's struct does not have, and no
 * bpf_core_field_exists()/bpf_core_type_exists() test for it in the file. libbpf resolves the flavor
 * against the running kernel's struct of the name before `___`; a field it lacks (task_struct's `state`
 * became `__state` in 5.14) fails to relocate, the instruction is poisoned, and the load fails ("failed
 * to resolve CO-RE relocation") when the read is reachable. The kernel's struct comes from the
 * vmlinux.h the file includes (this machine's kernel, or the one the project targets); without one the
 * rule says nothing, and a function that tests existence itself is left alone. Error when the file tests no field or type existence at all; a warning when it
 * tests others (the test may guard this read from elsewhere).
 */
import type { Node } from 'web-tree-sitter';
import { field, opOf, ty } from '../fast-node';
import type { Rule } from '../rule';
import { callArgs } from '../syntax';
import { syntaxIndex } from '../syntax-index';
import { documentHeaderDeclarations, sharedHeaderDeclarations } from '../../header-declarations';
import type { BpfDocument } from '../../bpf-document';
import { memo } from '../function-cache';

const CORE_READS =
  /^(BPF_CORE_READ|BPF_CORE_READ_INTO|BPF_CORE_READ_STR_INTO|BPF_CORE_READ_BITFIELD|BPF_CORE_READ_BITFIELD_PROBED)$/;
const EXISTS = /\bbpf_core_(field|type)_exists\s*\(/g;

/** Whether the text calls bpf_core_field_exists()/bpf_core_type_exists() outside `//` comments. */
function testsExistence(text: string): boolean {
  for (const m of text.matchAll(EXISTS)) {
    const line = text.slice(text.lastIndexOf('\n', m.index) + 1, m.index);
    if (!line.includes('//') && !/^\s*\*/.test(line)) return true;
  }
  return false;
}

/** The body text of the kernel's `struct name` in the file's headers, or undefined. */
function kernelStructBody(doc: BpfDocument, name: string): string | undefined {
  const files = documentHeaderDeclarations(doc).files;
  if (!files.length) return undefined;
  return memo(`core-field\u0000${documentHeaderDeclarations(doc).key}\u0000${name}`, () => {
    const def = sharedHeaderDeclarations.headers.findStruct(name, files, [], files.length);
    const text = def ? sharedHeaderDeclarations.headers.text(def.file) : undefined;
    if (!def || def.kind !== 'struct' || text === undefined) return undefined;
    const open = text.indexOf('{', def.offset);
    if (open < 0) return undefined;
    let depth = 0;
    for (let i = open; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) return text.slice(open + 1, i);
    }
    return undefined;
  });
}

export const coreFieldRule: Rule = {
  id: 'core-field',
  description: 'a CO-RE read through a struct flavor (X___suffix) of a field the kernel struct X lacks, untested',
  ownFunctionOnly: true,
  functionFilter: /___\w+\s*\*/,
  // Whether the file tests field/type existence anywhere, and the vmlinux.h/headers the file includes.
  fileKey: (doc) => `${testsExistence(doc.text) ? 'exists' : ''}|${documentHeaderDeclarations(doc).key}`,
  runFunction({ doc, fn, report }) {
    const body = field(fn, 'body');
    if (!body) return;
    const text = doc.text.slice(fn.startIndex, fn.endIndex);
    // A test in the function itself guards its reads.
    if (testsExistence(text)) return;
    const tested = testsExistence(doc.text);
    // Locals and parameters declared as a flavor pointer, by name.
    const vars = new Map<string, string>();
    for (const m of text.matchAll(/\bstruct\s+(\w+___\w+)\s*\*\s*(\w+)/g)) vars.set(m[2], m[1]);
    const flavorOf = (e: Node): string | undefined => {
      let v = e;
      while (ty(v) === 'parenthesized_expression' && v.namedChildren[0]) v = v.namedChildren[0];
      if (ty(v) === 'cast_expression') {
        const t = field(v, 'type')?.text ?? '';
        return /^struct\s+(\w+___\w+)\s*\*$/.exec(t.replace(/\s+/g, ' ').trim())?.[1];
      }
      return ty(v) === 'identifier' ? vars.get(v.text) : undefined;
    };
    const check = (at: Node, flavor: string, name: string) => {
      const local = doc.structs.get(flavor);
      if (!local || !local.fields.some((f) => f.name === name)) return;
      const base = flavor.slice(0, flavor.indexOf('___'));
      const kernel = kernelStructBody(doc, base);
      if (kernel === undefined || new RegExp(`\\b${name}\\s*(\\[[^\\]]*\\]\\s*)*(:\\s*\\d+\\s*)?;`).test(kernel))
        return;
      report({
        start: at.startIndex,
        end: at.endIndex,
        severity: tested ? 'warning' : 'error',
        message:
          `struct ${flavor} is a flavor of the kernel's struct ${base}, which has no field '${name}' in the vmlinux.h this file includes: the ` +
          `relocation fails and libbpf rejects the program when the read is reachable ("failed to resolve CO-RE relocation"). ` +
          `Test it first with bpf_core_field_exists(((struct ${flavor} *)0)->${name}) and read the kernel's current field otherwise` +
          (tested ? ' (if a test elsewhere guards this read, ignore this).' : '.'),
      });
    };
    const ix = syntaxIndex(doc);
    for (const c of ix.callsIn(fn)) {
      if (!CORE_READS.test(c.name)) continue;
      const args = callArgs(c.node);
      const src = c.name === 'BPF_CORE_READ' || c.name.startsWith('BPF_CORE_READ_BITFIELD') ? 0 : 1;
      const flavor = args[src] ? flavorOf(args[src]) : undefined;
      const first = args[src + 1]?.text.trim().split(/[.\->\s[]/)[0];
      if (flavor && first) check(args[src + 1], flavor, first);
    }
    for (const f of ix.in('field_expression', body)) {
      if (!f || opOf(f) !== '->') continue;
      const a = field(f, 'argument');
      const flavor = a ? flavorOf(a) : undefined;
      const name = field(f, 'field')?.text;
      // A direct read relocates only for a struct marked preserve_access_index.
      if (!flavor || !name || !/preserve_access_index/.test(doc.structs.get(flavor)?.node.parent?.text ?? '')) continue;
      // bpf_core_field_exists(x->f) itself is the test.
      if (/bpf_core_field_(exists|size|offset)\s*\(/.test(f.parent?.parent?.text ?? '')) continue;
      check(f, flavor, name);
    }
  },
};
