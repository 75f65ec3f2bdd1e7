/**
 * A small reader of the `.BTF` section of a BPF object file (ELF64, little-endian): the types the
 * panels need to check typed input before map_update, to name columns, and to suggest the record
 * type of a ring buffer. Types are resolved into plain trees (typedefs and modifiers skipped,
 * anonymous members flattened, as the agent's JSON does).
 *
 * No `vscode` import.
 */
import { readFileSync } from 'node:fs';

/** A BTF type, resolved for checking values. */
export type TypeInfo =
  | { kind: 'int'; name: string; size: number; bits: number; signed: boolean; bool: boolean; char: boolean }
  | { kind: 'enum'; name: string; size: number; signed: boolean; values: { name: string; value: bigint }[] }
  | { kind: 'ptr'; name: string }
  | { kind: 'float'; name: string; size: number }
  | { kind: 'array'; name: string; elem: TypeInfo; length: number }
  | { kind: 'struct' | 'union'; name: string; size: number; members: MemberInfo[] }
  | { kind: 'unknown'; name: string; size: number };

export interface MemberInfo {
  name: string;
  type: TypeInfo;
  /** bit-field width, 0 when the member is not a bit-field */
  bitSize: number;
}

/** Key and value types of one map definition in `.maps` (or a global-data section). */
export interface MapTypes {
  key?: TypeInfo;
  value?: TypeInfo;
}

const K = {
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

interface RawType {
  kind: number;
  name: string;
  vlen: number;
  kflag: boolean;
  /** size, or the referenced type id */
  sizeOrType: number;
  /** kind-specific data offset in the type section */
  extra: number;
}

export class BtfError extends Error {
  override readonly name = 'BtfError';
}

/** The types of one object's BTF. */
export class BtfTypes {
  private readonly types: RawType[] = [{ kind: 0, name: 'void', vlen: 0, kflag: false, sizeOrType: 0, extra: 0 }];
  private readonly cache = new Map<number, TypeInfo>();

  /** Reads the `.BTF` section of an ELF object file. */
  static fromObjectFile(path: string): BtfTypes {
    return new BtfTypes(btfSection(readFileSync(path)));
  }

  constructor(private readonly buf: Buffer) {
    if (buf.length < 24 || buf.readUInt16LE(0) !== 0xeb9f) throw new BtfError('not BTF data (bad magic)');
    const hdrLen = buf.readUInt32LE(4);
    const typeOff = hdrLen + buf.readUInt32LE(8);
    const typeLen = buf.readUInt32LE(12);
    const strOff = hdrLen + buf.readUInt32LE(16);
    const strLen = buf.readUInt32LE(20);
    const str = (off: number) => {
      if (off >= strLen) return '';
      const s = strOff + off;
      const e = buf.indexOf(0, s);
      return buf.toString('utf8', s, e < 0 ? strOff + strLen : e);
    };
    this.str = str;
    let p = typeOff;
    const end = typeOff + typeLen;
    while (p + 12 <= end) {
      const nameOff = buf.readUInt32LE(p);
      const info = buf.readUInt32LE(p + 4);
      const t: RawType = {
        kind: (info >>> 24) & 0x1f,
        vlen: info & 0xffff,
        kflag: info >>> 31 === 1,
        name: str(nameOff),
        sizeOrType: buf.readUInt32LE(p + 8),
        extra: p + 12,
      };
      p += 12 + extraSize(t);
      this.types.push(t);
    }
  }

  private readonly str: (off: number) => string;

  get count(): number {
    return this.types.length - 1;
  }

  /** The id of a type named as in C: "struct event", "enum color", "u32". */
  find(name: string): number | undefined {
    const m = /^(struct|union|enum)\s+(.+)$/.exec(name.trim());
    const want = m ? m[2] : name.trim();
    const kinds = m ? (m[1] === 'struct' ? [K.STRUCT] : m[1] === 'union' ? [K.UNION] : [K.ENUM, K.ENUM64]) : undefined;
    for (let id = 1; id < this.types.length; id++) {
      const t = this.types[id];
      if (
        t.name === want &&
        (kinds ? (kinds as number[]).includes(t.kind) : t.kind !== K.FUNC && t.kind !== K.VAR && t.kind !== K.DATASEC)
      )
        return id;
    }
    return undefined;
  }

  /** A type by id, resolved (typedefs and modifiers skipped). */
  resolve(id: number, depth = 0): TypeInfo {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const info = this.build(id, depth);
    this.cache.set(id, info);
    return info;
  }

  /** The type's C spelling, as the agent writes key_type/value_type. */
  typeName(id: number): string {
    const t = this.types[id];
    if (!t) return '?';
    switch (t.kind) {
      case K.STRUCT:
        return `struct ${t.name || '(anon)'}`;
      case K.UNION:
        return `union ${t.name || '(anon)'}`;
      case K.ENUM:
      case K.ENUM64:
        return `enum ${t.name || '(anon)'}`;
      case K.ARRAY:
        return `${this.typeName(this.buf.readUInt32LE(t.extra))}[${this.buf.readUInt32LE(t.extra + 8)}]`;
      case K.PTR:
        return `${t.sizeOrType ? this.typeName(t.sizeOrType) : 'void'} *`;
      case K.CONST:
      case K.VOLATILE:
      case K.RESTRICT:
      case K.TYPE_TAG:
        return this.typeName(t.sizeOrType);
      case K.DATASEC:
        return `datasec ${t.name}`;
      default:
        return t.name || 'void';
    }
  }

  /** Key and value types of every map the object defines, by map name (`.maps`, and .data/.bss/.rodata). */
  maps(): Map<string, MapTypes> {
    const out = new Map<string, MapTypes>();
    for (let id = 1; id < this.types.length; id++) {
      const t = this.types[id];
      if (t.kind !== K.DATASEC) continue;
      if (t.name === '.maps') {
        for (let i = 0; i < t.vlen; i++) {
          const v = this.types[this.buf.readUInt32LE(t.extra + i * 12)];
          if (!v || v.kind !== K.VAR) continue;
          const def = this.types[this.skip(v.sizeOrType)];
          if (!def || def.kind !== K.STRUCT) continue;
          const mt: MapTypes = {};
          for (let j = 0; j < def.vlen; j++) {
            const mname = this.str(this.buf.readUInt32LE(def.extra + j * 12));
            const mtype = this.buf.readUInt32LE(def.extra + j * 12 + 4);
            const ptr = this.types[this.skip(mtype)];
            if ((mname === 'key' || mname === 'value') && ptr?.kind === K.PTR) mt[mname] = this.resolve(ptr.sizeOrType);
          }
          out.set(v.name, mt);
        }
      } else if (/^\.(data|bss|rodata)/.test(t.name)) {
        out.set(t.name, { key: INT_U32, value: this.resolve(id) });
      }
    }
    return out;
  }

  /** The types of one loaded map: by its name, or by the name the kernel keeps (15 chars). */
  mapTypes(mapName: string): MapTypes | undefined {
    const all = this.maps();
    const exact = all.get(mapName);
    if (exact) return exact;
    for (const [name, types] of all) {
      if (name.slice(0, 15) === mapName.slice(0, 15)) return types;
      // global data maps are named "<object prefix>.rodata" by libbpf
      if (name.startsWith('.') && mapName.endsWith(name)) return types;
    }
    return undefined;
  }

  /**
   * Named struct types that may be ring buffer / perf buffer records, best guesses first: names
   * with "event", "record", "sample" or "data", then the rest; kernel context types left out.
   */
  recordTypeSuggestions(): string[] {
    const names: string[] = [];
    const mapDefs = new Set<number>();
    for (let id = 1; id < this.types.length; id++) {
      const t = this.types[id];
      if (t.kind === K.DATASEC && t.name === '.maps') {
        for (let i = 0; i < t.vlen; i++) {
          const v = this.types[this.buf.readUInt32LE(t.extra + i * 12)];
          if (v) mapDefs.add(this.skip(v.sizeOrType));
        }
      }
    }
    for (let id = 1; id < this.types.length; id++) {
      const t = this.types[id];
      if (t.kind !== K.STRUCT || !t.name || mapDefs.has(id) || t.sizeOrType === 0) continue;
      if (/^(trace_event_raw_|bpf_|pt_regs|sk_buff|xdp_md|__sk_buff|task_struct|user_pt_regs)/.test(t.name)) continue;
      names.push(`struct ${t.name}`);
    }
    const score = (n: string) => (/event|record|sample|data|msg/i.test(n) ? 0 : 1);
    return [...new Set(names)].sort((a, b) => score(a) - score(b) || a.localeCompare(b));
  }

  private skip(id: number): number {
    for (let guard = 0; guard < 64; guard++) {
      const t = this.types[id];
      if (!t) return id;
      if (![K.TYPEDEF, K.VOLATILE, K.CONST, K.RESTRICT, K.TYPE_TAG].includes(t.kind as 8)) return id;
      id = t.sizeOrType;
    }
    return id;
  }

  private sizeOf(id: number, depth = 0): number {
    const t = this.types[this.skip(id)];
    if (!t || depth > 32) return 0;
    switch (t.kind) {
      case K.INT:
      case K.STRUCT:
      case K.UNION:
      case K.ENUM:
      case K.ENUM64:
      case K.FLOAT:
      case K.DATASEC:
        return t.sizeOrType;
      case K.PTR:
        return 8;
      case K.ARRAY:
        return this.sizeOf(this.buf.readUInt32LE(t.extra), depth + 1) * this.buf.readUInt32LE(t.extra + 8);
      default:
        return 0;
    }
  }

  private build(id: number, depth: number): TypeInfo {
    const rid = this.skip(id);
    const t = this.types[rid];
    const name = this.typeName(id);
    if (!t || depth > 32) return { kind: 'unknown', name, size: 0 };
    const b = this.buf;
    switch (t.kind) {
      case K.INT: {
        const v = b.readUInt32LE(t.extra);
        const enc = (v >>> 24) & 0xf;
        return {
          kind: 'int',
          name,
          size: t.sizeOrType,
          bits: v & 0xff,
          signed: (enc & 1) !== 0,
          bool: (enc & 4) !== 0,
          char: (enc & 2) !== 0 || (t.sizeOrType === 1 && t.name === 'char'),
        };
      }
      case K.ENUM:
      case K.ENUM64: {
        const values: { name: string; value: bigint }[] = [];
        for (let i = 0; i < t.vlen; i++) {
          if (t.kind === K.ENUM) {
            const o = t.extra + i * 8;
            values.push({
              name: this.str(b.readUInt32LE(o)),
              value: BigInt(t.kflag ? b.readInt32LE(o + 4) : b.readUInt32LE(o + 4)),
            });
          } else {
            const o = t.extra + i * 12;
            const v = (BigInt(b.readUInt32LE(o + 8)) << 32n) | BigInt(b.readUInt32LE(o + 4));
            values.push({ name: this.str(b.readUInt32LE(o)), value: t.kflag ? BigInt.asIntN(64, v) : v });
          }
        }
        return { kind: 'enum', name, size: t.sizeOrType, signed: t.kflag, values };
      }
      case K.PTR:
        return { kind: 'ptr', name };
      case K.FLOAT:
        return { kind: 'float', name, size: t.sizeOrType };
      case K.ARRAY:
        return {
          kind: 'array',
          name,
          elem: this.resolve(b.readUInt32LE(t.extra), depth + 1),
          length: b.readUInt32LE(t.extra + 8),
        };
      case K.STRUCT:
      case K.UNION: {
        const members: MemberInfo[] = [];
        this.members(rid, members, depth);
        return { kind: t.kind === K.STRUCT ? 'struct' : 'union', name, size: t.sizeOrType, members };
      }
      case K.DATASEC: {
        const members: MemberInfo[] = [];
        for (let i = 0; i < t.vlen; i++) {
          const v = this.types[b.readUInt32LE(t.extra + i * 12)];
          if (v?.kind === K.VAR)
            members.push({ name: v.name, type: this.resolve(v.sizeOrType, depth + 1), bitSize: 0 });
        }
        return { kind: 'struct', name, size: t.sizeOrType, members };
      }
      default:
        return { kind: 'unknown', name, size: this.sizeOf(rid) };
    }
  }

  private members(id: number, out: MemberInfo[], depth: number): void {
    const t = this.types[id];
    for (let i = 0; i < t.vlen; i++) {
      const o = t.extra + i * 12;
      const mname = this.str(this.buf.readUInt32LE(o));
      const mtype = this.buf.readUInt32LE(o + 4);
      const bitSize = t.kflag ? this.buf.readUInt32LE(o + 8) >>> 24 : 0;
      const inner = this.types[this.skip(mtype)];
      if (!mname && inner && (inner.kind === K.STRUCT || inner.kind === K.UNION)) {
        this.members(this.skip(mtype), out, depth + 1); // anonymous: flattened, as the agent does
        continue;
      }
      out.push({ name: mname || '_', type: this.resolve(mtype, depth + 1), bitSize });
    }
  }
}

const INT_U32: TypeInfo = { kind: 'int', name: 'u32', size: 4, bits: 32, signed: false, bool: false, char: false };

function extraSize(t: RawType): number {
  switch (t.kind) {
    case K.INT:
    case K.VAR:
    case K.DECL_TAG:
      return 4;
    case K.ARRAY:
      return 12;
    case K.STRUCT:
    case K.UNION:
    case K.DATASEC:
    case K.ENUM64:
      return 12 * t.vlen;
    case K.ENUM:
    case K.FUNC_PROTO:
      return 8 * t.vlen;
    default:
      return 0;
  }
}

/** The `.BTF` section of an ELF64 little-endian object. */
export function btfSection(elf: Buffer): Buffer {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new BtfError('not an ELF file');
  if (elf[4] !== 2 || elf[5] !== 1) throw new BtfError('only 64-bit little-endian objects are supported');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a);
  const shnum = elf.readUInt16LE(0x3c);
  const shstrndx = elf.readUInt16LE(0x3e);
  const sh = (i: number) => {
    const o = shoff + i * shentsize;
    return {
      name: elf.readUInt32LE(o),
      offset: Number(elf.readBigUInt64LE(o + 0x18)),
      size: Number(elf.readBigUInt64LE(o + 0x20)),
    };
  };
  const strtab = sh(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const s = sh(i);
    const nameStart = strtab.offset + s.name;
    const name = elf.toString('latin1', nameStart, elf.indexOf(0, nameStart));
    if (name === '.BTF') return elf.subarray(s.offset, s.offset + s.size);
  }
  throw new BtfError('the object has no .BTF section (compile with -g)');
}
