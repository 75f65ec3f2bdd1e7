/**
 * Rule 5: calls BPF cannot make. A BPF program can call helpers, kfuncs, its own functions and
 * compiler builtins, nothing else: there is no libc (printf, malloc, strlen...), memcpy/memset/memcmp
 * are only fine when clang can inline them (a constant size), recursion is rejected ("recursive call")
 * and there are no indirect calls through function pointers.
 */
import type { Node } from 'web-tree-sitter';
import { helperByName, kfuncByName, macroByName } from '../../catalog/catalog';
import type { BpfDocument } from '../../bpf-document';
import { documentHeaderDeclarations } from '../../header-declarations';
import type { Rule, RuleContext } from '../rule';
import { callArgs, identOf } from '../syntax';
import {
  callFacts,
  functionNameOf,
  functionsByName,
  functionsOf,
  memo,
  topLevelKey,
  topLevelNodes,
} from '../function-cache';
import { syntaxIndex, type SyntaxIndex } from '../syntax-index';
import { typeSizes } from '../type-sizes';
import { stripParens } from '../flow';

/**
 * Function-like macros the catalog's libbpf macros (server/data/macros.json, checked first) do not list: older
 * BPF_PROBE_READ spellings, the kernel's READ_ONCE/WRITE_ONCE, and the newest libbpf's loop helpers.
 */
const EXTRA_MACROS = new Set(
  (
    'BPF_PROBE_READ_INTO BPF_PROBE_READ_STR_INTO BPF_PROBE_READ_USER BPF_PROBE_READ_USER_INTO BPF_PROBE_READ_USER_STR_INTO ' +
    '__sink can_loop cond_break bpf_stream_printk READ_ONCE WRITE_ONCE'
  ).split(' '),
);

/** Static inline helpers of widespread BPF headers (libbpf-tools' maps.bpf.h, bits.bpf.h, compat.bpf.h, core_fixes.bpf.h). */
const COMMON_HEADER_FUNCTIONS = new Set([
  'bpf_map_lookup_or_try_init',
  'log2',
  'log2l',
  'reserve_buf',
  'submit_buf',
  'get_task_state',
  'set_task_state',
  'bpf_core_type_exists',
]);

/** libc and libm functions people reach for. */
const LIBC = new Set(
  (
    'printf fprintf sprintf snprintf vprintf puts putchar perror malloc calloc realloc free strlen strnlen strcpy strncpy strcat strncat ' +
    'strcmp strncmp strchr strrchr strstr strdup strtok strtol strtoul atoi atol exit abort assert sleep usleep nanosleep time clock_gettime ' +
    'gettimeofday rand srand random open close read write fopen fclose fread fwrite getpid gettid getenv qsort bsearch abs labs'
  ).split(' '),
);
const MEM = new Set([
  'memcpy',
  'memset',
  'memmove',
  'memcmp',
  '__builtin_memcpy',
  '__builtin_memset',
  '__builtin_memmove',
  '__builtin_memcmp',
  'bcmp',
  '__builtin_bcmp',
]);
const MATH =
  /^(sqrtf?|powf?|expf?|exp2|logf?|log2|log10|sin|cos|tan|a?sin|a?cos|a?tan2?|floorf?|ceilf?|fabsf?|roundf?|trunc|fmod|fmin|fmax|hypot|cbrt|l?lround)$/;

export const unsupportedCallRule: Rule = {
  id: 'unsupported-call',
  description: 'libc calls, non-constant memcpy/memset, recursion and calls through function pointers',
  ownFunctionOnly: true,
  // What the included headers declare (their names are known functions, not unknown ones).
  fileKey: (doc) => documentHeaderDeclarations(doc).key,
  runFunction(ctx) {
    const { doc, fn } = ctx;
    const root = doc.root;
    if (!root) return;
    const ix = syntaxIndex(doc);
    const declared = () => declaredNames(doc);
    const globals = () => globalNames(doc);
    const hasLocalHeaders =
      doc.includes.some((i) => !i.system && !/(^|\/)vmlinux\.h$/.test(i.path)) ||
      doc.includes.some((i) => i.system && !/^(bpf|linux|asm|uapi)\//.test(i.path) && !/vmlinux\.h$/.test(i.path));

    checkFunction(ctx, ix, fn, declared, globals, hasLocalHeaders);
  },
  run(ctx) {
    // Recursion, across the file's functions: from the calls' text (cached per function).
    const { doc } = ctx;
    const byName = functionsByName(doc);
    const graph = new Map<string, { calls: { name: string; start: number; end: number }[] }>();
    for (const fn of functionsOf(doc)) {
      const name = functionNameOf(doc, fn);
      const base = fn.startIndex;
      const calls = callFacts(doc, fn)
        .filter((c) => byName.has(c.name))
        .map((c) => ({ name: c.name, start: c.start + base, end: c.end + base }));
      if (name) graph.set(name, { calls });
    }
    recursion(ctx, graph);
  },
};

/** The calls of one function: unknown and libc functions, non-constant mem*, function pointers. */
function checkFunction(
  ctx: RuleContext,
  ix: SyntaxIndex,
  fn: Node,
  declared: () => ReadonlySet<string>,
  globals: () => ReadonlySet<string>,
  hasLocalHeaders: boolean,
): void {
  const { doc } = ctx;
  const sizes = typeSizes(doc);
  const isKnown = (name: string) =>
    !!helperByName(name) ||
    !!kfuncByName(name) ||
    !!macroByName(name) ||
    EXTRA_MACROS.has(name) ||
    COMMON_HEADER_FUNCTIONS.has(name) ||
    /^__(builtin|sync|atomic)_/.test(name) ||
    declared().has(name);
  for (const c of ix.callsIn(fn)) {
    if (MEM.has(c.name)) {
      checkCallee(ctx, c.node, c.node.childForFieldName('function')!, c.name, declared(), hasLocalHeaders, sizes);
      continue;
    }
    if (isKnown(c.name)) continue;
    const f = c.node.childForFieldName('function')!;
    if (isLocal(ix, fn, c.name)) {
      reportPointer(ctx, c.node, f);
      continue;
    }
    checkCallee(ctx, c.node, f, c.name, declared(), hasLocalHeaders, sizes);
  }
  for (const { node, fn: f } of ix.indirectCallsIn(fn)) {
    // `(s64)(a - b)` parses as a call of `(s64)`: a cast to a typedef, unless s64 is a variable.
    const inner = f.type === 'parenthesized_expression' ? f.namedChildren[0] : null;
    if (inner?.type === 'identifier' && !globals().has(inner.text) && !isLocal(ix, fn, inner.text)) continue;
    reportPointer(ctx, node, f);
  }
}

/** `name` is a parameter or local variable of `fn`. */
function isLocal(ix: SyntaxIndex, fn: Node, name: string): boolean {
  const re = new RegExp(`\\b${name}\\b`);
  for (const d of [...ix.in('parameter_declaration', fn), ...ix.in('declaration', fn)]) {
    if (!re.test(d.text)) continue;
    const decls = d.type === 'declaration' ? d.childrenForFieldName('declarator') : [d.childForFieldName('declarator')];
    for (const x of decls) {
      let cur = x;
      while (cur && cur.type !== 'identifier') {
        if (cur.type === 'function_declarator') {
          cur = null;
          break;
        }
        cur =
          cur.childForFieldName('declarator') ??
          (cur.type === 'parenthesized_declarator' ? cur.namedChildren[0] : null);
      }
      if (cur?.text === name) return true;
      // int (*fp)(int): a function declarator whose inner declarator is a parenthesized pointer.
      if (x && /\(\s*\*\s*\w+\s*\)/.test(x.text) && x.descendantsOfType('identifier')[0]?.text === name) return true;
    }
  }
  return false;
}

function reportPointer(ctx: RuleContext, call: Node, f: Node): void {
  ctx.report({
    start: f.startIndex,
    end: f.endIndex,
    severity: 'error',
    message: `A call through a function pointer (${f.text.slice(0, 40)}): BPF has no indirect calls: clang emits callx and the verifier rejects it ("unknown opcode 8d"), unless the optimizer happens to resolve the pointer. Call the function by name (a switch over the cases), or use bpf_tail_call() with a program array.`,
  });
}

function checkCallee(
  ctx: RuleContext,
  call: Node,
  f: Node,
  callee: string,
  declared: ReadonlySet<string>,
  hasLocalHeaders: boolean,
  sizes: ReturnType<typeof typeSizes>,
): void {
  if (MEM.has(callee)) {
    const sizeArg = callArgs(call)[2];
    if (!sizeArg) return;
    const s = stripParens(sizeArg);
    const constant = sizes.constValue(s.text) !== undefined || looksConstant(s.text);
    if (constant) return;
    ctx.report({
      start: f.startIndex,
      end: call.endIndex,
      severity: 'error',
      message: `${callee}() with a size known only at run time (${s.text.slice(0, 30)}): clang inlines ${callee.replace('__builtin_', '')} only for constant sizes; otherwise it emits a call BPF cannot make ("A call to built-in function '${callee.replace('__builtin_', '')}' is not supported"). Use a constant size, bpf_probe_read_kernel(), or a bounded loop.`,
    });
    return;
  }
  if (
    MEM.has(callee) ||
    declared.has(callee) ||
    helperByName(callee) ||
    kfuncByName(callee) ||
    macroByName(callee) ||
    EXTRA_MACROS.has(callee)
  )
    return;
  if (/^__(builtin|sync|atomic)_/.test(callee) || /^[A-Z][A-Z0-9_]*$/.test(callee) || MATH.test(callee)) return;
  if (LIBC.has(callee)) {
    ctx.report({
      start: f.startIndex,
      end: f.endIndex,
      severity: 'error',
      message: `${callee}() is a C library function: BPF programs have no libc: libbpf fails to open the object ("failed to find BTF for extern '${callee}'").${libcHint(callee)}`,
    });
    return;
  }
  ctx.report({
    start: f.startIndex,
    end: f.endIndex,
    severity: hasLocalHeaders ? 'information' : 'warning',
    message: `${callee}() is not a BPF helper, a kfunc, a libbpf macro, nor a function of this file${hasLocalHeaders ? ' (if it is a static inline function from an included header, all is well)' : ''}. BPF can only call those: an external function fails to load ("failed to find BTF for extern").`,
  });
}

/** sizeof, offsetof, numbers and UPPER_CASE macros combined with arithmetic: a compile-time constant. */
export function looksConstant(text: string): boolean {
  let t = text;
  for (let i = 0; i < 4; i++)
    t = t.replace(
      /\b(sizeof|offsetof|__builtin_offsetof|bpf_core_type_size|bpf_core_field_size)\s*\((?:[^()]|\([^()]*\))*\)/g,
      '0',
    );
  t = t.replace(/\b[A-Z][A-Z0-9_]*\b/g, '0').replace(/\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b/g, '0');
  return /^[\s0()+\-*/<>&|~]*$/.test(t);
}

function libcHint(name: string): string {
  if (/printf|puts|putchar|perror/.test(name))
    return ' Use bpf_printk() for debugging, or send events through a ring buffer.';
  if (/alloc|free/.test(name)) return ' Use a map (a per-CPU array as scratch space) or bpf_obj_new() for memory.';
  if (/^str/.test(name))
    return ' Use bpf_probe_read_kernel_str()/bpf_probe_read_user_str() to copy strings, and a bounded loop to scan them.';
  if (/time|clock/.test(name)) return ' Use bpf_ktime_get_ns().';
  if (/rand/.test(name)) return ' Use bpf_get_prandom_u32().';
  if (/getpid|gettid/.test(name)) return ' Use bpf_get_current_pid_tgid().';
  return '';
}

/** Calls that close a cycle among the file's functions (direct or mutual recursion). */
function recursion(
  ctx: RuleContext,
  graph: Map<string, { calls: { name: string; start: number; end: number }[] }>,
): void {
  // Tarjan's strongly connected components.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const comp = new Map<string, number>();
  let compId = 0;
  const strong = (v: string, depth: number) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const c of graph.get(v)!.calls) {
      if (!graph.has(c.name)) continue;
      if (!idx.has(c.name)) {
        if (depth < 500) strong(c.name, depth + 1);
        low.set(v, Math.min(low.get(v)!, low.get(c.name) ?? Infinity));
      } else if (on.has(c.name)) low.set(v, Math.min(low.get(v)!, idx.get(c.name)!));
    }
    if (low.get(v) === idx.get(v)) {
      let w: string | undefined;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.set(w, compId);
      } while (w !== v);
      compId++;
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v, 0);
  for (const [name, { calls }] of graph) {
    for (const c of calls) {
      if (!graph.has(c.name) || comp.get(c.name) !== comp.get(name)) continue;
      const direct = c.name === name;
      ctx.report({
        start: c.start,
        end: c.end,
        severity: 'error',
        message: `${direct ? 'Recursion' : 'Mutual recursion'}: ${name}() calls ${c.name}()${direct ? ' itself' : ', which leads back to it'}. BPF rejects recursive calls (clang cannot inline them; the verifier says "recursive call from ..." or "the call stack of N frames is too deep"). Rewrite it as a bounded loop.`,
      });
    }
  }
}

/**
 * Names the file declares: definitions, prototypes (extern ... __ksym kfuncs, static inline), macros, and
 * the functions, macros and prototypes of the headers it includes (maps.bpf.h, core_fixes.bpf.h,
 * libbpf's). All top-level: read once per top level and headers (an edit inside a body keeps it), when a
 * function with a call to check is analysed.
 */
function declaredNames(doc: BpfDocument): ReadonlySet<string> {
  return memo(`unsupported-call-declared\u0000${topLevelKey(doc)}\u0000${documentHeaderDeclarations(doc).key}`, () => {
    const out = new Set<string>(functionsByName(doc).keys());
    const hdr = documentHeaderDeclarations(doc);
    for (const n of hdr.functions.keys()) out.add(n);
    for (const n of hdr.macros.keys()) out.add(n);
    for (const n of hdr.prototypes) out.add(n);
    for (const n of topLevelNodes(doc)) {
      const t = n.type;
      if (t === 'preproc_def' || t === 'preproc_function_def') {
        const name = n.childForFieldName('name')?.text;
        if (name) out.add(name);
      } else if (t === 'declaration' && n.text.includes('(')) {
        for (const d of n.descendantsOfType('function_declarator')) {
          const name = identOf(d?.childForFieldName('declarator'));
          if (name) out.add(name);
        }
        // static long (*const fn)(...) = (void *)BPF_FUNC_x (or the number): a helper by its number, as
        // samples/bpf and programs without libbpf's headers declare them; clang folds it into a helper call.
        for (const x of n.childrenForFieldName('declarator')) {
          const v = x?.type === 'init_declarator' ? x.childForFieldName('value') : null;
          if (!v || !/^\(\s*void\s*\*\s*\)\s*(BPF_FUNC_\w+|\d+)$/.test(v.text)) continue;
          const name = x!.childForFieldName('declarator')?.descendantsOfType('identifier')[0]?.text;
          if (name) out.add(name);
        }
      }
    }
    return out;
  });
}

/** File-scope variables (a function pointer could be one), once per top level. */
function globalNames(doc: BpfDocument): ReadonlySet<string> {
  return memo(`unsupported-call-globals\u0000${topLevelKey(doc)}`, () => {
    const out = new Set<string>();
    for (const d of doc.root?.namedChildren ?? []) {
      if (d?.type !== 'declaration') continue;
      for (const x of d.childrenForFieldName('declarator')) {
        const id = x?.descendantsOfType('identifier')[0]?.text;
        if (id) out.add(id);
      }
    }
    return out;
  });
}
