/**
 * A local variable read on a path where nothing was stored in it: `port` set for TCP and UDP only and
 * then compared, a `struct iphdr *iph` set in one branch and dereferenced after both. What the
 * verifier says depends on how clang compiled it: a register never written is rejected ("R2
 * !read_ok"), an uninitialised stack slot is rejected for unprivileged loaders ("invalid read from
 * stack") and read as garbage by root; clang may also drop the path. So: a warning, never an error.
 *
 * Definite assignment along the paths of the function: declarations without an initializer start
 * unassigned; `=`, `&var` handed anywhere (a helper may fill it) and `bpf_for(var, ...)` assign.
 * A variable set under a condition and read under the same one is not reported (the kernel's xdp_fwd
 * sample, xdp-tools' xdp-forward: `iph` set when `h_proto == bpf_htons(ETH_P_IP)`, read after the
 * header parsing under that same test): where two paths meet, one that assigned it and one that did
 * not, a condition the two paths know with opposite values says when it is assigned, until something
 * the condition names is stored again.
 */
import type { Node } from 'web-tree-sitter';
import { field, kids, opOf, ty } from '../fast-node';
import { FlowWalker, type FlowDomain } from '../flow';
import type { Rule } from '../rule';
import { callArgs, calleeName, identOf } from '../syntax';

/** Variables not yet assigned on this path, what is known of the conditions tested on it, and when each
 * unassigned variable is assigned after all (`cond=true` / `cond=false`). */
interface State {
  un: Set<string>;
  facts: Map<string, boolean>;
  when: Map<string, Set<string>>;
}

const condKey = (n: Node) => n.text.replace(/\s+/g, '');
const word = (name: string) => new RegExp(`(^|[^\\w])${name.replace(/[^\w]/g, '')}([^\\w]|$)`);

/** `name` was stored to: what was known of conditions that name it no longer holds. */
function stored(name: string, s: State): void {
  s.un.delete(name);
  s.when.delete(name);
  const w = word(name);
  for (const k of [...s.facts.keys()]) if (w.test(k)) s.facts.delete(k);
  for (const [v, ws] of s.when) {
    for (const c of [...ws]) if (w.test(c.slice(0, c.lastIndexOf('=')))) ws.delete(c);
    if (!ws.size) s.when.delete(v);
  }
}

/** The conditions under which a path set `name` when the other path (`other`) did not: a fact both know, with opposite values. */
function setWhen(mine: State, other: State): string[] {
  const out: string[] = [];
  for (const [k, v] of mine.facts) if (other.facts.get(k) === !v) out.push(`${k}=${v}`);
  return out;
}

export const uninitializedRule: Rule = {
  id: 'uninitialized',
  description: 'a local variable read on a path where it was never assigned',
  ownFunctionOnly: true,
  // Only functions with a declaration that has no value: `u32 port;`, `struct iphdr *iph, *ip6;`.
  functionFilter: /^\s*(?:const\s+)?(?:(?:struct|union|unsigned|signed)\s+)?\w+\s+\**\s*\w+\s*(?:,\s*\**\s*\w+\s*)*;/m,
  runFunction({ doc, fn, report }) {
    const body = field(fn, 'body');
    // Code being typed: where the parser had to recover, declarations may be missing from the tree.
    if (!body || fn.hasError) return;
    const tracked = new Set<string>();
    const declNode = new Map<string, Node>();
    const reported = new Set<string>();
    const domain: FlowDomain<State> = {
      copy: (s) => ({
        un: new Set(s.un),
        facts: new Map(s.facts),
        when: new Map([...s.when].map(([k, v]) => [k, new Set(v)])),
      }),
      // A variable is unassigned where the paths meet if it is unassigned on either, except under the
      // conditions that single out the paths that assigned it.
      join: (a, b) => {
        const un = new Set([...a.un, ...b.un]);
        const when = new Map<string, Set<string>>();
        for (const v of un) {
          let ws: string[];
          if (!a.un.has(v)) ws = [...setWhen(a, b), ...(b.when.get(v) ?? [])];
          else if (!b.un.has(v)) ws = [...setWhen(b, a), ...(a.when.get(v) ?? [])];
          else ws = [...(a.when.get(v) ?? [])].filter((c) => b.when.get(v)?.has(c));
          if (ws.length) when.set(v, new Set(ws));
        }
        const facts = new Map([...a.facts].filter(([k, v]) => b.facts.get(k) === v));
        return { un, facts, when };
      },
      declare(name, nameNode, value, typeText, s, decl) {
        // Scalars and pointers only: arrays and structs are filled member by member.
        if (value || /\[\]|^(struct|union)\s+\w+$/.test(typeText.trim()) || ty(decl) !== 'declaration') {
          stored(name, s);
          return;
        }
        if (/\b(static|extern)\b/.test(decl.text.slice(0, nameNode.startIndex - decl.startIndex))) return;
        tracked.add(name);
        declNode.set(name, nameNode);
        stored(name, s);
        s.un.add(name);
      },
      visit(n, s, flow) {
        const t = ty(n);
        if (t === 'assignment_expression') {
          const left = field(n, 'left');
          const right = field(n, 'right');
          if (right) flow.expr(right, s);
          const name = left && ty(left) === 'identifier' ? left.text : undefined;
          if (name && opOf(n) === '=') stored(name, s);
          else if (left) flow.expr(left, s);
          if (name) stored(name, s);
          return true;
        }
        if (t === 'update_expression') {
          // x++ reads x, then stores it.
          const arg = field(n, 'argument');
          if (arg) flow.expr(arg, s);
          const name = identOf(arg);
          if (name) stored(name, s);
          return true;
        }
        if (t === 'pointer_expression' && opOf(n) === '&') {
          // Its address is taken: whatever receives it may store a value.
          const name = identOf(field(n, 'argument'));
          if (name) stored(name, s);
          else for (const c of kids(n)) if (c) flow.expr(c, s);
          return true;
        }
        if (t === 'call_expression') {
          const callee = calleeName(n);
          const args = callArgs(n);
          if (callee && /^bpf_(for|repeat|for_each)$/.test(callee)) {
            const name = identOf(args[0]);
            if (name) stored(name, s);
            return true;
          }
          // Macros whose later arguments are field or type names, not variables.
          if (callee && /^(offsetof|__builtin_offsetof|bpf_core_type_\w+|bpf_core_enum_\w+)$/.test(callee)) return true;
          const read =
            callee && /^(BPF_CORE_READ|BPF_PROBE_READ)\w*$/.test(callee)
              ? /_INTO$/.test(callee)
                ? 2
                : 1
              : args.length;
          for (const a of args.slice(0, read)) flow.expr(a, s);
          if (!callee) {
            const f = field(n, 'function');
            if (f) flow.expr(f, s);
          }
          return true;
        }
        if (t === 'identifier') {
          const name = n.text;
          if (!s.un.has(name) || reported.has(name)) return true;
          const parent = n.parent;
          // `x++` and `x += 1` read it too; a declaration's own name does not.
          if (parent && ty(parent).endsWith('declarator')) return true;
          // bpf_for(i, 0, n) (masked as a `while` for the parser): the macro assigns i.
          for (let up: Node | null = parent, k = 0; up && k < 4; up = up.parent, k++)
            if (/^bpf_(for|for_each|repeat)\s*\(/.test(doc.text.slice(up.startIndex, up.startIndex + 16))) {
              stored(name, s);
              return true;
            }
          reported.add(name);
          const d = declNode.get(name)!;
          report({
            start: n.startIndex,
            end: n.endIndex,
            severity: 'warning',
            message:
              `'${name}' is read here, but on some path to this line nothing was stored in it. Depending on how clang compiles it, ` +
              `the verifier rejects the read ("!read_ok", "invalid read from stack") or the program runs on garbage. ` +
              `Assign it on every path (or initialise it where it is declared).`,
            related: [{ start: d.startIndex, end: d.endIndex, message: `'${name}' is declared here without a value` }],
          });
          return true;
        }
        return false;
      },
      assume(cond, s, truthy) {
        const k = condKey(cond);
        s.facts.set(k, truthy);
        const c = `${k}=${truthy}`;
        for (const [v, ws] of [...s.when]) if (ws.has(c)) stored(v, s);
      },
    };
    new FlowWalker(domain).run(body, { un: new Set(), facts: new Map(), when: new Map() });
  },
};
