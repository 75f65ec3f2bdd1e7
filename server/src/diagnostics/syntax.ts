/**
 * Small tree-sitter helpers shared by the rules: calls, identifiers, enclosing statements.
 */
import type { Node } from 'web-tree-sitter';
import { field, kids, ty } from './fast-node';
import type { BpfDocument } from '../bpf-document';
import { callFacts, functionsOf } from './function-cache';
import { syntaxIndex } from './syntax-index';

export interface CallSite {
  name: string;
  /** Offsets of the callee's name. */
  start: number;
  end: number;
}

/** Calls to named functions under `node` (not through pointers), in document order. */
export function calledFunctions(doc: BpfDocument, node: Node): CallSite[] {
  const fn = functionContaining(functionsOf(doc), node);
  if (!fn) return syntaxIndex(doc).callsIn(node);
  const base = fn.startIndex;
  return callFacts(doc, fn)
    .filter((c) => c.start + base >= node.startIndex && c.end + base <= node.endIndex)
    .map((c) => ({ name: c.name, start: c.start + base, end: c.end + base }));
}

/** The function (of `fns`, in document order) containing `node`: a binary search, not a scan per call. */
function functionContaining(fns: readonly Node[], node: Node): Node | undefined {
  let lo = 0;
  let hi = fns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = fns[mid];
    if (f.endIndex < node.startIndex) lo = mid + 1;
    else if (f.startIndex > node.startIndex) hi = mid - 1;
    else return node.endIndex <= f.endIndex ? f : undefined;
  }
  return undefined;
}

/** The nearest ancestor (or the node itself) of one of the given types. */
export function ancestorOfType(node: Node, ...types: string[]): Node | null {
  for (let cur: Node | null = node; cur; cur = cur.parent) if (types.includes(ty(cur))) return cur;
  return null;
}

/** The function definition that contains `node`. */
export function enclosingFunction(node: Node): Node | null {
  return ancestorOfType(node, 'function_definition');
}

/** The innermost statement that contains `node` and sits directly in a block (for inserting code after it). */
export function blockStatement(node: Node): Node | null {
  for (let cur: Node | null = node; cur?.parent; cur = cur.parent) {
    if (cur.parent.type === 'compound_statement') return cur;
    if (ty(cur) === 'function_definition') return null;
  }
  return null;
}

/** The whitespace that starts the line `offset` is on. */
export function indentAt(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let k = lineStart;
  while (k < text.length && (text[k] === ' ' || text[k] === '\t')) k++;
  return text.slice(lineStart, k);
}

/** One indentation step as the file writes it: a tab, or the smallest run of leading spaces. */
export function indentUnit(text: string): string {
  const m = /\n( +)\S/.exec(text);
  return text.includes('\n\t') || !m ? '\t' : m[1].length <= 8 ? m[1] : '    ';
}

/** Function definitions of the whole file, including those under #if. */
export function functionDefinitions(doc: BpfDocument): readonly Node[] {
  return functionsOf(doc);
}

/** The name a call calls, when it is a plain identifier. */
export function calleeName(call: Node): string | undefined {
  const fn = field(call, 'function');
  return fn?.type === 'identifier' ? fn.text : undefined;
}

/** The arguments of a call expression (named children of its argument list). */
export function callArgs(call: Node): Node[] {
  return (field(call, 'arguments')?.namedChildren ?? []).filter((c): c is Node => !!c && ty(c) !== 'comment');
}

/** Identifier text of `node` after stripping parentheses and casts, or undefined. */
export function identOf(node: Node | null | undefined): string | undefined {
  let cur = node ?? null;
  for (let g = 0; cur && g < 16; g++) {
    if (ty(cur) === 'identifier') return cur.text;
    if (ty(cur) === 'parenthesized_expression') cur = kids(cur)[0] ?? null;
    else if (ty(cur) === 'cast_expression') cur = field(cur, 'value');
    else return undefined;
  }
  return undefined;
}

/** True for `NULL`, `0`, `(void *)0`. */
export function isNullLiteral(node: Node | null | undefined): boolean {
  let cur = node ?? null;
  for (let g = 0; cur && g < 8; g++) {
    if (ty(cur) === 'null' || (ty(cur) === 'identifier' && cur.text === 'NULL')) return true;
    if (ty(cur) === 'number_literal') return /^0+[uUlL]*$/.test(cur.text);
    if (ty(cur) === 'parenthesized_expression') cur = kids(cur)[0] ?? null;
    else if (ty(cur) === 'cast_expression') cur = field(cur, 'value');
    else return false;
  }
  return false;
}

/**
 * The `return ...;` statement a quick fix inserts in `fn` to leave it safely: the "let it through"
 * code of the program type (XDP_PASS, TC_ACT_OK, 1 for cgroup hooks, SK_PASS...), 0 otherwise,
 * `return;` in a void function.
 */
export function safeReturn(doc: BpfDocument, fn: Node): string {
  const prog = doc.programs.find((p) => p.node.startIndex === fn.startIndex);
  const type = field(fn, 'type')?.text ?? 'int';
  const decl = field(fn, 'declarator');
  if (type === 'void' && decl?.type === 'function_declarator') return 'return;';
  const t = prog?.def?.programType;
  const key = prog?.def?.returnCodes;
  let code = '0';
  if (t === 'xdp') code = 'XDP_PASS';
  else if (t === 'sched_cls' || t === 'sched_act')
    code = /\bTC_ACT_OK\b/.test(doc.text) ? 'TC_ACT_OK' : '0 /* TC_ACT_OK */';
  else if (t === 'sk_skb' || t === 'sk_msg' || t === 'sk_reuseport' || t === 'sk_lookup') code = 'SK_PASS';
  else if (key?.startsWith('cgroup') || t === 'sock_ops') code = '1';
  else if (t === 'lwt_in' || t === 'lwt_out' || t === 'lwt_xmit' || t === 'lwt_seg6local') code = 'BPF_OK';
  return `return ${code};`;
}
