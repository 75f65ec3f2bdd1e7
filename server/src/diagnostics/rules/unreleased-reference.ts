/**
 * Rule 10: a reference acquired and not released on every path. The verifier tracks each acquired
 * object (a ring buffer reservation, a socket from bpf_sk_lookup_*, a task or cgroup from an acquire
 * kfunc) and rejects a program that can exit holding one ("Unreleased reference id=2 alloc_insn=4").
 * It also rejects exits while a bpf_spin_lock is held ("BPF_EXIT instruction ... cannot be used inside bpf_spin_lock-ed region"), and calls
 * while holding one ("function calls are not allowed while holding a lock").
 */
import type { Node } from 'web-tree-sitter';
import { field, kids, opOf, ty } from '../fast-node';
import { helperByName, kfuncByName } from '../../catalog/catalog';
import type { BpfDocument } from '../../bpf-document';
import { FlowWalker, mentions, stripCasts, stripParens, type FlowDomain } from '../flow';
import { documentHeaderDeclarations, headerFunctionSummaries } from '../../header-declarations';
import type { Rule, RuleContext } from '../rule';
import {
  allFunctionsKey,
  callFacts,
  fileValue,
  functionKey,
  functionsByName,
  hash,
  memo,
  programOfFunction,
} from '../function-cache';
import {
  blockStatement,
  callArgs,
  calleeName,
  functionDefinitions,
  identOf,
  indentAt,
  indentUnit,
  isNullLiteral,
} from '../syntax';
import { syntaxIndex } from '../syntax-index';
import { releasedArgumentCalls, releasedArguments, type ReleasedArgument } from '../released-arguments';

interface Ref {
  call: Node;
  callee: string;
  releasers: string[];
  /** The first `goto` this path took while holding the reference (the leak is reported there). */
  via?: Node;
  /** The statement that last used it on this path: the release belongs after it. */
  lastUse?: Node;
}
interface State {
  /** Variable (or `&arg` text for dynptrs and iterators) -> the reference it holds. */
  refs: Map<string, Ref>;
  /** Lock argument text (`&val->lock`) -> the bpf_spin_lock call. */
  locks: Map<string, Node>;
  /** Variable (or `&arg` text) whose reference a release call gave back, on some path to here. */
  released: Map<string, { call: Node; callee: string }>;
}

/** Calls allowed while a spin lock is held (the lock/unlock pair, graph kfuncs, atomics). */
const ALLOWED_UNDER_LOCK =
  /^(bpf_spin_unlock|bpf_spin_lock|bpf_(list|rbtree)_\w+|bpf_obj_drop\w*|bpf_refcount_acquire\w*|__sync_\w+|__atomic_\w+|__builtin_\w+|bpf_res_spin_unlock\w*)$/;

/** Compiler builtins and the libc names clang lowers to them: they read or write bytes, never take a reference over. */
const BUILTIN = /^(__builtin_\w+|memset|memcpy|memmove|memcmp|__sync_\w+|__atomic_\w+)$/;

/** Releases a quick fix can write as `name(ref)` (ring buffer ones as `name(ref, 0)`). */
const SIMPLE_RELEASE =
  /^(bpf_ringbuf_\w+|bpf_sk_release|bpf_\w+_release|bpf_iter_\w+_destroy|bpf_put_file|bpf_key_put)$/;

/** Acquires whose reference lives in an argument (`&ptr`, `&it`), not in the returned value. */
function argAcquire(name: string): { index: number; releasers: string[] } | undefined {
  if (name === 'bpf_ringbuf_reserve_dynptr')
    return { index: 3, releasers: ['bpf_ringbuf_submit_dynptr', 'bpf_ringbuf_discard_dynptr'] };
  const m = /^bpf_iter_(\w+)_new$/.exec(name);
  if (m && kfuncByName(name)) return { index: 0, releasers: [`bpf_iter_${m[1]}_destroy`] };
  return undefined;
}

function acquireOf(name: string, summaries?: ReadonlyMap<string, string[]>): string[] | undefined {
  if (argAcquire(name)) return undefined;
  return helperByName(name)?.releasedBy ?? kfuncByName(name)?.releasedBy ?? summaries?.get(name);
}

const acquireOfIn = acquireOf;

/**
 * Functions of the file that return a reference they acquired (`return e;` where
 * `e = bpf_ringbuf_reserve(...)`): a call to one acquires that reference, which the caller must release.
 * Followed through chains of such functions.
 */
export function returnedReferences(doc: BpfDocument): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const isProgram = (fn: Node) => !!programOfFunction(doc, fn);
  for (let round = 0; round < 4; round++) {
    let changed = false;
    for (const [name, fn] of functionsByName(doc)) {
      if (out.has(name)) continue;
      const facts = returnFacts(doc, fn);
      if (!facts) continue;
      const bound = new Map<string, string[]>();
      for (const a of facts.assigns) {
        const rel = acquireOf(a.callee, out);
        if (rel) bound.set(a.v, rel);
      }
      const v = facts.returns.find((r) => bound.has(r));
      if (v && !isProgram(fn)) {
        out.set(name, bound.get(v)!);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return out;
}

/**
 * What returnedReferences() needs from one function, read once per function text: the variables
 * assigned a call's result (declarations first, then assignments, in order) and the variables returned.
 */
function returnFacts(
  doc: BpfDocument,
  fn: Node,
): { assigns: { v: string; callee: string }[]; returns: string[] } | null {
  return memo(`returned-refs\u0000${functionKey(doc, fn)}`, () => {
    const body = field(fn, 'body');
    if (!body || !/\breturn\s+\w+\s*;/.test(body.text)) return null;
    const assigns: { v: string; callee: string }[] = [];
    const note = (v: string | undefined, value: Node | null) => {
      const call = value ? stripCasts(value) : null;
      const callee = call && ty(call) === 'call_expression' ? calleeName(call) : undefined;
      if (v && callee) assigns.push({ v, callee });
    };
    const ix = syntaxIndex(doc);
    for (const d of ix.in('init_declarator', body))
      if (d)
        note(identOf(field(d, 'declarator')) ?? field(d, 'declarator')?.text.replace(/^\*+\s*/, ''), field(d, 'value'));
    for (const a of ix.in('assignment_expression', body)) if (a) note(identOf(field(a, 'left')), field(a, 'right'));
    const returns: string[] = [];
    for (const r of ix.in('return_statement', body)) {
      const v = r && identOf(kids(r)[0]);
      if (v) returns.push(v);
    }
    return assigns.length && returns.length ? { assigns, returns } : null;
  });
}

const norm = (t: string) => t.replace(/\s+/g, '');

export const unreleasedReferenceRule: Rule = {
  id: 'unreleased-reference',
  description: 'ring buffer reservation, socket, kfunc reference or spin lock not released on every path',
  // What the file's and its headers' functions do with references (summaries, read-only parameters) is
  // part of the key, as are the functions each one calls (their bodies may release what it holds).
  fileKey: (doc) => factsOf(doc).key,
  // What it reads of the functions a function calls is their summaries (factsOf), which the file key holds.
  ownFunctionOnly: true,
  runFunction(ctx) {
    const { doc, fn } = ctx;
    const { summaries, readOnly, releasing } = factsOf(doc);
    // Only functions that acquire something or take a lock have anything to release.
    const sources = [
      ...new Set(
        callFacts(doc, fn)
          .filter(
            (c) =>
              c.name === 'bpf_spin_lock' ||
              acquireOf(c.name, summaries) ||
              argAcquire(c.name) ||
              kfuncByName(c.name)?.releases,
          )
          .map((c) => c.name),
      ),
    ];
    if (!sources.length) return;
    const body = field(fn, 'body');
    if (body) checkFunction(ctx, body, globalFunctions(doc), sources, summaries, readOnly, releasing);
  },
};

interface FileFacts {
  summaries: Map<string, string[]>;
  readOnly: Map<string, boolean[]>;
  /** Functions that release one of their arguments on every path (the summary "releases its argument N"). */
  releasing: Map<string, ReleasedArgument>;
  key: string;
}
const factsCache = new WeakMap<BpfDocument, FileFacts>();

/** Summaries and read-only parameters of the file's and its headers' functions, once per document version. */
function factsOf(doc: BpfDocument): FileFacts {
  let f = factsCache.get(doc);
  if (f) return f;
  // Read off all the file's functions and its headers: taken over from the previous version when the
  // edited function's own facts did not change, else cached across versions by the functions' texts.
  const headerKey = documentHeaderDeclarations(doc).key;
  f = fileValue(
    doc,
    'unreleased-reference-facts',
    headerKey,
    (fn) => factsSignature(doc, fn),
    () => memo(`unreleased-reference-facts\u0000${allFunctionsKey(doc)}\u0000${headerKey}`, () => readFacts(doc)),
  );
  factsCache.set(doc, f);
  return f;
}

/** What readFacts reads of one function of the file (read once per function text). */
function factsSignature(doc: BpfDocument, fn: Node): string {
  return memo(`unreleased-reference-signature\u0000${functionKey(doc, fn)}`, () =>
    JSON.stringify([returnFacts(doc, fn), readOnlyOf(doc, fn) ?? null, releasedArgumentCalls(doc, fn)]),
  );
}

/** Which parameters of a function of the file it only reads through (read once per function text). */
function readOnlyOf(doc: BpfDocument, fn: Node): boolean[] | undefined {
  return memo(`read-only-params\u0000${functionKey(doc, fn)}`, () => {
    const b = field(fn, 'body');
    if (!b) return undefined;
    const params = syntaxIndex(doc)
      .range('parameter_declaration', fn.startIndex, b.startIndex)
      .map((p) => identOf(p.descendantsOfType('identifier').at(-1)) ?? '');
    return readOnlyParams([{ name: '', params, body: b.text }]).get('');
  });
}

function readFacts(doc: BpfDocument): FileFacts {
  const summaries = returnedReferences(doc);
  const own = functionsByName(doc);
  // Functions of the included headers that return a reference they acquired.
  const headers = documentHeaderDeclarations(doc);
  const hdr = headerFunctionSummaries(
    headers,
    () => false,
    (c) => acquireOf(c, summaries),
  );
  for (const [n, rel] of hdr.returnsRef) if (!own.has(n)) summaries.set(n, rel);
  const readOnly = new Map<string, boolean[]>();
  // The file's functions: read once per function text.
  for (const [name, fn] of own) {
    const ro = readOnlyOf(doc, fn);
    if (ro) readOnly.set(name, ro);
  }
  // The headers' functions (those the file does not define itself): read once per header contents.
  const fromHeaders = [...headers.functions.values()].filter((h) => !own.has(h.name));
  const headerReadOnly = memo(
    `header-read-only-params\u0000${headers.key}\u0000${hash(fromHeaders.map((h) => h.name).join(','))}`,
    () =>
      readOnlyParams(
        fromHeaders.map((h) => ({ name: h.name, params: h.params, body: h.text.slice(h.text.indexOf('{')) })),
      ),
  );
  for (const [name, ro] of headerReadOnly) readOnly.set(name, ro);
  const releasing = releasedArguments(doc);
  const key =
    [...summaries].map(([k, v]) => `${k}:${v.join(',')}`).join(';') +
    '|' +
    [...readOnly].map(([k, v]) => `${k}:${v.map(Number).join('')}`).join(';') +
    '|' +
    [...releasing].map(([k, v]) => `${k}:${v.index}`).join(';');
  return { summaries, readOnly, releasing, key: key.length > 64 ? hash(key) : key };
}

/**
 * Which parameters of the file's (and its headers') functions they only read through (`e->pid = ...`,
 * `if (!e)`): handing a reference to such a parameter does not release it, the caller still must.
 * Any other use (passed on, stored, returned) counts as taking it over.
 */
export function readOnlyParams(
  functions: Iterable<{ name: string; params: string[]; body: string }>,
): Map<string, boolean[]> {
  const out = new Map<string, boolean[]>();
  for (const f of functions) {
    out.set(
      f.name,
      f.params.map((p) => {
        const uses = [...f.body.matchAll(new RegExp(`\\b${p}\\b`, 'g'))];
        if (!uses.length) return false;
        return uses.every((m) => {
          const after = f.body.slice(m.index + p.length).trimStart();
          const before = f.body.slice(0, m.index).trimEnd();
          return (
            /^(->|\[)/.test(after) ||
            /^[=!]=/.test(after) ||
            (before.endsWith('!') && !before.endsWith('!=')) ||
            passedToNonReleasingHelper(before, after)
          );
        });
      }),
    );
  }
  return out;
}

/**
 * `bpf_task_storage_get(&m, task, 0, 0)`: the parameter passed as a whole argument of a helper or
 * kfunc that releases nothing (a lookup, a storage get, a read): it is only read, the reference stays
 * the caller's. Read from the text: the callee is the name before the innermost unclosed '('.
 */
function passedToNonReleasingHelper(before: string, after: string): boolean {
  if (!/^[,)]/.test(after) || !/[(,]$/.test(before)) return false;
  let depth = 0;
  for (let k = before.length - 1; k >= 0 && k > before.length - 400; k--) {
    const ch = before[k];
    if (ch === ')') depth++;
    else if (ch === '(') {
      if (depth-- > 0) continue;
      const callee = /(\w+)\s*$/.exec(before.slice(Math.max(0, k - 64), k))?.[1];
      if (!callee) return false;
      const h = helperByName(callee);
      const kf = kfuncByName(callee);
      if (!h && !kf) return false;
      if (kf?.releases || callee === 'bpf_kptr_xchg') return false;
      // Helpers that take a reference over (ring buffer submit/discard, bpf_sk_release, ...).
      if (/release|submit|discard|xchg|_put\b|destroy/.test(callee)) return false;
      return true;
    } else if (ch === ';' || ch === '{' || ch === '}') return false;
  }
  return false;
}

/** The block of the innermost `if (key)` / `if (key != NULL)` around `n` whose condition tests the reference. */
function guardedBlock(n: Node, key: string): Node | undefined {
  for (let up = n.parent; up && ty(up) !== 'function_definition'; up = up.parent) {
    if (ty(up) !== 'compound_statement' || up.parent?.type !== 'if_statement') continue;
    const ifs = up.parent;
    if (field(ifs, 'consequence')?.startIndex !== up.startIndex) continue;
    const cond = field(ifs, 'condition');
    const c = cond ? stripParens(cond) : null;
    if (!c) continue;
    const t = c.text.replace(/\s+/g, '');
    if (t === key || t === `${key}!=NULL` || t === `${key}!=0` || t === `NULL!=${key}`) return up;
  }
  return undefined;
}

/** Non-static functions that are not programs: global subprograms, which the verifier checks apart. */
function globalFunctions(doc: BpfDocument): Set<string> {
  const out = new Set<string>();
  for (const f of functionDefinitions(doc)) {
    const storage = kids(f).some((c) => c?.type === 'storage_class_specifier' && c.text === 'static');
    const name = identOf(field(f, 'declarator')?.childForFieldName('declarator'));
    if (name && !storage && !doc.programs.some((p) => p.node.startIndex === f.startIndex)) out.add(name);
  }
  return out;
}

function checkFunction(
  ctx: RuleContext,
  body: Node,
  globalFns: Set<string>,
  sources: string[],
  summaries: ReadonlyMap<string, string[]>,
  readOnly: ReadonlyMap<string, boolean[]> = new Map(),
  releasing: ReadonlyMap<string, ReleasedArgument> = new Map(),
): void {
  const { doc } = ctx;
  const reported = new Set<number>();
  const acquireOf = (name: string) => acquireOfIn(name, summaries);
  // A program's own pointer arguments (BPF_PROG(name, struct task_struct *p)) are borrowed, never
  // acquired: releasing one is refused. Only those the body never reassigns are known to be borrowed.
  const fnNode = body.parent;
  const isProgram = !!fnNode && doc.programs.some((p) => p.node.startIndex === fnNode.startIndex);
  const borrowed = new Set<string>();
  if (isProgram && fnNode) {
    const header = doc.text.slice(fnNode.startIndex, body.startIndex);
    for (const m of header.matchAll(/\*\s*(\w+)\s*[,)]/g))
      if (!new RegExp(`\\b${m[1]}\\s*=[^=]`).test(body.text)) borrowed.add(m[1]);
  }

  const release = (s: State, ref: Ref) => {
    for (const [k, v] of s.refs) if (v === ref || v.call.startIndex === ref.call.startIndex) s.refs.delete(k);
  };

  const acquireFrom = (value: Node): Ref | undefined => {
    const v = stripCasts(value);
    if (ty(v) !== 'call_expression') return undefined;
    const callee = calleeName(v);
    const releasers = callee ? acquireOf(callee) : undefined;
    return releasers && callee ? { call: v, callee, releasers } : undefined;
  };

  const bind = (name: string, value: Node | null, s: State) => {
    s.refs.delete(name);
    s.released.delete(name);
    if (!value) return;
    const r = acquireFrom(value);
    if (r) {
      s.refs.set(name, r);
      return;
    }
    const id = identOf(value);
    if (id && s.refs.has(id)) s.refs.set(name, s.refs.get(id)!);
  };

  // A leak is reported where the path that holds the reference leaves: the `goto` it took, else the
  // `return`; the acquire is related information. Falling off the end of a void function, or an acquire
  // whose result is thrown away, is reported at the acquire.
  /** The call that gives `key`'s reference back on an early exit: discard a reservation, release the rest. */
  const releaseCall = (ref: Ref, key: string): string => {
    const r =
      ref.releasers.find((x) => /discard/.test(x)) ??
      ref.releasers.find((x) => SIMPLE_RELEASE.test(x)) ??
      ref.releasers[0];
    return /^bpf_ringbuf_/.test(r) ? `${r}(${key}, 0);` : `${r}(${key});`;
  };

  const canReleaseBefore = (at: Node, key: string, ref: Ref): boolean =>
    at.parent?.type === 'compound_statement' &&
    !mentions(at.text, [key.replace(/^&/, '')]) &&
    ref.releasers.some((r) => SIMPLE_RELEASE.test(r));

  // Release at the end of the block that checked the reference (the path outside it may hold NULL).
  const guardFix = (guard: Node, ref: Ref, key: string) => {
    const brace = guard.endIndex - 1;
    const lineStart = doc.text.lastIndexOf('\n', brace - 1) + 1;
    if (doc.text.slice(lineStart, brace).trim()) return undefined;
    const indent = indentAt(doc.text, brace);
    return [
      {
        title: `Release it at the end of the block that checked it: ${releaseCall(ref, key)}`,
        edits: [
          { start: lineStart, end: lineStart, newText: `${indent}${indentUnit(doc.text)}${releaseCall(ref, key)}\n` },
        ],
      },
    ];
  };

  const leak = (ref: Ref, where: Node | null, key?: string) => {
    if (reported.has(ref.call.startIndex)) return;
    reported.add(ref.call.startIndex);
    // Named by its text, not its line: findings are cached by function text and move with it.
    const name = (n: Node) => n.text.replace(/\s+/g, ' ').slice(0, 40);
    const at = ref.via ?? where;
    const acquired = {
      start: ref.call.startIndex,
      end: ref.call.endIndex,
      message: `${ref.callee}() acquires the reference here`,
    };
    const related = at ? [acquired] : [];
    const last = ref.lastUse;
    if (at && last && last.endIndex <= at.startIndex && last.startIndex > ref.call.endIndex)
      related.push({
        start: last.startIndex,
        end: last.endIndex,
        message: `last used here on that path: release it after this${key ? ` (${releaseCall(ref, key)})` : ''}`,
      });
    // `if (t) { ...uses t... }` then on: the block that tested the reference ends holding it, and its end
    // is where the release usually belongs (nothing after it uses the reference).
    const guard = at && last && key ? guardedBlock(last, key.replace(/^&/, '')) : undefined;
    if (guard && guard.endIndex <= at!.startIndex)
      related.push({
        start: guard.endIndex - 1,
        end: guard.endIndex,
        message: `the block that checked '${key}' ends here still holding it: release it before this brace (${releaseCall(ref, key!)})`,
      });
    if (ref.via && where)
      related.push({
        start: where.startIndex,
        end: where.endIndex,
        message: 'the function exits here holding the reference',
      });
    const releasers = ref.releasers.join(' or ');
    ctx.report({
      start: (at ?? ref.call).startIndex,
      end: (at ?? ref.call).endIndex,
      severity: 'error',
      message: at
        ? `Unreleased reference: the path through \`${name(at)}\` still holds what ${ref.callee}() acquired ` +
          `(release it with ${releasers} first). The verifier rejects the program ("Unreleased reference id=N"). ` +
          `Release it before every return and goto that leaves with it, including the early ones after the NULL check.`
        : `Unreleased reference: what ${ref.callee}() acquires here is not released by ${releasers} on every path. ` +
          `The verifier rejects the program ("Unreleased reference id=N"). Release it before every return, including the early ones after the NULL check.`,
      related: related.length ? related : undefined,
      // Release right before the exit, when the exit is a statement of a block (not `if (x) return 0;`)
      // that does not itself use the reference, and the release is a plain call.
      fixes:
        guard && guard.endIndex <= at!.startIndex && ref.releasers.some((r) => SIMPLE_RELEASE.test(r))
          ? guardFix(guard, ref, key!)
          : at && key && canReleaseBefore(at, key, ref)
            ? [
                {
                  title: `Release it before this ${ty(at) === 'goto_statement' ? 'goto' : 'return'}: ${releaseCall(ref, key)}`,
                  edits: [
                    {
                      start: at.startIndex,
                      end: at.startIndex,
                      newText: `${releaseCall(ref, key)}\n${indentAt(doc.text, at.startIndex)}`,
                    },
                  ],
                },
              ]
            : undefined,
    });
  };

  /** A released reference used again: dereferenced, passed on, or released twice. */
  const useAfterRelease = (use: Node, name: string, rel: { call: Node; callee: string }, twice: boolean) => {
    if (reported.has(use.startIndex)) return;
    reported.add(use.startIndex);
    // Named by its text, not its line: findings are cached by function text and move with it.
    const by = `${rel.callee}()`;
    const iter = name.startsWith('&');
    ctx.report({
      start: use.startIndex,
      end: use.endIndex,
      severity: 'error',
      message: twice
        ? `'${name}' is released a second time: ${by} already gave it back on this path. The verifier rejects the program (the released pointer is no longer a reference: "expects refcounted PTR_TO_BTF_ID", "must point to scalar"). Release it once on every path.`
        : `'${name}' is used after ${by} released it: the verifier rejects the program (` +
          (iter ? `"expected an initialized iter_num"` : `"invalid mem access 'scalar'"`) +
          `). Finish using it before the release.`,
      related: [{ start: rel.call.startIndex, end: rel.call.endIndex, message: `${rel.callee}() released it here` }],
    });
  };

  const domain: FlowDomain<State> = {
    relevant(text, s) {
      // While something is held, every call (under a lock) and every return matters.
      if (s.locks.size && (text.includes('(') || text.includes('return'))) return true;
      if (s.refs.size && text.includes('return')) return true;
      return mentions(text, s.refs.keys()) || mentions(text, sources) || mentions(text, s.released.keys());
    },
    copy: (s) => ({ refs: new Map(s.refs), locks: new Map(s.locks), released: new Map(s.released) }),
    join: (a, b) => {
      const refs = new Map(a.refs);
      for (const [k, v] of b.refs) if (!refs.has(k)) refs.set(k, v);
      const locks = new Map(a.locks);
      for (const [k, v] of b.locks) if (!locks.has(k)) locks.set(k, v);
      const released = new Map(a.released);
      for (const [k, v] of b.released) if (!released.has(k)) released.set(k, v);
      return { refs, locks, released };
    },
    declare(name, _n, value, _t, s) {
      bind(name, value, s);
    },
    visit(n, s, flow) {
      const t = ty(n);
      if (t === 'identifier' && s.refs.size) {
        // A use of a held reference (its address for dynptrs and iterators): remember the statement.
        const key = s.refs.has(n.text) ? n.text : s.refs.has(`&${n.text}`) ? `&${n.text}` : undefined;
        const stmt = key ? blockStatement(n) : null;
        if (key && stmt) s.refs.set(key, { ...s.refs.get(key)!, lastUse: stmt });
        return false;
      }
      if (
        s.released.size &&
        ((t === 'field_expression' && opOf(n) === '->') ||
          (t === 'pointer_expression' && opOf(n) === '*') ||
          t === 'subscript_expression')
      ) {
        const id = identOf(field(n, 'argument'));
        const rel = id ? s.released.get(id) : undefined;
        if (id && rel) useAfterRelease(n, id, rel, false);
        return false;
      }
      if (ty(n) === 'assignment_expression') {
        const left = field(n, 'left');
        const right = field(n, 'right');
        if (right) flow.expr(right, s);
        if (left?.type === 'identifier' && opOf(n) === '=') bind(left.text, right, s);
        else {
          // Stored somewhere else (a kptr field, a struct): it is no longer ours to track.
          const id = right ? identOf(right) : undefined;
          if (id && s.refs.has(id)) release(s, s.refs.get(id)!);
          if (left) flow.expr(left, s);
        }
        return true;
      }
      if (ty(n) !== 'call_expression') return false;
      const callee = calleeName(n) ?? '';
      const args = callArgs(n);
      for (const a of args) flow.expr(a, s);
      if (
        s.locks.size &&
        callee &&
        !ALLOWED_UNDER_LOCK.test(callee) &&
        (helperByName(callee) || kfuncByName(callee) || globalFns.has(callee) || callee === 'bpf_printk')
      ) {
        const lock = [...s.locks.values()][0];
        if (!reported.has(n.startIndex)) {
          reported.add(n.startIndex);
          ctx.report({
            start: n.startIndex,
            end: n.endIndex,
            severity: 'error',
            message: `${callee}() is called while a bpf_spin_lock is held: the verifier rejects the program ("function calls are not allowed while holding a lock"). Unlock first, or copy what you need out of the locked region.`,
            related: [{ start: lock.startIndex, end: lock.endIndex, message: 'the lock taken here is still held' }],
          });
        }
      }
      if (callee === 'bpf_spin_lock' && args[0]) s.locks.set(norm(args[0].text), n);
      else if (callee === 'bpf_spin_unlock' && args[0]) s.locks.delete(norm(args[0].text));
      const aa = argAcquire(callee);
      if (aa && args[aa.index]) {
        s.released.delete(norm(args[aa.index].text));
        s.refs.set(norm(args[aa.index].text), { call: n, callee, releasers: aa.releasers });
        return true;
      }
      // A release, or the reference handed to a function we do not follow.
      const releases = !!kfuncByName(callee)?.releases || callee === 'bpf_kptr_xchg';
      // A function of the file or a header that releases one of its arguments on every path.
      const releasedArg = releasing.get(callee)?.index;
      if (kfuncByName(callee)?.releases && args[0]) {
        const arg = identOf(args[0]);
        if (arg && borrowed.has(arg) && !s.refs.has(arg) && !reported.has(n.startIndex)) {
          reported.add(n.startIndex);
          ctx.report({
            start: n.startIndex,
            end: n.endIndex,
            severity: 'error',
            message:
              `${callee}() releases a reference, but '${arg}' is the program's own argument, which it borrows and never acquired: ` +
              `the verifier rejects the program ("release kernel function ${callee} expects refcounted PTR_TO_BTF_ID"). ` +
              `Release only what an acquire (bpf_task_acquire(), bpf_task_from_pid(), ...) returned.`,
          });
        }
      }
      for (const [i, a] of args.entries()) {
        const key = identOf(a) ?? norm(a.text);
        const rel = s.released.get(key);
        if (rel && (helperByName(callee) || kfuncByName(callee) || releasedArg === i))
          useAfterRelease(
            n,
            key,
            rel,
            releases || releasedArg === i || !!acquireOf(rel.callee) || rel.callee === callee,
          );
        const ref = s.refs.get(key);
        if (!ref) continue;
        const byRelease = ref.releasers.includes(callee) || releases || releasedArg === i;
        // Handed to a function that only reads through it: still ours to release.
        // So does a compiler builtin (`__builtin_memset(e, 0, sizeof(*e))`): it writes bytes, it keeps nothing.
        const kept = readOnly.get(callee)?.[i] === true || BUILTIN.test(callee);
        if (byRelease || (!helperByName(callee) && !kfuncByName(callee) && !kept)) {
          if (byRelease) for (const [k, v] of s.refs) if (v === ref) s.released.set(k, { call: n, callee });
          release(s, ref);
        }
      }
      // An acquire whose result is thrown away can never be released.
      if (acquireOf(callee) && n.parent?.type === 'expression_statement') {
        leak({ call: n, callee, releasers: acquireOf(callee)! }, null);
      }
      return true;
    },
    assume(cond, s, truthy) {
      const c = stripParens(cond);
      let name: string | undefined;
      let isNull = false;
      if (ty(c) === 'identifier' || ty(c) === 'assignment_expression') {
        name = ty(c) === 'identifier' ? c.text : identOf(field(c, 'left'));
        isNull = !truthy;
      } else if (ty(c) === 'binary_expression') {
        const op = opOf(c);
        const l = field(c, 'left');
        const r = field(c, 'right');
        const other = isNullLiteral(r) ? l : isNullLiteral(l) ? r : null;
        if (!other || (op !== '==' && op !== '!=')) return;
        const o = stripParens(other);
        name = ty(o) === 'assignment_expression' ? identOf(field(o, 'left')) : identOf(o);
        isNull = (op === '==') === truthy;
      }
      // On the path where the pointer is NULL there is nothing to release.
      if (name && isNull && s.refs.has(name)) release(s, s.refs.get(name)!);
    },
    jump(node, s) {
      for (const [k, v] of s.refs) if (!v.via) s.refs.set(k, { ...v, via: node });
    },
    exit(node, s, value) {
      const returned = value ? identOf(value) : undefined;
      if (returned && s.refs.has(returned)) release(s, s.refs.get(returned)!);
      for (const [key, ref] of s.refs) leak(ref, ty(node) === 'return_statement' ? node : null, key);
      for (const lock of s.locks.values()) {
        if (reported.has(lock.startIndex)) continue;
        reported.add(lock.startIndex);
        ctx.report({
          start: lock.startIndex,
          end: lock.endIndex,
          severity: 'error',
          message: `bpf_spin_lock() without bpf_spin_unlock() on every path: the verifier rejects the program ("BPF_EXIT instruction ... cannot be used inside bpf_spin_lock-ed region"). Unlock before each return.`,
          related:
            ty(node) === 'return_statement'
              ? [{ start: node.startIndex, end: node.endIndex, message: 'the function exits here holding the lock' }]
              : undefined,
        });
      }
    },
  };
  new FlowWalker(domain).run(body, { refs: new Map(), locks: new Map(), released: new Map() });
}
