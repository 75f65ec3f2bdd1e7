/**
 * Rule 9: a helper the program type may not call. The verifier looks the helper up in the program
 * type's func_proto table and rejects the program ("program of this type cannot use helper
 * bpf_get_stack#67"). Functions without SEC() are checked against every program that calls them
 * (through any chain of calls in the file). A function of an included header (the project's own
 * `.bpf.h`, e.g. libbpf-tools' core_fixes.bpf.h `get_sock_ident()`) counts with the helpers its body
 * calls, through the header functions it calls in turn: the finding is on the call in this file.
 */
import { availabilityKey, helperByName, helpersAllowed, isSleepableOnlyHelper } from '../../catalog/catalog';
import type { HeaderDeclarations } from '../../header-declarations';
import { documentHeaderDeclarations } from '../../header-declarations';
import type { Rule } from '../rule';
import { functionsByName } from '../function-cache';
import { calledFunctions } from '../syntax';

/** What to call instead, tried in order (the first one the program type may use is suggested). */
const ALTERNATIVES: Record<string, string[]> = {
  bpf_get_stackid: ['bpf_get_stack'],
  bpf_get_stack: ['bpf_get_stackid'],
  bpf_probe_read: ['bpf_probe_read_kernel', 'bpf_probe_read_user'],
  bpf_probe_read_str: ['bpf_probe_read_kernel_str', 'bpf_probe_read_user_str'],
  bpf_skb_load_bytes: ['bpf_xdp_load_bytes'],
  bpf_xdp_load_bytes: ['bpf_skb_load_bytes'],
  bpf_skb_store_bytes: ['bpf_xdp_store_bytes'],
  bpf_xdp_store_bytes: ['bpf_skb_store_bytes'],
  bpf_perf_event_output: ['bpf_ringbuf_output'],
  bpf_get_current_pid_tgid: ['bpf_get_socket_cookie'],
  bpf_ktime_get_boot_ns: ['bpf_ktime_get_ns'],
  bpf_ktime_get_coarse_ns: ['bpf_ktime_get_ns'],
  bpf_trace_printk: ['bpf_trace_vprintk'],
  bpf_redirect_map: ['bpf_redirect'],
  bpf_redirect: ['bpf_redirect_map'],
};

export const helperNotAllowedRule: Rule = {
  id: 'helper-not-allowed',
  description: 'helpers the program type may not call',
  ownFunctionOnly: true,
  functionFilter: /\bbpf_/,
  // The table of allowed helpers changes when a target is connected (its own probe); header functions'
  // bodies come from the included headers.
  fileKey: (doc) => `${availabilityKey()}|${documentHeaderDeclarations(doc).key}`,
  runFunction({ doc, fn, programs, report }) {
    const progs = programs.filter((p) => p.def && p.body);
    if (!progs.length) return;
    const defined = functionsByName(doc);
    let decls: HeaderDeclarations | undefined;
    // A header function: the first helper its body (or a header function it calls) uses that one of
    // the programs may not, reported on the call here.
    const reportHeaderHelpers = (c: { name: string; start: number; end: number }) => {
      decls ??= documentHeaderDeclarations(doc);
      const f = decls.functions.get(c.name);
      if (!f) return;
      const used = headerHelpers(decls, c.name);
      for (const p of progs) {
        const allowed = helpersAllowed(p.def!.programType);
        if (!allowed) continue;
        const bad = [...used].find(
          (n) => !allowed.has(n) && !isSleepableOnlyHelper(p.def!.programType, n) && helperByName(n),
        );
        if (!bad) continue;
        const h = helperByName(bad)!;
        const file = f.file.split('/').pop();
        const via =
          p.node.startIndex === fn.startIndex
            ? ''
            : ` (this function is called from the ${p.section} program ${p.name})`;
        report({
          start: c.start,
          end: c.end,
          severity: 'error',
          message:
            `${c.name}() (${file}:${f.line + 1}) calls ${bad}, which is not available to ${p.def!.programType} programs${via}: ` +
            `the verifier rejects the program ("program of this type cannot use helper ${bad}#${h.id}"). ` +
            'Call it only from a program type that may, or pass the data through a map.',
        });
        return;
      }
    };
    {
      for (const c of calledFunctions(doc, fn)) {
        if (defined.has(c.name)) continue;
        const name = c.name === 'bpf_printk' ? 'bpf_trace_printk' : c.name;
        const h = helperByName(name);
        if (!h) {
          reportHeaderHelpers(c);
          continue;
        }
        for (const p of progs) {
          const allowed = helpersAllowed(p.def!.programType);
          if (!allowed || allowed.has(name)) continue;
          // Refused only outside sleepable programs: the sleepable-call rule says so, with the kernel's words.
          if (isSleepableOnlyHelper(p.def!.programType, name)) continue;
          const alt = (ALTERNATIVES[name] ?? []).find((a) => allowed.has(a));
          const via =
            p.node.startIndex === fn.startIndex
              ? ''
              : ` (this function is called from the ${p.section} program ${p.name})`;
          report({
            start: c.start,
            end: c.end,
            severity: 'error',
            message:
              `${c.name === name ? name : `${c.name} (${name})`} is not available to ${p.def!.programType} programs${via}: the verifier rejects the program ` +
              `("program of this type cannot use helper ${name}#${h.id}").` +
              (alt
                ? ` Use ${alt}() instead.`
                : ' Move this work to a program type that may call it, or pass the data through a map.'),
            fixes:
              alt && c.name === name
                ? [{ title: `Use ${alt}()`, edits: [{ start: c.start, end: c.end, newText: alt }] }]
                : undefined,
          });
          break;
        }
      }
    }
  },
};

const headerHelperCache = new WeakMap<HeaderDeclarations, Map<string, Set<string>>>();

/** The helpers a header function's body calls, also through the header functions it calls. */
function headerHelpers(decls: HeaderDeclarations, name: string): Set<string> {
  let byName = headerHelperCache.get(decls);
  if (!byName) headerHelperCache.set(decls, (byName = new Map()));
  const cached = byName.get(name);
  if (cached) return cached;
  const out = new Set<string>();
  byName.set(name, out); // a cycle ends here
  const f = decls.functions.get(name);
  if (!f) return out;
  const body = f.text
    .slice(f.text.indexOf('{'))
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ');
  for (const m of body.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
    const callee = m[1] === 'bpf_printk' ? 'bpf_trace_printk' : m[1];
    if (helperByName(callee)) out.add(callee);
    else if (callee !== name && decls.functions.has(callee)) for (const n of headerHelpers(decls, callee)) out.add(n);
  }
  return out;
}
