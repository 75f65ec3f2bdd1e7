/**
 * One BPF instruction as the verifier log prints it (`r1 = *(u64 *)(r10 -8)`, `call bpf_loop#181`,
 * `*(u64 *)(r2 +0) = r1`), decoded once per instruction index: what it writes and what it reads.
 * Shared by the register/stack state model (reg-state.ts) and "follow a value back" (dependencies.ts).
 */
import type { VerifierLog } from './verifier-log';

export interface Decoded {
  text: string;
  kind: 'call-helper' | 'call-pc' | 'exit' | 'assign' | 'store' | 'other';
  /** assign: destination register */
  dst: number;
  /** assign: '=' or a compound operator */
  op: string;
  /** assign '=': 'fill' (from the stack), 'load' (other memory), 'reg' (a move), 'imm' */
  rhs: 'fill' | 'load' | 'reg' | 'imm';
  /** assign 'fill' / 'load': the offset from the base register; store: the offset from the base register */
  off: number;
  /** assign 'reg': the source register; 'fill' / 'load' and store: the base register */
  src: number;
  /** store: the stored register (-1: an immediate) */
  val: number;
  /** store / load: the access size in bytes */
  size: number;
}

const RE_ASSIGN = /^([rw])(\d+) (=|[+\-*/%&|^]=|<<=|>>=|s>>=|s\/=|s%=) (.*)$/;
const RE_STORE = /^\*\(u(8|16|32|64) \*\)\(r(\d+) ([+-]\d+)\) = (.*)$/;
const RE_LOAD = /^\*\(u(8|16|32|64) \*\)\(r(\d+) ([+-]\d+)\)/;
const RE_SRC_REG = /^\(?(?:[su]\d+\))?\s*[rw](\d+)$/;

export function decodeInsn(text: string): Decoded {
  const d: Decoded = { text, kind: 'other', dst: -1, op: '', rhs: 'imm', off: 0, src: -1, val: -1, size: 0 };
  if (text.startsWith('call ')) d.kind = text.startsWith('call pc') ? 'call-pc' : 'call-helper';
  else if (text === 'exit') d.kind = 'exit';
  else {
    let m = RE_ASSIGN.exec(text);
    if (m) {
      d.kind = 'assign';
      d.dst = Number(m[2]);
      d.op = m[3]!;
      const rhs = m[4]!;
      const load = RE_LOAD.exec(rhs);
      const src = RE_SRC_REG.exec(rhs);
      if (load) {
        d.rhs = load[2] === '10' ? 'fill' : 'load';
        d.size = Number(load[1]) / 8;
        d.off = Number(load[3]);
        d.src = Number(load[2]);
      } else if (src && src[1] !== '10') {
        d.rhs = 'reg';
        d.src = Number(src[1]);
      }
    } else if ((m = RE_STORE.exec(text))) {
      d.kind = 'store';
      d.size = Number(m[1]) / 8;
      d.src = Number(m[2]);
      d.off = Number(m[3]);
      const v = /^r(\d+)$/.exec(m[4]!);
      d.val = v ? Number(v[1]) : -1;
    }
  }
  return d;
}

const decodedCache = new WeakMap<VerifierLog, (Decoded | undefined)[]>();

/** The decoded instruction of Insn line `line` (cached per instruction index). */
export function decodedAt(log: VerifierLog, line: number): Decoded {
  let cache = decodedCache.get(log);
  if (!cache) decodedCache.set(log, (cache = []));
  const insn = log.insn[line]!;
  const hit = insn >= 0 && insn < 1 << 20 ? cache[insn] : undefined;
  if (hit) return hit;
  const d = decodeInsn(log.insnText[insn] ?? log.insnBody(line));
  if (insn >= 0 && insn < 1 << 20) cache[insn] = d;
  return d;
}

/** The stack slot name the kernel prints for a byte offset from the frame pointer (-4 -> `fp-8`). */
export function slotName(off: number): string {
  return `fp-${Math.floor((-off - 1) / 8) * 8 + 8}`;
}

/** What the instruction itself writes, by state name (`R1`, `fp-16`): the stepper marks these changed. */
export function writtenBy(d: Decoded): string[] {
  if (d.kind === 'assign') return [`R${d.dst}`];
  if (d.kind === 'store' && d.src === 10 && d.off < 0) return [slotName(d.off)];
  if (d.kind === 'call-helper' || d.kind === 'call-pc') return ['R0'];
  return [];
}
