/**
 * One BPF C document as the server understands it: the text, its masked form, the tree-sitter tree,
 * and the BPF structure read off both (programs with their SEC(), maps, license, functions, structs).
 * Built once per document version and shared by every rule and feature.
 */
import type { Node, Tree } from 'web-tree-sitter';
import { maskBpfSource, remaskBpfSource, type MapFieldMark, type MaskResult, type SecMark } from './bpf-masking';
import { sectionFor, type SectionDef } from './catalog/catalog';
import { commonPrefix, commonSuffix, type CParser } from './parser';

export interface Position {
  line: number;
  character: number;
}
export interface Range {
  start: Position;
  end: Position;
}

/** A BPF program: a function with a `SEC()` annotation. */
export interface BpfProgram {
  name: string;
  section: string;
  sec: SecMark;
  /** The matching libbpf section definition, when the name is known. */
  def: SectionDef | undefined;
  node: Node;
  body: Node | null;
  nameNode: Node | null;
  /** The first parameter: the program's context. */
  ctxParam: { name: string; type: string; node: Node } | undefined;
}

/** A map defined in the `.maps` section (BTF-style, with `__uint`/`__type`). */
export interface BpfMap {
  name: string;
  node: Node;
  nameNode: Node | null;
  sec: SecMark;
  fields: Map<string, MapFieldMark>;
  type: string | undefined;
  keyType: string | undefined;
  valueType: string | undefined;
  maxEntries: string | undefined;
}

export interface StructInfo {
  name: string;
  node: Node;
  fields: { name: string; type: string; node: Node }[];
}

export interface IncludeInfo {
  path: string;
  system: boolean;
  node: Node;
}

export class BpfDocument {
  readonly mask: MaskResult;
  readonly tree: Tree | null;
  /**
   * [start, end) of each function definition, flattened, once known (the analysis records them): the
   * next version re-masks only the function an edit falls in.
   */
  functionSpans: number[] | undefined;
  private lineStarts: number[] | undefined;
  private structure: Structure | undefined;
  private top: Node[] | undefined;
  private includeList: IncludeInfo[] | undefined;
  private mapList: BpfMap[] | undefined;
  private structMap: Map<string, StructInfo> | undefined;
  /** The edit from the previous version (until the analysis takes it: see function-cache.ts). */
  private change: DocumentChange | undefined;

  constructor(
    readonly uri: string,
    readonly version: number,
    readonly text: string,
    parser: CParser,
    previous?: BpfDocument,
  ) {
    if (previous) {
      this.change = { previous, ...textChange(previous.text, text) };
      // Only one version back: the previous one forgets its own predecessor.
      previous.change = undefined;
    }
    this.mask = previous
      ? remaskBpfSource(text, previous.text, previous.mask, previous.functionSpans, this.change)
      : maskBpfSource(text);
    this.tree = parser.parse(
      this.mask.masked,
      previous?.tree ? { tree: previous.tree, text: previous.mask.masked } : undefined,
    );
  }

  /**
   * The previous version and the smallest single edit from its text to this one ([start, oldEnd) of the
   * old text became [start, newEnd) of the new), once: the caller takes it over.
   */
  takeChange(): DocumentChange | undefined {
    const c = this.change;
    this.change = undefined;
    return c;
  }

  /** Frees the tree (tree-sitter memory lives in the wasm heap, not the JS heap). */
  dispose(): void {
    this.tree?.delete();
  }

  get root(): Node | null {
    return this.tree?.rootNode ?? null;
  }

  get programs(): BpfProgram[] {
    return this.struct().programs;
  }
  /** The maps (read without building the rest of the structure: rules ask for them when they run). */
  get maps(): BpfMap[] {
    if (this.structure) return this.structure.maps;
    this.mapList ??= readMaps(this);
    return this.mapList;
  }
  get license(): { value: string; node: Node; sec: SecMark } | undefined {
    return this.struct().license;
  }
  get functions(): Map<string, Node> {
    return this.struct().functions;
  }
  /** The structs the file defines (read without building the rest of the structure: rules ask for them). */
  get structs(): Map<string, StructInfo> {
    if (this.structure) return this.structure.structs;
    this.structMap ??= readStructs(this);
    return this.structMap;
  }
  /** The `#include` directives (read without building the rest of the structure: rules ask for it on every edit). */
  get includes(): IncludeInfo[] {
    if (this.structure) return this.structure.includes;
    this.includeList ??= this.topLevel().flatMap((n) => includeOf(n) ?? []);
    return this.includeList;
  }

  /** Top-level nodes (through #if/#ifdef, comments left out), in document order; read once per version. */
  topLevel(): Node[] {
    const root = this.root;
    this.top ??= root ? topLevelNodes(root) : [];
    return this.top;
  }
  /** SEC() annotations that belong to neither a function, a map nor a global. */
  get strayDeclarationsWithSec(): { sec: SecMark; node: Node }[] {
    return this.struct().others;
  }

  /** The program whose function contains `offset`. */
  programAt(offset: number): BpfProgram | undefined {
    return this.programs.find((p) => p.node.startIndex <= offset && offset <= p.node.endIndex);
  }

  /** The program reached from a function: itself, or the programs that call it (one level). */
  programsForFunction(fn: Node): BpfProgram[] {
    const own = this.programs.find((p) => p.node.startIndex === fn.startIndex);
    if (own) return [own];
    const name = functionName(fn);
    if (!name) return [];
    return this.programs.filter((p) => p.body && containsCall(p.body, name));
  }

  positionAt(offset: number): Position {
    const starts = this.lines();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - starts[lo] };
  }

  offsetAt(pos: Position): number {
    const starts = this.lines();
    if (pos.line >= starts.length) return this.text.length;
    const lineEnd = pos.line + 1 < starts.length ? starts[pos.line + 1] : this.text.length;
    return Math.min(starts[Math.max(0, pos.line)] + Math.max(0, pos.character), lineEnd);
  }

  rangeOf(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(end) };
  }

  nodeRange(node: Node): Range {
    return this.rangeOf(node.startIndex, node.endIndex);
  }

  get lineCount(): number {
    return this.lines().length;
  }

  private lines(): number[] {
    if (!this.lineStarts) {
      const starts = [0];
      const t = this.text;
      for (let k = t.indexOf('\n'); k >= 0; k = t.indexOf('\n', k + 1)) starts.push(k + 1);
      this.lineStarts = starts;
    }
    return this.lineStarts;
  }

  private struct(): Structure {
    if (!this.structure) {
      this.structure = readStructure(this);
      // One set of map and struct objects per version, whichever was read first.
      if (this.mapList) this.structure.maps = this.mapList;
      if (this.structMap) this.structure.structs = this.structMap;
    }
    return this.structure;
  }
}

export interface DocumentChange {
  previous: BpfDocument;
  start: number;
  oldEnd: number;
  newEnd: number;
}

/** The smallest single edit turning `a` into `b` (common prefix and suffix left out). */
export function textChange(a: string, b: string): { start: number; oldEnd: number; newEnd: number } {
  const start = commonPrefix(a, b);
  const tail = commonSuffix(a, b, start);
  return { start, oldEnd: a.length - tail, newEnd: b.length - tail };
}

interface Structure {
  programs: BpfProgram[];
  maps: BpfMap[];
  license: { value: string; node: Node; sec: SecMark } | undefined;
  functions: Map<string, Node>;
  structs: Map<string, StructInfo>;
  includes: IncludeInfo[];
  others: { sec: SecMark; node: Node }[];
}

function readStructure(doc: BpfDocument): Structure {
  const s: Structure = {
    programs: [],
    maps: [],
    license: undefined,
    functions: new Map(),
    structs: new Map(),
    includes: [],
    others: [],
  };
  if (!doc.root) return s;
  const top = doc.topLevel();
  const secOf = secOwners(doc, top);
  for (const node of top) {
    const sec = secOf.get(node.startIndex);
    switch (node.type) {
      case 'function_definition': {
        const name = functionName(node);
        if (name) s.functions.set(name, node);
        if (sec) {
          const ctx = firstParam(node);
          s.programs.push({
            name: name ?? '(anonymous)',
            section: sec.name,
            sec,
            def: sectionFor(sec.name),
            node,
            body: node.childForFieldName('body'),
            nameNode: functionNameNode(node),
            ctxParam: ctx,
          });
        }
        break;
      }
      case 'declaration': {
        collectStructs(node, s.structs);
        if (!sec) break;
        const declarator = node.childForFieldName('declarator');
        const nameNode = declaratorName(declarator);
        const name = nameNode?.text ?? '';
        if (sec.name === '.maps') {
          s.maps.push(mapOf(doc, node, sec, name, nameNode));
        } else if (sec.name === 'license') {
          const lit = node.descendantsOfType('string_literal')[0];
          const value = lit ? lit.text.slice(1, -1) : '';
          s.license = { value, node, sec };
        } else if (declarator?.type === 'function_declarator') {
          // A prototype with SEC(): unusual, but a program nonetheless (defined elsewhere).
          s.others.push({ sec, node });
        } else {
          s.others.push({ sec, node });
        }
        break;
      }
      case 'struct_specifier':
      case 'type_definition':
        collectStructs(node, s.structs);
        if (sec) s.others.push({ sec, node });
        break;
      case 'preproc_include': {
        const inc = includeOf(node);
        if (inc) s.includes.push(inc);
        break;
      }
      default:
        if (sec) s.others.push({ sec, node });
    }
  }
  return s;
}

/**
 * The SEC() of each top-level node, by the node's start: a SEC() belongs to the top-level node that
 * contains it (`struct {...} m SEC(".maps");`) or else to the next one (`SEC("xdp")` on the line before
 * `int prog(...)`).
 */
function secOwners(doc: BpfDocument, top: Node[]): Map<number, SecMark> {
  const secOf = new Map<number, SecMark>();
  let k = 0;
  for (const sec of doc.mask.secs) {
    while (k < top.length && top[k].endIndex <= sec.start) k++;
    const node = top[k];
    if (node && !secOf.has(node.startIndex)) secOf.set(node.startIndex, sec);
  }
  return secOf;
}

/** The structs alone, as readStructure collects them (declarations, struct specifiers, typedefs, in order). */
function readStructs(doc: BpfDocument): Map<string, StructInfo> {
  const structs = new Map<string, StructInfo>();
  if (!doc.root) return structs;
  for (const node of doc.topLevel()) {
    const t = node.type;
    if (t === 'declaration' || t === 'struct_specifier' || t === 'type_definition') collectStructs(node, structs);
  }
  return structs;
}

/** The maps alone, as readStructure finds them: declarations whose SEC() is ".maps". */
function readMaps(doc: BpfDocument): BpfMap[] {
  const maps: BpfMap[] = [];
  if (!doc.root) return maps;
  const top = doc.topLevel();
  const secOf = secOwners(doc, top);
  for (const node of top) {
    const sec = secOf.get(node.startIndex);
    if (!sec || sec.name !== '.maps' || node.type !== 'declaration') continue;
    const nameNode = declaratorName(node.childForFieldName('declarator'));
    maps.push(mapOf(doc, node, sec, nameNode?.text ?? '', nameNode));
  }
  return maps;
}

/** A map from its declaration, with the `__uint`/`__type` fields masked inside it. */
function mapOf(doc: BpfDocument, node: Node, sec: SecMark, name: string, nameNode: Node | null): BpfMap {
  const fields = new Map<string, MapFieldMark>();
  // Map fields are in document order: find the first inside this declaration, then walk.
  const marks = doc.mask.mapFields;
  for (let k = firstAtOrAfter(marks, node.startIndex); k < marks.length && marks[k].start < node.endIndex; k++) {
    const f = marks[k];
    if (f.end <= node.endIndex && !fields.has(f.field)) fields.set(f.field, f);
  }
  return {
    name,
    node,
    nameNode,
    sec,
    fields,
    type: fields.get('type')?.value,
    keyType: fields.get('key')?.value,
    valueType: fields.get('value')?.value,
    maxEntries: fields.get('max_entries')?.value,
  };
}

/** Index of the first mark starting at or after `offset` (marks sorted by start). */
function firstAtOrAfter(marks: readonly { start: number }[], offset: number): number {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid].start < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Top-level nodes, looking through preprocessor conditionals (`#ifdef ... #endif`). */
function includeOf(node: Node): IncludeInfo | undefined {
  if (node.type !== 'preproc_include') return undefined;
  const p = node.childForFieldName('path');
  if (!p) return undefined;
  return { path: p.text.slice(1, -1), system: p.type === 'system_lib_string', node };
}

function topLevelNodes(root: Node): Node[] {
  const out: Node[] = [];
  const visit = (n: Node, depth: number) => {
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (
        depth < 8 &&
        (c.type === 'preproc_ifdef' ||
          c.type === 'preproc_if' ||
          c.type === 'preproc_else' ||
          c.type === 'preproc_elif')
      ) {
        visit(c, depth + 1);
      } else if (c.type !== 'comment') out.push(c); // `SEC("xdp") // parser` must reach the function
    }
  };
  visit(root, 0);
  return out;
}

function collectStructs(node: Node, into: Map<string, StructInfo>): void {
  // Most declarations define no struct: skip the tree walk unless the text has a body.
  if (node.type !== 'struct_specifier' && !/\b(struct|union)\b[^;]*\{/.test(node.text)) return;
  for (const spec of node.type === 'struct_specifier' ? [node] : node.descendantsOfType('struct_specifier')) {
    if (!spec) continue;
    const nameNode = spec.childForFieldName('name');
    const body = spec.childForFieldName('body');
    if (!nameNode || !body) continue;
    const fields: StructInfo['fields'] = [];
    for (const f of body.namedChildren) {
      if (!f || f.type !== 'field_declaration') continue;
      const type = f.childForFieldName('type')?.text ?? '';
      for (const d of f.childrenForFieldName('declarator')) {
        const dn = declaratorName(d);
        if (dn) fields.push({ name: dn.text, type: declaratorType(type, d), node: f });
      }
    }
    into.set(nameNode.text, { name: nameNode.text, node: spec, fields });
  }
}

/** The C type of a declarator: `struct event *` for `*e` declared with type `struct event`. */
export function declaratorType(base: string, d: Node | null): string {
  let stars = '';
  let arr = '';
  let cur = d;
  while (cur) {
    if (cur.type === 'pointer_declarator') stars += '*';
    else if (cur.type === 'array_declarator') arr += `[${cur.childForFieldName('size')?.text ?? ''}]`;
    else if (cur.type === 'identifier' || cur.type === 'field_identifier') break;
    cur = cur.childForFieldName('declarator');
  }
  return `${base}${stars ? ' ' + stars : ''}${arr}`;
}

/** The identifier a declarator declares (through pointers, arrays, init and function declarators). */
export function declaratorName(d: Node | null): Node | null {
  let cur = d;
  for (let guard = 0; cur && guard < 64; guard++) {
    if (cur.type === 'identifier' || cur.type === 'field_identifier' || cur.type === 'type_identifier') return cur;
    const next = cur.childForFieldName('declarator');
    if (!next) {
      if (cur.type === 'parenthesized_declarator') {
        cur = cur.namedChildren[0] ?? null;
        continue;
      }
      return null;
    }
    cur = next;
  }
  return null;
}

export function functionNameNode(fn: Node): Node | null {
  let d = fn.childForFieldName('declarator');
  for (let guard = 0; d && guard < 16; guard++) {
    if (d.type === 'function_declarator') return declaratorName(d.childForFieldName('declarator'));
    d = d.childForFieldName('declarator');
  }
  return null;
}

export function functionName(fn: Node): string | undefined {
  const n = functionNameNode(fn);
  if (!n) return undefined;
  // BPF_PROG(name, ...), BPF_KPROBE(name, ...): the program's name is the first macro argument.
  if (/^BPF_(PROG2?|KPROBE|KRETPROBE|KSYSCALL|KPROBE_SYSCALL|UPROBE|URETPROBE|USDT)$/.test(n.text)) {
    const params = n.parent?.childForFieldName('parameters');
    const first = params?.namedChildren[0];
    if (first) return first.text;
  }
  return n.text;
}

/** The first parameter of a function definition, with its type text. */
export function firstParam(fn: Node): BpfProgram['ctxParam'] {
  let d = fn.childForFieldName('declarator');
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  const params = d?.childForFieldName('parameters');
  const first = params?.namedChildren.find((c) => c?.type === 'parameter_declaration');
  if (!first) return undefined;
  const type = first.childForFieldName('type')?.text ?? '';
  const decl = first.childForFieldName('declarator');
  const name = declaratorName(decl)?.text ?? '';
  return { name, type: declaratorType(type, decl), node: first };
}

function containsCall(body: Node, name: string): boolean {
  for (const call of body.descendantsOfType('call_expression')) {
    if (call?.childForFieldName('function')?.text === name) return true;
  }
  return false;
}
