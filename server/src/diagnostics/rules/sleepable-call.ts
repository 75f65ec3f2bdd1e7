/**
 * A helper or kfunc that may sleep, called from a program that is not sleepable. The verifier rejects
 * it: "helper call might sleep in a non-sleepable prog" (bpf_copy_from_user, ...) or "program must be
 * sleepable to call sleepable kfunc bpf_copy_from_user_str". Sleepable programs are the `.s` sections
 * (uprobe.s, fentry.s, lsm.s, iter.s, ...) and SEC("syscall").
 */
import { helperAvailability, kfuncByName, sectionFor } from '../../catalog/catalog';
import type { BpfProgram } from '../../bpf-document';
import type { Rule } from '../rule';
import { calledFunctions } from '../syntax';

/** Helpers whose kernel proto has might_sleep set (the probe's sleepableOnly lists, and the LSM-only ima helpers). */
export const SLEEPABLE_HELPERS = new Set([
  'bpf_copy_from_user',
  'bpf_copy_from_user_task',
  'bpf_ima_inode_hash',
  'bpf_ima_file_hash',
]);

function sleepableHelper(name: string): boolean {
  if (SLEEPABLE_HELPERS.has(name)) return true;
  return Object.values(helperAvailability().sleepableOnly ?? {}).some((l) => l.includes(name));
}

/** Is this program sleepable (a `.s` section, or a syscall program)? */
export function isSleepable(p: BpfProgram): boolean {
  return !!p.def?.sleepable || p.def?.programType === 'syscall';
}

/** The sleepable variant of a program's section name, when libbpf has one: uprobe -> uprobe.s. */
function sleepableSection(p: BpfProgram): string | undefined {
  const m = /^([a-z_.]+?)(\/.*)?$/.exec(p.section);
  if (!m) return undefined;
  const name = `${m[1]}.s${m[2] ?? ''}`;
  return sectionFor(name)?.sleepable ? name : undefined;
}

export function isSleepableCall(name: string): boolean {
  return sleepableHelper(name) || !!kfuncByName(name)?.sleepable;
}

export const sleepableCallRule: Rule = {
  id: 'sleepable-call',
  description: 'helpers and kfuncs that may sleep, called from a program that is not sleepable',
  ownFunctionOnly: true,
  functionFilter:
    /\bbpf_(copy_from_user|ima_|get_file_xattr|get_dentry_xattr|set_dentry_xattr|remove_dentry_xattr|lookup_user_key|verify_pkcs7|arena_)/,
  runFunction({ doc, fn, programs, report }) {
    const nonSleepable = programs.filter((p) => p.def && !isSleepable(p));
    if (!nonSleepable.length) return;
    for (const c of calledFunctions(doc, fn)) {
      if (!isSleepableCall(c.name) || doc.functions.has(c.name)) continue;
      const p = nonSleepable[0];
      const kfunc = !sleepableHelper(c.name);
      const fixName = sleepableSection(p);
      const via = p.node.startIndex === fn.startIndex ? '' : ` (this function is called from ${p.name})`;
      report({
        start: c.start,
        end: c.end,
        severity: 'error',
        message:
          `${c.name}() may sleep, but the ${p.section} program ${p.name} is not sleepable${via}: the verifier rejects it ` +
          (kfunc
            ? `("program must be sleepable to call sleepable kfunc ${c.name}").`
            : `("helper call might sleep in a non-sleepable prog").`) +
          (fixName
            ? ` Use SEC("${fixName}") to make the program sleepable.`
            : ` Only sleepable programs (uprobe.s, fentry.s, lsm.s, iter.s, syscall) may call it; in this one use ${c.name.startsWith('bpf_copy_from_user') ? 'bpf_probe_read_user()' : 'another way'}.`),
        related: nonSleepable.map((q) => ({
          start: q.sec.start,
          end: q.sec.end,
          message: `${q.name} is declared here as SEC("${q.section}"), not sleepable`,
        })),
        fixes: fixName
          ? [
              {
                title: `Make ${p.name} sleepable: SEC("${fixName}")`,
                edits: [{ start: p.sec.nameStart, end: p.sec.nameStart + p.section.length, newText: fixName }],
              },
            ]
          : undefined,
      });
    }
  },
};
