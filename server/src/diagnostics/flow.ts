/**
 * A small path-sensitive walk over one function body, shared by the rules that follow a value along
 * the control flow (null-check, packet-bounds, unreleased-reference).
 *
 * The walk is structural (on the tree, no CFG): statements in order, both branches of an `if` with
 * the state refined by the condition, loops walked once (their exit joins the entry and the body's
 * end), `return`/`break`/`continue`/`goto` end a path, forward `goto` states join at their label.
 * `&&`, `||` and `?:` refine the state of their right-hand side, as the verifier's branch tracking does.
 * A state of `null` means "no path reaches here".
 */
import type { Node } from 'web-tree-sitter';
import { field, kids, opOf, ty } from './fast-node';

export interface FlowDomain<S> {
  copy(s: S): S;
  /** The state where two paths meet. */
  join(a: S, b: S): S;
  /**
   * Visits an expression node before its children. Returns true when the domain handled the node
   * and its children itself (it may call `flow.expr()` on parts of it).
   */
  visit(node: Node, s: S, flow: FlowWalker<S>): boolean;
  /** A declaration's `name = value` (after `value` was evaluated). */
  declare?(name: string, nameNode: Node, value: Node | null, typeText: string, s: S, decl: Node): void;
  /** Refines `s` knowing that the (non-logical) condition `cond` is true or false. */
  assume(cond: Node, s: S, truthy: boolean): void;
  /** A path leaves the function (a `return`, or the end of the body). */
  exit?(node: Node, s: S, value: Node | null): void;
  /** A path jumps to a label (`goto`), before its state joins the label's: `s` may be changed. */
  jump?(node: Node, s: S): void;
  /**
   * False when a statement with this text cannot change or use the state (it names nothing the
   * domain tracks): the walk then skips it, which is most of the cost saved. Statements with a
   * `goto` are always walked.
   */
  relevant?(text: string, s: S): boolean;
}

const MAX_DEPTH = 200;

/** Walks one function body with a domain. Create one per function. */
export class FlowWalker<S> {
  private breaks: (S | null)[][] = [];
  private continues: (S | null)[][] = [];
  private gotos = new Map<string, S>();
  private depth = 0;

  constructor(private readonly d: FlowDomain<S>) {}

  /** Walks a function body from `entry`; calls `exit` for every way out. */
  run(body: Node, entry: S): void {
    const end = this.stmt(body, entry);
    if (end) this.d.exit?.(body, end, null);
  }

  private join(a: S | null, b: S | null): S | null {
    if (!a) return b;
    if (!b) return a;
    return this.d.join(a, b);
  }

  /** Walks a statement; returns the state after it, or null when no path falls through. */
  stmt(n: Node, s: S | null): S | null {
    if (!s) {
      // Unreachable code, unless it is a label some `goto` jumps to.
      if (ty(n) !== 'labeled_statement' && ty(n) !== 'compound_statement') return null;
    }
    if (++this.depth > MAX_DEPTH) {
      this.depth--;
      return s;
    }
    try {
      return this.stmtInner(n, s);
    } finally {
      this.depth--;
    }
  }

  private stmtInner(n: Node, s: S | null): S | null {
    const type = ty(n);
    if (
      s &&
      this.d.relevant &&
      type !== 'compound_statement' &&
      type !== 'labeled_statement' &&
      type !== 'return_statement' &&
      type !== 'break_statement' &&
      type !== 'continue_statement'
    ) {
      const text = n.text;
      if (!text.includes('goto') && !this.d.relevant(text, s)) return s;
    }
    switch (type) {
      case 'compound_statement': {
        let cur = s;
        for (const c of kids(n)) {
          if (!c || ty(c) === 'comment') continue;
          cur = this.stmt(c, cur);
        }
        return cur;
      }
      case 'declaration':
        return this.declaration(n, s!);
      case 'expression_statement': {
        const e = kids(n)[0];
        if (e) this.expr(e, s!);
        return s;
      }
      case 'if_statement': {
        const cond = field(n, 'condition');
        const { t, f } = cond ? this.cond(cond, s!) : { t: s, f: s };
        const cons = field(n, 'consequence');
        const alt = field(n, 'alternative');
        const afterT = cons ? this.stmt(cons, t) : t;
        const altBody = alt?.type === 'else_clause' ? kids(alt)[0] : alt;
        const afterF = altBody ? this.stmt(altBody, f) : f;
        return this.join(afterT, afterF);
      }
      case 'while_statement':
      case 'for_statement':
      case 'do_statement':
        return this.loop(n, s!);
      case 'switch_statement': {
        const cond = field(n, 'condition');
        if (cond) this.expr(cond, s!);
        const body = field(n, 'body');
        this.breaks.push([]);
        let fall: S | null = null;
        let hasDefault = false;
        for (const c of body?.namedChildren ?? []) {
          if (!c) continue;
          if (ty(c) === 'case_statement') {
            if (!field(c, 'value')) hasDefault = true;
            let cur = this.join(fall, this.d.copy(s!));
            for (const st of kids(c)) {
              if (!st || st === field(c, 'value') || ty(st) === 'comment') continue;
              if (st.startIndex < (field(c, 'value')?.endIndex ?? c.startIndex)) continue;
              cur = this.stmt(st, cur);
            }
            fall = cur;
          } else fall = this.stmt(c, fall);
        }
        const brk = this.breaks.pop()!;
        let out = fall;
        for (const b of brk) out = this.join(out, b);
        if (!hasDefault) out = this.join(out, s);
        return out;
      }
      case 'return_statement': {
        const v = kids(n)[0] ?? null;
        if (v && (!this.d.relevant || this.d.relevant(v.text, s!))) this.expr(v, s!);
        this.d.exit?.(n, s!, v);
        return null;
      }
      case 'break_statement':
        this.breaks[this.breaks.length - 1]?.push(s);
        return null;
      case 'continue_statement':
        this.continues[this.continues.length - 1]?.push(s);
        return null;
      case 'goto_statement': {
        const label = field(n, 'label')?.text;
        if (label && s) {
          this.d.jump?.(n, s);
          const prev = this.gotos.get(label);
          this.gotos.set(label, prev ? this.d.join(prev, this.d.copy(s)) : this.d.copy(s));
        }
        return null;
      }
      case 'labeled_statement': {
        const label = field(n, 'label')?.text;
        const g = label ? this.gotos.get(label) : undefined;
        const cur = this.join(s, g ?? null);
        const inner = kids(n).find((c) => c && ty(c) !== 'statement_identifier');
        return inner ? this.stmt(inner, cur) : cur;
      }
      case 'preproc_ifdef':
      case 'preproc_if':
      case 'preproc_else':
      case 'preproc_elif': {
        // Code under #if: walk the first branch only (the others are alternatives, not sequels).
        let cur = s;
        for (const c of kids(n)) {
          if (!c || ty(c).startsWith('preproc_el') || ty(c) === 'identifier' || c === field(n, 'condition')) continue;
          cur = this.stmt(c, cur);
        }
        return cur;
      }
      default:
        if (s && ty(n).endsWith('_expression')) this.expr(n, s);
        return s;
    }
  }

  private declaration(n: Node, s: S): S {
    const type = field(n, 'type')?.text ?? '';
    for (const d of n.childrenForFieldName('declarator')) {
      if (!d) continue;
      if (ty(d) === 'init_declarator') {
        const value = field(d, 'value');
        if (value) this.expr(value, s);
        const inner = field(d, 'declarator');
        const nameNode = innerName(inner);
        if (nameNode) this.d.declare?.(nameNode.text, nameNode, value, declType(type, inner), s, n);
      } else {
        const nameNode = innerName(d);
        if (nameNode) this.d.declare?.(nameNode.text, nameNode, null, declType(type, d), s, n);
      }
    }
    return s;
  }

  private loop(n: Node, s: S): S | null {
    const cond = field(n, 'condition');
    const body = field(n, 'body');
    this.breaks.push([]);
    this.continues.push([]);
    let exitState: S | null = null;
    if (ty(n) === 'for_statement') {
      const init = field(n, 'initializer');
      if (init) {
        if (ty(init) === 'declaration') this.declaration(init, s);
        else this.expr(init, s);
      }
    }
    let bodyIn: S | null = s;
    if (ty(n) !== 'do_statement' && cond) {
      const { t, f } = this.cond(cond, s);
      bodyIn = t;
      exitState = isConstTrue(cond) ? null : f;
    } else if (ty(n) === 'for_statement' && !cond) {
      exitState = null;
    }
    let end = body ? this.stmt(body, bodyIn ? this.d.copy(bodyIn) : null) : bodyIn;
    const conts = this.continues.pop()!;
    for (const c of conts) end = this.join(end, c);
    if (ty(n) === 'for_statement') {
      const upd = field(n, 'update');
      if (upd && end) this.expr(upd, end);
    }
    if (ty(n) === 'do_statement' && cond && end) {
      const { f } = this.cond(cond, end);
      exitState = isConstTrue(cond) ? null : f;
    } else if (ty(n) !== 'do_statement' && end && cond && !isConstTrue(cond)) {
      // The back edge: the loop may also exit after an iteration.
      const { f } = this.cond(cond, this.d.copy(end));
      exitState = this.join(exitState, f);
    }
    for (const b of this.breaks.pop()!) exitState = this.join(exitState, b);
    return exitState;
  }

  /** Evaluates a condition; returns the states where it is true and where it is false. */
  cond(n: Node, s: S): { t: S | null; f: S | null } {
    if (ty(n) === 'parenthesized_expression' && kids(n)[0]) return this.cond(kids(n)[0], s);
    // likely(x), unlikely(x), __builtin_expect(x, v): the condition is x.
    if (ty(n) === 'call_expression' && /^(likely|unlikely|__builtin_expect)\s*\(/.test(n.text)) {
      const arg = kids(field(n, 'arguments') ?? n).find((k) => ty(k) !== 'comment');
      if (arg && field(n, 'arguments')) return this.cond(arg, s);
    }
    if (ty(n) === 'unary_expression' && opOf(n) === '!') {
      const a = field(n, 'argument');
      if (a) {
        const r = this.cond(a, s);
        return { t: r.f, f: r.t };
      }
    }
    if (ty(n) === 'binary_expression') {
      const op = opOf(n);
      const l = field(n, 'left');
      const r = field(n, 'right');
      if (l && r && (op === '&&' || op === '||')) {
        const a = this.cond(l, s);
        if (op === '&&') {
          const b = a.t ? this.cond(r, a.t) : { t: null, f: null };
          return { t: b.t, f: this.join(a.f, b.f) };
        }
        const b = a.f ? this.cond(r, a.f) : { t: null, f: null };
        return { t: this.join(a.t, b.t), f: b.f };
      }
    }
    if (ty(n) === 'comma_expression') {
      const l = field(n, 'left');
      const r = field(n, 'right');
      if (l) this.expr(l, s);
      return r ? this.cond(r, s) : { t: s, f: s };
    }
    this.expr(n, s);
    const t = this.d.copy(s);
    const f = this.d.copy(s);
    this.d.assume(n, t, true);
    this.d.assume(n, f, false);
    if (isConstTrue(n)) return { t, f: null };
    if (ty(n) === 'number_literal' && /^0+[uUlL]*$/.test(n.text)) return { t: null, f };
    return { t, f };
  }

  /** Evaluates an expression (in place), short-circuit operators refining their right side. */
  expr(n: Node, s: S): void {
    if (++this.depth > MAX_DEPTH) {
      this.depth--;
      return;
    }
    try {
      this.exprInner(n, s);
    } finally {
      this.depth--;
    }
  }

  private exprInner(n: Node, s: S): void {
    if (ty(n) === 'binary_expression') {
      const op = opOf(n);
      if (op === '&&' || op === '||') {
        const { t, f } = this.cond(n, this.d.copy(s));
        const j = this.join(t, f);
        if (j) replaceState(this.d, s, j);
        return;
      }
    }
    if (ty(n) === 'conditional_expression') {
      const c = field(n, 'condition');
      const a = field(n, 'consequence');
      const b = field(n, 'alternative');
      if (c) {
        const { t, f } = this.cond(c, s);
        if (t && a) this.expr(a, t);
        if (f && b) this.expr(b, f);
        const j = this.join(t, f);
        if (j) replaceState(this.d, s, j);
        return;
      }
    }
    if (ty(n) === 'sizeof_expression' || ty(n) === 'alignof_expression' || ty(n) === 'comment') return;
    if (this.d.visit(n, s, this)) return;
    for (const c of kids(n)) if (c) this.expr(c, s);
  }
}

/** Copies `from` into `into` in place (states are mutable objects with the same shape). */
function replaceState<S>(d: FlowDomain<S>, into: S, from: S): void {
  if (into instanceof Map && from instanceof Map) {
    into.clear();
    for (const [k, v] of from) into.set(k, v);
    return;
  }
  Object.assign(into as object, d.copy(from));
}

function isConstTrue(n: Node): boolean {
  let c: Node | null = n;
  while (c && ty(c) === 'parenthesized_expression') c = kids(c)[0];
  if (!c) return false;
  if (ty(c) === 'true') return true;
  return ty(c) === 'number_literal' && !/^0+[uUlL]*$/.test(c.text);
}

function innerName(d: Node | null): Node | null {
  let cur = d;
  for (let g = 0; cur && g < 32; g++) {
    if (ty(cur) === 'identifier') return cur;
    cur = field(cur, 'declarator') ?? (ty(cur) === 'parenthesized_declarator' ? kids(cur)[0] : null);
  }
  return null;
}

/** `struct ethhdr *` for declarator `*eth` of type `struct ethhdr`. */
function declType(base: string, d: Node | null): string {
  let stars = '';
  let cur = d;
  for (let g = 0; cur && g < 32; g++) {
    if (ty(cur) === 'pointer_declarator') stars += '*';
    if (ty(cur) === 'array_declarator') stars += '[]';
    if (ty(cur) === 'identifier') break;
    cur = field(cur, 'declarator');
  }
  return stars ? `${base} ${stars}` : base;
}

const wordRes = new Map<string, RegExp>();
/** True when `text` contains one of `names` as a whole word (regexes cached by name list). */
export function mentions(text: string, names: Iterable<string>): boolean {
  let key = '';
  for (const n of names) key += (key ? '|' : '') + n.replace(/[^\w]/g, (c) => `\\${c}`);
  if (!key) return false;
  let re = wordRes.get(key);
  if (!re) {
    if (wordRes.size > 500) wordRes.clear();
    wordRes.set(key, (re = new RegExp(`(?<![\\w])(?:${key})(?![\\w])`)));
  }
  return re.test(text);
}

/** Strips parentheses and casts: `(void *)(long)ctx->data` -> `ctx->data`. */
export function stripCasts(n: Node): Node {
  let cur = n;
  for (let g = 0; g < 32; g++) {
    if (ty(cur) === 'parenthesized_expression' && kids(cur)[0]) cur = kids(cur)[0];
    else if (ty(cur) === 'cast_expression' && field(cur, 'value')) cur = field(cur, 'value')!;
    else break;
  }
  return cur;
}

/** Strips parentheses only. */
export function stripParens(n: Node): Node {
  let cur = n;
  while (ty(cur) === 'parenthesized_expression' && kids(cur)[0]) cur = kids(cur)[0];
  return cur;
}
