/**
 * Register values in words: `scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))` becomes
 * "number in [0, 4294967295]", `map_value_or_null(id=1,map=counts,ks=4,vs=8)` becomes "pointer to a
 * value of map counts (8 bytes), or NULL", `fp-8` becomes "stack pointer (fp-8)". For the stepper's
 * register panel; the kernel's text stays next to it.
 */

const TYPE_WORDS: Record<string, string> = {
  ctx: 'the program context',
  fp: 'stack pointer',
  map_ptr: 'map',
  map_value: 'pointer to a map value',
  map_key: 'pointer to a map key',
  pkt: 'packet pointer',
  pkt_end: 'packet end (data_end)',
  pkt_meta: 'packet metadata pointer',
  mem: 'pointer to memory',
  ringbuf_mem: 'ring buffer record',
  rdonly_mem: 'read-only memory',
  ptr_: 'pointer to a kernel object',
  trusted_ptr_: 'trusted pointer to a kernel object',
  rcu_ptr_: 'RCU-protected pointer',
  sock: 'socket',
  sock_common: 'socket (common part)',
  tcp_sock: 'TCP socket',
  dynptr_ptr: 'dynptr',
  func: 'function pointer',
  btf_id: 'BTF type id',
  buf: 'buffer',
};

/** `a=b=c` groups inside `scalar(...)`: every name gets the value. */
function fields(inner: string): Map<string, string> {
  const out = new Map<string, string>();
  let depth = 0;
  let start = 0;
  const parts: string[] = [];
  for (let i = 0; i <= inner.length; i++) {
    const c = inner[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if ((c === ',' && depth === 0) || i === inner.length) {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  for (const p of parts) {
    const bits = p.split('=');
    if (bits.length < 2) continue;
    const value = bits[bits.length - 1]!;
    for (const name of bits.slice(0, -1)) out.set(name.trim(), value.trim());
  }
  return out;
}

const num = (s: string | undefined): bigint | undefined => {
  if (s === undefined) return undefined;
  try {
    return BigInt(s);
  } catch {
    return undefined;
  }
};

const U64_MAX = (1n << 64n) - 1n;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;

function range(f: Map<string, string>): string | undefined {
  const smin = num(f.get('smin') ?? f.get('smin_value'));
  const smax = num(f.get('smax') ?? f.get('smax_value'));
  const umin = num(f.get('umin') ?? f.get('umin_value'));
  const umax = num(f.get('umax') ?? f.get('umax_value'));
  const lo =
    smin !== undefined && smin >= 0n ? smin : (umin ?? (smin !== undefined && smin > S64_MIN ? smin : undefined));
  let hi: bigint | undefined;
  if (umax !== undefined && umax < U64_MAX && (smin === undefined || smin >= 0n)) hi = umax;
  else if (smax !== undefined && smax < S64_MAX) hi = smax;
  if (lo === undefined && hi === undefined) return undefined;
  return `[${lo ?? (smin !== undefined && smin < 0n ? '-2^63' : '0')}, ${hi ?? 'max'}]`;
}

/** A plain-language reading of one register or stack value. */
export function readableValue(value: string): string {
  let v = value.trim();
  let precise = '';
  if (/^P(?:-?\d|0x|[a-z])/.test(v)) {
    precise = ' (precise: the verifier tracks its exact value)';
    v = v.slice(1);
  }
  if (/^-?\d+$/.test(v) || /^0x[0-9a-f]+$/i.test(v)) return `the number ${BigInt(v).toString()}${precise}`;
  if (/^inv(P?-?\d+)$/.test(v)) return `the number ${v.replace(/^invP?/, '')}${precise}`;
  if (/^fp-?\d+$/.test(v)) return `stack pointer (${v})`;
  if (/^[m0?rfsdi]+$/.test(v) && v.length <= 8) {
    const kinds: string[] = [];
    if (v.includes('m')) kinds.push('some bytes written');
    if (v.includes('0')) kinds.push('zeros');
    if (v.includes('?')) kinds.push('bytes never written');
    if (v.includes('d')) kinds.push('part of a dynptr');
    return `stack slot: ${kinds.join(', ') || v}`;
  }
  const p = v.indexOf('(');
  const type = (p >= 0 ? v.slice(0, p) : v).replace(/\[\d+\]$/, '');
  const inner = p >= 0 && v.endsWith(')') ? v.slice(p + 1, -1) : '';
  const f = fields(inner);
  if (type === 'scalar' || type === 'inv') {
    const r = range(f);
    return `${r ? `number in ${r}` : 'any number'}${precise}`;
  }
  if (type === 'fp') {
    const frame = /^fp\[(\d+)\]/.exec(v)?.[1];
    const r = range(f);
    return `stack pointer${frame ? ` of frame ${frame}` : ''} at fp${f.get('off') ?? ''}${r ? ` + a number in ${r}` : ''}`;
  }
  let orNull = type.endsWith('_or_null');
  let base = orNull ? type.slice(0, -'_or_null'.length) : type;
  if (base.startsWith('ptr_or_null_')) {
    orNull = true;
    base = `ptr_${base.slice('ptr_or_null_'.length)}`;
  }
  let words =
    TYPE_WORDS[base] ??
    (base.startsWith('ptr_')
      ? `pointer to ${base.slice(4)}`
      : base.startsWith('trusted_ptr_')
        ? `trusted pointer to ${base.slice(12)}`
        : base);
  const map = f.get('map');
  if (map && base === 'map_value')
    words = `pointer to a value of map ${map}${f.get('vs') ? ` (${f.get('vs')} bytes)` : ''}`;
  else if (map && base === 'map_ptr') words = `map ${map}`;
  const off = f.get('off');
  if (off && off !== '0' && base !== 'fp') words += ` + ${off}`;
  if (base === 'pkt' && f.get('r') !== undefined) words += `, ${f.get('r')} bytes checked against data_end`;
  if (f.get('ref_obj_id')) words += ` (a reference the program must release, id ${f.get('ref_obj_id')})`;
  return orNull ? `${words}, or NULL (check it before use)` : words;
}
