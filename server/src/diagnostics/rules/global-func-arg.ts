/**
 * A function without `static` (and not inline, not `__hidden`) is a global function to libbpf and the
 * verifier: it is verified once on its own, from its prototype, not with its callers' registers. A
 * pointer to a struct in its prototype becomes "memory of sizeof(struct) bytes, maybe NULL", so a
 * caller may pass only such memory (the stack, a map value) or NULL. A kernel object (`struct
 * task_struct *`, `struct sock *`, `struct request *`: a tp_btf/fentry argument, a BTF pointer, or a
 * number read with BPF_CORE_READ) is none of these, and the call is rejected ("Caller passes invalid
 * args into func#1 ('trace_pid')"). The usual cause is a forgotten `static` (or `__noinline` put in
 * place of `static __always_inline`); the fix is to make the function static.
 */
import type { Node } from 'web-tree-sitter';
import { field, ty } from '../fast-node';
import { stripCasts } from '../flow';
import type { Rule, RuleDiagnostic } from '../rule';
import type { BpfDocument } from '../../bpf-document';
import { identOf } from '../syntax';
import { syntaxIndex } from '../syntax-index';

/**
 * Kernel objects a BPF program gets only as BTF pointers (trusted or not) or as numbers read from
 * kernel memory: never as memory a global function may take. Context types (`struct pt_regs`,
 * `struct __sk_buff`, `struct xdp_md`, `struct bpf_*`) and packet headers (`struct iphdr`: packet
 * memory passes) are not listed.
 */
export const KERNEL_OBJECTS = new Set([
  'task_struct',
  'sock',
  'sock_common',
  'socket',
  'tcp_sock',
  'inet_sock',
  'inet_connection_sock',
  'udp_sock',
  'unix_sock',
  'sk_buff',
  'request',
  'bio',
  'gendisk',
  'block_device',
  'request_queue',
  'file',
  'inode',
  'dentry',
  'path',
  'vfsmount',
  'super_block',
  'mm_struct',
  'vm_area_struct',
  'cred',
  'linux_binprm',
  'cgroup',
  'css_set',
  'net_device',
  'net',
  'nsproxy',
  'pid',
  'pid_namespace',
  'signal_struct',
  'files_struct',
  'fdtable',
  'page',
  'folio',
  'address_space',
  'kiocb',
  'msghdr',
  'nameidata',
  'rq',
  'cfs_rq',
  'sched_entity',
  'kernfs_node',
  'bpf_map',
  'bpf_prog',
]);

/** `const struct sock *sk` → 'sock' when the parameter is a pointer to one of KERNEL_OBJECTS. */
function kernelObjectParam(p: Node): { name: string; struct: string } | undefined {
  if (ty(p) !== 'parameter_declaration') return undefined;
  const t = field(p, 'type');
  const d = field(p, 'declarator');
  if (!t || ty(t) !== 'struct_specifier' || !d || ty(d) !== 'pointer_declarator') return undefined;
  // `struct sock **` is a pointer to a pointer: memory (a stack slot), accepted.
  const inner = field(d, 'declarator');
  if (!inner || ty(inner) !== 'identifier') return undefined;
  const struct = field(t, 'name')?.text;
  return struct && KERNEL_OBJECTS.has(struct) ? { name: inner.text, struct } : undefined;
}

/** Context types: a global function's parameter of one is the context (never NULL), not memory. */
const CONTEXT_STRUCT =
  /^(__sk_buff|xdp_md|sk_msg_md|sk_reuseport_md|pt_regs|user_pt_regs|bpf_\w+|trace_event_raw_\w+)$/;

/**
 * The other half of a global function's prototype: a pointer to memory (a struct of the program's,
 * an integer) may be NULL, and the function is verified alone, so reading through it before a NULL
 * check is rejected ("R1 invalid mem access 'mem_or_null'") whatever its callers pass. Reported at
 * the first such read.
 */
function maybeNullParams(
  doc: BpfDocument,
  fn: Node,
  name: string,
  params: (Node | null)[],
  noinline: boolean,
  report: (d: RuleDiagnostic) => void,
): void {
  const body = field(fn, 'body');
  if (!body) return;
  const text = doc.text.slice(body.startIndex, body.endIndex);
  for (const p of params) {
    if (!p || ty(p) !== 'parameter_declaration' || /__arg_/.test(p.text)) continue;
    const t = field(p, 'type');
    const d = field(p, 'declarator');
    if (!t || !d || ty(d) !== 'pointer_declarator') continue;
    const id = field(d, 'declarator');
    if (!id || ty(id) !== 'identifier') continue;
    if (ty(t) === 'primitive_type' && t.text === 'void') continue;
    const struct = ty(t) === 'struct_specifier' ? field(t, 'name')?.text : undefined;
    if (struct && (CONTEXT_STRUCT.test(struct) || KERNEL_OBJECTS.has(struct))) continue;
    if (
      !struct &&
      ty(t) !== 'primitive_type' &&
      ty(t) !== 'sized_type_specifier' &&
      !/^(__)?[us](8|16|32|64)$/.test(t.text)
    )
      continue;
    const v = id.text;
    const deref = new RegExp(`\\b${v}\\s*(->|\\[)|(^|[^\\w)\\]\\s])\\s*\\*\\s*${v}\\b`).exec(text);
    if (!deref) continue;
    const check = new RegExp(
      `!\\s*${v}\\b|\\b${v}\\s*[!=]=\\s*(NULL|0)\\b|\\b(NULL|0)\\s*[!=]=\\s*${v}\\b|\\bif\\s*\\(\\s*${v}\\s*\\)|\\b${v}\\s*(&&|\\?)`,
    ).exec(text);
    if (check && check.index < deref.index) continue;
    const at = body.startIndex + deref.index + (deref[0].length - deref[0].trimStart().length);
    const end = at + deref[0].trim().length;
    report({
      start: at,
      end,
      severity: noinline ? 'error' : 'warning',
      message:
        `'${name}' is not static, so the verifier checks it on its own, and its pointer argument '${v}' may be NULL there ` +
        `(memory of its type, or NULL): reading through it before a NULL check is rejected ("invalid mem access 'mem_or_null'")` +
        (noinline ? '.' : ' wherever clang keeps it a call (it may inline it: it is not __noinline).') +
        ` Check it first (if (!${v}) return 0;), or make the function static.`,
      related: [{ start: p.startIndex, end: p.endIndex, message: `'${v}' may be NULL in a global function` }],
    });
  }
}

/**
 * Functions defined at the start of a line without `static`/`inline`/`SEC()` before them (a cheap,
 * text-only approximation of the global functions the rule looks at) and taking a pointer.
 */
const GLOBAL_DEF =
  /^(?!static\b|SEC\b|extern\b|#)(?:[A-Za-z_]\w*[ \t*\n]+)+?([A-Za-z_]\w*)[ \t]*\(([^;{)]*\*[^;{)]*)\)[^;{]*\{/gm;

/**
 * What the rule reads outside the function it judges: the arguments the programs pass to the file's
 * global functions (they choose error or warning). Their call texts are in the file key, so an edit of a
 * call's arguments re-runs the rule on the callee (an edit elsewhere leaves the key unchanged).
 */
function callersKey(doc: BpfDocument): string {
  const text = doc.text;
  const names: string[] = [];
  for (const m of text.matchAll(GLOBAL_DEF)) {
    const before = text.slice(Math.max(0, m.index - 200), m.index);
    const cut = Math.max(before.lastIndexOf(';'), before.lastIndexOf('}'));
    if (/\bSEC\s*\(|\b(static|inline|__always_inline|__hidden)\b/.test(before.slice(cut + 1))) continue;
    names.push(m[1]);
  }
  if (!names.length) return '';
  const calls = new RegExp(`\\b(?:${names.join('|')})\\s*\\([^;{}]*`, 'g');
  return [...text.matchAll(calls)].map((m) => m[0]).join('\u0000');
}

export const globalFuncArgRule: Rule = {
  id: 'global-func-arg',
  description: 'a global (non-static) function taking a pointer to a kernel object, which its callers cannot pass',
  functionFilter: /\w\s*\*\s*\w+\s*[,)]/,
  fileKey: callersKey,
  runFunction({ doc, fn, name, programs, report }) {
    if (!name || !programs.length || programs.some((q) => q.node.startIndex === fn.startIndex)) return;
    let decl: Node | null = field(fn, 'declarator');
    while (decl && ty(decl) !== 'function_declarator') decl = field(decl, 'declarator');
    if (!decl) return;
    // What precedes the name, back to the previous declaration: `__noinline` and `__hidden` may parse
    // outside the definition's node.
    const before = doc.text.slice(Math.max(0, fn.startIndex - 200), fn.startIndex);
    const cut = Math.max(before.lastIndexOf(';'), before.lastIndexOf('}'), before.lastIndexOf('\n#'));
    const head = (before.slice(cut + 1) + doc.text.slice(fn.startIndex, decl.startIndex)).replace(
      /\/\*[\s\S]*?\*\/|\/\/[^\n]*/g,
      ' ',
    );
    // static, inline (an inline definition emits no global symbol), __hidden (libbpf verifies hidden
    // functions with their callers, as static ones), SEC() (a program).
    if (/\b(static|inline|__always_inline|__inline|__hidden|extern|SEC)\b|visibility\s*\(\s*"hidden"/.test(head))
      return;
    const noinline = /\b(__noinline|noinline)\b/.test(head);
    const params = decl.childForFieldName('parameters')?.namedChildren ?? [];
    const objs = params.map((p) => (p ? kernelObjectParam(p) : undefined));
    if (!objs.some(Boolean)) {
      maybeNullParams(doc, fn, name, params, noinline, report);
      return;
    }
    // Its calls in the programs that call it directly: an argument that is `&local`, NULL or a call's
    // value (a lookup) may be memory the verifier accepts, and the finding is then only a warning.
    const ix = syntaxIndex(doc);
    const calls = programs.flatMap((q) => ix.callsIn(q.node).filter((c) => c.name === name));
    for (let i = 0; i < objs.length; i++) {
      const o = objs[i];
      if (!o) continue;
      const passed = calls
        .map((c) => c.node.childForFieldName('arguments')?.namedChildren.filter((a) => a && ty(a) !== 'comment')[i])
        .filter((a): a is Node => !!a);
      const memory = (a: Node) => {
        const s = stripCasts(a);
        return (
          (ty(s) === 'pointer_expression' && s.text.startsWith('&')) ||
          /^(NULL|0|nullptr)$/.test(s.text) ||
          ty(s) === 'call_expression' // a lookup or a reservation: memory the function may take
        );
      };
      const maybeMemory = passed.find(memory);
      const param = params[i]!;
      const start = fn.startIndex;
      const end = identOf(field(decl, 'declarator')) ? field(decl, 'declarator')!.endIndex : decl.endIndex;
      report({
        start,
        end,
        // Without noinline clang may inline a small global function into its only caller (then nothing
        // is verified alone and the program loads): an error only when it surely stays a call.
        severity: maybeMemory || !noinline ? 'warning' : 'error',
        message:
          `'${name}' is not static, so it is a global function: the verifier checks it on its own and takes its ` +
          `'${param.text}' as memory of sizeof(struct ${o.struct}) bytes that may be NULL. A kernel object ` +
          `(a BTF pointer such as a tp_btf/fentry argument, or a pointer read with BPF_CORE_READ) is not such memory` +
          (maybeMemory
            ? `: a caller passing one is rejected ("Caller passes invalid args into func#N ('${name}')").`
            : `, and its callers pass one: the verifier rejects the call ("Caller passes invalid args into func#N ('${name}')")` +
              (noinline ? '.' : ' wherever clang keeps it a call (it may inline it: it is not __noinline).')) +
          ` Make it static (static __always_inline, or static __noinline to keep it a separate function).`,
        related: [{ start: param.startIndex, end: param.endIndex, message: `the kernel object '${o.name}'` }],
        fixes: [
          { title: `Make '${name}' static`, edits: [{ start, end: start, newText: 'static ' }], preferred: true },
        ],
      });
      return;
    }
  },
};
