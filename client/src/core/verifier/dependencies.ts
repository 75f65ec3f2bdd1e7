/**
 * "Follow a value backwards": from a register at one line of the log, the instructions that produced
 * its value, along the path the log shows. Moves (`r6 = r0`) and arithmetic keep following the
 * register; stack fills (`r1 = *(u64 *)(r10 -8)`) follow the stack slot back to its spill; calls to
 * subprograms follow R0 into the callee and R1-R5 back into the caller; `from X to Y:` lines jump to
 * the branch that started that path. Helper calls, constants and memory loads are origins.
 */
import { LineKind, type VerifierLog } from './log-parser';

export interface DepStep {
  /** log line of the instruction */
  line: number;
  /** instruction index */
  insn: number;
  /** the instruction text */
  text: string;
  /** how it relates to the followed value */
  role: 'origin' | 'move' | 'modify' | 'spill' | 'fill' | 'call-arg' | 'return' | 'load';
  /** what is followed before this step (`R0`, `fp-8`) */
  value: string;
}

type Target = { kind: 'reg'; n: number } | { kind: 'slot'; off: number };

const RE_ASSIGN = /^([rw])(\d+) (=|[+\-*/%&|^]=|<<=|>>=|s>>=|s\/=|s%=) (.*)$/;
const RE_STORE = /^\*\(u(?:8|16|32|64) \*\)\(r(\d+) ([+-]\d+)\) = (.*)$/;
const RE_LOAD = /^\*\(u(?:8|16|32|64) \*\)\(r(\d+) ([+-]\d+)\)/;
const RE_SRC_REG = /^\(?(?:[su]\d+\))?\s*[rw](\d+)$/;

const name = (t: Target) => (t.kind === 'reg' ? `R${t.n}` : `fp${t.off}`);

/** Parses `R3`, `r3`, `fp-8` into a target. */
export function parseTarget(s: string): Target | undefined {
  let m = /^[Rr](\d+)$/.exec(s.trim());
  if (m) return { kind: 'reg', n: Number(m[1]) };
  m = /^fp(-?\d+)$/.exec(s.trim());
  if (m) return { kind: 'slot', off: Number(m[1]) };
  return undefined;
}

/** One instruction, decoded once per instruction index (the program text is the same on every path). */
interface Decoded {
  text: string;
  kind: 'call-helper' | 'call-pc' | 'exit' | 'assign' | 'store' | 'other';
  /** assign: destination register */
  dst: number;
  /** assign: '=' or a compound operator */
  op: string;
  /** assign '=': 'fill' (from the stack), 'load' (other memory), 'reg' (a move), 'imm' */
  rhs: 'fill' | 'load' | 'reg' | 'imm';
  /** assign 'fill': the stack offset; store: the offset from the base register */
  off: number;
  /** assign 'reg': the source register; store: the base register */
  src: number;
  /** store: the stored register (-1: an immediate) */
  val: number;
}

const decodedCache = new WeakMap<VerifierLog, (Decoded | undefined)[]>();

function decode(text: string): Decoded {
  const d: Decoded = { text, kind: 'other', dst: -1, op: '', rhs: 'imm', off: 0, src: -1, val: -1 };
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
        d.rhs = load[1] === '10' ? 'fill' : 'load';
        d.off = Number(load[2]);
        d.src = Number(load[1]);
      } else if (src && src[1] !== '10') {
        d.rhs = 'reg';
        d.src = Number(src[1]);
      }
    } else if ((m = RE_STORE.exec(text))) {
      d.kind = 'store';
      d.src = Number(m[1]);
      d.off = Number(m[2]);
      const v = /^r(\d+)$/.exec(m[3]!);
      d.val = v ? Number(v[1]) : -1;
    }
  }
  return d;
}

function decodedAt(log: VerifierLog, line: number): Decoded {
  let cache = decodedCache.get(log);
  if (!cache) decodedCache.set(log, (cache = []));
  const insn = log.insn[line]!;
  const hit = insn >= 0 && insn < 1 << 20 ? cache[insn] : undefined;
  if (hit) return hit;
  const d = decode(log.insnText[insn] ?? log.insnBody(line));
  if (insn >= 0 && insn < 1 << 20) cache[insn] = d;
  return d;
}

/**
 * The chain of instructions that produced `value` (e.g. 'R0', 'fp-8') as seen at log line `fromLine`
 * (exclusive: the line itself is where the value is used). Bounded by maxSteps and maxLines.
 */
export function followBack(
  log: VerifierLog,
  fromLine: number,
  value: string,
  maxSteps = 32,
  maxLines = 200000,
): DepStep[] {
  let target = parseTarget(value);
  const steps: DepStep[] = [];
  // R10 is the frame pointer: nothing writes it
  if (!target || (target.kind === 'reg' && target.n === 10)) return steps;
  const kind = log.kind;
  const insnOf = log.insn;
  let frame = fromLine >= 0 && fromLine < log.lineCount ? log.frame[fromLine]! : 0;
  let seen = 0;
  for (
    let i = Math.min(fromLine, log.lineCount) - 1;
    i >= 0 && steps.length < maxSteps && seen < maxLines;
    i--, seen++
  ) {
    const k = kind[i];
    if (k === LineKind.Branch) {
      // this path started at the jump `from` (insn[i]); continue from its last walk before here
      const from = insnOf[i]!;
      let j = i - 1;
      while (j >= 0 && !(kind[j] === LineKind.Insn && insnOf[j] === from)) j--;
      if (j < 0) break;
      seen += i - j;
      i = j + 1; // the loop's i-- lands on the jump (or the callee's exit that returned here)
      continue;
    }
    if (k !== LineKind.Insn) continue;
    const f = log.frame[i]!;
    const d = decodedAt(log, i);
    const insn = log.insn[i]!;
    const text = d.text;
    if (f > frame) {
      // a callee's body: only its exit path's R0 matters to the caller, right after the call returns
      if (target.kind === 'reg' && target.n === 0 && d.kind === 'exit') {
        steps.push({ line: i, insn, text, role: 'return', value: name(target) });
        frame = f;
      }
      continue;
    }
    if (f < frame) {
      // walked above the callee's entry into the caller: callee R1-R5 are the caller's arguments
      if (target.kind === 'reg' && target.n >= 1 && target.n <= 5 && d.kind === 'call-pc') {
        steps.push({ line: i, insn, text, role: 'call-arg', value: name(target) });
        frame = f;
        continue;
      }
      frame = f;
      if (target.kind === 'slot') break; // a callee's stack slot does not exist in the caller
    }
    if (d.kind === 'call-helper' || d.kind === 'call-pc') {
      if (target.kind === 'reg' && target.n === 0) {
        if (d.kind === 'call-pc') continue; // R0 came from the callee: handled at its exit
        steps.push({ line: i, insn, text, role: 'origin', value: name(target) });
        break;
      }
      if (target.kind === 'reg' && target.n >= 1 && target.n <= 5) break; // clobbered by the call
      continue;
    }
    if (d.kind === 'assign' && target.kind === 'reg' && d.dst === target.n) {
      const v = name(target);
      if (d.op !== '=') {
        steps.push({ line: i, insn, text, role: 'modify', value: v });
        continue;
      }
      if (d.rhs === 'fill') {
        steps.push({ line: i, insn, text, role: 'fill', value: v });
        target = { kind: 'slot', off: d.off };
        continue;
      }
      if (d.rhs === 'load') {
        steps.push({ line: i, insn, text, role: 'load', value: v });
        break;
      }
      if (d.rhs === 'reg') {
        steps.push({ line: i, insn, text, role: 'move', value: v });
        target = { kind: 'reg', n: d.src };
        continue;
      }
      steps.push({ line: i, insn, text, role: 'origin', value: v });
      break;
    }
    if (d.kind === 'store' && target.kind === 'slot' && d.src === 10 && d.off <= target.off && target.off < d.off + 8) {
      if (d.val >= 0 && d.off === target.off) {
        steps.push({ line: i, insn, text, role: 'spill', value: name(target) });
        target = { kind: 'reg', n: d.val };
        continue;
      }
      steps.push({ line: i, insn, text, role: 'origin', value: name(target) });
      break;
    }
  }
  return steps;
}
