/**
 * A tp_btf program declared with more arguments than its tracepoint passes, and reading one of the
 * extra ones: the context is exactly the tracepoint's arguments, so the verifier rejects the read
 * ("func 'sched_wakeup' doesn't have 2-th argument", "invalid bpf_context access off=8 size=8").
 * Typical after a kernel changed a tracepoint (sched_wakeup lost `success` in 4.x, block_rq_issue lost
 * its request_queue in 5.11). The tracepoint's arguments come from `typedef void (*btf_trace_<name>)(void
 * *, ...)` in the vmlinux.h the file includes; without one the rule says nothing.
 *
 * A warning for an argument declared as a pointer where the tracepoint passes a number (sched_switch's
 * first argument is `bool preempt`: `BPF_PROG(h, struct task_struct *prev, ...)` takes the bool as prev,
 * "invalid mem access 'scalar'" when read through), or as a pointer to another struct: BPF_PROG() casts
 * each u64 of the context to the declared type, so a left-out argument shifts the others.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RECHECK_MS, sharedHeaderDeclarations } from '../../header-declarations';
import type { BpfDocument } from '../../bpf-document';
import { field } from '../fast-node';
import { functionsOf, memo, programSectionOf } from '../function-cache';
import type { Rule } from '../rule';

/**
 * The text of a vmlinux.h (cached by modification time): the headers' index's copy, which the rules that
 * read struct layouts load anyway (one 3 MB read and one copy in memory, not two).
 */
function vmlinuxText(path: string): string | undefined {
  return sharedHeaderDeclarations.headers.text(path);
}

/** The argument types of tracepoint `name` (without the leading `void *`), or undefined. */
export function tracepointArgs(vmlinux: string, name: string): string[] | undefined {
  const at = vmlinux.indexOf(`(*btf_trace_${name})(`);
  if (at < 0) return undefined;
  const open = vmlinux.indexOf('(', at + 2);
  const close = vmlinux.indexOf(');', open);
  if (open < 0 || close < 0) return undefined;
  const args = vmlinux
    .slice(open + 1, close)
    .split(',')
    .map((a) => a.trim());
  return args.slice(1);
}

const vmlinuxKeys = new WeakMap<BpfDocument, string>();

/**
 * The vmlinux.h the document includes, with its modification time (`path@mtime`), when the file has
 * tp_btf programs, or '' (once per document version).
 */
function vmlinuxKey(doc: BpfDocument): string {
  let k = vmlinuxKeys.get(doc);
  if (k === undefined) vmlinuxKeys.set(doc, (k = readVmlinuxKey(doc)));
  return k;
}

function readVmlinuxKey(doc: BpfDocument): string {
  const inc = doc.includes.find((i) => /(^|\/)vmlinux\.h$/.test(i.path));
  if (!inc || !doc.uri.startsWith('file:')) return '';
  // The programs as doc.programs has them, without building the rest of the document structure.
  if (!doc.mask.secs.some((s) => s.name.startsWith('tp_btf/'))) return '';
  if (!functionsOf(doc).some((fn) => programSectionOf(doc, fn)?.startsWith('tp_btf/'))) return '';
  return resolvedVmlinux(fileURLToPath(doc.uri), inc.path, inc.system);
}

const resolved = new Map<string, { checkedAt: number; key: string }>();

/**
 * `path@mtime` of the vmlinux.h an #include names, or ''. Looked up on disk again when the include or the
 * search directories change, and otherwise at most every RECHECK_MS, as the headers are (not per edit).
 */
function resolvedVmlinux(file: string, include: string, system: boolean): string {
  const dirs = sharedHeaderDeclarations.searchDirectories();
  const id = `${file}\u0000${include}\u0000${system}\u0000${dirs.join('\u0000')}`;
  const now = Date.now();
  const hit = resolved.get(id);
  if (hit && now - hit.checkedAt < RECHECK_MS) return hit.key;
  let key = '';
  const path = sharedHeaderDeclarations.headers.resolveInclude(file, include, system, dirs);
  if (path) {
    try {
      key = `${path}@${statSync(path).mtimeMs}`;
    } catch {
      key = '';
    }
  }
  if (resolved.size > 256) resolved.clear();
  resolved.set(id, { checkedAt: now, key });
  return key;
}

export const tpBtfArgsRule: Rule = {
  id: 'tp-btf-args',
  description: 'a tp_btf program reading an argument its tracepoint does not pass',
  ownFunctionOnly: true,
  functionFilter: /\bBPF_PROG\s*\(/,
  fileKey: vmlinuxKey,
  runFunction({ doc, fn, programs, report }) {
    const p = programs.find((q) => q.node.startIndex === fn.startIndex);
    if (!p || !p.section.startsWith('tp_btf/') || !p.body) return;
    const key = vmlinuxKey(doc);
    if (!key) return;
    const tp = p.section.slice('tp_btf/'.length);
    // Searching a vmlinux.h (megabytes) takes milliseconds: once per vmlinux.h version and tracepoint.
    const tpArgs = memo(`tp-btf-args\u0000${key}\u0000${tp}`, () => {
      const vmlinux = vmlinuxText(key.slice(0, key.lastIndexOf('@')));
      return vmlinux ? tracepointArgs(vmlinux, tp) : undefined;
    });
    if (!tpArgs) return;
    const decl = field(fn, 'declarator');
    const m = decl ? /^\s*BPF_PROG\s*\(\s*\w+\s*((?:,[^,()]*(?:\([^()]*\))?)*)\)/.exec(decl.text) : null;
    if (!m || !decl) return;
    const declared = m[1]
      .split(',')
      .slice(1)
      .map((a) => a.trim());
    const body = p.body.text;
    for (let i = tpArgs.length; i < declared.length; i++) {
      const name = /([A-Za-z_]\w*)\s*$/.exec(declared[i])?.[1];
      const use = name ? new RegExp(`\\b${name}\\b`).exec(body) : null;
      if (!name || !use) continue;
      // The first read of it in the body: where the program reads past the context.
      const at = p.body.startIndex + use.index;
      const off = decl.text.indexOf(declared[i]);
      const start = decl.startIndex + Math.max(0, off);
      report({
        start,
        end: start + declared[i].length,
        severity: 'error',
        message:
          `The ${tp} tracepoint passes ${tpArgs.length} argument${tpArgs.length === 1 ? '' : 's'} (${tpArgs.join(', ')}) on this kernel's vmlinux.h, ` +
          `but ${p.name} reads '${name}', argument ${i + 1}: the verifier rejects the program ("func '${tp}' doesn't have ${i + 1}-th argument", ` +
          `"invalid bpf_context access"). Declare the arguments as the tracepoint has them (older kernels passed others).`,
        related: [{ start: at, end: at + name.length, message: `'${name}' is read here` }],
      });
      return;
    }
    const structOf = (t: string) => /^(?:const\s+)?struct\s+(\w+)\s*\*/.exec(t)?.[1];
    for (let i = 0; i < Math.min(declared.length, tpArgs.length); i++) {
      const d = declared[i].replace(/\s*\b[A-Za-z_]\w*\s*$/, '');
      const t = tpArgs[i];
      const dStruct = structOf(d);
      if (!d.includes('*') || (!dStruct && !/\*/.test(t))) continue;
      const tStruct = structOf(t);
      const wrong = !t.includes('*')
        ? `a number, not a pointer`
        : dStruct && tStruct && dStruct !== tStruct
          ? `a struct ${tStruct} *`
          : undefined;
      if (!wrong) continue;
      const off = decl.text.indexOf(declared[i]);
      const start = decl.startIndex + Math.max(0, off);
      report({
        start,
        end: start + declared[i].length,
        severity: 'warning',
        message:
          `Argument ${i + 1} of the ${tp} tracepoint is '${t}' (${tpArgs.join(', ')} on this kernel's vmlinux.h), ${wrong}, but ${p.name} declares ` +
          `'${declared[i]}': BPF_PROG() casts each argument to the declared type, so an argument left out or in the wrong order shifts the others, and ` +
          `reading through this one is rejected ("invalid mem access 'scalar'") or reads another object. Declare the arguments as the tracepoint has them.`,
      });
      return;
    }
  },
};
