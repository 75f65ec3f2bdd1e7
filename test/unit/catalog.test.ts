// Unit tests of the BPF knowledge catalog (server/src/catalog) and of the data it reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  helpers,
  helperById,
  helperByName,
  helperAvailability,
  helpersAllowed,
  isGplOnly,
  kfuncByName,
  kfuncs,
  macroByName,
  macros,
  mapFields,
  mapFlagByName,
  mapFlags,
  mapTypeByName,
  mapTypes,
  programTypes,
  returnCodes,
  sectionFor,
  sections,
  setHelperAvailability,
  updateFlags,
} from '../../server/src/catalog/catalog';

test('helpers: every uapi helper is there with its id and docs', () => {
  const all = helpers();
  assert.ok(all.length >= 209, `only ${all.length} helpers`);
  assert.equal(helperByName('bpf_map_lookup_elem')?.id, 1);
  assert.equal(helperByName('bpf_get_stack')?.id, 67);
  assert.equal(helperByName('bpf_user_ringbuf_drain')?.id, 209);
  assert.equal(helperById(6)?.name, 'bpf_trace_printk');
  const ids = new Set(all.map((h) => h.id));
  assert.equal(ids.size, all.length, 'helper ids are unique');
  for (let id = 1; id <= 209; id++) assert.ok(ids.has(id), `helper id ${id} missing`);
  for (const h of all) {
    assert.ok(h.description.length > 0, `${h.name} has no description`);
    assert.ok(h.signature.includes(`${h.name}(`), `${h.name}: signature ${h.signature}`);
    assert.ok(!/^[ \t]/.test(h.description), `${h.name}: description is not de-indented`);
    assert.ok(!/^\t/m.test(h.description + '\n' + h.returns), `${h.name}: leading tab left in the text`);
  }
});

test('helpers: prototypes are split into return type and arguments', () => {
  const lookup = helperByName('bpf_map_lookup_elem')!;
  assert.equal(lookup.returnType, 'void *');
  assert.deepEqual(lookup.args, [
    { type: 'struct bpf_map *', name: 'map' },
    { type: 'const void *', name: 'key' },
  ]);
  assert.match(lookup.returns, /NULL/);
  const printk = helperByName('bpf_trace_printk')!;
  assert.equal(printk.args.at(-1)?.type, '...');
  assert.deepEqual(helperByName('bpf_ktime_get_ns')!.args, []);
  // Documented once per context: one entry, the other prototypes as overloads.
  assert.equal(helperByName('bpf_get_socket_cookie')!.overloads?.length, 3);
  // Paragraphs are kept.
  assert.match(helperByName('bpf_get_stack')!.description, /\n\n/);
});

test('helpers: NULL and reference annotations', () => {
  for (const n of [
    'bpf_map_lookup_elem',
    'bpf_sk_lookup_tcp',
    'bpf_ringbuf_reserve',
    'bpf_skc_to_tcp_sock',
    'bpf_task_storage_get',
  ]) {
    assert.equal(helperByName(n)?.mayReturnNull, true, n);
  }
  for (const n of ['bpf_get_current_task_btf', 'bpf_this_cpu_ptr', 'bpf_get_local_storage', 'bpf_ktime_get_ns']) {
    assert.notEqual(helperByName(n)?.mayReturnNull, true, n);
  }
  assert.deepEqual(helperByName('bpf_sk_lookup_tcp')?.releasedBy, ['bpf_sk_release']);
  assert.deepEqual(helperByName('bpf_ringbuf_reserve')?.releasedBy, ['bpf_ringbuf_submit', 'bpf_ringbuf_discard']);
  assert.deepEqual(helperByName('bpf_spin_lock')?.unlockedBy, ['bpf_spin_unlock']);
  assert.equal(helperByName('bpf_kptr_xchg')?.mayReturnNull, true);
  for (const h of helpers()) {
    for (const r of h.releasedBy ?? []) assert.ok(helperByName(r), `${h.name} released by unknown ${r}`);
  }
});

test('sections: libbpf names resolve to program types and context types', () => {
  const tp = sectionFor('tp/syscalls/sys_enter_openat')!;
  assert.equal(tp.programType, 'tracepoint');
  assert.equal(sectionFor('tracepoint/sched/sched_switch')?.programType, 'tracepoint');
  const xdp = sectionFor('xdp')!;
  assert.equal(xdp.programType, 'xdp');
  assert.equal(xdp.contextType, 'struct xdp_md *');
  assert.equal(sectionFor('xdp.frags')?.prefix, 'xdp.frags');
  assert.equal(sectionFor('xdp/devmap')?.attachType, 'xdp_devmap');
  assert.equal(sectionFor('kprobe/do_unlinkat')?.contextType, 'struct pt_regs *');
  assert.equal(sectionFor('kprobe')?.prefix, 'kprobe', 'a "+" entry also matches exactly');
  assert.equal(sectionFor('kretprobe/do_unlinkat')?.prefix, 'kretprobe');
  assert.equal(sectionFor('uprobe//usr/lib/libc.so.6:malloc')?.prefix, 'uprobe');
  assert.equal(sectionFor('uprobe.s/libc.so.6:malloc')?.sleepable, true);
  assert.equal(sectionFor('kprobe.multi/tcp_*')?.attachType, 'trace_kprobe_multi');
  assert.equal(sectionFor('raw_tp/sched_switch')?.contextType, 'struct bpf_raw_tracepoint_args *');
  assert.equal(sectionFor('tp_btf/sched_switch')?.programType, 'tracing');
  assert.equal(sectionFor('fentry/do_unlinkat')?.attachType, 'trace_fentry');
  assert.equal(sectionFor('lsm.s/file_open')?.sleepable, true);
  assert.equal(sectionFor('tc')?.contextType, 'struct __sk_buff *');
  assert.equal(sectionFor('tcx/ingress')?.attachType, 'tcx_ingress');
  assert.equal(sectionFor('cgroup/connect4')?.contextType, 'struct bpf_sock_addr *');
  assert.equal(sectionFor('cgroup_skb/egress')?.returnCodes, 'cgroup_skb_egress');
  assert.equal(sectionFor('sockops')?.contextType, 'struct bpf_sock_ops *');
  assert.equal(sectionFor('sk_msg')?.contextType, 'struct sk_msg_md *');
  assert.equal(sectionFor('?xdp')?.prefix, 'xdp', 'a leading "?" only disables autoload');
  // libbpf rejects these: exact names take no suffix, '+' names need a '/' separator.
  assert.equal(sectionFor('xdp/foo'), undefined);
  assert.equal(sectionFor('socketfoo'), undefined);
  assert.equal(sectionFor('kprobefoo'), undefined);
  assert.equal(sectionFor('nonsense'), undefined);
  assert.equal(sectionFor(''), undefined);
});

test('sections: table is consistent', () => {
  const types = new Set(programTypes());
  for (const t of ['xdp', 'sched_cls', 'kprobe', 'tracepoint', 'raw_tracepoint', 'tracing', 'lsm', 'cgroup_skb']) {
    assert.ok(types.has(t), t);
  }
  for (const s of sections()) {
    assert.equal(sectionFor(s.prefix), s, `${s.prefix} resolves to itself`);
    assert.ok(returnCodes(s.returnCodes), `${s.prefix}: return codes ${s.returnCodes}`);
    assert.ok(s.description.length > 10, s.prefix);
    assert.equal(s.argForm === '', !s.acceptsSuffix, s.prefix);
  }
});

test('helper availability: probed per program type', () => {
  const xdp = helpersAllowed('xdp')!;
  assert.ok(xdp.has('bpf_xdp_adjust_head'));
  assert.ok(xdp.has('bpf_map_lookup_elem'));
  assert.ok(!xdp.has('bpf_get_stack'));
  assert.ok(helpersAllowed('kprobe')!.has('bpf_get_stack'));
  assert.ok(!helpersAllowed('kprobe')!.has('bpf_xdp_adjust_head'));
  assert.ok(helpersAllowed('sched_cls')!.has('bpf_skb_store_bytes'));
  assert.ok(helpersAllowed('tracing'), 'tracing has a derived list');
  assert.equal(helpersAllowed('no_such_type'), undefined);
  // Verified by the probe: a non-GPL program is refused these.
  assert.ok(isGplOnly('bpf_probe_read_kernel'));
  assert.ok(isGplOnly('bpf_trace_printk'));
  assert.ok(!isGplOnly('bpf_map_lookup_elem'));
  // Every probed name is a documented helper (the probe names them from the kernel's BTF).
  for (const names of Object.values(helperAvailability().programTypes)) {
    for (const n of names) assert.ok(helperByName(n), `probed helper ${n} has no documentation`);
  }
  for (const n of helperAvailability().gplOnly) assert.ok(helperByName(n), n);
});

test('helper availability: replaceable at run time', () => {
  const bundled = helperAvailability();
  try {
    setHelperAvailability({
      kernel: 'test',
      probedWith: 'test',
      programTypes: { xdp: ['bpf_get_stack'] },
      gplOnly: [],
      unprobed: [],
    });
    assert.ok(helpersAllowed('xdp')!.has('bpf_get_stack'));
    assert.equal(helpersAllowed('kprobe'), undefined);
    assert.ok(!isGplOnly('bpf_trace_printk'));
  } finally {
    setHelperAvailability(bundled);
  }
  assert.ok(!helpersAllowed('xdp')!.has('bpf_get_stack'));
});

test('return codes per program type', () => {
  const xdp = returnCodes('xdp')!;
  assert.deepEqual(
    xdp.values.map((v) => [v.name, v.value]),
    [
      ['XDP_ABORTED', 0],
      ['XDP_DROP', 1],
      ['XDP_PASS', 2],
      ['XDP_TX', 3],
      ['XDP_REDIRECT', 4],
    ],
  );
  const tc = returnCodes('sched_cls')!;
  for (const n of [
    'TC_ACT_OK',
    'TC_ACT_SHOT',
    'TC_ACT_REDIRECT',
    'TC_ACT_PIPE',
    'TC_ACT_RECLASSIFY',
    'TC_ACT_STOLEN',
    'TC_ACT_TRAP',
    'TC_ACT_UNSPEC',
  ]) {
    assert.ok(
      tc.values.some((v) => v.name === n),
      n,
    );
  }
  assert.deepEqual(returnCodes('cgroup_skb')?.verifierRange, [0, 1]);
  assert.deepEqual(returnCodes('cgroup_skb_egress')?.verifierRange, [0, 3]);
  assert.ok(returnCodes('sk_msg')?.values.some((v) => v.name === 'SK_PASS'));
  assert.ok(returnCodes('lsm'));
  assert.ok(returnCodes('socket_filter'));
});

test('maps: types, flags, fields, update flags', () => {
  assert.ok(mapTypes().length >= 30);
  const hash = mapTypeByName('BPF_MAP_TYPE_HASH')!;
  assert.equal(hash.perCpu, false);
  assert.equal(hash.batch, true);
  assert.equal(mapTypeByName('BPF_MAP_TYPE_PERCPU_ARRAY')?.perCpu, true);
  assert.ok(mapTypeByName('BPF_MAP_TYPE_RINGBUF'));
  assert.ok(mapFlags().length >= 8);
  assert.ok(mapFlagByName('BPF_F_NO_PREALLOC'));
  assert.ok(mapFlagByName('BPF_F_MMAPABLE'));
  const fields = new Map(mapFields().map((f) => [f.name, f]));
  for (const n of [
    'type',
    'key',
    'value',
    'key_size',
    'value_size',
    'max_entries',
    'map_flags',
    'pinning',
    'numa_node',
    'map_extra',
    'values',
  ]) {
    assert.ok(fields.has(n), n);
  }
  assert.equal(fields.get('key')?.macro, '__type');
  assert.equal(fields.get('max_entries')?.macro, '__uint');
  assert.equal(fields.get('values')?.macro, '__array');
  assert.deepEqual(
    updateFlags().map((f) => [f.name, f.value]),
    [
      ['BPF_ANY', 0],
      ['BPF_NOEXIST', 1],
      ['BPF_EXIST', 2],
      ['BPF_F_LOCK', 4],
    ],
  );
});

test('macros: libbpf macros with snippets', () => {
  assert.ok(macros().length >= 50);
  for (const n of [
    'BPF_CORE_READ',
    'bpf_printk',
    'BPF_PROG',
    'BPF_KPROBE',
    'bpf_for',
    'SEC',
    '__uint',
    '__type',
    '__array',
    '__always_inline',
    'PT_REGS_PARM1',
    'bpf_htons',
    'bpf_core_field_exists',
  ]) {
    assert.ok(macroByName(n), n);
  }
  assert.equal(macroByName('SEC')?.kind, 'function-like');
  assert.equal(macroByName('__always_inline')?.kind, 'attribute');
  assert.match(macroByName('BPF_CORE_READ')!.snippet, /\$\{1:/);
  assert.match(macroByName('bpf_printk')!.description, /5\.16/);
  for (const m of macros()) {
    assert.ok(m.description.length > 0, m.name);
    assert.ok(m.header.length > 0, m.name);
    // A snippet must be valid: balanced ${ } placeholders.
    assert.equal(
      (m.snippet.match(/\$\{/g) ?? []).length,
      (m.snippet.match(/\$\{\d+(:[^}]*)?\}/g) ?? []).length,
      m.name,
    );
  }
});

test('kfuncs: taken from this kernel BTF, with annotations', () => {
  assert.ok(kfuncs().length > 50, `only ${kfuncs().length} kfuncs`);
  const acquire = kfuncByName('bpf_task_acquire');
  if (acquire) {
    assert.equal(acquire.prototype, 'struct task_struct *bpf_task_acquire(struct task_struct *p)');
    assert.equal(acquire.mayReturnNull, true);
    assert.deepEqual(acquire.releasedBy, ['bpf_task_release']);
    assert.equal(kfuncByName('bpf_task_release')?.releases, true);
  }
  for (const k of kfuncs()) {
    assert.ok(k.prototype.includes(`${k.name}(`), k.prototype);
    for (const r of [...(k.releasedBy ?? []), ...(k.unlockedBy ?? [])]) {
      assert.ok(kfuncByName(r) || helperByName(r), `${k.name}: unknown ${r}`);
    }
  }
});
