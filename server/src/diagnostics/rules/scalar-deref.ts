/**
 * A pointer read with BPF_CORE_READ(), bpf_probe_read*() or bpf_get_current_task(), or a pointer
 * argument of a BPF_KPROBE()/BPF_KRETPROBE()/BPF_UPROBE()/BPF_KSYSCALL() program (read from pt_regs),
 * is a plain number to the verifier (a scalar): dereferencing it (`p->field`, `*p`, `p[i]`) is rejected ("R1 invalid mem
 * access 'scalar'"). Read through it with BPF_CORE_READ() / bpf_probe_read_kernel() instead, or use a
 * BTF pointer (bpf_get_current_task_btf(), a tp_btf/fentry argument).
 *
 * A pointer cast from such a scalar (`struct tcp_sock *tp = (struct tcp_sock *)sk;`) is one too. So is
 * a pointer parameter of a static function that only kprobe/tracepoint/raw_tp/perf_event programs
 * call, in a file with no source of BTF pointers (bpf_get_current_task_btf(), bpf_core_cast(),
 * bpf_skc_to_*(), kfuncs), when the parameter's type is a kernel struct larger than the 512-byte
 * stack (struct sock, tcp_sock, task_struct): it can be neither a stack copy nor a BTF pointer.
 */
import type { Node } from 'web-tree-sitter';
import { field, kids, opOf, ty } from '../fast-node';
import { stripCasts } from '../flow';
import type { Rule, RuleDiagnostic } from '../rule';
import { callArgs, calleeName, identOf } from '../syntax';
import type { BpfDocument } from '../../bpf-document';
import { structLayouts } from '../struct-layouts';
import { syntaxIndex } from '../syntax-index';

/** Calls whose value is a scalar even when it is a pointer in C. */
const SCALAR_SOURCES =
  /^(BPF_CORE_READ|BPF_CORE_READ_USER|BPF_PROBE_READ|BPF_PROBE_READ_USER|bpf_get_current_task|bpf_core_read_user|PT_REGS_PARM[1-8](_CORE)?(_SYSCALL)?|PT_REGS_RC(_CORE)?)$/;
/** Helpers that write a value read from kernel or user memory into their first argument. */
const READ_INTO = /^(bpf_probe_read|bpf_probe_read_kernel|bpf_probe_read_user|bpf_core_read|bpf_core_read_user)$/;

/** What gives a tracing program a real (BTF) pointer to a kernel object. */
const BTF_POINTER_SOURCES =
  /\b(bpf_get_current_task_btf|bpf_core_cast|bpf_rdonly_cast|bpf_skc_to_\w+|bpf_sock_from_file|bpf_task_from_\w+|bpf_task_acquire|bpf_cgroup_\w+|bpf_this_cpu_ptr|bpf_per_cpu_ptr|bpf_iter_\w+_next|__ksym)\b/;
/**
 * Kernel objects larger than the 512-byte BPF stack on any recent kernel (6.18: sock 776 bytes, tcp_sock
 * 2,368, task_struct 9,792): a pointer to one is never to a stack copy.
 */
const BIG_KERNEL_STRUCTS = new Set([
  'sock',
  'inet_sock',
  'inet_connection_sock',
  'tcp_sock',
  'udp_sock',
  'unix_sock',
  'task_struct',
  'mm_struct',
  'net_device',
  'super_block',
  'net',
]);
const btfSources = new WeakMap<BpfDocument, boolean>();
/** Whether the file has a source of BTF pointers (a scan of its whole text: once per document version). */
function hasBtfPointerSources(doc: BpfDocument): boolean {
  let v = btfSources.get(doc);
  if (v === undefined) btfSources.set(doc, (v = BTF_POINTER_SOURCES.test(doc.text)));
  return v;
}
/** Program types whose context gives no BTF pointers. */
const NON_BTF_TRACING = new Set(['kprobe', 'tracepoint', 'raw_tracepoint', 'perf_event']);

interface Source {
  node: Node;
  how: string;
}

/**
 * A reader of pointers stored in map values: for `*v` or `v->f` where v is a map value (a lookup's
 * result) and the stored value or member f is a pointer (not a __kptr), a description of it; the
 * verifier loads plain bytes from a map value, a scalar however it is typed in C.
 */
function mapStoredPointer(doc: BpfDocument, body: Node): (e: Node) => string | undefined {
  const values = new Map<string, { map: string; type: string }>();
  const maps = new Map(doc.maps.map((m) => [m.name, m]));
  const mapOf = (call: Node) => {
    const callee = calleeName(call);
    if (!callee || (callee.startsWith('bpf_') && !/^bpf_map_lookup(_percpu)?_elem$/.test(callee))) return undefined;
    for (const a of callArgs(call)) {
      const d = stripCasts(a);
      const id = ty(d) === 'pointer_expression' && opOf(d) === '&' ? identOf(field(d, 'argument')) : undefined;
      const m = id ? maps.get(id) : undefined;
      if (m?.valueType && /^BPF_MAP_TYPE_(LRU_)?(PERCPU_)?(HASH|ARRAY)$/.test(m.type?.trim() ?? ''))
        return { map: m.name, type: m.valueType.replace(/\s+/g, ' ').trim() };
    }
    return undefined;
  };
  for (const n of syntaxIndex(doc).inAny(['init_declarator', 'assignment_expression'], body)) {
    if (!n) continue;
    const target = ty(n) === 'init_declarator' ? field(n, 'declarator') : field(n, 'left');
    let t = target;
    while (t && ty(t) === 'pointer_declarator') t = field(t, 'declarator');
    const name = identOf(t);
    const v = field(n, ty(n) === 'init_declarator' ? 'value' : 'right');
    const c = v ? stripCasts(v) : null;
    const m = c && ty(c) === 'call_expression' ? mapOf(c) : undefined;
    if (name && m) values.set(name, m);
  }
  if (!values.size) return () => undefined;
  const member = (struct: string, f: string): string | undefined => {
    const local = doc.structs.get(struct)?.fields.find((x) => x.name === f);
    if (local) return /kptr/.test(local.node.text) ? undefined : local.type;
    return structLayouts(doc)
      .struct(struct)
      ?.members.find((x) => x.name === f)?.type;
  };
  return (e) => {
    const v = stripCasts(e);
    if (ty(v) === 'pointer_expression' && opOf(v) === '*') {
      const m = values.get(identOf(field(v, 'argument')) ?? '');
      return m && /\*$/.test(m.type) ? `a map value of ${m.map} (a pointer stored in a map)` : undefined;
    }
    if (ty(v) === 'field_expression' && opOf(v) === '->') {
      const m = values.get(identOf(field(v, 'argument')) ?? '');
      const s = m ? /^struct (\w+)$/.exec(m.type)?.[1] : undefined;
      const f = field(v, 'field')?.text;
      const t = s && f ? member(s, f) : undefined;
      return t && /\*\s*$/.test(t.trim()) ? `${v.text} (a pointer stored in the map value of ${m!.map})` : undefined;
    }
    return undefined;
  };
}

export const scalarDerefRule: Rule = {
  id: 'scalar-deref',
  description: 'a pointer read with BPF_CORE_READ / bpf_probe_read (a scalar) dereferenced directly',
  ownFunctionOnly: true,
  fileKey: (doc) => (hasBtfPointerSources(doc) ? 'btf' : ''),
  functionFilter:
    /\bstatic\b|\b(BPF_CORE_READ|BPF_PROBE_READ|bpf_get_current_task|bpf_probe_read|bpf_core_read|BPF_K(RET)?PROBE|BPF_U(RET)?PROBE|BPF_KSYSCALL|BPF_KPROBE_SYSCALL|BPF_PROG|PT_REGS_(PARM|RC))\w*\s*\(|\b\w*lookup\w*\s*\(|->\s*args\s*\[/,
  runFunction({ doc, fn, report, programs }) {
    const body = field(fn, 'body');
    if (!body) return;
    // A static function called only by programs whose contexts give no BTF pointers, in a file with
    // no other source of them.
    const scalarParams =
      programs.length > 0 &&
      !programs.some((q) => q.node.startIndex === fn.startIndex) &&
      programs.every((q) => q.def && NON_BTF_TRACING.has(q.def.programType)) &&
      /^\s*static\b/.test(doc.text.slice(fn.startIndex, body.startIndex)) &&
      !hasBtfPointerSources(doc);
    // BPF_PROG() matters only in a raw_tp program: other BPF_PROG() functions with none of the other
    // sources have nothing to look at.
    if (
      !scalarParams &&
      !/\b(BPF_CORE_READ|BPF_PROBE_READ|bpf_get_current_task|bpf_probe_read|bpf_core_read|BPF_K(RET)?PROBE|BPF_U(RET)?PROBE|BPF_KSYSCALL|BPF_KPROBE_SYSCALL|PT_REGS_(PARM|RC))\w*\s*\(|\b\w*lookup\w*\s*\(|->\s*args\s*\[/.test(
        doc.text.slice(fn.startIndex, fn.endIndex),
      ) &&
      !programs.some((q) => q.node.startIndex === fn.startIndex && /^raw_(tp|tracepoint)(\.w)?\//.test(q.section))
    )
      return;
    // The context parameter of a raw tracepoint program (`struct bpf_raw_tracepoint_args *ctx`).
    const ix = syntaxIndex(doc);
    const rawArgs = /\bstruct\s+bpf_raw_tracepoint_args\s*\*\s*(\w+)/.exec(
      doc.text.slice(fn.startIndex, body.startIndex),
    )?.[1];
    // Every assignment to each local pointer: only variables whose every value is a scalar are tracked.
    const sources = new Map<string, Source>();
    const other = new Set<string>();
    // Only functions that look values up in maps can read a pointer stored in one.
    const stored = /lookup\w*\s*\(/.test(body.text) ? mapStoredPointer(doc, body) : undefined;
    const note = (name: string | undefined, value: Node | null, whole: Node) => {
      if (!name) return;
      const v = value ? stripCasts(value) : null;
      const callee = v && ty(v) === 'call_expression' ? calleeName(v) : undefined;
      const fromMap = v && stored ? stored(v) : undefined;
      // `ctx->args[1]` of a raw tracepoint (struct bpf_raw_tracepoint_args *ctx): a u64.
      const rawArg =
        v && rawArgs && ty(v) === 'subscript_expression' && new RegExp(`^${rawArgs}\\s*->\\s*args\\s*\\[`).test(v.text)
          ? `${v.text} (a u64 argument of the raw tracepoint)`
          : undefined;
      if (rawArg) {
        if (!sources.has(name)) sources.set(name, { node: whole, how: rawArg });
      } else if (callee && SCALAR_SOURCES.test(callee)) {
        if (!sources.has(name)) sources.set(name, { node: whole, how: `${callee}()` });
      } else if (fromMap) {
        if (!sources.has(name)) sources.set(name, { node: whole, how: fromMap });
      } else if (v && ty(v) === 'identifier' && v.text !== name && sources.has(v.text) && !other.has(v.text)) {
        // `struct tcp_sock *tp = (struct tcp_sock *)sk;`: a copy of a scalar is one.
        if (!sources.has(name))
          sources.set(name, { node: whole, how: `${sources.get(v.text)!.how}, through '${v.text}'` });
      } else other.add(name);
    };
    const pointerVars = new Set<string>();
    // BPF_KPROBE(name, struct sock *sk): the arguments are read from pt_regs, numbers to the verifier.
    const head = doc.text.slice(fn.startIndex, body.startIndex);
    let macro = /\b(BPF_K(?:RET)?PROBE|BPF_U(?:RET)?PROBE|BPF_KSYSCALL|BPF_KPROBE_SYSCALL)\s*\(/.exec(head)?.[1];
    // BPF_PROG() in a raw_tp program: the raw tracepoint's arguments are u64 values, not BTF pointers
    // (only tp_btf/fentry give typed pointers), so `rq->cmd_flags` dereferences a number.
    if (
      !macro &&
      /\bBPF_PROG\s*\(/.test(head) &&
      programs.length === 1 &&
      programs[0].node.startIndex === fn.startIndex &&
      /^raw_(tp|tracepoint)(\.w)?\//.test(programs[0].section)
    )
      macro = 'BPF_PROG() in a raw_tp program';
    if (macro) {
      let d: Node | null = field(fn, 'declarator');
      while (d && ty(d) !== 'function_declarator') d = field(d, 'declarator');
      for (const p of d?.childForFieldName('parameters')?.namedChildren ?? []) {
        const pd = p && ty(p) === 'parameter_declaration' ? field(p, 'declarator') : null;
        const name = pd && ty(pd) === 'pointer_declarator' ? identOf(field(pd, 'declarator')) : undefined;
        if (!p || !name) continue;
        pointerVars.add(name);
        sources.set(name, {
          node: p,
          how: macro.startsWith('BPF_PROG') ? `${macro} (a u64 argument)` : `${macro}() (a register value)`,
        });
      }
    }
    if (scalarParams) {
      const callers = [...new Set(programs.map((q) => q.section.replace(/\/.*$/, '')))].join('/');
      let d: Node | null = field(fn, 'declarator');
      while (d && ty(d) !== 'function_declarator') d = field(d, 'declarator');
      for (const p of d?.childForFieldName('parameters')?.namedChildren ?? []) {
        const pd = p && ty(p) === 'parameter_declaration' ? field(p, 'declarator') : null;
        const name = pd && ty(pd) === 'pointer_declarator' ? identOf(field(pd, 'declarator')) : undefined;
        const struct = p ? /^struct\s+(\w+)$/.exec(field(p, 'type')?.text.trim() ?? '')?.[1] : undefined;
        if (!p || !name || !struct || field(pd!, 'declarator')?.type !== 'identifier' || doc.structs.has(struct))
          continue;
        if (!BIG_KERNEL_STRUCTS.has(struct)) continue;
        pointerVars.add(name);
        sources.set(name, {
          node: p,
          how: `a parameter of a static function only ${callers} programs call (a value they read from registers or memory, never a BTF pointer; a struct ${struct} is too big to be a stack copy)`,
        });
      }
    }
    for (const d of ix.in('declaration', body)) {
      if (!d) continue;
      for (const decl of kids(d)) {
        if (ty(decl) !== 'init_declarator' && ty(decl) !== 'pointer_declarator') continue;
        const target = ty(decl) === 'init_declarator' ? field(decl, 'declarator') : decl;
        if (!target || ty(target) !== 'pointer_declarator') continue;
        const name = identOf(field(target, 'declarator'));
        if (!name) continue;
        pointerVars.add(name);
        if (ty(decl) === 'init_declarator') note(name, field(decl, 'value'), decl);
      }
    }
    // `ap->fname[0]`, `*ap->fname`, `ap->sk->x`: a pointer stored in a map value read through at once.
    for (const n of stored ? ix.inAny(['field_expression', 'subscript_expression', 'pointer_expression'], body) : []) {
      if (
        !n ||
        (ty(n) === 'field_expression' && opOf(n) !== '->') ||
        (ty(n) === 'pointer_expression' && opOf(n) !== '*')
      )
        continue;
      const arg = field(n, 'argument');
      const how = arg && stored ? stored(stripCasts(arg)) : undefined;
      if (!how || (n.parent && ty(n.parent) === 'pointer_expression' && opOf(n.parent) === '&')) continue;
      report({
        start: n.startIndex,
        end: n.endIndex,
        severity: 'error',
        message:
          `'${arg!.text}' is ${how.replace(/^.*?\(/, '').replace(/\)$/, '')}: the verifier loads it as a number (a scalar), not a pointer, ` +
          `and '${n.text}' reads through it: the verifier rejects the program ("invalid mem access 'scalar'"). Read through it with ` +
          `bpf_probe_read_kernel() / bpf_probe_read_user_str() (or store a __kptr).`,
      });
    }
    // `((struct task_struct *)bpf_get_current_task())->tgid`, `BPF_CORE_READ(t, real_parent)->pid`:
    // the call's value read through at once.
    if (/\)\s*->/.test(doc.text.slice(body.startIndex, body.endIndex))) {
      for (const f of ix.in('field_expression', body)) {
        if (!f || opOf(f) !== '->') continue;
        const arg = field(f, 'argument');
        const c = arg ? stripCasts(arg) : null;
        const callee = c && ty(c) === 'call_expression' ? calleeName(c) : undefined;
        if (!callee || !SCALAR_SOURCES.test(callee)) continue;
        let up = f.parent;
        while (up && (ty(up) === 'parenthesized_expression' || (ty(up) === 'field_expression' && opOf(up) === '.')))
          up = up.parent;
        if (up && ty(up) === 'pointer_expression' && opOf(up).startsWith('&')) continue;
        report({
          start: f.startIndex,
          end: f.endIndex,
          severity: 'error',
          message:
            `${callee}() gives a number (a scalar) to the verifier, not a pointer, and '${f.text}' reads through it: ` +
            `the verifier rejects the program ("invalid mem access 'scalar'"). Read the field with BPF_CORE_READ()` +
            (callee === 'bpf_get_current_task' ? ', or use bpf_get_current_task_btf() (a BTF pointer).' : '.'),
        });
      }
    }
    if (!pointerVars.size) return;
    for (const a of ix.in('assignment_expression', body)) {
      if (!a) continue;
      const name = identOf(field(a, 'left'));
      if (!name || !pointerVars.has(name)) continue;
      if (opOf(a) === '=') note(name, field(a, 'right'), a);
      else other.add(name);
    }
    for (const c of ix.in('call_expression', body)) {
      if (!c) continue;
      const callee = calleeName(c);
      if (callee && READ_INTO.test(callee)) {
        const dst = callArgs(c)[0];
        const d = dst && stripCasts(dst);
        if (d && ty(d) === 'pointer_expression' && opOf(d).startsWith('&')) {
          const name = identOf(field(d, 'argument'));
          if (name && pointerVars.has(name) && !sources.has(name)) sources.set(name, { node: c, how: `${callee}()` });
        }
      } else {
        // Its address handed to anything else: something else may write a real pointer there.
        for (const arg of callArgs(c)) {
          const d = stripCasts(arg);
          if (ty(d) === 'pointer_expression' && opOf(d).startsWith('&')) other.add(identOf(field(d, 'argument')) ?? '');
        }
      }
    }
    const tracked = [...sources.keys()].filter((n) => !other.has(n));
    if (!tracked.length) return;
    const reported = new Set<string>();
    const check = (node: Node, name: string | undefined, form: 'field' | 'deref' | 'subscript') => {
      if (!name || !tracked.includes(name) || reported.has(name)) return;
      const src = sources.get(name)!;
      if (node.startIndex < src.node.endIndex) return;
      // `&p->field` and `&p[i]` compute an address, they read nothing; so do `&p->array[i]` and
      // `&p->field.member` (runqlat's `&pid->numbers[level]`).
      let up = node.parent;
      let inner: Node = node;
      while (
        up &&
        (ty(up) === 'parenthesized_expression' ||
          (ty(up) === 'subscript_expression' && field(up, 'argument')?.startIndex === inner.startIndex) ||
          (ty(up) === 'field_expression' && opOf(up) === '.'))
      ) {
        inner = up;
        up = up.parent;
      }
      if (up && ty(up) === 'pointer_expression' && opOf(up).startsWith('&')) return;
      // `p->comm` passed to a call (or sizeof) may be an array member: an address, not a read.
      if (form !== 'deref' && up && (ty(up) === 'argument_list' || ty(up) === 'sizeof_expression')) return;
      reported.add(name);
      const d: RuleDiagnostic = {
        start: node.startIndex,
        end: node.endIndex,
        severity: 'error',
        message:
          `'${name}' holds a value read with ${src.how}: to the verifier it is a number (a scalar), not a pointer, and '${node.text}' reads through it: ` +
          `the verifier rejects the program ("invalid mem access 'scalar'"). Read through it with BPF_CORE_READ(${name}, ...) or bpf_probe_read_kernel().`,
        related: [
          { start: src.node.startIndex, end: src.node.endIndex, message: `'${name}' is read here with ${src.how}` },
        ],
      };
      report(d);
    };
    for (const f of ix.in('field_expression', body)) {
      if (f && opOf(f) === '->') check(f, identOf(field(f, 'argument')), 'field');
    }
    for (const p of ix.in('pointer_expression', body)) {
      if (p && opOf(p) === '*') check(p, identOf(field(p, 'argument')), 'deref');
    }
    for (const s of ix.in('subscript_expression', body)) {
      if (s) check(s, identOf(field(s, 'argument')), 'subscript');
    }
  },
};
