/**
 * Register and stack-slot states: parsing the state text of one line (`R0=map_value(map=counts,ks=4,vs=8)
 * R10=fp0 fp-8=mmmm????`, 5.x `R1_w=inv(id=0)`), and rebuilding the full state of every frame at any
 * line of a log (level 1 or 2) the way the kernel's own state evolves:
 * - 6.x prints after an instruction only what it touched (`; R0=scalar()`, `1125: frame1:` with nothing
 *   after it): such partial states are merged into the state so far, per frame;
 * - full states of one frame are printed by `from X to Y:`, the `caller:` / `callee:` /
 *   `returning from callee:` / `to caller at N:` blocks and, at level 1, right after the jump or call
 *   that started the path (`9: (15) if r0 == 0x0 goto pc+3 13: R0=0 ...`): they replace that frame;
 *   the frames below a callee's come from the state where its path was started;
 * - a helper or kfunc call clobbers R0-R5 (R0 then holds the return value); a subprogram call clears
 *   the caller's R1-R5; returning to the caller drops the callee's frame.
 *
 * Done lazily, for the lines the user looks at: the parser stores only where each state starts.
 */
import { decodedAt, writtenBy } from './insn-decode';
import { LineKind, type VerifierLog } from './log-parser';

/** One `NAME=VALUE` of a state. */
export interface RegEntry {
  /** `R0`..`R10` or a stack slot `fp-8` */
  name: string;
  /** call frame the entry belongs to */
  frame: number;
  /** the value as the kernel prints it (`scalar(smin=0,smax=255)`, `map_value_or_null(id=1,...)`, `fp0`) */
  value: string;
  /** the type: `scalar`, `ctx`, `map_value_or_null`, `fp`, `pkt`, ...; constants are `scalar` */
  type: string;
  /**
   * the kernel marked it `_w` (kernels before 6.13 or so): written since the last checkpoint, which is
   * NOT "written by this instruction" (the stepper's changed marks come from the values and the
   * instruction instead)
   */
  written: boolean;
  /** precise (`P` prefix, e.g. `P0`, `Pscalar(...)`) */
  precise: boolean;
}

/** Splits state text into entries; spaces inside parentheses (`var_off=(0x0; 0xff)`) do not split. */
export function parseStateText(text: string, defaultFrame = 0): RegEntry[] {
  const out: RegEntry[] = [];
  let frame = defaultFrame;
  let depth = 0;
  let tokStart = 0;
  const n = text.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? text.charCodeAt(i) : 32;
    if (c === 40) depth++;
    else if (c === 41) depth = depth > 0 ? depth - 1 : 0;
    else if (c === 32 && depth === 0) {
      if (i > tokStart) {
        const tok = text.slice(tokStart, i);
        const fm = /^frame(\d+):$/.exec(tok);
        if (fm) frame = Number(fm[1]);
        else {
          const e = entryOf(tok, frame);
          if (e) out.push(e);
        }
      }
      tokStart = i + 1;
    }
  }
  return out;
}

const RE_ENTRY = /^(R\d+|fp-?\d+)(?:_([rwD]+))?=(.*)$/;

function entryOf(tok: string, frame: number): RegEntry | undefined {
  const m = RE_ENTRY.exec(tok);
  if (!m) return undefined;
  const value = m[3]!;
  let v = value;
  let precise = false;
  if (v.startsWith('P') && v.length > 1 && (v.charCodeAt(1) < 65 || v.charCodeAt(1) > 90)) {
    precise = true;
    v = v.slice(1);
  }
  return { name: m[1]!, frame, value, type: typeOf(v), written: !!m[2]?.includes('w'), precise };
}

/** The type name of a value: the part before `(`, with numbers and 5.x `inv` read as scalars. */
export function typeOf(value: string): string {
  if (/^-?(?:0x[0-9a-f]+|\d+)$/i.test(value)) return 'scalar';
  const p = value.indexOf('(');
  let t = p >= 0 ? value.slice(0, p) : value;
  if (/^fp-?\d+$/.test(t)) return 'fp';
  if (/^inv(?:P?-?\d+)?$/.test(t)) return 'scalar';
  if (/^[m0?rfsdi]+$/.test(t) && !/^(?:fp|fd)/.test(t)) return 'stack';
  if (t.startsWith('P') && t.length > 1 && t[1] !== t[1]!.toUpperCase()) t = t.slice(1);
  return t.replace(/\[\d+\]$/, '');
}

/** The full state at a line: entries keyed by `frame:name`, and which keys the line itself changed. */
export interface StateAt {
  entries: Map<string, RegEntry>;
  changed: Set<string>;
  /** the frame the program is in at this line */
  frame: number;
}

/** The running state of a replay. */
interface Run {
  entries: Map<string, RegEntry>;
  frame: number;
  /** the previous line opened a block (`caller:`, `to caller at N:`) whose state line is a full frame */
  fullNext: boolean;
}

/** How far back to look for a line where the whole state is known (keeps a step well under 16 ms). */
const MAX_WALK = 2048;
/** Lines between the cached states of logs with no such line nearby (big level-1 logs). */
const CHECKPOINT_EVERY = 1024;
/** How many callee paths deep to look up the caller frames a `from X to Y: frameN:` line leaves out. */
const MAX_DEPTH = 3;

const RE_FRAME_PREFIX = /^\s*frame(\d+):/;

function frameOfText(text: string, dflt: number): number {
  const m = RE_FRAME_PREFIX.exec(text);
  return m ? Number(m[1]) : dflt;
}

function copyRun(r: Run): Run {
  return { entries: new Map(r.entries), frame: r.frame, fullNext: r.fullNext };
}

/** Drops the entries of the frames where drop(frame) holds. */
function dropFrames(entries: Map<string, RegEntry>, drop: (f: number) => boolean): void {
  for (const [key, e] of entries) if (drop(e.frame)) entries.delete(key);
}

/** `frame` becomes exactly `list` (a full state of one frame); the frames above it are gone. */
function replaceFrame(entries: Map<string, RegEntry>, frame: number, list: RegEntry[]): void {
  dropFrames(entries, (f) => f >= frame);
  for (const e of list) entries.set(`${e.frame}:${e.name}`, e);
}

/** A call clobbers R0-R5 of the calling frame. */
function clobberArgs(entries: Map<string, RegEntry>, frame: number): void {
  for (let r = 0; r <= 5; r++) entries.delete(`${frame}:R${r}`);
}

function mergeList(entries: Map<string, RegEntry>, list: RegEntry[]): void {
  for (const e of list) entries.set(`${e.frame}:${e.name}`, e);
}

/** Is line i a place where the whole state is known from the line alone (replay may start there)? */
function isAnchor(log: VerifierLog, i: number): boolean {
  const k = log.kind[i];
  if (i === 0) return true;
  if (k === LineKind.Branch) return log.stateAt[i]! > 0 && frameOfText(log.stateText(i), 0) === 0;
  if (k === LineKind.Insn) return log.glueTo[i]! >= 0 && frameOfText(log.stateText(i), 0) === 0;
  // `to caller at N:` back in frame 0: the next line is the whole of frame 0, the only frame left
  if (k === LineKind.CallFrame && log.insn[i]! >= 0)
    return i + 1 < log.lineCount && log.kind[i + 1] === LineKind.State && log.frame[i + 1] === 0;
  return false;
}

/** The line of the last walk of instruction `insn` before line `before` (-1: none). */
function lastWalk(log: VerifierLog, insn: number, before: number): number {
  for (let j = before - 1; j >= 0 && before - j < 200000; j--)
    if (log.kind[j] === LineKind.Insn && log.insn[j] === insn) return j;
  return -1;
}

/** Applies log line i to the run. */
function applyLine(log: VerifierLog, run: Run, i: number, depth: number): void {
  const k = log.kind[i];
  const entries = run.entries;
  if (k === LineKind.Insn) {
    const f = log.frame[i]!;
    run.fullNext = false;
    if (log.glueTo[i]! >= 0) {
      // the first state of the next path, printed right after the jump (or call) that pushed it:
      // the frames below it are as they were here
      const text = log.stateText(i);
      const gf = frameOfText(text, 0);
      replaceFrame(entries, gf, parseStateText(text, gf));
      if (gf > 0 && decodedAt(log, i).kind !== 'other') clobberArgs(entries, gf - 1);
      run.frame = gf;
      return;
    }
    const d = decodedAt(log, i);
    // helpers and kfuncs clobber the caller-saved registers (R0 then holds what they return, printed
    // after the call); a subprogram call leaves them to the callee (the `caller:` block shows the rest)
    if (d.kind === 'call-helper' || d.kind === 'call-pc') clobberArgs(entries, f);
    if (log.stateAt[i]) {
      const list = parseStateText(log.stateText(i), f);
      mergeList(entries, list);
      run.frame = list.length ? list[0]!.frame : f;
    } else run.frame = f;
    return;
  }
  if (k === LineKind.State) {
    const text = log.stateText(i);
    const f = frameOfText(text, log.insn[i]! >= 0 ? log.frame[i]! : run.fullNext ? 0 : log.frame[i]!);
    const list = parseStateText(text, f);
    if (run.fullNext && log.insn[i]! < 0) replaceFrame(entries, f, list);
    else mergeList(entries, list);
    run.fullNext = false;
    run.frame = f;
    return;
  }
  if (k === LineKind.Branch) {
    run.fullNext = false;
    if (!log.stateAt[i]) return;
    const text = log.stateText(i);
    const f = frameOfText(text, 0);
    if (f > 0 && depth < MAX_DEPTH) {
      // a path inside a callee: the callers' frames are those of the state where the path was
      // pushed, just before the jump (or the call that pushed a callback) ran
      const x = lastWalk(log, log.insn[i]!, i);
      if (x > 0) {
        const base = runTo(log, x - 1, depth + 1);
        dropFrames(entries, () => true);
        for (const [key, e] of base.entries) if (e.frame < f) entries.set(key, e);
        // a callback's path: the helper that calls it has clobbered its caller's R0-R5
        if (decodedAt(log, x).kind === 'call-helper') clobberArgs(entries, f - 1);
      }
    }
    replaceFrame(entries, f, parseStateText(text, f));
    run.frame = f;
    return;
  }
  if (k === LineKind.CallFrame) {
    const s = log.line(i);
    if (log.insn[i]! >= 0) {
      // `to caller at N:`: the callee's frame is gone
      const callee = run.frame;
      dropFrames(entries, (fr) => fr >= callee && callee > 0);
      run.frame = Math.max(0, callee - 1);
    }
    run.fullNext = s === 'caller:' || s === 'callee:' || s.startsWith('returning from callee') || log.insn[i]! >= 0;
  }
}

const checkpoints = new WeakMap<VerifierLog, Run[]>();

/** The state after line `li` from the nearest cached checkpoint (built front to back, once). */
function fromCheckpoint(log: VerifierLog, li: number, depth: number): Run {
  let cps = checkpoints.get(log);
  if (!cps) checkpoints.set(log, (cps = [{ entries: new Map(), frame: 0, fullNext: false }]));
  // cps[k] is the state before line k * CHECKPOINT_EVERY
  const want = Math.floor(li / CHECKPOINT_EVERY);
  while (cps.length <= want) {
    const k = cps.length;
    const run = copyRun(cps[k - 1]!);
    for (let i = (k - 1) * CHECKPOINT_EVERY; i < k * CHECKPOINT_EVERY; i++) applyLine(log, run, i, depth);
    cps.push(run);
  }
  const run = copyRun(cps[want]!);
  for (let i = want * CHECKPOINT_EVERY; i <= li; i++) applyLine(log, run, i, depth);
  return run;
}

/** The state after line li ran (all frames). */
function runTo(log: VerifierLog, li: number, depth: number): Run {
  let start = -1;
  for (let i = li, steps = 0; i >= 0 && steps < MAX_WALK; i--, steps++) {
    if (isAnchor(log, i)) {
      start = i;
      break;
    }
  }
  if (start < 0) return fromCheckpoint(log, li, depth);
  const run: Run = { entries: new Map(), frame: log.frame[start] ?? 0, fullNext: false };
  for (let i = start; i <= li; i++) applyLine(log, run, i, depth);
  return run;
}

/**
 * The state after line `li` ran: every frame's registers and stack slots as the kernel holds them
 * there, and which of them the line changed (a different value, or written by the instruction itself).
 */
export function stateAtLine(log: VerifierLog, li: number): StateAt {
  if (li < 0 || li >= log.lineCount) return { entries: new Map(), changed: new Set(), frame: 0 };
  const run = li > 0 ? runTo(log, li - 1, 0) : { entries: new Map<string, RegEntry>(), frame: 0, fullNext: false };
  const before = new Map(run.entries);
  applyLine(log, run, li, 0);
  const changed = new Set<string>();
  for (const [key, e] of run.entries) if (before.get(key)?.value !== e.value) changed.add(key);
  if (log.kind[li] === LineKind.Insn && log.glueTo[li]! < 0) {
    const f = log.frame[li]!;
    for (const name of writtenBy(decodedAt(log, li))) if (run.entries.has(`${f}:${name}`)) changed.add(`${f}:${name}`);
  }
  return { entries: run.entries, changed, frame: run.frame };
}
