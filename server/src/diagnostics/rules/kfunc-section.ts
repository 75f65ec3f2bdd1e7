/**
 * A kfunc section left open on a way out: bpf_rcu_read_lock() without bpf_rcu_read_unlock(),
 * bpf_preempt_disable() without bpf_preempt_enable(), bpf_local_irq_save() without
 * bpf_local_irq_restore(), on some path (an early return). The verifier counts them along each path and
 * rejects a program that exits inside one ("BPF_EXIT instruction in main prog cannot be used inside
 * bpf_rcu_read_lock-ed region", older kernels "bpf_rcu_read_unlock is missing"); an RCU section may not be
 * opened again inside itself either ("nested rcu read lock"). A function is judged when it is a program, or when it both opens
 * and closes the section itself (a helper that returns early between the two leaves it open for its
 * caller, which does not close it), or when nothing else in the file closes it; a helper that only
 * opens, with a close elsewhere, is part of a pair split on purpose and is left alone.
 */
import type { Node } from 'web-tree-sitter';
import { field, ty } from '../fast-node';
import { FlowWalker, mentions, type FlowDomain } from '../flow';
import { functionsByName } from '../function-cache';
import type { Rule } from '../rule';
import { calleeName } from '../syntax';
import { syntaxIndex } from '../syntax-index';

interface Section {
  open: string;
  close: string;
  /** How the verifier names the region. */
  region: string;
  /** The verifier refuses to open it again inside itself ("nested rcu read lock"). */
  noNesting?: boolean;
}

const SECTIONS: readonly Section[] = [
  { open: 'bpf_rcu_read_lock', close: 'bpf_rcu_read_unlock', region: 'bpf_rcu_read_lock-ed', noNesting: true },
  { open: 'bpf_preempt_disable', close: 'bpf_preempt_enable', region: 'bpf_preempt_disable-ed' },
  { open: 'bpf_local_irq_save', close: 'bpf_local_irq_restore', region: 'bpf_local_irq_save-ed' },
];

/** Open sections on a path: the calls that opened them, innermost last, per section kind. */
type State = Map<Section, Node[]>;

/** Calls to the section's close in a text (a regex: comments rarely hold `name(`). */
const closeCalls = (text: string, k: Section) => text.split(new RegExp(`\\b${k.close}\\s*\\(`)).length - 1;

export const kfuncSectionRule: Rule = {
  id: 'kfunc-section',
  description: 'bpf_rcu_read_lock / bpf_preempt_disable / bpf_local_irq_save left open on a way out',
  functionFilter: /\bbpf_(rcu_read_lock|preempt_disable|local_irq_save)\s*\(/,
  // Whether the file closes a section elsewhere decides whether a helper that only opens it is judged.
  fileKey: (doc) => SECTIONS.map((k) => (doc.text.includes(k.close) ? closeCalls(doc.text, k) : 0)).join(','),
  runFunction({ doc, fn, programs, report }) {
    const body = field(fn, 'body');
    if (!body) return;
    const defined = functionsByName(doc);
    const all = syntaxIndex(doc).callsIn(body);
    const calls = all.filter((c) => !defined.has(c.name));
    /** A function of the file that opens (> 0) or closes (< 0) sections of kind k, counted in its text. */
    const net = (name: string, k: Section): number => {
      const f = defined.get(name);
      if (!f || f.startIndex === fn.startIndex) return 0;
      const t = doc.text.slice(f.startIndex, f.endIndex);
      return t.split(new RegExp(`\\b${k.open}\\s*\\(`)).length - 1 - closeCalls(t, k);
    };
    const isProgram = programs.some((p) => p.node.startIndex === fn.startIndex);
    // Closed nowhere else in the file: whoever calls this function cannot be closing it either.
    const closedElsewhere = (k: Section) =>
      closeCalls(doc.text, k) > closeCalls(doc.text.slice(fn.startIndex, fn.endIndex), k);
    const judged = SECTIONS.filter(
      (k) =>
        (calls.some((c) => c.name === k.open) || all.some((c) => net(c.name, k) > 0)) &&
        (isProgram || calls.some((c) => c.name === k.close) || !closedElsewhere(k)),
    );
    if (!judged.length) return;
    const names = judged.flatMap((k) => [k.open, k.close]);
    const reported = new Set<number>();

    const domain: FlowDomain<State> = {
      relevant: (text) => mentions(text, names) || text.includes('return') || text.includes('('),
      copy: (s) => new Map([...s].map(([k, v]) => [k, [...v]])),
      // A section open on either path is open after them: the verifier walks each path.
      join: (a, b) => {
        const out: State = new Map();
        for (const k of judged) {
          const x = a.get(k) ?? [];
          const y = b.get(k) ?? [];
          out.set(k, x.length >= y.length ? [...x] : [...y]);
        }
        return out;
      },
      visit(n, s) {
        if (ty(n) !== 'call_expression') return false;
        const callee = calleeName(n);
        if (!callee) return false;
        for (const k of judged) {
          const open = s.get(k) ?? [];
          // A function of the file counts as the opens or closes it makes.
          const d = defined.has(callee) ? net(callee, k) : callee === k.open ? 1 : callee === k.close ? -1 : 0;
          if (d > 0 && k.noNesting && open.length && !reported.has(n.startIndex)) {
            reported.add(n.startIndex);
            const prev = open[open.length - 1];
            report({
              start: n.startIndex,
              end: n.endIndex,
              severity: 'error',
              message:
                `${callee === k.open ? `${k.open}()` : `${callee}() (it calls ${k.open}())`} inside a section already opened (line ${doc.positionAt(prev.startIndex).line + 1}): the ` +
                `verifier rejects the program ("nested rcu read lock"). Close the first one before, or drop this one.`,
              related: [
                { start: prev.startIndex, end: prev.endIndex, message: 'the section opened here is still open' },
              ],
            });
          }
          if (d > 0) s.set(k, [...open, ...Array<Node>(d).fill(n)]);
          else if (d < 0) s.set(k, open.slice(0, Math.max(0, open.length + d)));
        }
        return false;
      },
      assume() {},
      exit(node, s) {
        for (const k of judged) {
          const open = s.get(k) ?? [];
          if (!open.length) continue;
          const at = ty(node) === 'return_statement' ? node : undefined;
          const key = at ? at.startIndex : open[open.length - 1].startIndex;
          if (reported.has(key)) continue;
          reported.add(key);
          const call = open[open.length - 1];
          const where = at ? at : call;
          report({
            start: where.startIndex,
            end: where.endIndex,
            severity: 'error',
            message:
              `${at ? 'This return leaves' : 'The function ends with'} the section ${k.open}() opened (line ` +
              `${doc.positionAt(call.startIndex).line + 1}) without ${k.close}(): the verifier rejects the program ` +
              `("BPF_EXIT instruction in main prog cannot be used inside ${k.region} region"). Call ${k.close}() before ` +
              `every way out.`,
            related: at
              ? [{ start: call.startIndex, end: call.endIndex, message: `${k.open}() opens the section here` }]
              : undefined,
          });
        }
      },
    };
    new FlowWalker(domain).run(body, new Map());
  },
};
