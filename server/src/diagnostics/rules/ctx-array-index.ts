/**
 * A constant index past an array of the program's context: `ctx->args[6]` of
 * `struct trace_event_raw_sys_enter` (6 elements), `ctx->args[4]` of `bpf_raw_tracepoint_args`... The
 * access lands past the field, on another field or past the context: the verifier rejects it
 * ("invalid bpf_context access"), and with vmlinux.h's preserve_access_index types libbpf's CO-RE
 * relocation of the out-of-range element fails first ("failed to perform CO-RE relocations"). The
 * array's length comes from the context struct's definition (the file, its headers, vmlinux.h);
 * without one the rule says nothing.
 */
import type { Node } from 'web-tree-sitter';
import { documentHeaderDeclarations, sharedHeaderDeclarations } from '../../header-declarations';
import { field, opOf, ty } from '../fast-node';
import { stripParens } from '../flow';
import type { Rule } from '../rule';
import { identOf } from '../syntax';
import { structLayouts } from '../struct-layouts';
import { syntaxIndex } from '../syntax-index';

export const ctxArrayIndexRule: Rule = {
  id: 'ctx-array-index',
  description: "a constant index past an array of the program's context (ctx->args[6])",
  ownFunctionOnly: true,
  functionFilter: /->\s*\w+\s*\[/,
  fileKey: (doc) => documentHeaderDeclarations(doc).key,
  runFunction({ doc, fn, programs, report }) {
    const prog = programs.find((p) => p.node.startIndex === fn.startIndex);
    const ctx = prog?.ctxParam;
    const struct = ctx ? /^struct\s+(\w+)\s*\*$/.exec(ctx.type.trim())?.[1] : undefined;
    if (!ctx || !struct) return;
    const layouts = structLayouts(doc);
    const memberType = (f: string): string | undefined => {
      const local = doc.structs.get(struct)?.fields.find((x) => x.name === f);
      if (local) return local.type;
      const files = documentHeaderDeclarations(doc).files;
      const def = files.length
        ? sharedHeaderDeclarations.headers.findStruct(struct, files, [], files.length)
        : undefined;
      return def?.members.find((m) => m.name === f)?.type;
    };
    for (const sub of syntaxIndex(doc).in('subscript_expression', fn)) {
      if (!sub) continue;
      const arr = stripParens(field(sub, 'argument') ?? sub);
      if (ty(arr) !== 'field_expression' || opOf(arr) !== '->' || identOf(field(arr, 'argument')) !== ctx.name)
        continue;
      const f = field(arr, 'field')?.text;
      const index = field(sub, 'index');
      const type = f ? memberType(f) : undefined;
      const dims = type ? /\[([^\]]+)\]$/.exec(type.trim()) : null;
      const len = dims ? layouts.constValue(dims[1]) : undefined;
      const k = index ? layouts.constValue(index.text) : undefined;
      if (len === undefined || len <= 0 || k === undefined || (k >= 0 && k < len)) continue;
      report({
        start: (index as Node).startIndex,
        end: (index as Node).endIndex,
        severity: 'error',
        message:
          `${f}[] of struct ${struct} has ${len} element${len === 1 ? '' : 's'} (0 to ${len - 1}), and ${k} is past it: the access ` +
          `lands outside the field, and the program is rejected ("invalid bpf_context access", or libbpf's "failed to perform ` +
          `CO-RE relocations" with vmlinux.h's types).`,
      });
    }
  },
};
