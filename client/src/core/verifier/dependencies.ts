/**
 * "Follow a value backwards": from a register at one line of the log, the instructions that produced
 * its value, along the path the log shows. Moves (`r6 = r0`) and arithmetic keep following the
 * register; stack fills (`r1 = *(u64 *)(r10 -8)`) follow the stack slot back to its spill; calls to
 * subprograms follow R0 into the callee and R1-R5 back into the caller; `from X to Y:` lines (and the
 * states level 1 glues to a jump) jump to the branch that started that path, and a jump that tests the
 * followed register is a step of its own (the check that let this path's value through). A stack slot
 * belongs to one frame: stores reach it through r10 in that frame or through a pointer to it
 * (`*(u64 *)(r2 +0) = r1` with R2=fp[0]-16, a callee writing to its caller's stack), read from the
 * state before the store; a store through a pointer that may or may not reach it ends the chain
 * without an answer rather than with a wrong one. Helper calls, constants and memory loads are origins.
 */
import { decodedAt, slotName, type Decoded } from './insn-decode';
import { LineKind, type VerifierLog } from './log-parser';
import { parseStateText, stateAtLine } from './reg-state';

export interface DepStep {
  /** log line of the instruction */
  line: number;
  /** instruction index */
  insn: number;
  /** the instruction text */
  text: string;
  /** how it relates to the followed value */
  role: 'origin' | 'move' | 'modify' | 'spill' | 'fill' | 'call-arg' | 'return' | 'load' | 'check';
  /** what is followed before this step (`R0`, `fp-8`) */
  value: string;
}

type Target = { kind: 'reg'; n: number } | { kind: 'slot'; off: number; frame: number };

const name = (t: Target) => (t.kind === 'reg' ? `R${t.n}` : `fp${t.off}`);

/** Parses `R3`, `r3`, `fp-8` into a target (a slot of `frame`). */
export function parseTarget(s: string, frame = 0): Target | undefined {
  let m = /^[Rr](\d+)$/.exec(s.trim());
  if (m) return { kind: 'reg', n: Number(m[1]) };
  m = /^fp(-?\d+)$/.exec(s.trim());
  if (m) return { kind: 'slot', off: Number(m[1]), frame };
  return undefined;
}

/** A pointer into a frame's stack: `fp-16` (the register's own frame), `fp[0]-16`; 'var': variable offset. */
type StackPtr = { frame: number; off: number; ambiguous: boolean } | 'var' | undefined;

const bracketCache = new WeakMap<VerifierLog, boolean>();

/**
 * Does the kernel name the frame of stack pointers into another frame (`fp[0]-16`, since 6.7)? 6.1
 * prints `fp-16` for a pointer to its own stack and to its caller's alike. The same kernels stopped
 * printing default offsets (`ctx()`, not `ctx(off=0,imm=0)`): either mark tells a 6.7+ log.
 */
function namesPointerFrames(log: VerifierLog): boolean {
  let b = bracketCache.get(log);
  if (b === undefined) bracketCache.set(log, (b = /=P?fp\[\d+\]|=ctx\(\)/.test(log.text)));
  return b;
}

function stackPtr(log: VerifierLog, value: string | undefined, regFrame: number): StackPtr {
  if (!value) return undefined;
  const v = value.startsWith('P') ? value.slice(1) : value;
  const m = /^fp(?:\[(\d+)\])?(-?\d+)$/.exec(v);
  if (m) {
    const explicit = m[1] !== undefined;
    return {
      frame: explicit ? Number(m[1]) : regFrame,
      off: Number(m[2]),
      ambiguous: !explicit && regFrame > 0 && !namesPointerFrames(log),
    };
  }
  if (/^fp(?:\[\d+\])?\(/.test(v)) return 'var';
  return undefined;
}

/**
 * The value register `reg` of frame f held when the instruction at line i ran. The kernel prints a
 * register the instruction reads after it (`; frame1: R2=fp[0]-16`), which spares rebuilding the
 * state; `unlessWritten` names the instruction's destination, whose printed value is the new one.
 */
function regBefore(log: VerifierLog, i: number, f: number, reg: number, unlessWritten = -1): string | undefined {
  if (reg !== unlessWritten && log.stateAt[i] && log.glueTo[i]! < 0) {
    const e = parseStateText(log.stateText(i), f).find((x) => x.name === `R${reg}` && x.frame === f);
    if (e) return e.value;
  }
  return stateAtLine(log, i - 1).entries.get(`${f}:R${reg}`)?.value;
}

/** Does the store at line i (base register not r10) write the slot? 'hit' (exactly there), 'part', 'maybe', 'miss'. */
function storeReaches(
  log: VerifierLog,
  i: number,
  d: Decoded,
  t: { off: number; frame: number },
): 'hit' | 'part' | 'maybe' | 'miss' {
  const f = log.frame[i]!;
  const before = regBefore(log, i, f, d.src);
  const p = stackPtr(log, before, f);
  if (p === undefined) return 'miss';
  if (p === 'var') return before?.includes(`fp[${t.frame}]`) || f === t.frame ? 'maybe' : 'miss';
  const start = p.off + d.off;
  if (start > t.off || t.off >= start + d.size) return 'miss';
  if (p.ambiguous && p.frame !== t.frame) return 'maybe';
  if (p.frame !== t.frame) return 'miss';
  return start === t.off && d.size === 8 ? 'hit' : 'part';
}

/** Did the helper call at line i write the slot (through a pointer argument)? */
function helperWrote(log: VerifierLog, i: number, t: { off: number; frame: number }): boolean {
  const slot = slotName(t.off);
  if (log.frame[i] !== t.frame || !log.line(i).includes(` ${slot}`)) return false;
  const key = `${t.frame}:${slot}`;
  return stateAtLine(log, i - 1).entries.get(key)?.value !== stateAtLine(log, i).entries.get(key)?.value;
}

/** A conditional jump that tests register n (`if r0 == 0x0 goto pc+3`, `if r1 > r6 goto ...`)? */
function testsReg(text: string, n: number): boolean {
  return /^if /.test(text) && new RegExp(`\\b[rw]${n}\\b`).test(text);
}

/**
 * Does the jump at line i test a register that is a copy of register n (the same `id=` scalar, which the
 * kernel narrows together: `r3 = r1; if r3 > 0x1b goto ...` bounds r1 too)?
 */
function sharesScalarId(log: VerifierLog, i: number, f: number, text: string, n: number): boolean {
  const m = /^if [rw](\d+) /.exec(text);
  if (!m || Number(m[1]) === n || !log.stateAt[i] || !log.line(i).includes('id=')) return false;
  const tested = parseStateText(log.stateText(i), f).find((e) => e.name === `R${m[1]}`)?.value;
  const id = tested && /^P?scalar\(id=(\d+)/.exec(tested)?.[1];
  if (!id) return false;
  return new RegExp(`^P?scalar\\(id=${id}[,)]`).test(regBefore(log, i, f, n) ?? '');
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
  /** also count jumps on copies of the value (same scalar id) as its checks: costs a state per jump */
  linkedChecks = false,
): DepStep[] {
  const steps: DepStep[] = [];
  if (fromLine < 0 || fromLine > log.lineCount) return steps;
  // the frame the value is seen in: a source or comment row inside a callee is in the callee
  let frame = fromLine < log.lineCount ? log.frame[fromLine]! : 0;
  let target = parseTarget(value, frame);
  // R10 is the frame pointer: nothing writes it
  if (!target || (target.kind === 'reg' && target.n === 10)) return steps;
  const kind = log.kind;
  const insnOf = log.insn;
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
    if (target.kind === 'slot') {
      const t = target;
      if (f < t.frame) break; // above the entry of the slot's frame: the slot did not exist yet
      let reach: ReturnType<typeof storeReaches> = 'miss';
      if (d.kind === 'store' && d.src === 10 && f === t.frame)
        reach = d.off <= t.off && t.off < d.off + d.size ? (d.off === t.off && d.size === 8 ? 'hit' : 'part') : 'miss';
      else if (d.kind === 'store' && d.src !== 10) reach = storeReaches(log, i, d, t);
      else if (d.kind === 'call-helper' && helperWrote(log, i, t)) reach = 'part';
      if (reach === 'maybe') break; // may or may not write it: no answer rather than a wrong one
      if (reach === 'hit' && d.val >= 0) {
        steps.push({ line: i, insn, text, role: 'spill', value: name(t) });
        target = { kind: 'reg', n: d.val };
        frame = f;
        continue;
      }
      if (reach !== 'miss') {
        steps.push({ line: i, insn, text, role: 'origin', value: name(t) });
        break;
      }
      continue;
    }
    if (f > frame) {
      // a callee's body: only its exit path's R0 matters to the caller, right after the call returns
      if (target.n === 0 && d.kind === 'exit') {
        steps.push({ line: i, insn, text, role: 'return', value: name(target) });
        frame = f;
      }
      continue;
    }
    if (f < frame) {
      // walked above the callee's entry into the caller: callee R1-R5 are the caller's arguments
      if (target.n >= 1 && target.n <= 5 && d.kind === 'call-pc') {
        steps.push({ line: i, insn, text, role: 'call-arg', value: name(target) });
        frame = f;
        continue;
      }
      break; // a callback's arguments come from the helper that calls it, not from a register here
    }
    if (
      d.kind === 'other' &&
      text.startsWith('if ') &&
      (testsReg(text, target.n) || (linkedChecks && sharesScalarId(log, i, f, text, target.n)))
    ) {
      // the path this value is on went through this jump (taken, or falling through): the check that
      // gave it the type or range it has here (a copy with the same scalar id is narrowed with it)
      steps.push({ line: i, insn, text, role: 'check', value: name(target) });
      continue;
    }
    if (d.kind === 'call-helper' || d.kind === 'call-pc') {
      if (target.n === 0) {
        if (d.kind === 'call-pc') continue; // R0 came from the callee: handled at its exit
        steps.push({ line: i, insn, text, role: 'origin', value: name(target) });
        break;
      }
      if (target.n >= 1 && target.n <= 5) break; // clobbered by the call
      continue;
    }
    if (d.kind === 'assign' && d.dst === target.n) {
      const v = name(target);
      if (d.op !== '=') {
        steps.push({ line: i, insn, text, role: 'modify', value: v });
        continue;
      }
      if (d.rhs === 'fill') {
        steps.push({ line: i, insn, text, role: 'fill', value: v });
        target = { kind: 'slot', off: d.off, frame: f };
        continue;
      }
      if (d.rhs === 'load') {
        // a load through a pointer to a stack (a callee reading its caller's variable) is a fill
        const p = stackPtr(log, regBefore(log, i, f, d.src, d.dst), f);
        if (p && p !== 'var' && !p.ambiguous) {
          steps.push({ line: i, insn, text, role: 'fill', value: v });
          target = { kind: 'slot', off: p.off + d.off, frame: p.frame };
          continue;
        }
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
  }
  return steps;
}
