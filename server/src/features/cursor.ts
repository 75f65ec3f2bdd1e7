/**
 * What is around the cursor: the word, the call it is in, and the types of expressions, read from the
 * text (robust while the user is typing and the tree has errors) with the tree's help where it has it.
 */
import { fileURLToPath } from 'node:url';
import type { BpfDocument } from '../bpf-document';
import { documentHeaderPaths, type MemberInfo } from '../header-index';
import type { ServerContext } from '../server';

export interface WordAt {
  word: string;
  start: number;
  end: number;
}

/** The identifier that contains or ends at `offset`. */
export function wordAt(text: string, offset: number): WordAt | undefined {
  let s = offset;
  while (s > 0 && /\w/.test(text[s - 1])) s--;
  let e = offset;
  while (e < text.length && /\w/.test(text[e])) e++;
  if (s === e || /\d/.test(text[s])) return undefined;
  return { word: text.slice(s, e), start: s, end: e };
}

/** The call whose argument list contains `offset`: the callee's name and the argument index. */
export function callAt(
  text: string,
  offset: number,
): { name: string; nameStart: number; argIndex: number } | undefined {
  let depth = 0;
  let commas = 0;
  const limit = Math.max(0, offset - 4000);
  for (let k = offset - 1; k >= limit; k--) {
    const c = text[k];
    if (c === ')' || c === ']' || c === '}') depth++;
    else if (c === '(' || c === '[' || c === '{') {
      if (depth === 0) {
        if (c !== '(') return undefined;
        let e = k;
        while (e > 0 && /\s/.test(text[e - 1])) e--;
        let s = e;
        while (s > 0 && /\w/.test(text[s - 1])) s--;
        if (s === e) return undefined;
        return { name: text.slice(s, e), nameStart: s, argIndex: commas };
      }
      depth--;
    } else if (c === ',' && depth === 0) commas++;
    else if (c === ';' && depth === 0) return undefined;
  }
  return undefined;
}

const KEYWORDS = new Set(['return', 'if', 'while', 'for', 'else', 'sizeof', 'case', 'goto', 'do', 'switch']);

/**
 * The declared type of `name` as seen at `offset`: the last declaration before it in the enclosing
 * function (parameters and locals), else a global. Returns e.g. "struct task_struct *".
 */
export function declaredType(doc: BpfDocument, name: string, offset: number): string | undefined {
  const text = doc.text;
  const fn = doc.root?.descendantForIndex(Math.max(0, offset - 1));
  let fnStart = 0;
  for (let cur = fn ?? null; cur; cur = cur.parent) {
    if (cur.type === 'function_definition') {
      fnStart = cur.startIndex;
      break;
    }
  }
  const re = new RegExp(
    String.raw`(?<!\w)((?:(?:const|volatile|static|register|unsigned|signed)\s+)*(?:(?:struct|union|enum)\s+[A-Za-z_]\w*|[A-Za-z_]\w*))\s*((?:\*\s*(?:const\s*)?)*)\s*\b${name}\b\s*(\[[^\]]*\])?\s*[=;,)\[]`,
    'g',
  );
  const search = (from: number, to: number): string | undefined => {
    let found: string | undefined;
    re.lastIndex = from;
    const region = text.slice(0, to);
    let m: RegExpExecArray | null;
    while ((m = re.exec(region))) {
      const base = m[1].replace(/\b(static|register|const|volatile)\s+/g, '').trim();
      const last = base.split(/\s+/).pop() ?? '';
      if (!KEYWORDS.has(last) && last !== name) {
        const stars = m[2].replace(/[^*]/g, '');
        found = `${base}${stars ? ' ' + stars : ''}${m[3] ?? ''}`;
      }
      re.lastIndex = m.index + Math.max(1, m[0].length - 1);
    }
    return found;
  };
  return search(fnStart, offset) ?? (fnStart > 0 ? search(0, fnStart) : undefined);
}

/** `struct task_struct *` -> `task_struct`; `struct foo[4]` -> `foo`; scalars -> undefined. */
export function structNameOf(type: string): string | undefined {
  const m = /\b(?:struct|union)\s+([A-Za-z_]\w*)/.exec(type);
  if (m) return m[1];
  // A few typedefs that are structs in the uapi headers.
  const t = type.replace(/[*\s]|\[.*\]|const/g, '');
  return /^__sk_buff|xdp_md|pt_regs|bpf_\w+$/.test(t) ? t : undefined;
}

/** Resolves a struct's members: defined in the document, or in the headers it includes (vmlinux.h...). */
export function membersOf(ctx: ServerContext, doc: BpfDocument, structName: string): MemberInfo[] | undefined {
  const local = doc.structs.get(structName);
  if (local) return local.fields.map((f) => ({ name: f.name, type: f.type }));
  if (!doc.uri.startsWith('file:')) return ctx.headers.findStruct(structName, [])?.members;
  const file = fileURLToPath(doc.uri);
  const headers = documentHeaderPaths(ctx.headers, file, doc.includes, ctx.settings.includePaths);
  return ctx.headers.findStruct(structName, headers, ctx.settings.includePaths)?.members;
}

/**
 * The type of the expression that ends right before `end` (before a `->` or `.` the user typed):
 * `ctx`, `e->task`, `skb->cb[0]`. Undefined when it cannot be told from the text.
 */
export function expressionType(ctx: ServerContext, doc: BpfDocument, end: number): string | undefined {
  const head = doc.text.slice(Math.max(0, end - 400), end);
  const m = /([A-Za-z_]\w*)((?:\s*(?:->|\.)\s*[A-Za-z_]\w*|\s*\[[^\]]*\])*)\s*$/.exec(head);
  if (!m) return undefined;
  const base = m[1];
  let type = declaredType(doc, base, end - m[0].length + m[0].indexOf(base));
  if (!type) {
    const prog = doc.programAt(end);
    if (prog?.ctxParam?.name === base) type = prog.ctxParam.type;
  }
  if (!type) return undefined;
  const steps = m[2].match(/->\s*[A-Za-z_]\w*|\.\s*[A-Za-z_]\w*|\[[^\]]*\]/g) ?? [];
  for (const step of steps) {
    if (step.startsWith('[')) {
      type =
        type.replace(/\[[^\]]*\]$/, '') === type ? type.replace(/\*\s*$/, '').trim() : type.replace(/\[[^\]]*\]$/, '');
      continue;
    }
    const member = step.replace(/^(->|\.)\s*/, '');
    const sname = structNameOf(type);
    if (!sname) return undefined;
    const members = membersOf(ctx, doc, sname);
    const mi = members?.find((x) => x.name === member);
    if (!mi) return undefined;
    type = mi.type;
  }
  return type;
}
