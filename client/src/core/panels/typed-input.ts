/**
 * Typed input for map edits: the text a user typed for a key or a value, parsed and checked against
 * the map's BTF type before anything is sent to map_update / map_delete. The result is the JSON the
 * agent reads back (big integers as decimal strings, enums by name, char arrays as strings).
 *
 * No `vscode` import.
 */
import type { TypeInfo } from './btf-types';

export type InputResult = { ok: true; value: unknown } | { ok: false; error: string };

/** What the map's key or value is, when no BTF type is known: only its size. */
export interface RawSize {
  size: number;
}

/**
 * Parses `text` for a key or value of type `type`: JSON (`{"a": 1}`, `[1,2]`, `"GREEN"`) or, for a
 * scalar or a char array, the bare text (`42`, `0x2a`, `GREEN`, `bash`).
 */
export function parseTypedInput(text: string, type: TypeInfo | RawSize, opts: { percpu?: number } = {}): InputResult {
  const t = text.trim();
  if (!t) return { ok: false, error: 'empty input' };
  let parsed: unknown;
  let isJson = true;
  try {
    // integers past 2^53 would lose digits in JSON.parse: keep their text (the agent reads decimal strings)
    parsed = JSON.parse(
      t.replace(/"(?:[^"\\]|\\.)*"|(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/g, (m) => (m.startsWith('"') ? m : `"${m}"`)),
    );
  } catch {
    isJson = false;
    parsed = t;
  }
  if (!('kind' in type)) return checkRaw(parsed, type.size);
  if (
    opts.percpu &&
    Array.isArray(parsed) &&
    parsed.length === opts.percpu &&
    !(type.kind === 'array' && type.length === opts.percpu)
  ) {
    const out: unknown[] = [];
    for (let i = 0; i < parsed.length; i++) {
      const r = checkValue(parsed[i], type, `cpu ${i}`);
      if (!r.ok) return r;
      out.push(r.value);
    }
    return { ok: true, value: out };
  }
  if (!isJson && (type.kind === 'struct' || type.kind === 'union' || (type.kind === 'array' && !isCharArray(type))))
    return { ok: false, error: `a ${type.name} is written as JSON (${example(type)})` };
  return checkValue(parsed, type, '');
}

/** Checks an already-parsed value (from JSON) against a type; returns the JSON to send. */
export function checkValue(v: unknown, type: TypeInfo, path: string): InputResult {
  const at = path ? ` at ${path}` : '';
  switch (type.kind) {
    case 'int': {
      if (type.bool && typeof v === 'boolean') return { ok: true, value: v ? 1 : 0 };
      if (type.char && type.size === 1 && typeof v === 'string' && [...v].length === 1 && !/^-?\d/.test(v))
        return { ok: true, value: v.codePointAt(0)! & 0xff };
      const n = toBigInt(v);
      if (n === undefined) return { ok: false, error: `expected an integer${at} (${type.name}), got ${show(v)}` };
      const bits = type.bits || type.size * 8;
      const [lo, hi] = type.signed
        ? [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n]
        : [0n, (1n << BigInt(bits)) - 1n];
      // hex input of a signed type is its bit pattern: 0xffffffff is -1 for an int
      const fromHex = typeof v === 'string' && /^0x/i.test(v.trim());
      const val = fromHex && type.signed && n > hi && n <= (1n << BigInt(bits)) - 1n ? BigInt.asIntN(bits, n) : n;
      if (val < lo || val > hi) return { ok: false, error: `${show(v)} does not fit ${type.name}${at} (${lo}..${hi})` };
      return { ok: true, value: jsonInt(val) };
    }
    case 'enum': {
      if (typeof v === 'string') {
        const hit = type.values.find((e) => e.name === v.trim());
        if (hit) return { ok: true, value: hit.name };
      }
      const n = toBigInt(v);
      if (n === undefined)
        return {
          ok: false,
          error: `expected one of ${type.values.map((e) => e.name).join(', ') || 'the enum values'} or an integer${at}, got ${show(v)}`,
        };
      const bits = type.size * 8;
      const [lo, hi] = type.signed
        ? [-(1n << BigInt(bits - 1)), (1n << BigInt(bits - 1)) - 1n]
        : [0n, (1n << BigInt(bits)) - 1n];
      if (n < lo || n > hi) return { ok: false, error: `${show(v)} does not fit ${type.name}${at}` };
      return { ok: true, value: jsonInt(n) };
    }
    case 'ptr': {
      const n = toBigInt(v);
      if (n === undefined || n < 0n || n > 0xffffffffffffffffn)
        return { ok: false, error: `expected an address (0x...)${at}, got ${show(v)}` };
      return { ok: true, value: `0x${n.toString(16)}` };
    }
    case 'float': {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isFinite(n))
        return { ok: false, error: `expected a number${at}, got ${show(v)}` };
      return { ok: true, value: n };
    }
    case 'array': {
      if (isCharArray(type) && typeof v === 'string') {
        const bytes = Buffer.byteLength(v, 'utf8');
        if (bytes > type.length)
          return { ok: false, error: `"${v}" is ${bytes} bytes: does not fit ${type.name}${at}` };
        return { ok: true, value: v };
      }
      if (!Array.isArray(v))
        return { ok: false, error: `expected an array of at most ${type.length} elements${at} (${type.name})` };
      if (v.length > type.length) return { ok: false, error: `${v.length} elements do not fit ${type.name}${at}` };
      const out: unknown[] = [];
      for (let i = 0; i < v.length; i++) {
        const r = checkValue(v[i], type.elem, `${path}[${i}]`);
        if (!r.ok) return r;
        out.push(r.value);
      }
      return { ok: true, value: out };
    }
    case 'struct':
    case 'union': {
      if (typeof v !== 'object' || v === null || Array.isArray(v))
        return { ok: false, error: `expected an object${at} (${type.name}), e.g. ${example(type)}` };
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const m = type.members.find((mm) => mm.name === k);
        if (!m)
          return {
            ok: false,
            error: `${type.name} has no member '${k}'${at} (members: ${type.members.map((mm) => mm.name).join(', ')})`,
          };
        const mt: TypeInfo =
          m.bitSize && m.type.kind === 'int'
            ? { ...m.type, bits: m.bitSize, name: `${m.type.name}:${m.bitSize}` }
            : m.type;
        const r = checkValue(x, mt, `${path}.${k}`);
        if (!r.ok) return r;
        out[k] = r.value;
      }
      if (type.kind === 'union' && Object.keys(out).length > 1)
        return { ok: false, error: `give one member of ${type.name}${at}` };
      return { ok: true, value: out };
    }
    case 'unknown':
      return checkRaw(v, type.size);
  }
}

function checkRaw(v: unknown, size: number): InputResult {
  if (typeof v === 'string') {
    const h = v.replace(/^0x/i, '').replace(/\s+/g, '');
    if (/^[0-9a-f]*$/i.test(h) && h.length === size * 2) return { ok: true, value: h.toLowerCase() };
  }
  if (size <= 8) {
    const n = toBigInt(v);
    if (n !== undefined && n >= 0n && n < 1n << BigInt(size * 8)) {
      // little-endian bytes as hex: the agent's raw form
      let h = '';
      for (let i = 0; i < size; i++)
        h += Number((n >> BigInt(8 * i)) & 0xffn)
          .toString(16)
          .padStart(2, '0');
      return { ok: true, value: h };
    }
  }
  return {
    ok: false,
    error: `no BTF type here: give ${size} bytes as ${size * 2} hex digits${size <= 8 ? ' or an unsigned integer' : ''}`,
  };
}

function isCharArray(t: TypeInfo): boolean {
  return t.kind === 'array' && t.elem.kind === 'int' && t.elem.char && t.elem.size === 1;
}

function toBigInt(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().replace(/_/g, '');
  if (/^-?\d+$/.test(s)) return BigInt(s);
  if (/^0x[0-9a-f]+$/i.test(s)) return BigInt(s);
  if (/^-0x[0-9a-f]+$/i.test(s)) return -BigInt(s.slice(1));
  if (/^0b[01]+$/i.test(s)) return BigInt(s);
  return undefined;
}

/** Integers as JSON numbers when exact, else decimal strings (the agent's convention). */
function jsonInt(n: bigint): number | string {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** A JSON example of a type, for error messages and input placeholders. */
export function example(t: TypeInfo, depth = 0): string {
  if (depth > 3) return '…';
  switch (t.kind) {
    case 'int':
      return t.bool ? 'true' : '0';
    case 'enum':
      return JSON.stringify(t.values[0]?.name ?? 0);
    case 'ptr':
      return '"0x0"';
    case 'float':
      return '0.0';
    case 'array':
      return isCharArray(t) ? '"text"' : `[${example(t.elem, depth + 1)}, …]`;
    case 'struct':
    case 'union':
      return `{${t.members
        .slice(0, 3)
        .map((m) => `"${m.name}": ${example(m.type, depth + 1)}`)
        .join(', ')}${t.members.length > 3 ? ', …' : ''}}`;
    case 'unknown':
      return `"${'00'.repeat(Math.min(t.size, 8))}${t.size > 8 ? '…' : ''}"`;
  }
}
