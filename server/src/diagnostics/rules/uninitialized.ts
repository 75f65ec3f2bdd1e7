/**
 * A local variable read on a path where nothing was stored in it: `port` set for TCP and UDP only and
 * then compared, a `struct iphdr *iph` set in one branch and dereferenced after both. What the
 * verifier says depends on how clang compiled it: a register never written is rejected ("R2
 * !read_ok"), an uninitialised stack slot is rejected for unprivileged loaders ("invalid read from
 * stack") and read as garbage by root; clang may also drop the path. So: a warning, never an error.
 *
 * Definite assignment along the paths of the function: declarations without an initializer start
 * unassigned; `=`, `&var` handed anywhere (a helper may fill it) and `bpf_for(var, ...)` assign.
 */
import type { Node } from 'web-tree-sitter';
import { field, kids, opOf, ty } from '../fast-node';
import { FlowWalker, type FlowDomain } from '../flow';
import type { Rule } from '../rule';
import { callArgs, calleeName, identOf } from '../syntax';

/** Variables not yet assigned on this path. */
type State = Set<string>;

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
      copy: (s) => new Set(s),
      // A variable is unassigned where the paths meet if it is unassigned on either.
      join: (a, b) => new Set([...a, ...b]),
      declare(name, nameNode, value, typeText, s, decl) {
        // Scalars and pointers only: arrays and structs are filled member by member.
        if (value || /\[\]|^(struct|union)\s+\w+$/.test(typeText.trim()) || ty(decl) !== 'declaration') {
          s.delete(name);
          return;
        }
        if (/\b(static|extern)\b/.test(decl.text.slice(0, nameNode.startIndex - decl.startIndex))) return;
        tracked.add(name);
        declNode.set(name, nameNode);
        s.add(name);
      },
      visit(n, s, flow) {
        const t = ty(n);
        if (t === 'assignment_expression') {
          const left = field(n, 'left');
          const right = field(n, 'right');
          if (right) flow.expr(right, s);
          const name = left && ty(left) === 'identifier' ? left.text : undefined;
          if (name && opOf(n) === '=') s.delete(name);
          else if (left) flow.expr(left, s);
          if (name) s.delete(name);
          return true;
        }
        if (t === 'pointer_expression' && opOf(n) === '&') {
          // Its address is taken: whatever receives it may store a value.
          const name = identOf(field(n, 'argument'));
          if (name) s.delete(name);
          else for (const c of kids(n)) if (c) flow.expr(c, s);
          return true;
        }
        if (t === 'call_expression') {
          const callee = calleeName(n);
          const args = callArgs(n);
          if (callee && /^bpf_(for|repeat|for_each)$/.test(callee)) {
            const name = identOf(args[0]);
            if (name) s.delete(name);
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
          if (!s.has(name) || reported.has(name)) return true;
          const parent = n.parent;
          // `x++` and `x += 1` read it too; a declaration's own name does not.
          if (parent && ty(parent).endsWith('declarator')) return true;
          // bpf_for(i, 0, n) (masked as a `while` for the parser): the macro assigns i.
          for (let up: Node | null = parent, k = 0; up && k < 4; up = up.parent, k++)
            if (/^bpf_(for|for_each|repeat)\s*\(/.test(doc.text.slice(up.startIndex, up.startIndex + 16))) {
              s.delete(name);
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
      assume() {},
    };
    new FlowWalker(domain).run(body, new Set());
  },
};
