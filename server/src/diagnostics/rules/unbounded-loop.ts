/**
 * Rule 4: loops the verifier cannot prove to end. `while (1)` / `for (;;)` with no way out is
 * rejected ("infinite loop detected", or "BPF program is too large" once it has walked a million
 * instructions). A loop bounded by a value read at run time (from a map, the context or the packet)
 * with no clamp makes the verifier walk every possible iteration: a warning, since it depends on the
 * value's range. bpf_for / bpf_repeat / bpf_for_each (open-coded iterators), bpf_loop and
 * `#pragma unroll` loops are fine.
 */
import type { Node } from 'web-tree-sitter';
import type { Rule, RuleContext } from '../rule';
import { identOf } from '../syntax';
import { typeSizes } from '../type-sizes';
import { syntaxIndex, type SyntaxIndex } from '../syntax-index';
import { stripCasts, stripParens } from '../flow';
import { topLevelNodes } from '../function-cache';
import type { BpfDocument } from '../../bpf-document';

const LOOPS = ['while_statement', 'for_statement', 'do_statement'];

/** True when `body` can leave the loop: a break (of this loop), return or goto. */
function hasExit(body: Node, depth = 0): boolean {
  if (depth > 64) return true;
  for (const c of body.namedChildren) {
    if (!c) continue;
    if (c.type === 'return_statement' || c.type === 'goto_statement') return true;
    if (c.type === 'break_statement') return true;
    if (LOOPS.includes(c.type) || c.type === 'switch_statement') {
      // A break in there leaves the inner statement, not this loop; a return or goto still leaves.
      if (c.descendantsOfType(['return_statement', 'goto_statement']).length) return true;
      continue;
    }
    if (
      c.type === 'call_expression' &&
      /^(bpf_tail_call|__builtin_trap|bpf_throw)$/.test(c.childForFieldName('function')?.text ?? '')
    )
      return true;
    if (hasExit(c, depth + 1)) return true;
  }
  return false;
}

function isConstTrue(n: Node | null): boolean {
  if (!n) return true; // for (;;)
  const c = stripParens(n);
  return c.type === 'true' || (c.type === 'number_literal' && !/^0+[uUlL]*$/.test(c.text));
}

/** The expressions the loop condition compares its counter against. */
function bounds(cond: Node): { bound: Node; counter: Node }[] {
  const c = stripParens(cond);
  if (c.type !== 'binary_expression') return [];
  const op = c.childForFieldName('operator')?.type;
  const l = c.childForFieldName('left');
  const r = c.childForFieldName('right');
  if (!l || !r) return [];
  if (op === '&&') return [...bounds(l), ...bounds(r)];
  if (op === '<' || op === '<=' || op === '!=') return [{ counter: l, bound: r }];
  if (op === '>' || op === '>=') return [{ counter: r, bound: l }];
  return [];
}

export const unboundedLoopRule: Rule = {
  id: 'unbounded-loop',
  description: 'loops the verifier cannot prove to terminate',
  ownFunctionOnly: true,
  functionFilter: /\b(for|while|do)\b/,
  runFunction(ctx) {
    const { doc, fn } = ctx;
    const ix = syntaxIndex(doc);
    const loops = [...ix.in('while_statement', fn), ...ix.in('for_statement', fn), ...ix.in('do_statement', fn)];
    const macroLoops = new Set<number>();
    for (const m of doc.mask.loopMacros) if (m.start >= fn.startIndex && m.start < fn.endIndex) macroLoops.add(m.start);
    checkLoops(ctx, ix, loops, macroLoops);
  },
};

function checkLoops(ctx: RuleContext, ix: SyntaxIndex, loops: Node[], macroLoops: Set<number>): void {
  const { doc } = ctx;
  {
    for (const loop of loops) {
      if (macroLoops.has(loop.startIndex)) continue;
      if (pragmaUnroll(doc.text, loop.startIndex)) continue;
      const cond = loop.childForFieldName('condition');
      const body = loop.childForFieldName('body');
      if (!body) continue;
      const kw = loop.child(0)!;
      if (isConstTrue(cond) && (loop.type !== 'do_statement' || cond)) {
        if (!hasExit(body)) {
          ctx.report({
            start: kw.startIndex,
            end: (cond ?? kw).endIndex + (cond ? 0 : 0),
            severity: 'error',
            message: `This loop never ends: nothing in it breaks, returns or jumps out. The verifier rejects the program ("infinite loop detected" or "BPF program is too large"). Give it a constant bound, or use bpf_for(i, 0, N) / bpf_loop().`,
          });
        }
        continue;
      }
      if (cond && unchangedCondition(ctx, loop, cond, body, kw)) continue;
      if (cond && callCondition(ctx, cond, body, kw)) continue;
      if (cond) variableBound(ctx, ix, loop, cond, kw);
    }
  }
}

/** Calls in a loop condition that only read (their value changes only if what they read does). */
const READERS =
  /^(BPF_CORE_READ\w*|BPF_PROBE_READ\w*|bpf_core_read\w*|bpf_probe_read\w*|READ_ONCE|bpf_ntohs|bpf_ntohl|bpf_htons|bpf_htonl)$/;

/**
 * A loop whose condition reads only locals (and memory through them) that nothing in the loop changes,
 * with no way out: once in, it never leaves, and the verifier finds the same state again ("infinite
 * loop detected") or runs out of instructions. Reported (true) as an error.
 */
function unchangedCondition(ctx: RuleContext, loop: Node, cond: Node, body: Node, kw: Node): boolean {
  const fn = ancestorFunction(loop);
  if (!fn || hasExit(body)) return false;
  // Identifiers of the condition, without the field names of BPF_CORE_READ(t, pid) (arguments after the first).
  const ids = cond.descendantsOfType('identifier').filter((n): n is Node => {
    if (!n) return false;
    for (let up = n.parent, k = 0; up && k < 8; up = up.parent, k++) {
      if (up.type !== 'argument_list') continue;
      const callee = up.parent?.childForFieldName('function')?.text ?? '';
      return !/^BPF_(CORE|PROBE)_READ/.test(callee) || up.namedChildren[0]?.startIndex === n.startIndex;
    }
    return true;
  });
  // Calls other than plain readers (bpf_get_prandom_u32(), a function of the file) may change each time.
  for (const c of cond.descendantsOfType('call_expression')) {
    const callee = c?.childForFieldName('function');
    if (!callee || callee.type !== 'identifier' || !READERS.test(callee.text)) return false;
  }
  const callees = new Set(cond.descendantsOfType('call_expression').map((c) => c?.childForFieldName('function')?.text));
  const locals = new Set<string>();
  const fnBody = fn.childForFieldName('body');
  for (const d of fn.descendantsOfType(['declaration', 'parameter_declaration'])) {
    if (!d || (fnBody && d.startIndex > loop.startIndex && d.type === 'declaration')) continue;
    for (const id of d.descendantsOfType('identifier')) if (id) locals.add(id.text);
  }
  // The locals it reads (field names in BPF_CORE_READ(t, tgid) are not variables; globals are read as they are).
  const vars = [...new Set(ids.map((i) => i.text))].filter((n) => !callees.has(n) && locals.has(n));
  if (!vars.length) return false;
  // What the loop runs each time: its body and, for a `for`, its update.
  const parts = [body, loop.childForFieldName('update')].filter((n): n is Node => !!n);
  const changes = (v: string) =>
    parts.some((p) => {
      const re = new RegExp(`(?<![\\w.>])${v}\\b`);
      for (const a of p.descendantsOfType(['assignment_expression', 'update_expression'])) {
        const target = a && (a.childForFieldName('left') ?? a.childForFieldName('argument'));
        // `v = ...`, `v++`, `v->f = ...`, `v[i]++`: anything rooted at v.
        if (target && re.test(target.text) && new RegExp(`^[(*\\s]*${v}\\b`).test(target.text)) return true;
      }
      // `&v` handed anywhere, or v handed to a call (it may write through it).
      for (const c of p.descendantsOfType('call_expression'))
        if (c && re.test(c.childForFieldName('arguments')?.text ?? '')) return true;
      return new RegExp(`&\\s*${v}\\b`).test(p.text);
    });
  if (vars.some(changes)) return false;
  // Without a call (a helper: an effect clang must keep) clang may assume the loop ends and drop it.
  const sure = [cond, ...parts].some((p) => p.descendantsOfType('call_expression').length > 0);
  ctx.report({
    start: kw.startIndex,
    end: cond.endIndex,
    severity: sure ? 'error' : 'warning',
    message:
      `Nothing in this loop changes ${vars.map((v) => `'${v}'`).join(', ')}, which its condition depends on, and nothing in it breaks or ` +
      `returns: once it starts it never ends, and the verifier rejects the program ("infinite loop detected" or "BPF program ` +
      `is too large")${sure ? '' : ', unless clang assumes the loop ends and removes it (a loop with no calls may be), and the program silently skips it'}. ` +
      `Advance the variable in the loop (e.g. t = BPF_CORE_READ(t, real_parent)), and bound it: bpf_for(i, 0, N).`,
  });
  return true;
}

/**
 * `while (!climb_one(&c)) ;`: a loop whose condition is only a call's result (a function of the file or a
 * helper, not an open-coded iterator's _next()), with no way out of the body: nothing the verifier can
 * count, so it walks iteration after iteration ("BPF program is too large", "The sequence of 8193 jumps
 * is too complex", or "infinite loop detected"). A warning: the call might end it on a path the verifier
 * can follow. Reported (true) as handled.
 */
function callCondition(ctx: RuleContext, cond: Node, body: Node, kw: Node): boolean {
  let c = stripParens(cond);
  while (c.type === 'unary_expression' && c.childForFieldName('operator')?.type === '!') {
    const a = c.childForFieldName('argument');
    if (!a) return false;
    c = stripParens(a);
  }
  c = stripCasts(c);
  if (c.type !== 'call_expression') return false;
  const callee = c.childForFieldName('function')?.text ?? '';
  if (!/^\w+$/.test(callee) || /^bpf_iter_\w+_next$|^(can_loop|may_goto)$/.test(callee) || hasExit(body)) return false;
  ctx.report({
    start: kw.startIndex,
    end: cond.endIndex,
    severity: 'warning',
    message:
      `This loop runs until ${callee}() says stop, with no counter and no constant bound: the verifier cannot tell how many times, and walks ` +
      `iteration after iteration until it gives up ("BPF program is too large", "The sequence of 8193 jumps is too complex" or "infinite loop detected"). ` +
      `Bound it (for (i = 0; i < MAX && !${callee}(...); i++)), or call the step with bpf_loop(MAX, step, &ctx, 0) (the callback returns 1 to stop).`,
  });
  return true;
}

function ancestorFunction(n: Node): Node | null {
  for (let c: Node | null = n; c; c = c.parent) if (c.type === 'function_definition') return c;
  return null;
}

/** `#pragma unroll` or `#pragma clang loop unroll(...)` on the lines just before the loop. */
function pragmaUnroll(text: string, at: number): boolean {
  const before = text.slice(Math.max(0, at - 200), at);
  const lines = before
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const prev = lines[lines.length - 1] ?? '';
  const prev2 = lines[lines.length - 2] ?? '';
  return /#\s*pragma\s+(clang\s+loop\s+)?unroll/.test(prev) || /#\s*pragma\s+(clang\s+loop\s+)?unroll/.test(prev2);
}

function variableBound(ctx: RuleContext, ix: SyntaxIndex, loop: Node, cond: Node, kw: Node): void {
  const sizes = typeSizes(ctx.doc);
  const bs = bounds(cond);
  if (!bs.length) return;
  // One constant bound in the condition is enough (`i < n && i < MAX`).
  const isConst = (n: Node) => {
    const s = stripCasts(n);
    if (sizes.constValue(s.text) !== undefined) return true;
    if (s.type === 'sizeof_expression') return true;
    if (s.type === 'identifier' && /^[A-Z][A-Z0-9_]*$/.test(s.text)) return true; // a macro from a header
    return false;
  };
  if (bs.some((b) => isConst(b.bound) || isConst(b.counter))) return;
  const fn = loopFunction(loop);
  if (!fn) return;
  for (const { bound } of bs) {
    const b = stripCasts(bound);
    let source: Node | undefined;
    let name: string | undefined;
    if (
      b.type === 'field_expression' ||
      (b.type === 'pointer_expression' && b.childForFieldName('operator')?.type === '*')
    )
      source = b;
    else if (b.type === 'identifier') {
      name = b.text;
      source = runtimeSource(ix, fn, name, loop.startIndex);
      if (source && clamped(ix, fn, name, source.endIndex, loop.startIndex, isConst)) source = undefined;
      // A writable global (.data/.bss: user space or another program may set it at any time); a
      // `const volatile` one is frozen in .rodata, and the verifier knows its value.
      if (!source && !declaredIn(ix, fn, name) && !clamped(ix, fn, name, fn.startIndex, loop.startIndex, isConst))
        source = writableGlobal(ctx.doc, name);
    }
    if (!source) continue;
    ctx.report({
      start: kw.startIndex,
      end: cond.endIndex,
      severity: 'warning',
      message:
        `This loop is bounded by ${name ? `'${name}', read at run time (${source.text.slice(0, 40)})` : `'${source.text.slice(0, 40)}', a value read at run time`}, with no clamp: ` +
        `the verifier cannot bound it and may walk every possible iteration ("BPF program is too large" or "infinite loop detected"). ` +
        `Clamp it (if (n > MAX) n = MAX;), add a constant bound (i < n && i < MAX), or use bpf_for(i, 0, n) / bpf_loop().`,
    });
    return;
  }
}

/** True when `name` is a parameter or local of `fn` (declared before `fn`'s end). */
function declaredIn(ix: SyntaxIndex, fn: Node, name: string): boolean {
  for (const t of ['parameter_declaration', 'declaration'] as const)
    for (const d of ix.in(t, fn)) {
      const decls = t === 'declaration' ? d.childrenForFieldName('declarator') : [d.childForFieldName('declarator')];
      if (
        decls.some((x) => x && identOf(x.type === 'init_declarator' ? x.childForFieldName('declarator') : x) === name)
      )
        return true;
    }
  return false;
}

/** The top-level declaration of a global `name` that is not const (in .data or .bss). */
function writableGlobal(doc: BpfDocument, name: string): Node | undefined {
  for (const n of topLevelNodes(doc)) {
    if (n.type !== 'declaration' || /\bconst\b|\bextern\b|SEC\s*\(/.test(n.text)) continue;
    for (const d of n.childrenForFieldName('declarator')) {
      let t: Node | null = d && d.type === 'init_declarator' ? d.childForFieldName('declarator') : d;
      if (t && t.type === 'identifier' && t.text === name) return n;
      while (t && t.type === 'pointer_declarator') t = t.childForFieldName('declarator');
    }
  }
  return undefined;
}

function loopFunction(n: Node): Node | null {
  for (let p = n.parent; p; p = p.parent) if (p.type === 'function_definition') return p;
  return null;
}

/** Where a local gets a value read at run time (a field, a dereference, a probe read) before `before`. */
function runtimeSource(ix: SyntaxIndex, fn: Node, name: string, before: number): Node | undefined {
  let found: Node | undefined;
  let local = false;
  const nodes = (['init_declarator', 'assignment_expression', 'parameter_declaration', 'declaration'] as const)
    .flatMap((t) => ix.range(t, fn.startIndex, before))
    .sort((a, b) => a.startIndex - b.startIndex);
  for (const d of nodes) {
    if (d.type === 'declaration' || d.type === 'parameter_declaration') {
      const decls =
        d.type === 'declaration' ? d.childrenForFieldName('declarator') : [d.childForFieldName('declarator')];
      if (decls.some((x) => x && x.type !== 'init_declarator' && identOf(x) === name)) local = true;
      continue;
    }
    const target = d.type === 'init_declarator' ? d.childForFieldName('declarator') : d.childForFieldName('left');
    if (identOf(target) !== name) continue;
    local = true;
    const value = d.childForFieldName(d.type === 'init_declarator' ? 'value' : 'right');
    if (!value) continue;
    const v = stripCasts(value);
    const runtime =
      v.type === 'field_expression' ||
      (v.type === 'pointer_expression' && v.childForFieldName('operator')?.type === '*') ||
      v.type === 'subscript_expression' ||
      (v.type === 'call_expression' &&
        /^(BPF_CORE_READ\w*|bpf_core_read\w*|BPF_PROBE_READ\w*)$/.test(v.childForFieldName('function')?.text ?? ''));
    found = runtime ? value : undefined;
  }
  if (!local) return undefined;
  // Filled by bpf_probe_read*(&n, ...) counts too.
  if (!found) {
    for (const c of ix.range('call_expression', fn.startIndex, before)) {
      const f = c.childForFieldName('function')?.text ?? '';
      const first = c.childForFieldName('arguments')?.namedChildren[0];
      if (
        /^bpf_probe_read\w*$|^bpf_core_read\w*$/.test(f) &&
        first &&
        stripParens(first).text.replace(/\s/g, '') === `&${name}`
      )
        found = c;
    }
  }
  return found;
}

/** A clamp of `name` between its source and the loop: a comparison with a constant, a mask, min(). */
function clamped(
  ix: SyntaxIndex,
  fn: Node,
  name: string,
  from: number,
  to: number,
  isConst: (n: Node) => boolean,
): boolean {
  const text = fn.text.slice(from - fn.startIndex, to - fn.startIndex);
  const id = `\\b${name}\\b`;
  if (new RegExp(`${id}\\s*&=|${id}\\s*=\\s*[^;]*(&|\\?|\\bmin\\w*\\(|%)`).test(text)) return true;
  for (const c of [...ix.range('if_statement', from, to), ...ix.range('while_statement', from, to)]) {
    const cond = c.childForFieldName('condition');
    for (const b of cond ? [...bounds(cond), ...reversed(cond)] : []) {
      if ((identOf(b.counter) === name && isConst(b.bound)) || (identOf(b.bound) === name && isConst(b.counter)))
        return true;
    }
  }
  return false;
}

function reversed(cond: Node): { bound: Node; counter: Node }[] {
  const c = stripParens(cond);
  if (c.type !== 'binary_expression') return [];
  const l = c.childForFieldName('left');
  const r = c.childForFieldName('right');
  const op = c.childForFieldName('operator')?.type;
  if (!l || !r) return [];
  if (op === '||' || op === '&&') return [...reversed(l), ...reversed(r), ...bounds(l), ...bounds(r)];
  return [{ counter: r, bound: l }];
}
