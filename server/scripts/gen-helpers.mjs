#!/usr/bin/env node
// Generates server/data/helpers.json from the helper documentation in the uapi header linux/bpf.h.
//
// Usage: node server/scripts/gen-helpers.mjs [path/to/bpf.h] [out.json]
//   defaults: /usr/include/linux/bpf.h and server/data/helpers.json
//
// The header holds one comment block per helper (signature line, "Description", "Return"), written
// with mixed indentation ("*\tDescription", "* \tDescription", "*     Description"). The parsing
// follows the kernel's own scripts/bpf_doc.py. Helper ids come from the __BPF_FUNC_MAPPER(FN)
// macro: FN(name) in uapi <= 6.1 (the id is the position), FN(name, id, ...) from 6.2 on.
//
// The NULL and reference annotations are curated from the kernel's verifier knowledge
// (RET_PTR_TO_*_OR_NULL return types and acquire/release helpers in net/core/filter.c,
// kernel/bpf/helpers.c, kernel/bpf/ringbuf.c ...), since the doc text does not say it reliably.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const headerPath = process.argv[2] ?? '/usr/include/linux/bpf.h';
const outPath = process.argv[3] ?? join(here, '..', 'data', 'helpers.json');

/** Helpers whose return value the verifier types as "..._or_null": the caller must check it. */
const MAY_RETURN_NULL = new Set([
  'bpf_map_lookup_elem', // RET_PTR_TO_MAP_VALUE_OR_NULL
  'bpf_map_lookup_percpu_elem',
  'bpf_sk_lookup_tcp', // RET_PTR_TO_SOCKET_OR_NULL
  'bpf_sk_lookup_udp',
  'bpf_skc_lookup_tcp', // RET_PTR_TO_SOCK_COMMON_OR_NULL
  'bpf_sk_fullsock', // RET_PTR_TO_SOCKET_OR_NULL
  'bpf_tcp_sock', // RET_PTR_TO_TCP_SOCK_OR_NULL
  'bpf_get_listener_sock',
  'bpf_skc_to_tcp6_sock', // RET_PTR_TO_BTF_ID_OR_NULL
  'bpf_skc_to_tcp_sock',
  'bpf_skc_to_tcp_timewait_sock',
  'bpf_skc_to_tcp_request_sock',
  'bpf_skc_to_udp6_sock',
  'bpf_skc_to_unix_sock',
  'bpf_skc_to_mptcp_sock',
  'bpf_sk_storage_get', // RET_PTR_TO_MAP_VALUE_OR_NULL
  'bpf_task_storage_get',
  'bpf_inode_storage_get',
  'bpf_cgrp_storage_get',
  'bpf_ringbuf_reserve', // RET_PTR_TO_RINGBUF_MEM_OR_NULL (RET_PTR_TO_MEM | PTR_MAYBE_NULL | MEM_RINGBUF)
  'bpf_dynptr_data', // RET_PTR_TO_DYNPTR_MEM_OR_NULL
  'bpf_kptr_xchg', // RET_PTR_TO_BTF_ID_OR_NULL: the old value may be NULL
  'bpf_per_cpu_ptr', // RET_PTR_TO_MEM_OR_BTF_ID_OR_NULL
  'bpf_sock_from_file', // RET_PTR_TO_BTF_ID_OR_NULL
]);
// Deliberately absent: bpf_get_local_storage (RET_PTR_TO_MAP_VALUE), bpf_get_current_task_btf
// (trusted BTF pointer) and bpf_this_cpu_ptr (RET_PTR_TO_MEM_OR_BTF_ID) never return NULL.

/** Helpers that acquire a reference the program must release on every path, and how. */
const RELEASED_BY = {
  bpf_sk_lookup_tcp: ['bpf_sk_release'],
  bpf_sk_lookup_udp: ['bpf_sk_release'],
  bpf_skc_lookup_tcp: ['bpf_sk_release'],
  bpf_ringbuf_reserve: ['bpf_ringbuf_submit', 'bpf_ringbuf_discard'],
  bpf_ringbuf_reserve_dynptr: ['bpf_ringbuf_submit_dynptr', 'bpf_ringbuf_discard_dynptr'],
};

/** Helpers that take a lock the program must drop on every path before it exits. */
const UNLOCKED_BY = {
  bpf_spin_lock: ['bpf_spin_unlock'],
};

const text = readFileSync(headerPath, 'utf8');
const lines = text.split('\n');

// --- helper ids -------------------------------------------------------------------------------
const mapperStart = lines.findIndex((l) => /^#define __BPF_FUNC_MAPPER\(FN/.test(l));
if (mapperStart < 0) throw new Error(`${headerPath}: no __BPF_FUNC_MAPPER macro`);
const ids = new Map();
let position = 0;
for (let i = mapperStart + 1; i < lines.length; i++) {
  const m = /^\s*FN\((\w+)(?:,\s*(\d+))?/.exec(lines[i]);
  if (!m) {
    if (/^\s*\/\*/.test(lines[i]) || !lines[i].trim().endsWith('\\')) break;
    continue;
  }
  const id = m[2] !== undefined ? Number(m[2]) : position;
  ids.set(`bpf_${m[1]}`, id);
  position++;
}

// --- documentation blocks ---------------------------------------------------------------------
const start = lines.findIndex((l) => l.includes('Start of BPF helper function descriptions'));
const end = lines.findIndex((l, i) => i > start && /^\s*\*\/\s*$/.test(l));
if (start < 0 || end < 0) throw new Error(`${headerPath}: helper description block not found`);

// Same shapes as scripts/bpf_doc.py.
const protoRe = /^ \* ?((.+?) (\**)(bpf_\w+)\((.*)\))$/;
const sectionRe = (title) => new RegExp(`^ \\* ?(?:\\t| {5,8})${title}$`);
const bodyRe = /^ \* ?(?:\t| {5,8})(?:\t| {8})(.*)$/;

function readBody(i) {
  const body = [];
  for (; i < end; i++) {
    const l = lines[i];
    if (l === ' *' || l === ' * ') {
      body.push('');
      continue;
    }
    const m = bodyRe.exec(l);
    if (!m) break;
    body.push(m[1]);
  }
  return { body, next: i };
}

/** Removes the common leading indentation (tabs count as one level), trims blank edges. */
function normalise(body) {
  while (body.length && body[body.length - 1] === '') body.pop();
  while (body.length && body[0] === '') body.shift();
  const out = body.map((l) => l.replace(/\s+$/, '').replace(/^( {8})+/, (s) => '\t'.repeat(s.length / 8)));
  let common = Infinity;
  for (const l of out) if (l) common = Math.min(common, /^\t*/.exec(l)[0].length);
  if (!Number.isFinite(common)) common = 0;
  return out
    .map((l) => l.slice(common).replace(/^\t+/, (t) => '  '.repeat(t.length)))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}

function parseArgs(argText) {
  if (argText.trim() === 'void') return [];
  return argText.split(',').map((raw) => {
    const a = raw.trim();
    if (a === '...') return { type: '...', name: '...' };
    const m = /^(.*?)(\**)\s*(\w+)$/.exec(a);
    if (!m) return { type: a, name: '' };
    const stars = m[2];
    return { type: `${m[1].trim()}${stars ? ' ' + stars : ''}`, name: m[3] };
  });
}

const helpers = [];
const documented = (name) => helpers.some((h) => h.name === name);
for (let i = start; i < end; i++) {
  const pm = protoRe.exec(lines[i]);
  if (!pm || !sectionRe('Description').test(lines[i + 1] ?? '')) continue;
  const [, signature, retBase, retStars, name, argText] = pm;
  const desc = readBody(i + 2);
  let returns = '';
  let next = desc.next;
  if (sectionRe('Return').test(lines[next] ?? '')) {
    const ret = readBody(next + 1);
    returns = normalise(ret.body);
    next = ret.next;
  }
  const id = ids.get(name);
  if (id === undefined) throw new Error(`${name}: documented but absent from __BPF_FUNC_MAPPER`);
  const returnType = `${retBase.trim()}${retStars ? ' ' + retStars : ''}`;
  const entry = {
    name,
    id,
    signature,
    returnType,
    args: parseArgs(argText),
    description: normalise(desc.body),
    returns,
  };
  i = next - 1;
  // A few helpers are documented once per context they accept (bpf_get_socket_cookie x4,
  // bpf_sk_assign x2): keep one entry per helper, the other prototypes as overloads.
  const first = helpers.find((h) => h.name === name);
  if (first) {
    const { name: _n, id: _i, ...variant } = entry;
    (first.overloads ??= []).push(variant);
    continue;
  }
  if (MAY_RETURN_NULL.has(name)) entry.mayReturnNull = true;
  if (RELEASED_BY[name]) entry.releasedBy = RELEASED_BY[name];
  if (UNLOCKED_BY[name]) entry.unlockedBy = UNLOCKED_BY[name];
  helpers.push(entry);
}

// Helpers newer than the installed header (uapi 6.1) but present in the kernels we target,
// documented as in the uapi header of the kernel that added them. Skipped when the header has them.
const NEWER = [
  {
    name: 'bpf_cgrp_storage_get',
    id: 210,
    signature: 'void *bpf_cgrp_storage_get(struct bpf_map *map, struct cgroup *cgroup, void *value, u64 flags)',
    returnType: 'void *',
    args: [
      { type: 'struct bpf_map *', name: 'map' },
      { type: 'struct cgroup *', name: 'cgroup' },
      { type: 'void *', name: 'value' },
      { type: 'u64', name: 'flags' },
    ],
    description:
      'Get a bpf_local_storage from the *cgroup*.\n\nLogically, it could be thought of as getting the value from\na *map* with *cgroup* as the **key**.  From this\nperspective,  the usage is not much different from\n**bpf_map_lookup_elem**\\ (*map*, **&**\\ *cgroup*) except this\nhelper enforces the key must be a cgroup struct and the map must also\nbe a **BPF_MAP_TYPE_CGRP_STORAGE**.\n\nIn reality, the local-storage value is embedded directly inside of the\n*cgroup* object itself, rather than being located in the\n**BPF_MAP_TYPE_CGRP_STORAGE** map. When the *cgroup* is freed, the\nlocal storage will also be freed.\n\nAn optional *flags* (**BPF_LOCAL_STORAGE_GET_F_CREATE**) can be\nused such that a new bpf_local_storage will be\ncreated if one does not exist.  *value* can be used\ntogether with **BPF_LOCAL_STORAGE_GET_F_CREATE** to specify\nthe initial value of a bpf_local_storage.  If *value* is\n**NULL**, the new bpf_local_storage will be zero initialized.',
    returns:
      'A bpf_local_storage pointer is returned on success.\n\n**NULL** if not found or there was an error in adding\na new bpf_local_storage.',
    since: '6.2',
  },
  {
    name: 'bpf_cgrp_storage_delete',
    id: 211,
    signature: 'long bpf_cgrp_storage_delete(struct bpf_map *map, struct cgroup *cgroup)',
    returnType: 'long',
    args: [
      { type: 'struct bpf_map *', name: 'map' },
      { type: 'struct cgroup *', name: 'cgroup' },
    ],
    description: 'Delete a bpf_local_storage from a *cgroup*.',
    returns: '0 on success.\n\n**-ENOENT** if the bpf_local_storage cannot be found.',
    since: '6.2',
  },
];
for (const h of NEWER) {
  if (documented(h.name)) continue;
  if (MAY_RETURN_NULL.has(h.name)) h.mayReturnNull = true;
  helpers.push(h);
}

helpers.sort((a, b) => a.id - b.id);
const undocumented = [...ids.keys()].filter((n) => n !== 'bpf_unspec' && !documented(n));
for (const n of [...MAY_RETURN_NULL, ...Object.keys(RELEASED_BY)]) {
  if (!documented(n)) console.error(`note: annotated helper ${n} is not in this header`);
}
if (undocumented.length) console.error(`note: helpers without documentation: ${undocumented.join(', ')}`);
writeFileSync(outPath, JSON.stringify(helpers, null, 1) + '\n');
console.log(`${helpers.length} helpers (max id ${Math.max(...helpers.map((h) => h.id))}) -> ${outPath}`);
