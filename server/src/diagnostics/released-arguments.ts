/**
 * The interprocedural summary "releases its argument N": a static function of the file or of an
 * included header that surely gives back what one of its parameters holds (`bpf_ringbuf_submit(e, 0)`,
 * `bpf_sk_release(sk)`, a KF_RELEASE kfunc such as `bpf_task_release(t)`, or another function with this
 * summary), on every path through it: the release is a statement of the function's outermost block with
 * no `return` or `goto` before it. A caller that hands a reference to such a function has released it
 * (no leak), and using the reference after the call is a use after release.
 */
import type { Node } from 'web-tree-sitter';
import { field } from './fast-node';
import { helpers, kfuncs } from '../catalog/catalog';
import type { BpfDocument } from '../bpf-document';
import { documentHeaderDeclarations } from '../header-declarations';
import { functionKey, functionsByName, functionText, hash, memo } from './function-cache';
import { identOf } from './syntax';
import { syntaxIndex } from './syntax-index';

/** What a function releases: its parameter `index` (0-based, named `param`), with `via`() on every path. */
export interface ReleasedArgument {
  index: number;
  param: string;
  /** The release it makes (`bpf_ringbuf_submit`), or the summarised function it hands the parameter to. */
  via: string;
}

let releasers: Set<string> | undefined;
/** Helpers and kfuncs that release their first argument. */
function baseReleasers(): Set<string> {
  if (!releasers) {
    releasers = new Set<string>();
    for (const h of helpers()) for (const r of h.releasedBy ?? []) releasers.add(r);
    for (const k of kfuncs()) if (k.releases) releasers.add(k.name);
  }
  return releasers;
}

/** Calls made as statements of the body's outermost block before any return or goto: `[callee, first argument]`. */
export function unconditionalCalls(body: string): [string, string][] {
  const out: [string, string][] = [];
  const text = body.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (m) => ' '.repeat(m.length));
  let depth = 0;
  let stmtStart = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '{') {
      depth++;
      if (depth === 1) stmtStart = i + 1;
      continue;
    }
    if (ch === '}') {
      depth--;
      if (depth === 1) stmtStart = i + 1;
      continue;
    }
    // (`return` and `goto` start with r or g: the regex only where one could start, not at every character.)
    if (
      depth > 1 &&
      (ch === 'r' || ch === 'g') &&
      /^(return|goto)\b/.test(text.slice(i, i + 7)) &&
      !/\w/.test(text[i - 1] ?? ' ')
    )
      break;
    if (depth !== 1 || stmtStart < 0) continue;
    if (ch === ';') {
      const stmt = text.slice(stmtStart, i).trim();
      stmtStart = i + 1;
      if (/^(return|goto)\b/.test(stmt)) break;
      if (/\b(return|goto)\b/.test(stmt)) break;
      const m = /^(?:\(\s*void\s*\)\s*)?([A-Za-z_]\w*)\s*\(\s*(?:\([^()]*\)\s*)*&?\s*([A-Za-z_]\w*)\s*[,)]/.exec(stmt);
      if (m) out.push([m[1], m[2]]);
    }
  }
  return out;
}

/** A function as the summary reads it: its parameters and the unconditional calls of its body. */
interface FunctionCalls {
  name: string;
  params: string[];
  calls: [string, string][];
}

/** Summaries of the given functions, chains of them followed (a function handing its parameter to another). */
export function releasedArgumentsOf(functions: readonly FunctionCalls[]): Map<string, ReleasedArgument> {
  const out = new Map<string, ReleasedArgument>();
  for (let round = 0; round < 4; round++) {
    let changed = false;
    for (const f of functions) {
      if (out.has(f.name)) continue;
      for (const [callee, arg] of f.calls) {
        const index = f.params.indexOf(arg);
        if (index < 0) continue;
        const inner = out.get(callee);
        if (baseReleasers().has(callee) || (inner && inner.index === 0)) {
          out.set(f.name, { index, param: arg, via: callee });
          changed = true;
          break;
        }
      }
    }
    if (!changed) break;
  }
  return out;
}

const perDocument = new WeakMap<BpfDocument, Map<string, ReleasedArgument>>();

/** A function's parameters and the calls it makes unconditionally (read once per function text). */
export function releasedArgumentCalls(doc: BpfDocument, fn: Node): { params: string[]; calls: [string, string][] } {
  return memo(`released-args-calls\u0000${functionKey(doc, fn)}`, () => {
    const body = field(fn, 'body');
    const params = syntaxIndex(doc)
      .range('parameter_declaration', fn.startIndex, body?.startIndex ?? fn.endIndex)
      .map((p) => identOf(p.descendantsOfType('identifier').at(-1)) ?? '');
    const text = functionText(doc, fn);
    return { params, calls: unconditionalCalls(text.slice(text.indexOf('{'))) };
  });
}

/** The file's and its headers' functions that release an argument (the file's own win), once per document version. */
export function releasedArguments(doc: BpfDocument): Map<string, ReleasedArgument> {
  let out = perDocument.get(doc);
  if (out) return out;
  const own = functionsByName(doc);
  const fns: FunctionCalls[] = [];
  const keys: string[] = [];
  // The file's functions: read once per function text.
  for (const [name, fn] of own) {
    keys.push(functionKey(doc, fn));
    const f = releasedArgumentCalls(doc, fn);
    if (f.calls.length) fns.push({ name, ...f });
  }
  // The headers' functions (those the file does not define itself): read once per header contents.
  const headers = documentHeaderDeclarations(doc);
  const fromHeaders = memo(`released-args-headers\u0000${headers.key}`, () =>
    [...headers.functions.values()].map((h) => ({
      name: h.name,
      params: h.params,
      calls: unconditionalCalls(h.text.slice(h.text.indexOf('{'))),
    })),
  );
  for (const h of fromHeaders) if (!own.has(h.name) && h.calls.length) fns.push(h);
  out = fns.length
    ? memo(`released-args\u0000${hash(keys.join(',') + '|' + headers.key)}`, () => releasedArgumentsOf(fns))
    : new Map<string, ReleasedArgument>();
  perDocument.set(doc, out);
  return out;
}
