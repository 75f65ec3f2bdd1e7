/**
 * Rule 1: a pointer from a may-be-NULL helper or kfunc (bpf_map_lookup_elem, bpf_ringbuf_reserve,
 * bpf_sk_lookup_tcp, bpf_task_acquire...) used before a NULL check on that path. The verifier types
 * it `map_value_or_null` (or `..._or_null`) and rejects any dereference, pointer arithmetic or
 * non-NULL argument ("R0 invalid mem access 'map_value_or_null'").
 */
import type { Node } from 'web-tree-sitter';
import { field, opOf, ty } from '../fast-node';
import type { BpfDocument } from '../../bpf-document';
import { helperByName, kfuncByName } from '../../catalog/catalog';
import { syntaxIndex } from '../syntax-index';
import { FlowWalker, mentions, stripCasts, stripParens, type FlowDomain } from '../flow';
import { documentHeaderDeclarations, headerFunctionSummaries } from '../../header-declarations';
import type { Rule, RuleContext } from '../rule';
import {
  allFunctionsKey,
  callFacts,
  fileValue,
  functionKey,
  functionNameOf,
  functionsByName,
  functionsOf,
  functionText,
  hash,
  memo,
} from '../function-cache';
import {
  blockStatement,
  callArgs,
  calleeName,
  identOf,
  indentAt,
  indentUnit,
  isNullLiteral,
  safeReturn,
} from '../syntax';

interface Origin {
  call: Node;
  callee: string;
  /** Array map with a constant key: kernels >= 6.14 know the result is not NULL. */
  constKeyArray: boolean;
  /** A field of an iterator program's context (`ctx->task`), not a call. */
  iterField?: boolean;
}
type State = Map<string, Origin>;

/** Helper arguments that accept any value, NULL included (bpf_probe_read_kernel's source...). */
const ANY_VALUE_ARG = /unsafe_ptr/;

/** Functions whose pointer arguments are only printed or copied, never dereferenced by the verifier. */
const PASS_THROUGH = new Set([
  'bpf_printk',
  'bpf_trace_printk',
  'bpf_trace_vprintk',
  'bpf_kptr_xchg',
  'BPF_CORE_READ',
  'BPF_CORE_READ_INTO',
  'BPF_PROBE_READ',
  'bpf_core_read',
  'BPF_SEQ_PRINTF',
  'BPF_SNPRINTF',
]);

/**
 * The context fields of BPF iterator programs the kernel types PTR_TO_BTF_ID_OR_NULL (each target's
 * bpf_iter_reg ctx_arg_info): NULL on the last call, after the last object. `meta` is never NULL.
 */
const ITER_NULLABLE: Record<string, readonly string[]> = {
  bpf_iter__task: ['task'],
  bpf_iter__task_file: ['task', 'file'],
  bpf_iter__task_vma: ['task', 'vma'],
  bpf_iter__bpf_map: ['map'],
  bpf_iter__bpf_map_elem: ['key', 'value'],
  bpf_iter__bpf_sk_storage_map: ['sk', 'value'],
  bpf_iter__sockmap: ['key', 'sk'],
  bpf_iter__tcp: ['sk_common'],
  bpf_iter__udp: ['udp_sk'],
  bpf_iter__unix: ['unix_sk'],
  bpf_iter__netlink: ['sk'],
  bpf_iter__ipv6_route: ['rt'],
  bpf_iter__bpf_prog: ['prog'],
  bpf_iter__bpf_link: ['link'],
  bpf_iter__cgroup: ['cgroup'],
  bpf_iter__ksym: ['ksym'],
  bpf_iter__kmem_cache: ['s'],
};

/** Parameters of fn typed `struct bpf_iter__X *`, with the fields of X that may be NULL. */
function iteratorContexts(fn: Node): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  let d: Node | null = field(fn, 'declarator');
  while (d && ty(d) !== 'function_declarator') d = field(d, 'declarator');
  for (const p of d?.childForFieldName('parameters')?.namedChildren ?? []) {
    if (!p || ty(p) !== 'parameter_declaration') continue;
    const t = /^struct\s+(bpf_iter__\w+)$/.exec(field(p, 'type')?.text.trim() ?? '')?.[1];
    const decl = field(p, 'declarator');
    const name = decl && ty(decl) === 'pointer_declarator' ? identOf(field(decl, 'declarator')) : undefined;
    if (t && name && ITER_NULLABLE[t]) out.set(name, ITER_NULLABLE[t]);
  }
  return out;
}

/** Helpers of common headers (libbpf-tools' maps.bpf.h) that return a map value or NULL. */
const HEADER_NULLABLE = new Set(['bpf_map_lookup_or_try_init']);

export function nullableCallee(name: string, fileNullable: ReadonlySet<string>): boolean {
  if (HEADER_NULLABLE.has(name)) return true;
  return !!(helperByName(name)?.mayReturnNull || kfuncByName(name)?.mayReturnNull || fileNullable.has(name));
}

/**
 * Functions of the file that may return the result of a may-be-NULL call unchecked: they return a
 * pointer and have `return callee(...)` with a may-be-NULL callee (read from the text, cached).
 */
export function fileNullableFunctions(doc: BpfDocument, fns: readonly Node[]): Set<string> {
  const returned: { name: string; callees: string[] }[] = [];
  for (const fn of fns) {
    const callees = returnedCallees(doc, fn);
    if (!callees.length) continue;
    const name = functionNameOf(doc, fn);
    if (name) returned.push({ name, callees });
  }
  const out = new Set<string>();
  for (let round = 0; round < 3; round++) {
    for (const r of returned) if (!out.has(r.name) && r.callees.some((c) => nullableCallee(c, out))) out.add(r.name);
  }
  return out;
}

/** The functions whose result a function returning a pointer returns (`return f(...)`), read once per text. */
function returnedCallees(doc: BpfDocument, fn: Node): string[] {
  return memo(`returns\u0000${functionKey(doc, fn)}`, () => {
    const text = functionText(doc, fn);
    const open = text.indexOf('(');
    // Only functions returning a pointer: a `*` before the name.
    if (open < 0 || !text.slice(0, open).includes('*')) return [];
    return [...text.matchAll(/\breturn\s+(?:\([^()]*\)\s*)*([A-Za-z_]\w*)\s*\(/g)].map((m) => m[1]);
  });
}

const nullableByDocument = new WeakMap<BpfDocument, ReadonlySet<string>>();

/**
 * The file's and its headers' functions that may return NULL, once per document version, and cached
 * across versions by the text of all the file's functions and the headers (read off all of them).
 */
function nullableFunctions(doc: BpfDocument): ReadonlySet<string> {
  let out = nullableByDocument.get(doc);
  if (out) return out;
  const headers = documentHeaderDeclarations(doc);
  // Taken over from the previous version when the edited function returns the same calls as before.
  out = fileValue(
    doc,
    'null-check-nullable',
    headers.key,
    (fn) => returnedCallees(doc, fn).join(','),
    () =>
      memo(`null-check-nullable\u0000${allFunctionsKey(doc)}\u0000${headers.key}`, () => {
        const fileNullable = new Set(fileNullableFunctions(doc, functionsOf(doc)));
        // Functions of the included headers that may return NULL (bpf_map_lookup_or_try_init() of maps.bpf.h).
        const hdr = headerFunctionSummaries(
          headers,
          (c) => nullableCallee(c, fileNullable),
          () => undefined,
        );
        // The file's own functions by name, as doc.functions has them (without building the document structure).
        const own = functionsByName(doc);
        for (const n of hdr.nullable) if (!own.has(n)) fileNullable.add(n);
        return fileNullable;
      }),
  );
  nullableByDocument.set(doc, out);
  return out;
}

const nullableKeys = new WeakMap<BpfDocument, string>();

/** nullableFunctions(doc) as a short key. */
function nullableKey(doc: BpfDocument): string {
  let k = nullableKeys.get(doc);
  if (k === undefined) {
    const names = [...nullableFunctions(doc)].sort().join(',');
    nullableKeys.set(doc, (k = names.length > 64 ? hash(names) : names));
  }
  return k;
}

export const nullCheckRule: Rule = {
  id: 'null-check',
  description: 'pointer from a may-be-NULL helper or kfunc used before a NULL check',
  // The quick fix returns TC_ACT_OK when the file names it; header functions may return NULL. What it
  // reads of the functions a function calls is which of them may return NULL: that set is in the file
  // key, so an edit of a callee that leaves it alone does not re-run the rule in the callers.
  ownFunctionOnly: true,
  fileKey: (doc) =>
    `${/\bTC_ACT_OK\b/.test(doc.text) ? 'tc' : ''}|${documentHeaderDeclarations(doc).key}|${nullableKey(doc)}`,
  runFunction(ctx) {
    const { doc, fn } = ctx;
    // Only functions that call something that may return NULL have anything to check. The file's
    // functions it calls are part of its cache key, so which of them may return NULL is too.
    const calls = callFacts(doc, fn);
    const iters = iteratorContexts(fn);
    if (!calls.length && !iters.size) return;
    const fileNullable = nullableFunctions(doc);
    const sources = [...new Set(calls.filter((c) => nullableCallee(c.name, fileNullable)).map((c) => c.name))];
    if (!sources.length && !iters.size) return;
    const body = field(fn, 'body');
    if (body) checkFunction(ctx, fn, body, fileNullable, [...sources, ...iters.keys()], iters);
  },
};

/**
 * A condition made only of NULL tests of identifiers (`(!task)`, `(!a || b == NULL)`) that does not
 * test `name`.
 */
function nullOnlyCheck(cond: Node | null, name: string): boolean {
  if (!cond) return false;
  const t = cond.text.replace(/\s+/g, '').replace(/^\((.*)\)$/, '$1');
  const terms = t.split('||');
  return (
    terms.every((x) => /^(!\w+|\w+==(NULL|0)|(NULL|0)==\w+)$/.test(x)) &&
    !terms.some((x) => x.replace(/!|==|NULL|\b0\b/g, '') === name)
  );
}

function checkFunction(
  ctx: RuleContext,
  fn: Node,
  body: Node,
  fileNullable: ReadonlySet<string>,
  sources: string[],
  iters: Map<string, readonly string[]> = new Map(),
): void {
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
        edits: [
          {
            start: stmt.endIndex,
            end: stmt.endIndex,
            newText: `\n${indent}if (!${name})\n${indent}${indentUnit(doc.text)}${safeReturn(doc, fn)}`,
          },
        ],
      });
    }
    const verdict = o.constKeyArray
      ? `Kernels before 6.14 reject this ("invalid mem access 'map_value_or_null'"); newer ones know a constant in-range key of an array map gives a valid pointer.`
      : o.iterField
        ? `The verifier rejects the program ("invalid mem access 'trusted_ptr_or_null_'"): an iterator program is called once more after the last object, with ${o.callee} NULL.`
        : `The verifier rejects the program ("invalid mem access '..._or_null'"): ${o.callee}() may return NULL.`;
    // The first NULL check of other pointers between the source and the use (`if (!task) return 0;`
    // where `if (!task || !file)` was meant): where the missing test belongs.
    const sibling = syntaxIndex(doc)
      .range('if_statement', o.call.endIndex, use.startIndex)
      .find((i) => i.endIndex <= use.startIndex && nullOnlyCheck(field(i, 'condition'), name));
    const siblingCond = sibling ? field(sibling, 'condition') : null;
    ctx.report({
      start: use.startIndex,
      end: use.endIndex,
      severity: o.constKeyArray ? 'warning' : 'error',
      message: `'${name}' may be NULL here (${how} before a NULL check). ${verdict} Check it first: if (!${name}) return ...;`,
      related: [
        {
          start: o.call.startIndex,
          end: o.call.endIndex,
          message: o.iterField
            ? `${o.callee} is NULL on the iterator's last call; it is not checked before the use`
            : `${o.callee}() may return NULL; its result is not checked before the use`,
        },
        ...(siblingCond
          ? [
              {
                start: siblingCond.startIndex,
                end: siblingCond.endIndex,
                message: `this check leaves on NULL pointers but does not test '${name}': add it (|| !${name})`,
              },
            ]
          : []),
      ],
      fixes,
    });
  };

  /** `ctx->task` of an iterator program: the field may be NULL. */
  const iterField = (n: Node): Origin | undefined => {
    const v = stripCasts(n);
    if (ty(v) !== 'field_expression' || opOf(v) !== '->') return undefined;
    const base = identOf(field(v, 'argument'));
    const f = field(v, 'field')?.text;
    return base && f && iters.get(base)?.includes(f)
      ? { call: v, callee: `${base}->${f}`, constKeyArray: false, iterField: true }
      : undefined;
  };

  const originOf = (value: Node, s: State): Origin | undefined => {
    const v = stripCasts(value);
    const it = iterField(v);
    if (it) return it;
    if (ty(v) === 'call_expression') {
      const callee = calleeName(v);
      if (callee && nullableCallee(callee, fileNullable))
        return { call: v, callee, constKeyArray: isConstKeyArrayLookup(doc, body, v, callee) };
      return undefined;
    }
    if (ty(v) === 'identifier') return s.get(v.text);
    if (ty(v) === 'assignment_expression') {
      const l = identOf(field(v, 'left'));
      return l ? s.get(l) : undefined;
    }
    return undefined;
  };

  /** The maybe-NULL variable a dereferenced operand is (or is arithmetic on). */
  const derefTarget = (n: Node, s: State): string | undefined => {
    const v = stripCasts(n);
    if (ty(v) === 'identifier') return s.has(v.text) ? v.text : undefined;
    if (ty(v) === 'binary_expression' && (opOf(v) === '+' || opOf(v) === '-')) {
      return derefTarget(field(v, 'left')!, s) ?? derefTarget(field(v, 'right')!, s);
    }
    return undefined;
  };

  const domain: FlowDomain<State> = {
    relevant(text, s) {
      return mentions(text, s.keys()) || mentions(text, sources);
    },
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
      switch (ty(n)) {
        case 'assignment_expression': {
          const left = field(n, 'left');
          const right = field(n, 'right');
          const op = opOf(n);
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
          if (opOf(n) !== '->') return false;
          const t = derefTarget(field(n, 'argument')!, s);
          if (t) report(t, s.get(t)!, n, 'dereferenced');
          const direct = iterField(field(n, 'argument')!);
          if (direct) report(direct.callee, direct, n, 'dereferenced');
          return false;
        }
        case 'pointer_expression': {
          if (opOf(n) !== '*') return false;
          const t = derefTarget(field(n, 'argument')!, s);
          if (t) report(t, s.get(t)!, n, 'dereferenced');
          return false;
        }
        case 'subscript_expression': {
          const t = derefTarget(field(n, 'argument')!, s);
          if (t) report(t, s.get(t)!, n, 'dereferenced');
          return false;
        }
        case 'update_expression': {
          const t = identOf(field(n, 'argument'));
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
            // An iterator's context field may go to helpers that accept NULL (bpf_task_storage_get): not judged.
            if (!t || !s.has(t) || s.get(t)!.iterField) return;
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
      if (ty(c) === 'identifier' || ty(c) === 'assignment_expression' || ty(c) === 'cast_expression') {
        const name = ty(c) === 'assignment_expression' ? identOf(field(c, 'left')) : identOf(c);
        if (name && truthy) s.delete(name);
        return;
      }
      if (ty(c) === 'binary_expression') {
        const op = opOf(c);
        if (op !== '==' && op !== '!=') return;
        const l = field(c, 'left');
        const r = field(c, 'right');
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
  if (ty(c) === 'assignment_expression') return identOf(field(c, 'left'));
  return identOf(c);
}

/**
 * `bpf_map_lookup_elem(&array_map, &k)` with `k` a local initialized to a constant: since 6.14 the
 * verifier knows the result is a valid pointer when the key is in range.
 */
function isConstKeyArrayLookup(doc: BpfDocument, body: Node, call: Node, callee: string): boolean {
  if (callee !== 'bpf_map_lookup_elem') return false;
  const [mapArg, keyArg] = callArgs(call);
  const mapName =
    mapArg && stripCasts(mapArg).type === 'pointer_expression'
      ? identOf(stripCasts(mapArg).childForFieldName('argument'))
      : undefined;
  const map = doc.maps.find((m) => m.name === mapName);
  if (!map || !/^BPF_MAP_TYPE_(PERCPU_)?ARRAY$/.test(map.type ?? '')) return false;
  const key = keyArg ? stripCasts(keyArg) : undefined;
  if (key?.type !== 'pointer_expression') return false;
  const keyName = identOf(field(key, 'argument'));
  if (!keyName) return false;
  for (const d of syntaxIndex(doc).in('init_declarator', body)) {
    if (identOf(field(d, 'declarator')) === keyName) {
      const v = field(d, 'value');
      return !!v && stripCasts(v).type === 'number_literal';
    }
  }
  return false;
}
