/**
 * A helper given a map of a type it does not work on: bpf_ringbuf_reserve() on a perf event array,
 * bpf_perf_event_output() on a ring buffer, bpf_tail_call() on a hash, bpf_map_lookup_elem() on a
 * ring buffer... The verifier checks every (map, helper) pair in check_map_func_compatibility(), both
 * ways: a helper that needs a special map type refuses any other, and a special map refuses the
 * helpers that are not its own ("cannot pass map_type 27 into func bpf_perf_event_output#25"). The
 * map's type is read from its BTF-style definition in the file (`__uint(type, BPF_MAP_TYPE_...)`);
 * maps defined elsewhere, or passed through a pointer variable, are not judged.
 */
import type { Node } from 'web-tree-sitter';
import { helperByName } from '../../catalog/catalog';
import { field, opOf, ty } from '../fast-node';
import { functionsByName } from '../function-cache';
import { stripCasts, stripParens } from '../flow';
import type { BpfDocument, BpfProgram } from '../../bpf-document';
import { documentHeaderDeclarations } from '../../header-declarations';
import { fileMaps, headerMaps } from '../header-maps';
import type { Rule, RuleDiagnostic } from '../rule';
import { syntaxIndex } from '../syntax-index';
import { callArgs } from '../syntax';
import { structLayouts } from '../struct-layouts';

/** Map types whose values may hold a bpf_spin_lock (the kernel's map_check_btf()). */
const LOCKABLE = new Set([
  'HASH',
  'ARRAY',
  'CGROUP_STORAGE',
  'SK_STORAGE',
  'INODE_STORAGE',
  'TASK_STORAGE',
  'CGRP_STORAGE',
]);

/** enum bpf_map_type, in order (the number the verifier prints). */
const MAP_TYPES = [
  'UNSPEC',
  'HASH',
  'ARRAY',
  'PROG_ARRAY',
  'PERF_EVENT_ARRAY',
  'PERCPU_HASH',
  'PERCPU_ARRAY',
  'STACK_TRACE',
  'CGROUP_ARRAY',
  'LRU_HASH',
  'LRU_PERCPU_HASH',
  'LPM_TRIE',
  'ARRAY_OF_MAPS',
  'HASH_OF_MAPS',
  'DEVMAP',
  'SOCKMAP',
  'CPUMAP',
  'XSKMAP',
  'SOCKHASH',
  'CGROUP_STORAGE',
  'REUSEPORT_SOCKARRAY',
  'PERCPU_CGROUP_STORAGE',
  'QUEUE',
  'STACK',
  'SK_STORAGE',
  'DEVMAP_HASH',
  'STRUCT_OPS',
  'RINGBUF',
  'INODE_STORAGE',
  'TASK_STORAGE',
  'BLOOM_FILTER',
  'USER_RINGBUF',
  'CGRP_STORAGE',
  'ARENA',
];

const PERF = [
  'bpf_perf_event_read',
  'bpf_perf_event_output',
  'bpf_perf_event_read_value',
  'bpf_skb_output',
  'bpf_xdp_output',
];
const RINGBUF = [
  'bpf_ringbuf_output',
  'bpf_ringbuf_reserve',
  'bpf_ringbuf_query',
  'bpf_ringbuf_reserve_dynptr',
  'bpf_ringbuf_submit_dynptr',
  'bpf_ringbuf_discard_dynptr',
];

/**
 * The map side of check_map_func_compatibility(): a map of this type may only be passed to these
 * helpers. Only the map types whose list is short and stable across kernels (the socket maps'
 * lists changed often and are left out).
 */
const MAP_ONLY: Record<string, readonly string[]> = {
  PROG_ARRAY: ['bpf_tail_call'],
  PERF_EVENT_ARRAY: PERF,
  RINGBUF,
  USER_RINGBUF: ['bpf_user_ringbuf_drain'],
  STACK_TRACE: ['bpf_get_stackid'],
  CGROUP_ARRAY: ['bpf_skb_under_cgroup', 'bpf_current_task_under_cgroup'],
  CGROUP_STORAGE: ['bpf_get_local_storage'],
  PERCPU_CGROUP_STORAGE: ['bpf_get_local_storage'],
  CPUMAP: ['bpf_redirect_map'],
  QUEUE: ['bpf_map_peek_elem', 'bpf_map_pop_elem', 'bpf_map_push_elem'],
  STACK: ['bpf_map_peek_elem', 'bpf_map_pop_elem', 'bpf_map_push_elem'],
  BLOOM_FILTER: ['bpf_map_peek_elem', 'bpf_map_push_elem'],
  SK_STORAGE: ['bpf_sk_storage_get', 'bpf_sk_storage_delete', 'bpf_kptr_xchg'],
  INODE_STORAGE: ['bpf_inode_storage_get', 'bpf_inode_storage_delete', 'bpf_kptr_xchg'],
  TASK_STORAGE: ['bpf_task_storage_get', 'bpf_task_storage_delete', 'bpf_kptr_xchg'],
  CGRP_STORAGE: ['bpf_cgrp_storage_get', 'bpf_cgrp_storage_delete', 'bpf_kptr_xchg'],
};

/** The helper side: a helper that only works on these map types. */
const HELPER_NEEDS: Record<string, readonly string[]> = {
  bpf_tail_call: ['PROG_ARRAY'],
  ...Object.fromEntries(PERF.map((h) => [h, ['PERF_EVENT_ARRAY']])),
  ...Object.fromEntries(RINGBUF.map((h) => [h, ['RINGBUF']])),
  bpf_user_ringbuf_drain: ['USER_RINGBUF'],
  bpf_get_stackid: ['STACK_TRACE'],
  bpf_current_task_under_cgroup: ['CGROUP_ARRAY'],
  bpf_skb_under_cgroup: ['CGROUP_ARRAY'],
  bpf_redirect_map: ['DEVMAP', 'DEVMAP_HASH', 'CPUMAP', 'XSKMAP'],
  bpf_sk_redirect_map: ['SOCKMAP'],
  bpf_msg_redirect_map: ['SOCKMAP'],
  bpf_sock_map_update: ['SOCKMAP'],
  bpf_sk_redirect_hash: ['SOCKHASH'],
  bpf_msg_redirect_hash: ['SOCKHASH'],
  bpf_sock_hash_update: ['SOCKHASH'],
  bpf_get_local_storage: ['CGROUP_STORAGE', 'PERCPU_CGROUP_STORAGE'],
  bpf_sk_select_reuseport: ['REUSEPORT_SOCKARRAY', 'SOCKMAP', 'SOCKHASH'],
  bpf_map_pop_elem: ['QUEUE', 'STACK'],
  bpf_map_peek_elem: ['QUEUE', 'STACK', 'BLOOM_FILTER'],
  bpf_map_push_elem: ['QUEUE', 'STACK', 'BLOOM_FILTER'],
  bpf_map_lookup_percpu_elem: ['PERCPU_ARRAY', 'PERCPU_HASH', 'LRU_PERCPU_HASH'],
  bpf_sk_storage_get: ['SK_STORAGE'],
  bpf_sk_storage_delete: ['SK_STORAGE'],
  bpf_inode_storage_get: ['INODE_STORAGE'],
  bpf_inode_storage_delete: ['INODE_STORAGE'],
  bpf_task_storage_get: ['TASK_STORAGE'],
  bpf_task_storage_delete: ['TASK_STORAGE'],
  bpf_cgrp_storage_get: ['CGRP_STORAGE'],
  bpf_cgrp_storage_delete: ['CGRP_STORAGE'],
};

/** What to call on a map of this type instead (for the message). */
const USE_INSTEAD: Record<string, string> = {
  RINGBUF: 'bpf_ringbuf_output() or bpf_ringbuf_reserve()/bpf_ringbuf_submit()',
  PERF_EVENT_ARRAY: 'bpf_perf_event_output()',
  PROG_ARRAY: 'bpf_tail_call()',
  STACK_TRACE: 'bpf_get_stackid()',
  QUEUE: 'bpf_map_push_elem()/bpf_map_pop_elem()/bpf_map_peek_elem()',
  STACK: 'bpf_map_push_elem()/bpf_map_pop_elem()/bpf_map_peek_elem()',
  BLOOM_FILTER: 'bpf_map_push_elem()/bpf_map_peek_elem()',
};

/** `BPF_MAP_TYPE_RINGBUF` -> `RINGBUF` (undefined for anything else, e.g. a macro). */
function mapTypeName(type: string | undefined): string | undefined {
  const t = /^\s*BPF_MAP_TYPE_([A-Z_]+)\s*$/.exec(type ?? '')?.[1];
  return t && MAP_TYPES.includes(t) ? t : undefined;
}

/** Helpers whose map is the second argument (after the context); every other map helper takes it first. */
const MAP_SECOND = new Set([
  'bpf_perf_event_output',
  'bpf_skb_output',
  'bpf_xdp_output',
  'bpf_tail_call',
  'bpf_get_stackid',
  'bpf_skb_under_cgroup',
  'bpf_sk_redirect_map',
  'bpf_msg_redirect_map',
  'bpf_sock_map_update',
  'bpf_sk_redirect_hash',
  'bpf_msg_redirect_hash',
  'bpf_sock_hash_update',
  'bpf_sk_select_reuseport',
]);

/** Every helper either table names, and the bpf_map_* helpers (their map comes first). */
const MAP_HELPERS = new Set([...Object.keys(HELPER_NEEDS), ...Object.values(MAP_ONLY).flat()]);

/** The 1-based line where the file defines a map (for a message). */
function lineOfMap(doc: BpfDocument, name: string): number {
  const m = doc.maps.find((x) => x.name === name);
  return m ? doc.positionAt(m.node.startIndex).line + 1 : 0;
}

/** Program types whose programs may not use a map holding a bpf_spin_lock (the kernel's is_tracing_prog_type(), and socket filters). */
const NO_LOCK_PROGRAMS: Record<string, string> = {
  kprobe: 'tracing progs cannot use bpf_spin_lock yet',
  tracepoint: 'tracing progs cannot use bpf_spin_lock yet',
  perf_event: 'tracing progs cannot use bpf_spin_lock yet',
  raw_tracepoint: 'tracing progs cannot use bpf_spin_lock yet',
  raw_tracepoint_writable: 'tracing progs cannot use bpf_spin_lock yet',
  socket_filter: 'socket filter progs cannot use bpf_spin_lock yet',
};

/** The struct of a map's value when it holds a bpf_spin_lock (directly), with the lock's member name. */
function lockOf(doc: BpfDocument, valueType: string | undefined): string | undefined {
  const value = /^struct\s+(\w+)$/.exec(valueType?.trim() ?? '')?.[1];
  if (!value) return undefined;
  const fields = doc.structs.get(value)?.fields;
  return fields
    ? fields.find((f) => /^struct\s+bpf_spin_lock$/.test(f.type.trim()))?.name
    : structLayouts(doc)
        .struct(value)
        ?.members.find((f) => /^struct\s+bpf_spin_lock$/.test(f.type.trim()))?.name;
}

/**
 * A map whose value holds a bpf_spin_lock, used (`&map`) in a kprobe, tracepoint, perf_event or raw
 * tracepoint program (or a socket filter), or in a function one of them calls: the verifier refuses the
 * map in such programs at its first use ("tracing progs cannot use bpf_spin_lock yet"), lock taken or not.
 */
function lockInTracing(
  doc: BpfDocument,
  fn: Node,
  programs: readonly BpfProgram[],
  report: (d: RuleDiagnostic) => void,
): void {
  const progs = programs
    .map((p) => ({ p, why: p.def ? NO_LOCK_PROGRAMS[p.def.programType] : undefined }))
    .filter((x) => x.why);
  if (!progs.length || !doc.text.includes('bpf_spin_lock')) return;
  const text = doc.text.slice(fn.startIndex, fn.endIndex);
  const locked = [...fileMaps(doc), ...headerMaps(doc)]
    .map((m) => ({ m, lock: lockOf(doc, m.valueType) }))
    .filter((x) => x.lock && new RegExp(`&\\s*${x.m.name}\\b`).test(text));
  for (const { m, lock } of locked) {
    const at = new RegExp(`&\\s*${m.name}\\b`).exec(text)!;
    const { p, why } = progs[0];
    report({
      start: fn.startIndex + at.index,
      end: fn.startIndex + at.index + at[0].length,
      severity: 'error',
      message:
        `'${m.name}' holds a bpf_spin_lock in its value ('${lock}'), and ${p.name} is a ${p.def!.programType} program (SEC("${p.section}")), ` +
        `which may not use such a map: the verifier rejects it at this use ("${why}"), whether the lock is taken or not. ` +
        `Use a tp_btf/fentry program (BPF_PROG_TYPE_TRACING may take locks), or keep the lock out of this map's value ` +
        `(atomic __sync_fetch_and_add() on the fields, or a per-CPU map).`,
    });
    return;
  }
}

export const wrongMapTypeRule: Rule = {
  id: 'wrong-map-type',
  description: 'a helper given a map of a type it does not work on (perf_event_output on a ring buffer, ...)',
  ownFunctionOnly: true,
  functionFilter: /\bbpf_/,
  // Maps defined in the file's headers count too.
  fileKey: (doc) => documentHeaderDeclarations(doc).key,
  // A bpf_spin_lock in the value of a map type that cannot hold one (per-CPU maps, LRU hashes, ...):
  // the kernel refuses to create the map with its BTF (map_check_btf(): EOPNOTSUPP), libbpf creates it
  // again without BTF, and the verifier then rejects every bpf_spin_lock() on it ("map 'x' has to have
  // BTF in order to use bpf_spin_lock"). Judged on every analysis, cheaply: only files that call
  // bpf_spin_lock() and define a map whose value struct holds one.
  run({ doc, report }) {
    if (!doc.text.includes('bpf_spin_lock(')) return;
    // The file's maps as cached by the top-level text; the document structure (for the map's `type`
    // field's place) only when one of them is of a type that cannot hold a lock.
    if (!fileMaps(doc).some((m) => m.type && !LOCKABLE.has(mapTypeName(m.type) ?? 'HASH'))) return;
    for (const m of doc.maps) {
      const t = mapTypeName(m.type);
      const value = /^struct\s+(\w+)$/.exec(m.valueType?.trim() ?? '')?.[1];
      if (!t || !value || LOCKABLE.has(t)) continue;
      const fields = doc.structs.get(value)?.fields;
      const lock = fields
        ? fields.find((f) => /^struct\s+bpf_spin_lock$/.test(f.type.trim()))?.name
        : structLayouts(doc)
            .struct(value)
            ?.members.find((f) => /^struct\s+bpf_spin_lock$/.test(f.type.trim()))?.name;
      if (!lock) continue;
      const mark = m.fields.get('type');
      report({
        start: mark?.start ?? m.node.startIndex,
        end: mark?.end ?? m.node.endIndex,
        severity: 'error',
        message:
          `'${m.name}' is a ${t} map, which cannot hold a bpf_spin_lock (struct ${value}'s '${lock}'): the kernel refuses ` +
          `to create it with its BTF, libbpf creates it without, and the verifier rejects bpf_spin_lock() on its values ` +
          `("map '${m.name}' has to have BTF in order to use bpf_spin_lock"). Locks work in HASH, ARRAY and local-storage maps: ` +
          `use one of those${/PERCPU/.test(t) ? ' (a per-CPU value needs no lock: drop the lock instead)' : ''}.`,
      });
    }
  },
  runFunction({ doc, fn, report, programs }) {
    lockInTracing(doc, fn, programs, report);
    // Where each map is defined: a header's name, or its node in the file (a line number, computed when reported).
    const maps = new Map<string, { name: string; where: string; type: string }>();
    for (const m of headerMaps(doc)) {
      const t = mapTypeName(m.type);
      if (t) maps.set(m.name, { name: m.name, where: m.file.split('/').pop()!, type: t });
    }
    for (const m of fileMaps(doc)) {
      const t = mapTypeName(m.type);
      if (t) maps.set(m.name, { name: m.name, where: 'file', type: t });
    }
    if (!maps.size) return;
    const defined = functionsByName(doc);
    for (const c of syntaxIndex(doc).callsIn(fn)) {
      if (!c.name.startsWith('bpf_') || defined.has(c.name)) continue;
      if (!MAP_HELPERS.has(c.name) && !/^bpf_map_/.test(c.name)) continue;
      const needs = HELPER_NEEDS[c.name];
      const idx = MAP_SECOND.has(c.name) ? 1 : 0;
      const arg = callArgs(c.node)[idx];
      if (!arg) continue;
      let a = stripCasts(stripParens(arg));
      if (ty(a) === 'pointer_expression' && opOf(a) === '&') a = stripParens(field(a, 'argument') ?? a);
      if (ty(a) !== 'identifier') continue;
      const m = maps.get(a.text);
      if (!m) continue;
      const only = MAP_ONLY[m.type];
      const wrong = (needs && !needs.includes(m.type)) || (only && !only.includes(c.name));
      if (!wrong) continue;
      const h = helperByName(c.name);
      const want = needs
        ? `${c.name}() needs ${needs.map((t) => `a BPF_MAP_TYPE_${t}`).join(' or ')} map`
        : `a BPF_MAP_TYPE_${m.type} map only works with ${only!.map((x) => `${x}()`).join(', ')}`;
      const instead = USE_INSTEAD[m.type];
      const keyless = ['RINGBUF', 'USER_RINGBUF', 'QUEUE', 'STACK', 'BLOOM_FILTER'].includes(m.type);
      const said =
        c.name === 'bpf_tail_call'
          ? '"expected prog array map for tail call"'
          : `"cannot pass map_type ${MAP_TYPES.indexOf(m.type)} into func ${c.name}${h ? `#${h.id}` : ''}"` +
            (keyless && /^bpf_map_(lookup|update|delete)_elem$/.test(c.name)
              ? ', or first "invalid zero-sized read": the map has no key'
              : '');
      report({
        start: arg.startIndex,
        end: arg.endIndex,
        severity: 'error',
        message:
          `${m.name} is a BPF_MAP_TYPE_${m.type} map (${m.where !== 'file' ? m.where : `line ${lineOfMap(doc, m.name)}`}), and ${want}: the verifier rejects the program ` +
          `(${said}). ` +
          (instead && !(only ?? []).includes(c.name)
            ? `Use ${instead} on it, or pass a map of the type ${c.name}() needs.`
            : `Pass a map of the type ${c.name}() needs, or change ${m.name}'s type.`),
      });
    }
  },
};
