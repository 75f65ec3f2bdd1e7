/**
 * Small tree-sitter helpers shared by the rules: calls, identifiers, enclosing statements.
 */
import type { Node } from 'web-tree-sitter';

export interface CallSite {
  name: string;
  node: Node;
  /** Offsets of the callee's name. */
  start: number;
  end: number;
}

/** Calls to named functions under `node` (not through pointers), in document order. */
export function calledFunctions(node: Node): CallSite[] {
  const out: CallSite[] = [];
  for (const call of node.descendantsOfType('call_expression')) {
    const fn = call?.childForFieldName('function');
    if (call && fn?.type === 'identifier') out.push({ name: fn.text, node: call, start: fn.startIndex, end: fn.endIndex });
  }
  return out;
}

/** The nearest ancestor (or the node itself) of one of the given types. */
export function ancestorOfType(node: Node, ...types: string[]): Node | null {
  for (let cur: Node | null = node; cur; cur = cur.parent) if (types.includes(cur.type)) return cur;
  return null;
}

/** The function definition that contains `node`. */
export function enclosingFunction(node: Node): Node | null {
  return ancestorOfType(node, 'function_definition');
}
