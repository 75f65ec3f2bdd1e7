/**
 * Rule 7: a BPF object needs a `license` section, and GPL-only helpers need a GPL-compatible one.
 * The kernel refuses GPL-only helpers ("cannot call GPL-restricted function from non-GPL compatible
 * program") when the license is missing or not GPL-compatible.
 */
import { isGplOnly } from '../../catalog/catalog';
import type { Rule } from '../rule';
import { calledFunctions } from '../syntax';

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
    if (doc.programs.length === 0) return;
    const gplCalls = doc.programs.flatMap((p) =>
      p.body ? calledFunctions(doc, p.body).filter((c) => isGplOnly(c.name)) : [],
    );
    const license = doc.license;
    if (!license) {
      const first = doc.programs[0];
      const insertAt = doc.text.length;
      const needsNewline = doc.text.length > 0 && !doc.text.endsWith('\n');
      report({
        start: first.sec.start,
        end: first.sec.end,
        severity: gplCalls.length ? 'error' : 'warning',
        message: gplCalls.length
          ? `No LICENSE section, but ${gplCalls[0].name} is GPL-only: the kernel rejects the program ` +
            `("cannot call GPL-restricted function from non-GPL compatible program"). ` +
            `Add: ${LICENSE_LINE}`
          : `No LICENSE section: the kernel treats the object as non-GPL and refuses every GPL-only helper ` +
            `(bpf_probe_read_kernel, bpf_trace_printk, ...). Add: ${LICENSE_LINE}`,
        related: gplCalls.slice(0, 3).map((c) => ({ start: c.start, end: c.end, message: `${c.name} is GPL-only` })),
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
    const lit = license.node.descendantsOfType('string_literal')[0];
    const start = lit?.startIndex ?? license.node.startIndex;
    const end = lit?.endIndex ?? license.node.endIndex;
    for (const call of gplCalls) {
      report({
        start: call.start,
        end: call.end,
        severity: 'error',
        message:
          `${call.name} is GPL-only, and the license "${license.value}" is not GPL-compatible: the kernel ` +
          `rejects the program ("cannot call GPL-restricted function from non-GPL compatible program"). ` +
          `Use a GPL-compatible license such as "Dual BSD/GPL", or avoid this helper.`,
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
