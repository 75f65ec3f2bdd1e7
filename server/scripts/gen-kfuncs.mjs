#!/usr/bin/env node
// Generates server/data/kfuncs.json: the kfuncs of the running kernel, from its BTF.
//
// Usage: node server/scripts/gen-kfuncs.mjs [btf file] [out.json]
//   defaults: /sys/kernel/btf/vmlinux and server/data/kfuncs.json; needs bpftool.
//
// A kfunc is a FUNC that carries a DECL_TAG "bpf_kfunc" (pahole adds the tag for every function
// in a kfunc BTF id set). Its prototype is rendered as C from the FUNC_PROTO. The flags that the
// kernel keeps in its BTF id sets (KF_ACQUIRE, KF_RELEASE, KF_RET_NULL, KF_SLEEPABLE) are not in BTF, so they
// are curated below from the kernel sources (kernel/bpf/helpers.c, cpumask.c, net/netfilter/...)
// and applied only to kfuncs this kernel has. So are KF_TRUSTED_ARGS and KF_RCU (what pointer arguments
// must be: trusted, or at least RCU-protected), which 7.x sources drop because every kfunc pointer
// argument is trusted there.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const btfPath = process.argv[2] ?? '/sys/kernel/btf/vmlinux';
const outPath = process.argv[3] ?? join(here, '..', 'data', 'kfuncs.json');

/** KF_RET_NULL: the result must be NULL-checked before use. (bpf_iter_*_next are added by pattern.) */
const RET_NULL = new Set([
  'bpf_task_acquire',
  'bpf_task_from_pid',
  'bpf_task_from_vpid',
  'bpf_cgroup_acquire',
  'bpf_cgroup_from_id',
  'bpf_cgroup_ancestor',
  'bpf_task_get_cgroup1',
  'bpf_obj_new_impl',
  'bpf_percpu_obj_new_impl',
  'bpf_refcount_acquire_impl',
  'bpf_list_pop_front',
  'bpf_list_pop_back',
  'bpf_list_front',
  'bpf_list_back',
  'bpf_rbtree_remove',
  'bpf_rbtree_first',
  'bpf_rbtree_root',
  'bpf_rbtree_left',
  'bpf_rbtree_right',
  'bpf_dynptr_slice',
  'bpf_dynptr_slice_rdwr',
  'bpf_cpumask_create',
  'bpf_get_task_exe_file',
  'bpf_lookup_user_key',
  'bpf_lookup_system_key',
  'bpf_xdp_get_xfrm_state',
  'bpf_skb_ct_lookup',
  'bpf_xdp_ct_lookup',
  'bpf_skb_ct_alloc',
  'bpf_xdp_ct_alloc',
  'bpf_ct_insert_entry',
  'bpf_get_kmem_cache',
  'bpf_get_root_mem_cgroup',
  'bpf_get_mem_cgroup',
  'bpf_crypto_ctx_create',
  'bpf_crypto_ctx_acquire',
  'bpf_arena_alloc_pages',
]);

/** KF_ACQUIRE: the reference returned must be released by one of these on every path. */
const RELEASED_BY = {
  bpf_task_acquire: ['bpf_task_release'],
  bpf_task_from_pid: ['bpf_task_release'],
  bpf_task_from_vpid: ['bpf_task_release'],
  bpf_cgroup_acquire: ['bpf_cgroup_release'],
  bpf_cgroup_from_id: ['bpf_cgroup_release'],
  bpf_cgroup_ancestor: ['bpf_cgroup_release'],
  bpf_task_get_cgroup1: ['bpf_cgroup_release'],
  scx_bpf_task_cgroup: ['bpf_cgroup_release'],
  bpf_obj_new_impl: [
    'bpf_obj_drop_impl',
    'bpf_list_push_front_impl',
    'bpf_list_push_back_impl',
    'bpf_rbtree_add_impl',
    'bpf_kptr_xchg',
  ],
  bpf_refcount_acquire_impl: [
    'bpf_obj_drop_impl',
    'bpf_list_push_front_impl',
    'bpf_list_push_back_impl',
    'bpf_rbtree_add_impl',
    'bpf_kptr_xchg',
  ],
  bpf_list_pop_front: [
    'bpf_obj_drop_impl',
    'bpf_list_push_front_impl',
    'bpf_list_push_back_impl',
    'bpf_rbtree_add_impl',
    'bpf_kptr_xchg',
  ],
  bpf_list_pop_back: [
    'bpf_obj_drop_impl',
    'bpf_list_push_front_impl',
    'bpf_list_push_back_impl',
    'bpf_rbtree_add_impl',
    'bpf_kptr_xchg',
  ],
  bpf_rbtree_remove: [
    'bpf_obj_drop_impl',
    'bpf_list_push_front_impl',
    'bpf_list_push_back_impl',
    'bpf_rbtree_add_impl',
    'bpf_kptr_xchg',
  ],
  bpf_percpu_obj_new_impl: ['bpf_percpu_obj_drop_impl', 'bpf_kptr_xchg'],
  bpf_cpumask_create: ['bpf_cpumask_release', 'bpf_kptr_xchg'],
  bpf_cpumask_acquire: ['bpf_cpumask_release', 'bpf_kptr_xchg'],
  bpf_get_task_exe_file: ['bpf_put_file'],
  bpf_lookup_user_key: ['bpf_key_put'],
  bpf_lookup_system_key: ['bpf_key_put'],
  bpf_xdp_get_xfrm_state: ['bpf_xdp_xfrm_state_release'],
  bpf_skb_ct_lookup: ['bpf_ct_release'],
  bpf_xdp_ct_lookup: ['bpf_ct_release'],
  bpf_skb_ct_alloc: ['bpf_ct_insert_entry', 'bpf_ct_release'],
  bpf_xdp_ct_alloc: ['bpf_ct_insert_entry', 'bpf_ct_release'],
  bpf_ct_insert_entry: ['bpf_ct_release'],
  bpf_get_root_mem_cgroup: ['bpf_put_mem_cgroup'],
  bpf_get_mem_cgroup: ['bpf_put_mem_cgroup'],
  bpf_crypto_ctx_create: ['bpf_crypto_ctx_release', 'bpf_kptr_xchg'],
  bpf_crypto_ctx_acquire: ['bpf_crypto_ctx_release', 'bpf_kptr_xchg'],
  scx_bpf_get_idle_cpumask: ['scx_bpf_put_idle_cpumask'],
  scx_bpf_get_idle_smtmask: ['scx_bpf_put_idle_cpumask'],
  scx_bpf_get_online_cpumask: ['scx_bpf_put_cpumask'],
  scx_bpf_get_possible_cpumask: ['scx_bpf_put_cpumask'],
};

/** Kfuncs that open a section (lock, RCU, no preemption, irqs off) to be closed on every path. */
const UNLOCKED_BY = {
  bpf_rcu_read_lock: ['bpf_rcu_read_unlock'],
  bpf_preempt_disable: ['bpf_preempt_enable'],
  bpf_local_irq_save: ['bpf_local_irq_restore'],
  bpf_res_spin_lock: ['bpf_res_spin_unlock'], // held only when it returns 0
  bpf_res_spin_lock_irqsave: ['bpf_res_spin_unlock_irqrestore'],
};

const dump = JSON.parse(
  execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', btfPath], {
    maxBuffer: 512 * 1024 * 1024,
  }).toString(),
);
const types = new Map(dump.types.map((t) => [t.id, t]));

const named = (t) => (t.name && t.name !== '(anon)' ? t.name : '');

/** Renders type `id` as a C declaration of `inner` (a declarator such as "*p" or "name[4]"). */
function decl(id, inner = '') {
  const join = (base) =>
    inner
      ? `${base}${inner.startsWith('[') || (inner.startsWith('(') && !inner.startsWith('(*')) ? '' : ' '}${inner}`
      : base;
  if (!id) return join('void');
  const t = types.get(id);
  if (!t) return join(`<type ${id}>`);
  switch (t.kind) {
    case 'INT':
    case 'FLOAT':
    case 'TYPEDEF':
      return join(t.name);
    case 'STRUCT':
      return join(`struct ${named(t) || '{...}'}`);
    case 'UNION':
      return join(`union ${named(t) || '{...}'}`);
    case 'ENUM':
    case 'ENUM64':
      return join(`enum ${named(t) || '{...}'}`);
    case 'FWD':
      return join(`${t.fwd_kind === 'union' ? 'union' : 'struct'} ${t.name}`);
    case 'CONST':
    case 'VOLATILE': {
      const q = t.kind === 'CONST' ? 'const' : 'volatile';
      const target = types.get(t.type_id);
      return target?.kind === 'PTR' ? decl(t.type_id, `${q} ${inner}`.trim()) : `${q} ${decl(t.type_id, inner)}`;
    }
    case 'RESTRICT':
    case 'TYPE_TAG':
      return decl(t.type_id, inner);
    case 'PTR': {
      const target = types.get(t.type_id);
      const wrap = target && (target.kind === 'FUNC_PROTO' || target.kind === 'ARRAY');
      return decl(t.type_id, wrap ? `(*${inner})` : `*${inner}`);
    }
    case 'ARRAY':
      return decl(t.type_id, `${inner}[${t.nr_elems}]`);
    case 'FUNC_PROTO':
      return decl(t.ret_type_id, `${inner}(${params(t).join(', ') || 'void'})`);
    default:
      return join(t.name || t.kind);
  }
}

function params(proto) {
  return proto.params.map((p) => {
    if (!p.type_id) return '...';
    const n = p.name && p.name !== '(anon)' ? p.name : '';
    return decl(p.type_id, n);
  });
}

// KF_SLEEPABLE kfuncs (kernel/bpf/helpers.c, fs/bpf_fs_kfuncs.c, kernel/trace/bpf_trace.c,
// kernel/bpf/arena.c): the verifier refuses them in programs that are not sleepable.
const SLEEPABLE = new Set([
  'bpf_copy_from_user_str',
  'bpf_copy_from_user_task_str',
  'bpf_get_file_xattr',
  'bpf_get_dentry_xattr',
  'bpf_set_dentry_xattr',
  'bpf_remove_dentry_xattr',
  'bpf_lookup_user_key',
  'bpf_verify_pkcs7_signature',
  'bpf_arena_alloc_pages',
  'bpf_arena_free_pages',
]);

// KF_TRUSTED_ARGS (6.12 sources: kernel/bpf/, net/core/filter.c, fs/bpf_fs_kfuncs.c; bpf_send_signal_task
// seen refusing an RCU pointer on 6.18): every pointer argument must be trusted or referenced ("R1 must be
// referenced or trusted"). KF_RELEASE kfuncs are checked the same way (is_kfunc_trusted_args()).
const TRUSTED_ARGS = new Set([
  'bpf_arena_alloc_pages',
  'bpf_arena_free_pages',
  'bpf_cpumask_acquire',
  'bpf_dynptr_from_skb',
  'bpf_get_dentry_xattr',
  'bpf_get_file_xattr',
  'bpf_get_task_exe_file',
  'bpf_iter_css_new',
  'bpf_iter_css_task_new',
  'bpf_iter_task_new',
  'bpf_map_sum_elem_count',
  'bpf_path_d_path',
  'bpf_send_signal_task',
  'bpf_sk_assign_tcp_reqsk',
  'bpf_sock_destroy',
]);

// KF_RCU (same sources, and 7.2's for the kfuncs added since): pointer arguments may also be RCU-protected
// (a task's real_parent or group_leader read in a non-sleepable program), not an untrusted walk ("R1 must
// be a rcu pointer").
const RCU_ARGS = new Set([
  'bpf_cgroup_acquire',
  'bpf_cgroup_ancestor',
  'bpf_cgroup_read_xattr',
  'bpf_cpumask_and',
  'bpf_cpumask_any_and_distribute',
  'bpf_cpumask_any_distribute',
  'bpf_cpumask_clear',
  'bpf_cpumask_clear_cpu',
  'bpf_cpumask_copy',
  'bpf_cpumask_empty',
  'bpf_cpumask_equal',
  'bpf_cpumask_first',
  'bpf_cpumask_first_and',
  'bpf_cpumask_first_zero',
  'bpf_cpumask_full',
  'bpf_cpumask_intersects',
  'bpf_cpumask_or',
  'bpf_cpumask_populate',
  'bpf_cpumask_set_cpu',
  'bpf_cpumask_setall',
  'bpf_cpumask_subset',
  'bpf_cpumask_test_and_clear_cpu',
  'bpf_cpumask_test_and_set_cpu',
  'bpf_cpumask_test_cpu',
  'bpf_cpumask_weight',
  'bpf_cpumask_xor',
  'bpf_crypto_ctx_acquire',
  'bpf_crypto_decrypt',
  'bpf_crypto_encrypt',
  'bpf_iter_task_vma_new',
  'bpf_refcount_acquire_impl',
  'bpf_task_acquire',
  'bpf_task_get_cgroup1',
  'bpf_task_under_cgroup',
]);

const kfuncs = [];
for (const t of dump.types) {
  if (t.kind !== 'DECL_TAG' || t.name !== 'bpf_kfunc' || t.component_idx !== -1) continue;
  const fn = types.get(t.type_id);
  const proto = fn && types.get(fn.type_id);
  if (!fn || fn.kind !== 'FUNC' || !proto || proto.kind !== 'FUNC_PROTO') continue;
  const name = fn.name;
  const args = proto.params.map((p) =>
    p.type_id
      ? {
          type: decl(p.type_id),
          name: p.name && p.name !== '(anon)' ? p.name : '',
        }
      : { type: '...', name: '...' },
  );
  const entry = {
    name,
    prototype: decl(proto.ret_type_id, `${name}(${params(proto).join(', ') || 'void'})`),
    returnType: decl(proto.ret_type_id),
    args,
  };
  if (RET_NULL.has(name) || /^bpf_iter_\w+_next$/.test(name)) entry.mayReturnNull = true;
  if (SLEEPABLE.has(name)) entry.sleepable = true;
  if (TRUSTED_ARGS.has(name)) entry.trustedArgs = true;
  if (RCU_ARGS.has(name)) entry.rcuArgs = true;
  const iterNew = /^bpf_iter_(\w+)_new$/.exec(name);
  if (UNLOCKED_BY[name]) entry.unlockedBy = UNLOCKED_BY[name];
  if (RELEASED_BY[name]) entry.releasedBy = RELEASED_BY[name];
  else if (iterNew) entry.releasedBy = [`bpf_iter_${iterNew[1]}_destroy`];
  kfuncs.push(entry);
}
kfuncs.sort((a, b) => a.name.localeCompare(b.name));

const present = new Set(kfuncs.map((k) => k.name));
const releasers = new Set(Object.values(RELEASED_BY).flat());
for (const k of kfuncs) {
  if (releasers.has(k.name) && k.name !== 'bpf_kptr_xchg' && !/push|add_impl|insert_entry/.test(k.name))
    k.releases = true;
  if (/^bpf_iter_\w+_destroy$/.test(k.name)) k.releases = true;
  if (k.name === 'bpf_ct_insert_entry') k.releases = true; // releases the allocated entry, acquires the inserted one
  if (k.releasedBy) k.releasedBy = k.releasedBy.filter((r) => present.has(r) || r === 'bpf_kptr_xchg');
}

// The kernel release, when reading the running kernel's BTF.
const kernel = btfPath === '/sys/kernel/btf/vmlinux' ? release() : btfPath;
writeFileSync(outPath, JSON.stringify({ kernel, kfuncs }, null, 1) + '\n');
console.log(`${kfuncs.length} kfuncs of ${kernel} -> ${outPath}`);
