/**
 * A helper argument of the wrong kind of pointer, the mistakes the verifier reports as
 * "bpf_map_update_elem() may write into memory pointed by R2 type=trusted_ptr_" (or "R2 type=...
 * expected=fp, pkt, ...") or "R1 type=fp expected=ptr_, trusted_ptr_, rcu_ptr_":
 * - a map key or value argument given a kernel object's pointer itself (`bpf_map_update_elem(&m, rq,
 *   ...)` for a map keyed by the `struct request *`): a BTF pointer (or a number read with
 *   BPF_CORE_READ) is not memory the helper may read a key from; pass its address (`&rq`);
 * - a helper that takes a kernel object (bpf_d_path()'s `struct path *`, the local storages' task,
 *   inode, cgroup or socket) given memory instead: the address of a stack copy (`&path` after
 *   `struct path path = file->f_path;`) or a map value (the storage's own value where the task was
 *   meant);
 * - a map key or value given the address of a context field (`bpf_map_lookup_elem(&m, &ctx->user_port)`):
 *   the context is no memory a helper may read ("R2 type=ctx expected=fp, pkt, pkt_meta, map_key,
 *   map_value, ..."); copy the field into a local first;
 * - the data of bpf_perf_event_output()/bpf_ringbuf_output()/bpf_seq_write() given the address of a local
 *   pointer (`&e`) with the size of what it points to (`sizeof(*e)`): the helper reads the stack slot
 *   holding the pointer and whatever lies above it ("invalid read from stack" when that passes the
 *   frame's top; otherwise garbage is sent), a warning.
 */
import type { Node } from 'web-tree-sitter';
import { field, opOf, ty } from '../fast-node';
import { stripCasts } from '../flow';
import type { Rule } from '../rule';
import { documentHeaderDeclarations } from '../../header-declarations';
import { callArgs, calleeName, identOf } from '../syntax';
import { syntaxIndex } from '../syntax-index';
import { functionsByName, hash, memo } from '../function-cache';
import { KERNEL_OBJECTS } from './global-func-arg';
import { fileMaps, headerMaps } from '../header-maps';

/** Map helpers' arguments the helper reads (or writes) as memory: keys and values. */
const MAP_MEMORY_ARGS: Record<string, readonly number[]> = {
  bpf_map_lookup_elem: [1],
  bpf_map_lookup_percpu_elem: [1],
  bpf_map_update_elem: [1, 2],
  bpf_map_delete_elem: [1],
  bpf_map_push_elem: [1],
  bpf_map_pop_elem: [1],
  bpf_map_peek_elem: [1],
};

/** Helpers' arguments that must be a kernel object (ARG_PTR_TO_BTF_ID), and its struct. */
const OBJECT_ARGS: Record<string, { index: number; struct: string }> = {
  bpf_d_path: { index: 0, struct: 'path' },
  bpf_task_storage_get: { index: 1, struct: 'task_struct' },
  bpf_task_storage_delete: { index: 1, struct: 'task_struct' },
  bpf_inode_storage_get: { index: 1, struct: 'inode' },
  bpf_inode_storage_delete: { index: 1, struct: 'inode' },
  bpf_cgrp_storage_get: { index: 1, struct: 'cgroup' },
  bpf_cgrp_storage_delete: { index: 1, struct: 'cgroup' },
  bpf_sk_storage_get: { index: 1, struct: 'sock' },
  bpf_sk_storage_delete: { index: 1, struct: 'sock' },
  bpf_get_task_stack: { index: 0, struct: 'task_struct' },
  bpf_task_pt_regs: { index: 0, struct: 'task_struct' },
  bpf_find_vma: { index: 0, struct: 'task_struct' },
  bpf_sock_from_file: { index: 0, struct: 'file' },
  bpf_ima_file_hash: { index: 0, struct: 'file' },
  bpf_ima_inode_hash: { index: 0, struct: 'inode' },
};

/** Helpers that take back a reference by its pointer (`void *` in C, so clang accepts `&e` too). */
const REF_ARGS: Record<string, string> = {
  bpf_ringbuf_submit: 'ringbuf_mem',
  bpf_ringbuf_discard: 'ringbuf_mem',
  bpf_sk_release: 'sock',
};

/** Helpers that read memory of a given size: the data argument and its size argument. */
const DATA_ARGS: Record<string, { data: number; size: number }> = {
  bpf_perf_event_output: { data: 3, size: 4 },
  bpf_ringbuf_output: { data: 1, size: 2 },
  bpf_seq_write: { data: 1, size: 2 },
};

const CALLS = new RegExp(
  `\\b(${[...Object.keys(MAP_MEMORY_ARGS), ...Object.keys(OBJECT_ARGS), ...Object.keys(REF_ARGS), ...Object.keys(DATA_ARGS)].join('|')}|BPF_CORE_READ|bpf_get_current_task)\\s*\\(`,
);

const CALLS_OBJECT = new RegExp(`\\b(${Object.keys(OBJECT_ARGS).join('|')})\\s*\\(`);

/** Calls whose value is a number to the verifier (a pointer read from kernel memory), not a BTF pointer. */
const SCALAR_CALLS = /^(BPF_CORE_READ|BPF_PROBE_READ|bpf_get_current_task)$/;

/**
 * For a function of the file or its headers: which of its parameters it passes, unchanged, as a
 * helper's kernel-object argument (`task_info_peek(task)` → bpf_task_storage_get(&m, task, 0, 0)).
 */
function objectParams(text: string): Map<number, { helper: string; struct: string }> {
  const out = new Map<number, { helper: string; struct: string }>();
  const open = text.indexOf('(');
  const close = text.indexOf(')', open);
  const brace = text.indexOf('{', close);
  if (open < 0 || close < 0 || brace < 0) return out;
  const params = text
    .slice(open + 1, close)
    .split(',')
    .map((x) => /(\w+)\s*(\[[^\]]*\])?\s*$/.exec(x)?.[1] ?? '');
  const body = text.slice(brace);
  for (const [helper, o] of Object.entries(OBJECT_ARGS)) {
    for (const m of body.matchAll(new RegExp(`\\b${helper}\\s*\\(([^;]*)\\)`, 'g'))) {
      const arg = m[1]
        .split(',')
        [o.index]?.replace(/\([^()]*\)/g, '')
        .trim();
      const i = arg ? params.indexOf(arg) : -1;
      if (i >= 0) out.set(i, { helper, struct: o.struct });
    }
  }
  return out;
}

interface Declared {
  /** The struct's name when the type is `struct X` (with `pointer` levels of `*`). */
  struct: string | undefined;
  pointer: number;
  node: Node;
}

export const helperArgTypeRule: Rule = {
  id: 'helper-arg-type',
  description: 'a map key/value given a kernel object pointer itself, or a kernel-object argument given memory',
  functionFilter: CALLS,
  // Maps defined in the file's headers count too.
  fileKey: (doc) => documentHeaderDeclarations(doc).key,
  runFunction({ doc, fn, report, programs }) {
    const ix = syntaxIndex(doc);
    const calls = ix
      .callsIn(fn)
      .filter((c) => c.name in MAP_MEMORY_ARGS || c.name in OBJECT_ARGS || c.name in REF_ARGS || c.name in DATA_ARGS);
    // The program's own context parameter (not hidden by BPF_PROG()-style definitions).
    const own = programs.find((q) => q.node.startIndex === fn.startIndex);
    const ctxName =
      own?.ctxParam?.name && !/^\s*BPF_\w+\s*\(/.test(field(fn, 'declarator')?.text ?? '')
        ? own.ctxParam.name
        : undefined;
    const readsScalars = /\b(BPF_CORE_READ|BPF_PROBE_READ|bpf_get_current_task)\s*\(/.test(
      doc.text.slice(fn.startIndex, fn.endIndex),
    );
    if (!calls.length && !readsScalars) return;
    // Numbers read from kernel memory given where a kernel object is wanted: `BPF_CORE_READ(t,
    // real_parent)` or a local holding one, passed to a helper (or to a function of the file or its
    // headers that hands it to one) taking a BTF pointer.
    const scalarVars = new Map<string, string>();
    if (readsScalars) {
      const other = new Set<string>();
      const noteValue = (name: string | undefined, v: Node | null) => {
        if (!name) return;
        const c = v ? stripCasts(v) : null;
        const callee = c && ty(c) === 'call_expression' ? calleeName(c) : undefined;
        if (callee && SCALAR_CALLS.test(callee)) {
          if (!scalarVars.has(name)) scalarVars.set(name, `${callee}()`);
        } else other.add(name);
      };
      for (const d of ix.in('init_declarator', fn)) {
        let t = field(d, 'declarator');
        while (t && ty(t) === 'pointer_declarator') t = field(t, 'declarator');
        noteValue(identOf(t), field(d, 'value'));
      }
      for (const a of ix.in('assignment_expression', fn)) noteValue(identOf(field(a, 'left')), field(a, 'right'));
      for (const n of other) scalarVars.delete(n);
      const fnText = doc.text.slice(fn.startIndex, fn.endIndex);
      for (const n of [...scalarVars.keys()]) if (new RegExp(`&\\s*${n}\\b`).test(fnText)) scalarVars.delete(n);
    }
    const scalarOf = (a: Node): string | undefined => {
      const v = stripCasts(a);
      if (ty(v) === 'call_expression') {
        const callee = calleeName(v);
        return callee && SCALAR_CALLS.test(callee) ? `${callee}()` : undefined;
      }
      return ty(v) === 'identifier' ? scalarVars.get(v.text) : undefined;
    };
    const ownFns = functionsByName(doc);
    const headerFns = documentHeaderDeclarations(doc).functions;
    for (const c of readsScalars ? ix.callsIn(fn) : []) {
      // Only helpers that take a kernel object, and functions of the file or its headers that hand
      // one of their arguments to such a helper (read once per function text).
      let wants: Map<number, { helper: string; struct: string }> | undefined;
      if (OBJECT_ARGS[c.name])
        wants = new Map([[OBJECT_ARGS[c.name].index, { helper: c.name, struct: OBJECT_ARGS[c.name].struct }]]);
      else if (!c.name.startsWith('bpf_') && !SCALAR_CALLS.test(c.name)) {
        const def = ownFns.get(c.name);
        const text = def ? doc.text.slice(def.startIndex, def.endIndex) : headerFns.get(c.name)?.text;
        if (text && CALLS_OBJECT.test(text)) wants = memo(`object-params\u0000${hash(text)}`, () => objectParams(text));
      }
      if (!wants?.size) continue;
      const args = callArgs(c.node);
      for (const [i, w] of wants) {
        const how = args[i] ? scalarOf(args[i]) : undefined;
        if (!how || !args[i]) continue;
        report({
          start: args[i].startIndex,
          end: args[i].endIndex,
          severity: 'error',
          message:
            `'${args[i].text}' is a value read with ${how}: to the verifier a number (a scalar), not the kernel's struct ${w.struct}, and ` +
            `${w.helper}() ${w.helper === c.name ? 'takes' : `(called by ${c.name}()) takes`} a BTF pointer there: the verifier rejects the program ` +
            `("R${OBJECT_ARGS[w.helper].index + 1} type=scalar expected=ptr_, trusted_ptr_, rcu_ptr_"). Pass a BTF pointer: a tp_btf/fentry ` +
            `argument, bpf_get_current_task_btf(), or a field read through one (task->real_parent).`,
        });
      }
    }
    if (!calls.length) return;
    // Declared types of the function's parameters and locals, by name.
    const declared = new Map<string, Declared>();
    const note = (typeNode: Node | null, d: Node | null, at: Node) => {
      let pointer = 0;
      let cur = d;
      while (cur && (ty(cur) === 'pointer_declarator' || ty(cur) === 'init_declarator')) {
        if (ty(cur) === 'pointer_declarator') pointer++;
        cur = field(cur, 'declarator');
      }
      const name = cur && ty(cur) === 'identifier' ? cur.text : undefined;
      if (!name || cur?.parent?.type === 'array_declarator') return;
      const struct = typeNode && ty(typeNode) === 'struct_specifier' ? field(typeNode, 'name')?.text : undefined;
      declared.set(name, { struct, pointer, node: at });
    };
    for (const p of ix.in('parameter_declaration', fn)) note(field(p, 'type'), field(p, 'declarator'), p);
    for (const d of ix.in('declaration', fn))
      for (const c of d.namedChildren)
        if (c && (ty(c) === 'init_declarator' || ty(c) === 'pointer_declarator' || ty(c) === 'identifier'))
          note(field(d, 'type'), c, d);
    // Pointers ever set to an address (`p = &copy;`) or from a call may point at memory: not judged.
    const reassigned = new Set<string>();
    for (const a of ix.in('assignment_expression', fn)) {
      const l = identOf(field(a, 'left'));
      if (l) reassigned.add(l);
    }
    // The value structs of the file's and its headers' maps.
    const mapValueStructs = new Set(
      [...fileMaps(doc), ...headerMaps(doc)]
        .map((m) => /^struct\s+(\w+)$/.exec(m.valueType?.trim() ?? '')?.[1])
        .filter((x): x is string => !!x),
    );
    for (const c of calls) {
      const args = callArgs(c.node);
      // `bpf_ringbuf_submit(&e, 0)`: the address of the local pointer (the stack), not the reservation.
      const refArg = REF_ARGS[c.name] && args[0] ? stripCasts(args[0]) : undefined;
      if (refArg && ty(refArg) === 'pointer_expression' && opOf(refArg) === '&') {
        const name = identOf(field(refArg, 'argument'));
        const d = name ? declared.get(name) : undefined;
        if (d && d.pointer === 1)
          report({
            start: refArg.startIndex,
            end: refArg.endIndex,
            severity: 'error',
            message:
              `${c.name}() takes the ${REF_ARGS[c.name] === 'sock' ? 'socket' : 'reservation'} itself, '${name}', but is given its address ` +
              `'${refArg.text}' (a stack slot; C accepts it, the parameter is void *): the verifier rejects the program ` +
              `("R1 type=fp expected=${REF_ARGS[c.name]}"), and the reference is never released. Pass '${name}'.`,
            related: [{ start: d.node.startIndex, end: d.node.endIndex, message: `'${name}' is a pointer` }],
            fixes: [
              {
                title: `Pass ${name}`,
                edits: [{ start: refArg.startIndex, end: refArg.endIndex, newText: name! }],
                preferred: true,
              },
            ],
          });
      }
      // `bpf_perf_event_output(ctx, &events, flags, &e, sizeof(*e))`: the pointer's own stack slot as data.
      const da = DATA_ARGS[c.name];
      const dataArg = da && args[da.data] ? stripCasts(args[da.data]) : undefined;
      if (dataArg && ty(dataArg) === 'pointer_expression' && opOf(dataArg) === '&') {
        const name = identOf(field(dataArg, 'argument'));
        const d = name ? declared.get(name) : undefined;
        const size = args[da.size]?.text.replace(/\s+/g, '') ?? '';
        if (
          d &&
          d.pointer === 1 &&
          (size === `sizeof(*${name})` ||
            size === `sizeof*${name}` ||
            (!!d.struct && size === `sizeof(struct${d.struct})`))
        )
          report({
            start: dataArg.startIndex,
            end: dataArg.endIndex,
            severity: 'warning',
            message:
              `${c.name}() is given '${dataArg.text}', the address of the pointer '${name}' (its 8-byte stack slot), with the size of what '${name}' ` +
              `points to: the helper reads the stack from that slot upwards, not the record. The verifier rejects the program when the read passes the ` +
              `top of the stack ("invalid read from stack"); otherwise stack garbage is sent. Pass '${name}'.`,
            related: [{ start: d.node.startIndex, end: d.node.endIndex, message: `'${name}' is a pointer` }],
            fixes: [
              {
                title: `Pass ${name}`,
                edits: [{ start: dataArg.startIndex, end: dataArg.endIndex, newText: name! }],
                preferred: true,
              },
            ],
          });
      }
      for (const i of ctxName ? (MAP_MEMORY_ARGS[c.name] ?? []) : []) {
        // `&ctx->user_port` as a key: the address of a context field.
        const a = args[i] ? stripCasts(args[i]) : undefined;
        if (!a || ty(a) !== 'pointer_expression' || opOf(a) !== '&') continue;
        let base = field(a, 'argument');
        while (base && (ty(base) === 'subscript_expression' || (ty(base) === 'field_expression' && opOf(base) === '.')))
          base = field(base, 'argument');
        if (
          !base ||
          ty(base) !== 'field_expression' ||
          opOf(base) !== '->' ||
          identOf(field(base, 'argument')) !== ctxName
        )
          continue;
        const what = c.name === 'bpf_map_update_elem' && i === 2 ? 'value' : 'key';
        report({
          start: a.startIndex,
          end: a.endIndex,
          severity: 'error',
          message:
            `The ${what} argument of ${c.name}() is '${a.text}', the address of a field of the program's context: the helper reads the ${what} from ` +
            `the stack, a map value or packet data, never from the context, so the verifier rejects the program ("R${i + 1} type=ctx expected=fp, pkt, ` +
            `pkt_meta, map_key, map_value, ..."). Copy the field into a local of the map's ${what} type and pass its address.`,
        });
      }
      for (const i of MAP_MEMORY_ARGS[c.name] ?? []) {
        const a = args[i] ? stripCasts(args[i]) : undefined;
        const name = a && ty(a) === 'identifier' ? a.text : undefined;
        const d = name ? declared.get(name) : undefined;
        if (!a || !d || d.pointer !== 1 || !d.struct || !KERNEL_OBJECTS.has(d.struct) || reassigned.has(name!))
          continue;
        const what = c.name === 'bpf_map_update_elem' && i === 2 ? 'value' : 'key';
        report({
          start: a.startIndex,
          end: a.endIndex,
          severity: 'error',
          message:
            `The ${what} argument of ${c.name}() is '${name}' itself, a pointer to the kernel's struct ${d.struct}: the helper reads the ${what} ` +
            `from the memory it points to (the stack, a map value, packet data), which a kernel object is not: the verifier rejects the program ` +
            `("... R${i + 1} type=trusted_ptr_ ...", or type=scalar for a pointer read from kernel memory). ` +
            `For a map keyed by the pointer's value, pass its address: &${name}.`,
          related: [
            {
              start: d.node.startIndex,
              end: d.node.endIndex,
              message: `'${name}' is declared as struct ${d.struct} *`,
            },
          ],
          fixes: [
            {
              title: `Pass &${name}`,
              edits: [{ start: a.startIndex, end: a.startIndex, newText: '&' }],
              preferred: true,
            },
          ],
        });
      }
      const o = OBJECT_ARGS[c.name];
      const arg = o && args[o.index] ? stripCasts(args[o.index]) : undefined;
      if (!o || !arg) continue;
      let why: string | undefined;
      let decl: Declared | undefined;
      if (ty(arg) === 'pointer_expression' && opOf(arg) === '&') {
        // `&path` of a local struct: the stack.
        const name = identOf(field(arg, 'argument'));
        decl = name ? declared.get(name) : undefined;
        if (decl && decl.pointer === 0 && decl.struct && decl.node.type === 'declaration')
          why = `'${arg.text}' is the address of a copy on the stack (struct ${decl.struct} ${name})`;
      } else if (ty(arg) === 'identifier') {
        decl = declared.get(arg.text);
        if (decl && decl.pointer === 1 && decl.struct && decl.struct !== o.struct && mapValueStructs.has(decl.struct))
          why = `'${arg.text}' points to a struct ${decl.struct}, the value type of a map (memory, not the kernel's object)`;
      }
      if (!why) continue;
      report({
        start: arg.startIndex,
        end: arg.endIndex,
        severity: 'error',
        message:
          `${c.name}() takes the kernel's struct ${o.struct} (a BTF pointer) as argument ${o.index + 1}, but ${why}: the verifier rejects the program ` +
          `("R${o.index + 1} type=${arg.type === 'pointer_expression' ? 'fp' : 'map_value'} expected=ptr_, trusted_ptr_, rcu_ptr_"). ` +
          (o.struct === 'path'
            ? `Pass the kernel's own path (&file->f_path), not a copy.`
            : `Pass the ${o.struct} pointer itself (the program's argument, bpf_get_current_task_btf(), ...).`),
        related: decl
          ? [{ start: decl.node.startIndex, end: decl.node.endIndex, message: 'declared here' }]
          : undefined,
      });
    }
  },
};
