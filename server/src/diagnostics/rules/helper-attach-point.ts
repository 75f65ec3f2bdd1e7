/**
 * A helper the program type may call, but only at some attach points: bpf_d_path() in a tracing
 * program (fentry/fexit/fmod_ret, tp_btf) is allowed only when the program is attached to one of the
 * kernel functions of btf_allowlist_d_path (kernel/trace/bpf_trace.c; where a `struct path` is known
 * to be safe to walk), and in iterator programs; anywhere else the verifier rejects the program
 * ("helper call is not allowed in probe"). The attach point is read from the program's SEC().
 * LSM programs are left alone (their check is per hook and changed between kernels).
 */
import type { Rule } from '../rule';
import { functionsByName } from '../function-cache';
import { calledFunctions } from '../syntax';

/** btf_allowlist_d_path of Linux 6.x. */
const D_PATH_ALLOWED = new Set([
  'security_file_permission',
  'security_inode_getattr',
  'security_file_open',
  'security_path_truncate',
  'vfs_truncate',
  'vfs_fallocate',
  'dentry_open',
  'vfs_getattr',
  'filp_close',
]);

/** Helpers that read the traced function's arguments or return value: they need a trampoline. */
const TRAMPOLINE_ONLY = /^bpf_get_func_(arg|arg_cnt|ret)$/;

export const helperAttachPointRule: Rule = {
  id: 'helper-attach-point',
  description: 'bpf_d_path() / bpf_get_func_*() in a tracing program attached where the kernel does not allow them',
  ownFunctionOnly: true,
  functionFilter: /\bbpf_(d_path|get_func_(arg|arg_cnt|ret))\s*\(/,
  runFunction({ doc, fn, programs, report }) {
    const defined = functionsByName(doc);
    const all = calledFunctions(doc, fn).filter((c) => !defined.has(c.name));
    // bpf_get_func_arg/arg_cnt/ret: fentry/fexit/fmod_ret read the traced function's registers through the
    // trampoline; tp_btf and iterators have none, and only fexit/fmod_ret have a return value.
    for (const c of all.filter((x) => TRAMPOLINE_ONLY.test(x.name))) {
      for (const p of programs) {
        if (p.def?.programType !== 'tracing') continue;
        const kind = /^(fentry|fexit|fmod_ret|tp_btf|iter)(?:\.s)?\//.exec(p.section)?.[1];
        if (!kind) continue;
        const noTrampoline = kind === 'tp_btf' || kind === 'iter';
        const noRet = c.name === 'bpf_get_func_ret' && kind === 'fentry';
        if (!noTrampoline && !noRet) continue;
        const via =
          p.node.startIndex === fn.startIndex ? '' : ` (this function runs in the ${p.section} program ${p.name})`;
        report({
          start: c.start,
          end: c.end,
          severity: 'error',
          message: noTrampoline
            ? `${c.name}() reads the traced function's registers through a BPF trampoline, which ${kind} programs do not have${via}: ` +
              `the verifier rejects the program ("program of this type cannot use helper ${c.name}"). Read the BPF_PROG() arguments instead.`
            : `${c.name}() gives the traced function's return value, which an fentry program runs before${via}: the verifier ` +
              `rejects the program ("func bpf_get_func_ret supported only for fexit and fmod_ret programs"). Use fexit.`,
        });
        break;
      }
    }
    if (defined.has('bpf_d_path')) return;
    const calls = all.filter((c) => c.name === 'bpf_d_path');
    if (!calls.length) return;
    for (const p of programs) {
      if (p.def?.programType !== 'tracing') continue;
      const m = /^(fentry|fexit|fmod_ret|tp_btf)(?:\.s)?\/(?:[\w.-]+:)?([\w.]+)$/.exec(p.section);
      if (!m) continue;
      const [, kind, target] = m;
      if (kind !== 'tp_btf' && D_PATH_ALLOWED.has(target)) continue;
      const via =
        p.node.startIndex === fn.startIndex ? '' : ` (this function runs in the ${p.section} program ${p.name})`;
      for (const c of calls)
        report({
          start: c.start,
          end: c.end,
          severity: 'error',
          message:
            `bpf_d_path() is allowed only in tracing programs attached to ${[...D_PATH_ALLOWED].join(', ')} ` +
            `(the kernel's btf_allowlist_d_path) and in iterators, not ${kind === 'tp_btf' ? `in a tp_btf program (${target})` : `at ${target}`}${via}: ` +
            `the verifier rejects the program ("helper call is not allowed in probe"). Attach to one of those functions ` +
            `(e.g. fentry/vfs_getattr or an lsm/ hook such as lsm/file_open), or send the path's dentry name instead.`,
        });
      return;
    }
  },
};
