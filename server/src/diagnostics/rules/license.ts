/**
 * Rule 7: a BPF object needs a `license` section, and GPL-only helpers need a GPL-compatible one.
 * The kernel refuses GPL-only helpers ("cannot call GPL-restricted function from non-GPL compatible
 * program") when the license is missing or not GPL-compatible.
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument } from '../../bpf-document';
import { basename } from 'node:path';
import { isGplOnly, kfuncByName } from '../../catalog/catalog';
import { documentHeaderDeclarations, type HeaderDeclarations } from '../../header-declarations';
import { opOf } from '../fast-node';
import type { Rule } from '../rule';
import { calledFunctions } from '../syntax';
import { syntaxIndex } from '../syntax-index';

/** libbpf macros that expand to GPL-only helpers. */
const GPL_MACROS: Record<string, string> = {
  BPF_CORE_READ: 'bpf_probe_read_kernel',
  BPF_CORE_READ_INTO: 'bpf_probe_read_kernel',
  BPF_CORE_READ_STR_INTO: 'bpf_probe_read_kernel_str',
  BPF_PROBE_READ: 'bpf_probe_read_kernel',
  BPF_PROBE_READ_INTO: 'bpf_probe_read_kernel',
  BPF_CORE_READ_USER: 'bpf_probe_read_user',
  BPF_CORE_READ_USER_INTO: 'bpf_probe_read_user',
  bpf_core_read: 'bpf_probe_read_kernel',
  bpf_core_read_str: 'bpf_probe_read_kernel_str',
  bpf_core_read_user: 'bpf_probe_read_user',
  bpf_printk: 'bpf_trace_printk',
};

interface GplUse {
  name: string;
  start: number;
  end: number;
  /** What the use is, for the message: "bpf_probe_read_kernel is GPL-only". */
  what: string;
  /** The kernel's words when it refuses it. */
  kernel: string;
}

const GPL_HELPER_MSG = 'cannot call GPL-restricted function from non-GPL compatible program';

/** Functions of the file the programs reach (themselves included), through any chain of calls. */
function reachable(doc: BpfDocument): Node[] {
  const out: Node[] = [];
  const seen = new Set<number>();
  const queue: Node[] = doc.programs.map((p) => p.node);
  while (queue.length) {
    const fn = queue.shift()!;
    if (seen.has(fn.startIndex)) continue;
    seen.add(fn.startIndex);
    out.push(fn);
    for (const c of calledFunctions(doc, fn)) {
      const callee = doc.functions.get(c.name);
      if (callee && !seen.has(callee.startIndex)) queue.push(callee);
    }
  }
  return out;
}

/** What in the programs needs a GPL-compatible license: GPL-only helpers (also through libbpf macros), kfuncs, BTF pointers. */
/** The first GPL-only helper (or macro expanding to one) a header function's body calls, through other header functions. */
function gplInHeaderFunction(hdr: HeaderDeclarations, name: string, depth = 0): string | undefined {
  const f = hdr.functions.get(name);
  if (!f || depth > 3) return undefined;
  for (const m of f.text.slice(f.text.indexOf('{')).matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
    const callee = m[1];
    if (isGplOnly(callee)) return callee;
    if (GPL_MACROS[callee] && isGplOnly(GPL_MACROS[callee])) return `${callee}() (${GPL_MACROS[callee]})`;
    if (callee !== name && hdr.functions.has(callee)) {
      const inner = gplInHeaderFunction(hdr, callee, depth + 1);
      if (inner) return inner;
    }
  }
  return undefined;
}

function gplUses(doc: BpfDocument): GplUse[] {
  const uses: GplUse[] = [];
  let hdr: HeaderDeclarations | undefined;
  for (const fn of reachable(doc)) {
    for (const c of calledFunctions(doc, fn)) {
      if (doc.functions.has(c.name)) continue;
      hdr ??= documentHeaderDeclarations(doc);
      const inHeader = hdr.functions.get(c.name);
      if (inHeader) {
        const gpl = gplInHeaderFunction(hdr, c.name);
        if (gpl)
          uses.push({
            ...c,
            what: `${c.name}() (${basename(inHeader.file)}:${inHeader.line + 1}) calls ${gpl}, which is GPL-only`,
            kernel: GPL_HELPER_MSG,
          });
        continue;
      }
      if (isGplOnly(c.name)) uses.push({ ...c, what: `${c.name} is GPL-only`, kernel: GPL_HELPER_MSG });
      else if (GPL_MACROS[c.name] && isGplOnly(GPL_MACROS[c.name]))
        uses.push({ ...c, what: `${c.name}() calls ${GPL_MACROS[c.name]}, which is GPL-only`, kernel: GPL_HELPER_MSG });
      else if (kfuncByName(c.name))
        uses.push({
          ...c,
          what: `${c.name} is a kfunc (kfuncs need a GPL-compatible license)`,
          kernel: 'cannot call kernel function from non-GPL compatible program',
        });
    }
  }
  // BTF-typed programs (tp_btf, fentry, lsm, iter...) reading through their kernel pointer arguments.
  for (const p of doc.programs) {
    if (!p.def || !['tracing', 'lsm', 'struct_ops'].includes(p.def.programType) || !p.body) continue;
    const header = doc.text.slice(p.node.startIndex, p.body.startIndex);
    const args = new Map<string, string>();
    for (const m of header.matchAll(/struct\s+(\w+)\s*\*\s*(\w+)/g)) args.set(m[2], m[1]);
    for (const f of syntaxIndex(doc).in('field_expression', p.body)) {
      const arg = f?.childForFieldName('argument');
      if (!f || !arg || arg.type !== 'identifier' || !args.has(arg.text) || opOf(f) !== '->') continue;
      const st = args.get(arg.text)!;
      uses.push({
        name: arg.text,
        start: f.startIndex,
        end: f.endIndex,
        what: `reading the kernel's struct ${st} through '${arg.text}' needs a GPL-compatible license`,
        kernel: `Cannot access kernel 'struct ${st}' from non-GPL compatible program`,
      });
      break;
    }
  }
  return uses.sort((a, b) => a.start - b.start);
}

/** The license strings the kernel's license_is_gpl_compatible() accepts. */
export const GPL_COMPATIBLE = new Set([
  'GPL',
  'GPL v2',
  'GPL and additional rights',
  'Dual BSD/GPL',
  'Dual MIT/GPL',
  'Dual MPL/GPL',
]);

const LICENSE_LINE = 'char LICENSE[] SEC("license") = "Dual BSD/GPL";';

export const licenseRule: Rule = {
  id: 'license',
  description: 'missing license section, or GPL-only helpers under a non-GPL license',
  run({ doc, report }) {
    // Fast path, on every edit, without the document structure: a GPL-compatible license allows everything.
    const sec = doc.mask.secs.find((s) => s.name === 'license');
    const value = sec && /^\s*=\s*"([^"\\\n]*)"\s*;/.exec(doc.text.slice(sec.end, sec.end + 200));
    if (value && GPL_COMPATIBLE.has(value[1])) return;
    if (doc.programs.length === 0) return;
    const license = doc.license;
    // A GPL-compatible license allows everything: no need to look for GPL-only uses.
    if (license && GPL_COMPATIBLE.has(license.value)) return;
    const gplCalls = gplUses(doc);
    // `SEC("licence")`, `SEC("LICENSE")`, `SEC(".license")`: a license string in a section libbpf does
    // not read as the license (only "license" is). Pointed at, with the section renamed as the fix.
    const near = !license
      ? doc.mask.secs.find(
          (x) => x.name !== 'license' && /^\.?(licen[cs]e|lisen[cs]e|licens|license[s_]?)$/i.test(x.name),
        )
      : undefined;
    if (near) {
      report({
        start: near.start,
        end: near.end,
        severity: gplCalls.length ? 'error' : 'warning',
        message:
          `The license is put in section "${near.name}", but libbpf reads it only from the section "license": the object has no ` +
          `license, the kernel treats it as non-GPL` +
          (gplCalls.length
            ? ` and rejects the program, since ${gplCalls[0].what} ("${gplCalls[0].kernel}").`
            : ` and refuses every GPL-only helper.`) +
          ` Write SEC("license").`,
        related: gplCalls.slice(0, 3).map((c) => ({ start: c.start, end: c.end, message: c.what })),
        fixes: [
          {
            title: 'Rename the section to "license"',
            edits: [{ start: near.nameStart, end: near.nameStart + near.name.length, newText: 'license' }],
            preferred: true,
          },
        ],
      });
      return;
    }
    if (!license) {
      const first = doc.programs[0];
      const insertAt = doc.text.length;
      const needsNewline = doc.text.length > 0 && !doc.text.endsWith('\n');
      report({
        start: first.sec.start,
        end: first.sec.end,
        severity: gplCalls.length ? 'error' : 'warning',
        message: gplCalls.length
          ? `No LICENSE section, but ${gplCalls[0].what}: the kernel rejects the program ` +
            `("${gplCalls[0].kernel}"). ` +
            `Add: ${LICENSE_LINE}`
          : `No LICENSE section: the kernel treats the object as non-GPL and refuses every GPL-only helper ` +
            `(bpf_probe_read_kernel, bpf_trace_printk, ...). Add: ${LICENSE_LINE}`,
        related: gplCalls.slice(0, 3).map((c) => ({ start: c.start, end: c.end, message: c.what })),
        fixes: [
          {
            title: 'Add a GPL-compatible license (Dual BSD/GPL)',
            edits: [{ start: insertAt, end: insertAt, newText: `${needsNewline ? '\n' : ''}\n${LICENSE_LINE}\n` }],
            preferred: true,
          },
        ],
      });
      return;
    }
    if (GPL_COMPATIBLE.has(license.value) || gplCalls.length === 0) return;
    const spdx = /^(GPL|LGPL)-[\d.]+(-only|-or-later|\+)?$|^(Dual |)\w+\/GPL-/.test(license.value)
      ? ` ("${license.value}" is an SPDX id; the kernel knows only "GPL", "GPL v2", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL" and "GPL and additional rights")`
      : '';
    const lit = license.node.descendantsOfType('string_literal')[0];
    const start = lit?.startIndex ?? license.node.startIndex;
    const end = lit?.endIndex ?? license.node.endIndex;
    for (const call of gplCalls) {
      report({
        start: call.start,
        end: call.end,
        severity: 'error',
        message:
          `${call.what}, and the license "${license.value}" is not GPL-compatible${spdx}: the kernel ` +
          `rejects the program ("${call.kernel}"). ` +
          `Use a GPL-compatible license such as "Dual BSD/GPL", or avoid this.`,
        related: [{ start, end, message: `license "${license.value}"` }],
        fixes: lit
          ? [
              {
                title: 'Change the license to "Dual BSD/GPL"',
                edits: [{ start, end, newText: '"Dual BSD/GPL"' }],
                preferred: true,
              },
            ]
          : undefined,
      });
    }
  },
};
