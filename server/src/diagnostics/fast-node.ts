/**
 * Cheap tree accessors for the hot paths of the flow rules.
 *
 * Every web-tree-sitter accessor crosses into wasm, and `childForFieldName` also searches the field
 * table by name: a few microseconds each, which dominated the rules' time on big files. For the node
 * kinds the rules walk most (expressions, simple statements) the fields are in a fixed position
 * among the named children, and operators can be read from the source text; that is what these
 * helpers do, caching what they read on the node object. Anything else falls back to
 * `childForFieldName`.
 */
import type { Node } from 'web-tree-sitter';

interface Cached {
  __t?: string;
  __k?: Node[];
  __o?: string;
  __x?: string;
}

/** The node's type, read once. */
export function ty(n: Node): string {
  const c = n as Node & Cached;
  return (c.__t ??= n.type);
}

/** The node's text, read once. */
export function txt(n: Node): string {
  const c = n as Node & Cached;
  return (c.__x ??= n.text);
}

/** Named children without comments, read once. */
export function kids(n: Node): Node[] {
  const c = n as Node & Cached;
  if (!c.__k) {
    const all = n.namedChildren as Node[];
    c.__k = all.some((k) => ty(k) === 'comment') ? all.filter((k) => ty(k) !== 'comment') : all;
  }
  return c.__k;
}

/** Field positions among the named children, per node type. */
const POSITIONS: Record<string, Record<string, number>> = {
  binary_expression: { left: 0, right: 1 },
  assignment_expression: { left: 0, right: 1 },
  field_expression: { argument: 0, field: 1 },
  pointer_expression: { argument: 0 },
  unary_expression: { argument: 0 },
  update_expression: { argument: 0 },
  call_expression: { function: 0, arguments: 1 },
  cast_expression: { type: 0, value: 1 },
  subscript_expression: { argument: 0, index: 1 },
  init_declarator: { declarator: 0, value: 1 },
  while_statement: { condition: 0, body: 1 },
  do_statement: { body: 0, condition: 1 },
  pointer_declarator: { declarator: 0 },
};

/** The child in a field, fast for the kinds above. */
export function field(n: Node, name: string): Node | null {
  const t = ty(n);
  const pos = POSITIONS[t]?.[name];
  if (pos !== undefined) {
    const k = kids(n);
    // `a->b` with a comment, `(T)x` with attributes...: only trust the fast path on the usual shape.
    if ((t !== 'pointer_declarator' || k.length === 1) && k.length > pos) return k[pos];
  }
  if (t === 'if_statement') {
    const k = kids(n);
    if (name === 'condition') return k[0] ?? null;
    if (name === 'consequence') return k[1] ?? null;
    if (name === 'alternative') return k[2] && ty(k[2]) === 'else_clause' ? k[2] : null;
  }
  if (t === 'conditional_expression' && kids(n).length === 3) {
    const i = ['condition', 'consequence', 'alternative'].indexOf(name);
    if (i >= 0) return kids(n)[i];
  }
  return n.childForFieldName(name);
}

/** The operator of a binary, assignment, unary, pointer, update or field expression, from the text. */
export function opOf(n: Node): string {
  const c = n as Node & Cached;
  if (c.__o !== undefined) return c.__o;
  const t = ty(n);
  const k = kids(n);
  const text = txt(n);
  let o = '';
  if ((t === 'binary_expression' || t === 'assignment_expression' || t === 'field_expression') && k.length >= 2) {
    o = text.slice(k[0].endIndex - n.startIndex, k[1].startIndex - n.startIndex).trim();
  } else if ((t === 'unary_expression' || t === 'pointer_expression') && k.length >= 1) {
    o = text.slice(0, k[0].startIndex - n.startIndex).trim();
  } else if (t === 'update_expression') {
    o = text.includes('++') ? '++' : '--';
  } else {
    o = n.childForFieldName('operator')?.type ?? '';
  }
  // A comment between the operands: fall back to the tree.
  if (o.includes('/') && o !== '/' && o !== '/=') o = n.childForFieldName('operator')?.type ?? o;
  return (c.__o = o);
}
