/**
 * Rule 1: a pointer from a may-be-NULL helper or kfunc (bpf_map_lookup_elem, bpf_ringbuf_reserve,
 * bpf_sk_lookup_tcp, bpf_task_acquire...) used before a NULL check on that path. The verifier types
 * it `map_value_or_null` (or `..._or_null`) and rejects any dereference, pointer arithmetic or
 * non-NULL argument ("R0 invalid mem access 'map_value_or_null'").
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument } from '../../bpf-document';
import { helperByName, kfuncByName } from '../../catalog/catalog';
import { FlowWalker, stripCasts, stripParens, type FlowDomain } from '../flow';
import type { Rule, RuleContext } from '../rule';
import { blockStatement, callArgs, calleeName, functionDefinitions, identOf, indentAt, indentUnit, isNullLiteral, safeReturn } from '../syntax';

interface Origin {
  call: Node;
  callee: string;
  /** Array map with a constant key: kernels >= 6.14 know the result is not NULL. */
  constKeyArray: boolean;
}
type State = Map<string, Origin>;

/** Helper arguments that accept any value, NULL included (bpf_probe_read_kernel's source...). */
const ANY_VALUE_ARG = /unsafe_ptr/;

/** Functions whose pointer arguments are only printed or copied, never dereferenced by the verifier. */
const PASS_THROUGH = new Set(['bpf_printk', 'bpf_trace_printk', 'bpf_trace_vprintk', 'bpf_kptr_xchg', 'BPF_CORE_READ', 'BPF_CORE_READ_INTO', 'BPF_PROBE_READ', 'bpf_core_read', 'BPF_SEQ_PRINTF', 'BPF_SNPRINTF']);

function nullableCallee(name: string, fileNullable: Set<string>): boolean {
  return !!(helperByName(name)?.mayReturnNull || kfuncByName(name)?.mayReturnNull || fileNullable.has(name));
}

/** Functions of the file that may return the result of a may-be-NULL call unchecked (or NULL). */
function fileNullableFunctions(doc: BpfDocument, fns: Node[]): Set<string> {
  const out = new Set<string>();
  for (let round = 0; round < 3; round++) {
    for (const fn of fns) {
      const decl = fn.childForFieldName('declarator');
      if (decl?.type !== 'pointer_declarator') continue;
      let d: Node | null = decl;
      while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
      const name = d?.childForFieldName('declarator')?.text;
      if (!name || out.has(name)) continue;
      for (const ret of fn.descendantsOfType('return_statement')) {
        const v = ret?.namedChildren[0];
        if (!v) continue;
        const s = stripCasts(v);
        if (s.type === 'call_expression' && nullableCallee(calleeName(s) ?? '', out)) {
          out.add(name);
          break;
        }
      }
    }
  }
  void doc;
  return out;
}

export const nullCheckRule: Rule = {
  id: 'null-check',
  description: 'pointer from a may-be-NULL helper or kfunc used before a NULL check',
  run(ctx) {
    const { doc } = ctx;
    const root = doc.root;
    if (!root) return;
    const fns = functionDefinitions(root);
    const fileNullable = fileNullableFunctions(doc, fns);
    for (const fn of fns) {
      const body = fn.childForFieldName('body');
      if (body) checkFunction(ctx, fn, body, fileNullable);
    }
  },
};

function checkFunction(ctx: RuleContext, fn: Node, body: Node, fileNullable: Set<string>): void {
  const { doc } = ctx;
  const reported = new Set<string>();
  const report = (name: string, o: Origin, use: Node, how: string) => {
    const key = `${name}@${o.call.startIndex}`;
    if (reported.has(key)) return;
    reported.add(key);
    const stmt = blockStatement(o.call);
    const fixes = [];
    if (stmt && stmt.endIndex <= use.startIndex) {
      const indent = indentAt(doc.text, stmt.startIndex);
      fixes.push({
        title: `Check ${name} for NULL after ${o.callee}()`,
        preferred: true,
        edits: [{ start: stmt.endIndex, end: stmt.endIndex, newText: `\n${indent}if (!${name})\n${indent}${indentUnit(doc.text)}${safeReturn(doc, fn)}` }],
      });
    }
    const verdict = o.constKeyArray
      ? `Kernels before 6.14 reject this ("invalid mem access 'map_value_or_null'"); newer ones know a constant in-range key of an array map gives a valid pointer.`
      : `The verifier rejects the program ("invalid mem access '..._or_null'"): ${o.callee}() may return NULL.`;
    ctx.report({
      start: use.startIndex,
      end: use.endIndex,
      severity: o.constKeyArray ? 'warning' : 'error',
      message: `'${name}' may be NULL here (${how} before a NULL check). ${verdict} Check it first: if (!${name}) return ...;`,
      related: [{ start: o.call.startIndex, end: o.call.endIndex, message: `${o.callee}() may return NULL; its result is not checked before the use` }],
      fixes,
    });
  };

  const originOf = (value: Node, s: State): Origin | undefined => {
    const v = stripCasts(value);
    if (v.type === 'call_expression') {
      const callee = calleeName(v);
      if (callee && nullableCallee(callee, fileNullable)) return { call: v, callee, constKeyArray: isConstKeyArrayLookup(doc, body, v, callee) };
      return undefined;
    }
    if (v.type === 'identifier') return s.get(v.text);
    if (v.type === 'assignment_expression') {
      const l = identOf(v.childForFieldName('left'));
      return l ? s.get(l) : undefined;
    }
    return undefined;
  };

  /** The maybe-NULL variable a dereferenced operand is (or is arithmetic on). */
  const derefTarget = (n: Node, s: State): string | undefined => {
    const v = stripCasts(n);
    if (v.type === 'identifier') return s.has(v.text) ? v.text : undefined;
    if (v.type === 'binary_expression' && (v.childForFieldName('operator')?.type === '+' || v.childForFieldName('operator')?.type === '-')) {
      return derefTarget(v.childForFieldName('left')!, s) ?? derefTarget(v.childForFieldName('right')!, s);
    }
    return undefined;
  };

  const domain: FlowDomain<State> = {
    copy: (s) => new Map(s),
    join: (a, b) => {
      const m = new Map(a);
      for (const [k, v] of b) if (!m.has(k)) m.set(k, v);
      return m;
    },
    declare(name, _nameNode, value, _type, s) {
      const o = value ? originOf(value, s) : undefined;
      if (o) s.set(name, o);
      else s.delete(name);
    },
    visit(n, s, flow) {
      switch (n.type) {
        case 'assignment_expression': {
          const left = n.childForFieldName('left');
          const right = n.childForFieldName('right');
          const op = n.childForFieldName('operator')?.type;
          if (right) flow.expr(right, s);
          const name = left?.type === 'identifier' ? left.text : undefined;
          if (name && op === '=') {
            const o = right ? originOf(right, s) : undefined;
            if (o) s.set(name, o);
            else s.delete(name);
            return true;
          }
          if (name && s.has(name)) report(name, s.get(name)!, left!, 'pointer arithmetic');
          else if (left) flow.expr(left, s);
          return true;
        }
        case 'field_expression': {
          if (n.childForFieldName('operator')?.type !== '->') return false;
          const t = derefTarget(n.childForFieldName('argument')!, s);
          if (t) report(t, s.get(t)!, n, 'dereferenced');
          return false;
        }
        case 'pointer_expression': {
          if (n.childForFieldName('operator')?.type !== '*') return false;
          const t = derefTarget(n.childForFieldName('argument')!, s);
          if (t) report(t, s.get(t)!, n, 'dereferenced');
          return false;
        }
        case 'subscript_expression': {
          const t = derefTarget(n.childForFieldName('argument')!, s);
          if (t) report(t, s.get(t)!, n, 'dereferenced');
          return false;
        }
        case 'update_expression': {
          const t = identOf(n.childForFieldName('argument'));
          if (t && s.has(t)) report(t, s.get(t)!, n, 'pointer arithmetic');
          return false;
        }
        case 'call_expression': {
          const callee = calleeName(n);
          if (!callee || PASS_THROUGH.has(callee)) return false;
          const helper = helperByName(callee);
          const kfunc = helper ? undefined : kfuncByName(callee);
          const atomic = /^__(sync|atomic)_/.test(callee) || /^__builtin_mem(cpy|set|move|cmp)$/.test(callee);
          if (!helper && !kfunc && !atomic) return false;
          const args = callArgs(n);
          args.forEach((a, i) => {
            const t = identOf(a);
            if (!t || !s.has(t)) return;
            const decl = (helper?.args ?? kfunc?.args)?.[i];
            if (decl && (ANY_VALUE_ARG.test(decl.name) || /__nullable|__opt/.test(decl.name))) return;
            report(t, s.get(t)!, a, `passed to ${callee}()`);
          });
          return false;
        }
      }
      return false;
    },
    assume(cond, s, truthy) {
      const c = stripParens(cond);
      if (c.type === 'identifier' || c.type === 'assignment_expression' || c.type === 'cast_expression') {
        const name = c.type === 'assignment_expression' ? identOf(c.childForFieldName('left')) : identOf(c);
        if (name && truthy) s.delete(name);
        return;
      }
      if (c.type === 'binary_expression') {
        const op = c.childForFieldName('operator')?.type;
        if (op !== '==' && op !== '!=') return;
        const l = c.childForFieldName('left');
        const r = c.childForFieldName('right');
        let name: string | undefined;
        if (isNullLiteral(r)) name = assignedOrIdent(l);
        else if (isNullLiteral(l)) name = assignedOrIdent(r);
        if (!name) return;
        if ((op === '!=' && truthy) || (op === '==' && !truthy)) s.delete(name);
      }
    },
  };
  new FlowWalker(domain).run(body, new Map());
}

function assignedOrIdent(n: Node | null): string | undefined {
  if (!n) return undefined;
  const c = stripParens(n);
  if (c.type === 'assignment_expression') return identOf(c.childForFieldName('left'));
  return identOf(c);
}

/**
 * `bpf_map_lookup_elem(&array_map, &k)` with `k` a local initialized to a constant: since 6.14 the
 * verifier knows the result is a valid pointer when the key is in range.
 */
function isConstKeyArrayLookup(doc: BpfDocument, body: Node, call: Node, callee: string): boolean {
  if (callee !== 'bpf_map_lookup_elem') return false;
  const [mapArg, keyArg] = callArgs(call);
  const mapName = mapArg && stripCasts(mapArg).type === 'pointer_expression' ? identOf(stripCasts(mapArg).childForFieldName('argument')) : undefined;
  const map = doc.maps.find((m) => m.name === mapName);
  if (!map || !/^BPF_MAP_TYPE_(PERCPU_)?ARRAY$/.test(map.type ?? '')) return false;
  const key = keyArg ? stripCasts(keyArg) : undefined;
  if (key?.type !== 'pointer_expression') return false;
  const keyName = identOf(key.childForFieldName('argument'));
  if (!keyName) return false;
  for (const d of body.descendantsOfType('init_declarator')) {
    if (d && identOf(d.childForFieldName('declarator')) === keyName) {
      const v = d.childForFieldName('value');
      return !!v && stripCasts(v).type === 'number_literal';
    }
  }
  return false;
}
