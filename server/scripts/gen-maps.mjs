#!/usr/bin/env node
// Writes server/data/maps.json: BPF map types, map flags, `.maps` definition fields, update flags.
//
// Usage: node server/scripts/gen-maps.mjs [btf file] [out.json]
//   defaults: /sys/kernel/btf/vmlinux and server/data/maps.json; needs bpftool.
//
// The names and values come from the kernel's BTF (enum bpf_map_type, and the enum that holds
// BPF_F_NO_PREALLOC), so the list follows the kernel; the documentation is curated below from the
// kernel's Documentation/bpf/map_*.rst, the uapi header and libbpf's bpf_helpers.h. A type or flag
// the kernel has and this file does not document is reported and written with a placeholder.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const btfPath = process.argv[2] ?? '/sys/kernel/btf/vmlinux';
const outPath = process.argv[3] ?? join(here, '..', 'data', 'maps.json');

const U32 = 'u32 (4 bytes)';
// [since, perCpu, batch, key, value, description]
const TYPES = {
  HASH: [
    '3.19',
    false,
    true,
    'any fixed size',
    'any fixed size',
    'Hash table. Entries are preallocated unless BPF_F_NO_PREALLOC is set; lookups return a pointer into the map, so updates through it are seen by everyone.',
  ],
  ARRAY: [
    '3.19',
    false,
    true,
    `${U32}, the index`,
    'any fixed size',
    'Array indexed by a u32 from 0 to max_entries-1. Every element always exists (zero-filled) and cannot be deleted; global variables are arrays too.',
  ],
  PROG_ARRAY: [
    '4.2',
    false,
    false,
    `${U32}, the index`,
    'program fd from user space (4 bytes)',
    'Table of programs for bpf_tail_call: jumping to an index runs that program instead of returning.',
  ],
  PERF_EVENT_ARRAY: [
    '4.3',
    false,
    false,
    `${U32}, the CPU`,
    'perf event fd (4 bytes); leave key/value unset in BTF maps',
    'Per-CPU perf buffers, written with bpf_perf_event_output and read by user space (perf_buffer__poll). Prefer RINGBUF on 5.8+.',
  ],
  PERCPU_HASH: [
    '4.6',
    true,
    true,
    'any fixed size',
    'any fixed size (one copy per CPU)',
    "Hash table with one value per CPU: no locking between CPUs; user space reads all CPUs' values at once.",
  ],
  PERCPU_ARRAY: [
    '4.6',
    true,
    true,
    `${U32}, the index`,
    'any fixed size (one copy per CPU)',
    'Array with one value per CPU: the usual place for per-CPU counters and scratch buffers bigger than the 512-byte stack.',
  ],
  STACK_TRACE: [
    '4.6',
    false,
    false,
    `${U32}, the stack id`,
    'u64 array of instruction pointers (value_size = depth * 8)',
    'Stack traces stored by bpf_get_stackid, which returns the id (the key) to keep in another map.',
  ],
  CGROUP_ARRAY: [
    '4.8',
    false,
    false,
    `${U32}, the index`,
    'cgroup fd from user space (4 bytes)',
    'cgroups for bpf_skb_under_cgroup and bpf_current_task_under_cgroup.',
  ],
  LRU_HASH: [
    '4.10',
    false,
    true,
    'any fixed size',
    'any fixed size',
    'Hash table that evicts the least recently used entries when full, instead of failing the update.',
  ],
  LRU_PERCPU_HASH: [
    '4.10',
    true,
    true,
    'any fixed size',
    'any fixed size (one copy per CPU)',
    'LRU hash table with one value per CPU.',
  ],
  LPM_TRIE: [
    '4.11',
    false,
    false,
    'struct { u32 prefixlen; u8 data[]; } (struct bpf_lpm_trie_key_u8)',
    'any fixed size',
    'Longest-prefix-match trie for IP prefixes: a lookup returns the most specific matching entry. Needs BPF_F_NO_PREALLOC.',
  ],
  ARRAY_OF_MAPS: [
    '4.12',
    false,
    false,
    `${U32}, the index`,
    'inner map fd (4 bytes); declare the inner map with __array(values, ...)',
    'Array whose values are other maps (all shaped like the inner map template); lookups return the inner map.',
  ],
  HASH_OF_MAPS: [
    '4.12',
    false,
    false,
    'any fixed size',
    'inner map fd (4 bytes); declare the inner map with __array(values, ...)',
    'Hash table whose values are other maps; lookups return the inner map.',
  ],
  DEVMAP: [
    '4.14',
    false,
    false,
    `${U32}, the index`,
    'u32 ifindex, or struct bpf_devmap_val (ifindex + program fd)',
    'Network devices for XDP redirects with bpf_redirect_map; can broadcast with BPF_F_BROADCAST.',
  ],
  SOCKMAP: [
    '4.14',
    false,
    false,
    `${U32}, the index`,
    'socket fd from user space (4 or 8 bytes); socket cookie when read',
    'Sockets for sk_msg/sk_skb redirects (bpf_msg_redirect_map, bpf_sk_redirect_map) and socket splicing.',
  ],
  CPUMAP: [
    '4.15',
    false,
    false,
    `${U32}, the CPU`,
    'u32 queue size, or struct bpf_cpumap_val (queue size + program fd)',
    'CPUs for XDP redirects: the packet is processed further on the chosen CPU (RSS in software).',
  ],
  XSKMAP: [
    '4.18',
    false,
    false,
    `${U32}, the RX queue index`,
    'AF_XDP socket fd (4 bytes)',
    'AF_XDP sockets: bpf_redirect_map sends the packet to user space through the socket bound to the queue.',
  ],
  SOCKHASH: [
    '4.18',
    false,
    false,
    'any fixed size',
    'socket fd from user space (4 or 8 bytes)',
    'Like SOCKMAP, keyed by anything (e.g. the 4-tuple).',
  ],
  CGROUP_STORAGE: [
    '4.19',
    false,
    false,
    'struct bpf_cgroup_storage_key, or u64 cgroup id',
    'any fixed size',
    'Storage per (cgroup, attach type), reached with bpf_get_local_storage from cgroup programs. Deprecated: use CGRP_STORAGE.',
  ],
  REUSEPORT_SOCKARRAY: [
    '4.19',
    false,
    false,
    `${U32}, the index`,
    'socket fd from user space (4 or 8 bytes)',
    'SO_REUSEPORT sockets for bpf_sk_select_reuseport in sk_reuseport programs.',
  ],
  PERCPU_CGROUP_STORAGE: [
    '4.20',
    true,
    false,
    'struct bpf_cgroup_storage_key, or u64 cgroup id',
    'any fixed size (one copy per CPU)',
    'Per-CPU variant of CGROUP_STORAGE.',
  ],
  QUEUE: [
    '4.20',
    false,
    false,
    'none (key_size 0)',
    'any fixed size',
    'FIFO queue: bpf_map_push_elem, bpf_map_pop_elem, bpf_map_peek_elem.',
  ],
  STACK: [
    '4.20',
    false,
    false,
    'none (key_size 0)',
    'any fixed size',
    'LIFO stack: bpf_map_push_elem, bpf_map_pop_elem, bpf_map_peek_elem.',
  ],
  SK_STORAGE: [
    '5.2',
    false,
    false,
    'int socket fd from user space',
    'any fixed size',
    'Storage attached to each socket, reached with bpf_sk_storage_get; freed with the socket. Needs BPF_F_NO_PREALLOC.',
  ],
  DEVMAP_HASH: [
    '5.4',
    false,
    false,
    'u32, any value (e.g. the ifindex)',
    'u32 ifindex, or struct bpf_devmap_val',
    'Like DEVMAP, keyed by any u32 instead of a dense index.',
  ],
  STRUCT_OPS: [
    '5.6',
    false,
    false,
    'u32 0',
    'the kernel ops struct (e.g. struct tcp_congestion_ops)',
    'A kernel ops structure implemented by struct_ops programs; declared as a variable in SEC(".struct_ops") or SEC(".struct_ops.link").',
  ],
  RINGBUF: [
    '5.8',
    false,
    false,
    'none',
    'none; max_entries is the buffer size in bytes (a power of 2, a multiple of the page size)',
    'Ring buffer shared by all CPUs: bpf_ringbuf_reserve/submit or bpf_ringbuf_output, read by user space with ring_buffer__poll. Keeps event order.',
  ],
  INODE_STORAGE: [
    '5.10',
    false,
    false,
    'int file fd from user space',
    'any fixed size',
    'Storage attached to each inode, for BPF LSM programs (bpf_inode_storage_get). Needs BPF_F_NO_PREALLOC.',
  ],
  TASK_STORAGE: [
    '5.11',
    false,
    false,
    'int pidfd from user space',
    'any fixed size',
    'Storage attached to each task, reached with bpf_task_storage_get; freed with the task. Needs BPF_F_NO_PREALLOC.',
  ],
  BLOOM_FILTER: [
    '5.16',
    false,
    false,
    'none (key_size 0)',
    'any fixed size',
    'Bloom filter: bpf_map_push_elem adds a value, bpf_map_peek_elem tests it (false positives possible). map_extra sets the number of hash functions (1-15, default 5).',
  ],
  USER_RINGBUF: [
    '6.1',
    false,
    false,
    'none',
    'none; max_entries is the buffer size in bytes',
    'Ring buffer written by user space and drained by programs with bpf_user_ringbuf_drain.',
  ],
  CGRP_STORAGE: [
    '6.2',
    false,
    false,
    'int cgroup fd from user space',
    'any fixed size',
    'Storage attached to each cgroup, reached with bpf_cgrp_storage_get. Needs BPF_F_NO_PREALLOC.',
  ],
  ARENA: [
    '6.9',
    false,
    false,
    'none',
    'none; max_entries is the size in pages',
    'Memory shared between programs and user space (mmap), allocated with bpf_arena_alloc_pages; pointers in it carry __arena. Needs BPF_F_MMAPABLE.',
  ],
};

// [mapTypes or null, description]
const FLAGS = {
  BPF_F_NO_PREALLOC: [
    [
      'HASH',
      'PERCPU_HASH',
      'LRU_HASH',
      'LRU_PERCPU_HASH',
      'HASH_OF_MAPS',
      'LPM_TRIE',
      'SK_STORAGE',
      'INODE_STORAGE',
      'TASK_STORAGE',
      'CGRP_STORAGE',
    ],
    'Allocate elements on update instead of all at creation: saves memory for sparse maps. Required for LPM_TRIE and the local-storage maps.',
  ],
  BPF_F_NO_COMMON_LRU: [
    ['LRU_HASH', 'LRU_PERCPU_HASH'],
    'Keep one LRU list per CPU instead of a shared one: less contention, less precise eviction.',
  ],
  BPF_F_NUMA_NODE: [
    null,
    'Allocate the map on the NUMA node given by numa_node (libbpf sets it when the definition has numa_node).',
  ],
  BPF_F_RDONLY: [null, 'User space may only read the map through this fd.'],
  BPF_F_WRONLY: [null, 'User space may only write the map through this fd.'],
  BPF_F_STACK_BUILD_ID: [
    ['STACK_TRACE'],
    'Store (build id, file offset) pairs instead of instruction pointers, for symbolizing user stacks elsewhere.',
  ],
  BPF_F_ZERO_SEED: [
    ['HASH', 'PERCPU_HASH', 'LRU_HASH', 'LRU_PERCPU_HASH'],
    'Use a zero hash seed (deterministic iteration order; for testing only). Needs CAP_SYS_ADMIN.',
  ],
  BPF_F_RDONLY_PROG: [
    null,
    'Programs may only read the map; the verifier rejects writes. libbpf uses it for .rodata (const volatile globals).',
  ],
  BPF_F_WRONLY_PROG: [null, 'Programs may only write the map.'],
  BPF_F_CLONE: [['SK_STORAGE'], 'Copy this socket storage to the child socket when a listener accepts a connection.'],
  BPF_F_MMAPABLE: [
    ['ARRAY', 'ARENA'],
    'Allow user space to mmap the map (arrays, e.g. .bss/.data; required for ARENA).',
  ],
  BPF_F_PRESERVE_ELEMS: [['PERF_EVENT_ARRAY'], 'Keep the perf event fds when the map fd that set them is closed.'],
  BPF_F_INNER_MAP: [null, 'Allow inner maps of a map-in-map to differ in max_entries from the template.'],
  BPF_F_LINK: [['STRUCT_OPS'], 'Register the struct_ops map through a bpf_link (SEC(".struct_ops.link") sets it).'],
  BPF_F_PATH_FD: [null, 'Not a map flag: for BPF_OBJ_PIN/BPF_OBJ_GET, path_fd is a directory fd for a relative path.'],
  BPF_F_VTYPE_BTF_OBJ_FD: [
    ['STRUCT_OPS'],
    'value_type_btf_obj_fd names the module BTF that holds the struct_ops type.',
  ],
  BPF_F_TOKEN_FD: [null, 'Create the map with the BPF token given in map_token_fd (delegated permissions, 6.9+).'],
  BPF_F_SEGV_ON_FAULT: [
    ['ARENA'],
    'User-space accesses to arena pages that are not allocated fault with SIGSEGV instead of mapping a zero page.',
  ],
  BPF_F_NO_USER_CONV: [
    ['ARENA'],
    'Do not convert arena pointers to user-space addresses (the arena is not used by user space).',
  ],
};

const FIELDS = [
  [
    'type',
    '__uint',
    '__uint(type, BPF_MAP_TYPE_HASH);',
    '__uint(type, ${1:BPF_MAP_TYPE_HASH});',
    'The map type (BPF_MAP_TYPE_*). Required.',
  ],
  [
    'key',
    '__type',
    '__type(key, u32);',
    '__type(key, ${1:u32});',
    'The key type: its size becomes key_size and its BTF is recorded, so tools can print keys.',
  ],
  [
    'value',
    '__type',
    '__type(value, u64);',
    '__type(value, ${1:u64});',
    'The value type: its size becomes value_size and its BTF is recorded, so tools can print values.',
  ],
  [
    'key_size',
    '__uint',
    '__uint(key_size, sizeof(u32));',
    '__uint(key_size, sizeof(${1:u32}));',
    'Key size in bytes, when the key has no BTF type (e.g. perf event arrays, maps of sockets). Use key instead when you can.',
  ],
  [
    'value_size',
    '__uint',
    '__uint(value_size, sizeof(u32));',
    '__uint(value_size, sizeof(${1:u32}));',
    'Value size in bytes, when the value has no BTF type. Use value instead when you can.',
  ],
  [
    'max_entries',
    '__uint',
    '__uint(max_entries, 10240);',
    '__uint(max_entries, ${1:10240});',
    'Capacity: number of entries (pages for ARENA, buffer bytes for RINGBUF). libbpf sets it to the number of CPUs for PERF_EVENT_ARRAY when left out.',
  ],
  [
    'map_flags',
    '__uint',
    '__uint(map_flags, BPF_F_NO_PREALLOC);',
    '__uint(map_flags, ${1:BPF_F_NO_PREALLOC});',
    'Creation flags (BPF_F_*), or-ed together.',
  ],
  [
    'numa_node',
    '__uint',
    '__uint(numa_node, 0);',
    '__uint(numa_node, ${1:0});',
    'NUMA node to allocate the map on (libbpf adds BPF_F_NUMA_NODE).',
  ],
  [
    'pinning',
    '__uint',
    '__uint(pinning, LIBBPF_PIN_BY_NAME);',
    '__uint(pinning, ${1:LIBBPF_PIN_BY_NAME});',
    'LIBBPF_PIN_BY_NAME pins the map at /sys/fs/bpf/<map name> (or the pin_root_path option) and reuses an existing compatible pinned map; LIBBPF_PIN_NONE (0) is the default.',
  ],
  [
    'map_extra',
    '__uint',
    '__uint(map_extra, 3);',
    '__uint(map_extra, ${1:3});',
    'Type-specific 64-bit value: the number of hash functions of a BLOOM_FILTER, the user-space address of an ARENA (write __ulong for values over 32 bits, libbpf 1.3+).',
  ],
  [
    'values',
    '__array',
    '__array(values, struct inner_map);',
    '__array(values, ${1:struct inner_map});',
    'For ARRAY_OF_MAPS/HASH_OF_MAPS: the inner map template (a struct with its own __uint/__type fields; initial inner maps may be listed in the initializer). For PROG_ARRAY: __array(values, int (void *)) with programs listed in the initializer.',
  ],
];

const UPDATE_FLAGS = [
  ['BPF_ANY', 0, 'Create a new entry or update an existing one.'],
  [
    'BPF_NOEXIST',
    1,
    'Create a new entry only: fails with -EEXIST if the key exists. Not valid for arrays (every element always exists).',
  ],
  ['BPF_EXIST', 2, 'Update an existing entry only: fails with -ENOENT if the key is missing.'],
  [
    'BPF_F_LOCK',
    4,
    'Update the value under the bpf_spin_lock it contains (the value type must have a struct bpf_spin_lock field); combine with one of the above.',
  ],
];

// --- names and values from the kernel's BTF ---------------------------------------------------
let enums = [];
try {
  const dump = JSON.parse(
    execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', btfPath], {
      maxBuffer: 512 * 1024 * 1024,
    }).toString(),
  );
  enums = dump.types.filter((t) => t.kind === 'ENUM' || t.kind === 'ENUM64');
} catch (err) {
  console.error(`note: cannot read ${btfPath} with bpftool (${err.message}); using the curated lists only`);
}
const mapTypeEnum = enums.find((t) => t.name === 'bpf_map_type');
const flagEnum = enums.find((t) => t.values?.some((v) => v.name === 'BPF_F_NO_PREALLOC'));

const typeNames = mapTypeEnum
  ? mapTypeEnum.values
      // CGROUP_STORAGE and CGROUP_STORAGE_DEPRECATED share a value since 6.2: keep the usual name.
      .filter((v, _i, all) => !(v.name.endsWith('_DEPRECATED') && all.some((o) => o !== v && o.val === v.val)))
      .filter((v) => v.val > 0 && !v.name.startsWith('__'))
      .map((v) => v.name.replace('BPF_MAP_TYPE_', ''))
  : Object.keys(TYPES);
const types = typeNames.map((n) => {
  const d = TYPES[n];
  if (!d) console.error(`note: BPF_MAP_TYPE_${n} is not documented in gen-maps.mjs`);
  const [since, perCpu, batch, key, value, description] = d ?? [
    '?',
    n.includes('PERCPU'),
    false,
    '?',
    '?',
    'Not documented yet.',
  ];
  return {
    name: `BPF_MAP_TYPE_${n}`,
    description,
    key,
    value,
    perCpu,
    batch,
    since,
  };
});

const flagValues = new Map(flagEnum ? flagEnum.values.map((v) => [v.name, v.val]) : []);
const flags = Object.entries(FLAGS).map(([name, [mapTypes, description]]) => {
  const f = {
    name,
    value: flagValues.get(name) ?? 2 ** Object.keys(FLAGS).indexOf(name),
    description,
  };
  if (mapTypes) f.mapTypes = mapTypes.map((t) => `BPF_MAP_TYPE_${t}`);
  return f;
});
for (const name of flagValues.keys())
  if (!FLAGS[name]) console.error(`note: ${name} is not documented in gen-maps.mjs`);

const fields = FIELDS.map(([name, macro, example, snippet, description]) => ({
  name,
  macro,
  example,
  snippet,
  description,
}));
const updateFlags = UPDATE_FLAGS.map(([name, value, description]) => ({
  name,
  value,
  description,
}));

writeFileSync(outPath, JSON.stringify({ types, flags, fields, updateFlags }, null, 1) + '\n');
console.log(`${types.length} map types, ${flags.length} flags, ${fields.length} fields -> ${outPath}`);
