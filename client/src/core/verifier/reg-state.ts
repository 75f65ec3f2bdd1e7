/**
 * Register and stack-slot states: parsing the state text of one line (`R0=map_value(map=counts,ks=4,vs=8)
 * R10=fp0 fp-8=mmmm????`, 5.x `R1_w=inv(id=0)`), and rebuilding the full state at any line of a
 * level-2 log from the last full state plus the changes printed after each instruction.
 *
 * Done lazily, for the lines the user looks at: the parser stores only where each state starts.
 */
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
  /** the kernel marked it written (`_w`) at this instruction (5.x) */
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

/** How far back to look for a full state before giving up (keeps a step well under 16 ms). */
const MAX_WALK = 20000;

/**
 * The state after line `li` ran: the closest full state before it (a `N: R..` line, a `from X to Y:`
 * line, the first state line) plus every change printed since, along the log's order.
 */
export function stateAtLine(log: VerifierLog, li: number): StateAt {
  const entries = new Map<string, RegEntry>();
  const changed = new Set<string>();
  // walk back to a line that carries a full state
  let startLine = -1;
  for (let i = li, steps = 0; i >= 0 && steps < MAX_WALK; i--, steps++) {
    const k = log.kind[i];
    if (k === LineKind.Branch && log.stateAt[i]) {
      startLine = i;
      break;
    }
    if (k === LineKind.State && log.insn[i]! >= 0 && log.stateAt[i]) {
      startLine = i;
      break;
    }
  }
  if (startLine < 0) startLine = Math.max(0, li - MAX_WALK);
  let frame = log.frame[startLine] ?? 0;
  for (let i = startLine; i <= li; i++) {
    const k = log.kind[i];
    if (!log.stateAt[i] || (k !== LineKind.Insn && k !== LineKind.State && k !== LineKind.Branch)) {
      if (k === LineKind.CallFrame && log.insn[i]! >= 0) {
        // back in the caller: the callee's frame is gone
        for (const key of [...entries.keys()]) if (entries.get(key)!.frame > frame - 1) entries.delete(key);
        frame = Math.max(0, frame - 1);
      }
      continue;
    }
    const full = k !== LineKind.Insn; // State and Branch lines print the whole frame
    const list = parseStateText(log.stateText(i), log.frame[i]);
    const before = i === li ? new Map(entries) : undefined;
    if (full && list.length) {
      const f = list[0]!.frame;
      for (const key of [...entries.keys()]) if (entries.get(key)!.frame === f) entries.delete(key);
    }
    for (const e of list) entries.set(`${e.frame}:${e.name}`, e);
    if (before) {
      for (const e of list) {
        const key = `${e.frame}:${e.name}`;
        if (before.get(key)?.value !== e.value || (e.written && !full)) changed.add(key);
      }
    }
    if (list.length) frame = list[0]!.frame;
    else frame = log.frame[i]!;
  }
  return { entries, changed, frame };
}
