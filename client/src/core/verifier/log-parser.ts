/**
 * The verifier log parser: levels 1, 2 and 4, kernels 5.x to 6.18+. One pass over the text, no
 * object per line: the log stays one string, and every line is described by a few typed-array
 * slots (its kind, instruction index, source-line id, frame, where its register state starts).
 * Source lines (`; text @ file:line`) are interned in a small table. Unknown lines are kept as
 * `Other` and shown like any other line: nothing is dropped.
 *
 * No `vscode` import: the extension, the CLI (`bpf-ide log`) and the tests share it.
 */

import { LineKind, VerifierLog, type SourceRef, type VerifierStats } from './verifier-log';

export { LINE_KIND_NAMES, LineKind, VerifierLog, type SourceRef, type VerifierStats } from './verifier-log';

const CH_0 = 48;
const CH_9 = 57;
const CH_SEMI = 59;
const CH_SPACE = 32;
const CH_LPAREN = 40;
const CH_HASH = 35;

const isDigit = (c: number) => c >= CH_0 && c <= CH_9;

/** Parses the leading decimal of s at pos; returns [value, endPos] or [-1, pos]. */
function leadingInt(s: string, pos: number): [number, number] {
  let v = 0;
  let p = pos;
  while (p < s.length && p - pos < 10) {
    const c = s.charCodeAt(p);
    if (!isDigit(c)) break;
    v = v * 10 + (c - CH_0);
    p++;
  }
  return p === pos ? [-1, pos] : [v, p];
}

const RE_PROCESSED =
  /^processed (\d+) insns \(limit (\d+)\)(?: max_states_per_insn (\d+) total_states (\d+) peak_states (\d+) mark_read (\d+))?/;
const RE_TIME = /^verification time (\d+) usec/;
const RE_STACK = /^stack depth ([\d+]+)/;
const RE_BRANCH = /^from (\d+) to (\d+):\s?(.*)$/;
const RE_FUNC = /^func#(\d+) @(\d+)/;
const RE_TO_CALLER = /^to caller at (\d+):/;
const RE_OLD_REG = /\bR\d+(?:_[rwD]+)?=inv/;

/** Parses a verifier log. Never throws; linear in the size of the text. */
export function parseVerifierLog(text: string): VerifierLog {
  // count lines first so every array is allocated once, at its final size
  let n = 0;
  for (let p = text.indexOf('\n'); p !== -1; p = text.indexOf('\n', p + 1)) n++;
  if (text.length > 0 && text.charCodeAt(text.length - 1) !== 10) n++;
  const lineStart = new Uint32Array(n + 1);
  const kind = new Uint8Array(n);
  const insn = new Int32Array(n).fill(-1);
  const aux = new Int32Array(n).fill(-1);
  const frame = new Uint8Array(n);
  const stateAt = new Uint32Array(n);
  const glueTo = new Int32Array(n).fill(-1);
  const sources: SourceRef[] = [];
  const sourceIds = new Map<string, number>();
  const insnText: (string | undefined)[] = [];
  const stats: VerifierStats = {
    processedInsns: null,
    insnLimit: null,
    maxStatesPerInsn: null,
    totalStates: null,
    peakStates: null,
    markRead: null,
    verificationTimeUsec: null,
    stackDepth: null,
  };
  let insnCount = 0;
  let maxInsn = -1;
  let curSource = -1;
  let curFrame = 0;
  let inLiveTable = false;
  let oldSyntax = false;
  let sawStart = false;

  let start = 0;
  for (let i = 0; i < n; i++) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineStart[i] = start;
    // every line belongs to the frame the walk is in (a source row inside a callee is in the callee)
    frame[i] = curFrame;
    // the most frequent lines of big level-2 logs (precision backtracking) are classified without a slice
    if (text.charCodeAt(start) === 109 /* m */ && text.startsWith('mark_precise:', start)) {
      kind[i] = LineKind.Debug;
      inLiveTable = false;
      start = end + 1;
      continue;
    }
    const s = text.charCodeAt(end - 1) === 13 ? text.slice(start, end - 1) : text.slice(start, end);
    start = end + 1;
    const len = s.length;
    if (len === 0 || (len < 3 && s.trim() === '')) {
      kind[i] = LineKind.Blank;
      inLiveTable = false;
      continue;
    }
    const c0 = s.charCodeAt(0);

    if (isDigit(c0)) {
      inLiveTable = false;
      const [idx, p] = leadingInt(s, 0);
      if (s.charCodeAt(p) === 58 /* : */ && s.charCodeAt(p + 1) === CH_SPACE) {
        const c = s.charCodeAt(p + 2);
        if (c === CH_LPAREN) {
          // instruction line: `N: (op) text[   ; state]`
          kind[i] = LineKind.Insn;
          insn[i] = idx;
          aux[i] = curSource;
          insnCount++;
          if (idx > maxInsn) maxInsn = idx;
          const close = s.indexOf(') ', p + 2);
          const [glueAt, glueInsn] = gluedState(s, close + 2);
          frame[i] = curFrame;
          let textEnd = len;
          if (glueAt > 0) {
            // level 1: the kernel rewound the log to this jump (or call) when the path it was on ended,
            // and printed the first state of the next path, at instruction glueInsn, right after it
            stateAt[i] = glueAt;
            glueTo[i] = glueInsn;
            const f = frameOf(s, glueAt);
            curFrame = f >= 0 ? f : 0;
            textEnd = s.lastIndexOf(' ', s.lastIndexOf(':', glueAt));
          } else {
            const semi = s.indexOf('; ', p + 2);
            if (semi > 0) {
              textEnd = semi;
              stateAt[i] = semi + 2;
              const f = frameOf(s, semi + 2);
              if (f >= 0) curFrame = frame[i] = f;
              else if (curFrame > 0 && looksLikeState(s, semi + 2)) curFrame = frame[i] = 0;
            }
          }
          if (idx < 1 << 20 && insnText[idx] === undefined) insnText[idx] = s.slice(close + 2, textEnd).trimEnd();
          sawStart = true;
          continue;
        }
        if (looksLikeState(s, p + 2)) {
          kind[i] = LineKind.State;
          insn[i] = idx;
          aux[i] = curSource;
          stateAt[i] = p + 2;
          const f = frameOf(s, p + 2);
          curFrame = f >= 0 ? f : 0;
          frame[i] = curFrame;
          if (!oldSyntax && RE_OLD_REG.test(s)) oldSyntax = true;
          sawStart = true;
          continue;
        }
      }
      if (s.charCodeAt(p) === 58 && s.startsWith(' safe', p + 1) && p + 6 === len) {
        // `24: safe`: the state here equals one already verified (pruning)
        kind[i] = LineKind.Debug;
        insn[i] = idx;
        continue;
      }
      kind[i] = LineKind.Other;
      continue;
    }

    if (c0 === CH_SEMI) {
      inLiveTable = false;
      kind[i] = LineKind.Source;
      const at = s.lastIndexOf(' @ ');
      let file = '';
      let line = -1;
      let srcText: string;
      if (at >= 0) {
        const colon = s.lastIndexOf(':');
        const [ln, lp] = colon > at ? leadingInt(s, colon + 1) : [-1, 0];
        if (ln >= 0 && lp === len) {
          file = s.slice(at + 3, colon);
          line = ln;
          srcText = s.slice(1, at).trim();
        } else srcText = s.slice(1).trim();
      } else srcText = s.slice(1).trim();
      const key = `${file}\u0000${line}\u0000${srcText}`;
      let id = sourceIds.get(key);
      if (id === undefined) {
        id = sources.length;
        sources.push({ file, line, text: srcText });
        sourceIds.set(key, id);
      }
      curSource = id;
      aux[i] = id;
      sawStart = true;
      continue;
    }

    if (c0 === CH_SPACE) {
      // Live regs table rows, 5.x state lines after jumps (` R0=...`), caller/callee states (` frame1: R1=...`)
      let p = 0;
      while (p < len && s.charCodeAt(p) === CH_SPACE) p++;
      if (inLiveTable && isDigit(s.charCodeAt(p))) {
        kind[i] = LineKind.LiveRegs;
        const [idx, q] = leadingInt(s, p);
        insn[i] = idx;
        const op = s.indexOf(') ', q);
        if (idx >= 0 && idx < 1 << 20 && op > 0) insnText[idx] ??= s.slice(op + 2).trimEnd();
        continue;
      }
      inLiveTable = false;
      if (looksLikeState(s, p)) {
        kind[i] = LineKind.State;
        stateAt[i] = p;
        const f = frameOf(s, p);
        frame[i] = f >= 0 ? f : curFrame;
        aux[i] = curSource;
        if (!oldSyntax && RE_OLD_REG.test(s)) oldSyntax = true;
        continue;
      }
      kind[i] = LineKind.Other;
      continue;
    }

    inLiveTable = false;
    let m: RegExpExecArray | null;
    switch (c0) {
      case 102: // f
        if ((m = RE_BRANCH.exec(s))) {
          kind[i] = LineKind.Branch;
          insn[i] = Number(m[1]);
          aux[i] = Number(m[2]);
          if (m[3] && m[3] !== 'safe') {
            stateAt[i] = len - m[3].length;
            const f = frameOf(s, stateAt[i]!);
            curFrame = f >= 0 ? f : 0;
          }
          frame[i] = curFrame;
          // no reset of curSource: the kernel prints a source line only when it differs from the last
          // one it printed, so the last one printed stays in effect across `from X to Y:` too
          continue;
        }
        if (s.startsWith('frame') && s.includes(': propagating ')) {
          kind[i] = LineKind.Debug;
          continue;
        }
        if ((m = RE_FUNC.exec(s))) {
          kind[i] = LineKind.Func;
          insn[i] = Number(m[1]);
          aux[i] = Number(m[2]);
          sawStart = true;
          continue;
        }
        break;
      case 76: // L
        if (s.startsWith('Live regs before insn:')) {
          kind[i] = LineKind.LiveRegs;
          inLiveTable = true;
          sawStart = true;
          continue;
        }
        break;
      case 99: // c
        if (s === 'caller:' || s === 'callee:') {
          kind[i] = LineKind.CallFrame;
          continue;
        }
        if (s.startsWith('cur state:')) {
          kind[i] = LineKind.LoopState;
          stateAt[i] = 11;
          continue;
        }
        break;
      case 114: // r
        if (s.startsWith('returning from callee:')) {
          kind[i] = LineKind.CallFrame;
          continue;
        }
        break;
      case 116: // t
        if ((m = RE_TO_CALLER.exec(s))) {
          kind[i] = LineKind.CallFrame;
          insn[i] = Number(m[1]);
          curFrame = curFrame > 0 ? curFrame - 1 : 0;
          continue;
        }
        break;
      case 111: // o
        if (s.startsWith('old state:')) {
          kind[i] = LineKind.LoopState;
          stateAt[i] = 11;
          continue;
        }
        break;
      case 112: // p
        if ((m = RE_PROCESSED.exec(s))) {
          kind[i] = LineKind.Stats;
          stats.processedInsns = Number(m[1]);
          stats.insnLimit = Number(m[2]);
          if (m[3] !== undefined) {
            stats.maxStatesPerInsn = Number(m[3]);
            stats.totalStates = Number(m[4]);
            stats.peakStates = Number(m[5]);
            stats.markRead = Number(m[6]);
          }
          continue;
        }
        if (s.startsWith('propagating ') || s.startsWith('parent ')) {
          kind[i] = LineKind.Debug;
          continue;
        }
        break;
      case 118: // v
        if ((m = RE_TIME.exec(s))) {
          kind[i] = LineKind.Stats;
          stats.verificationTimeUsec = Number(m[1]);
          continue;
        }
        break;
      case 115: // s
        if ((m = RE_STACK.exec(s))) {
          kind[i] = LineKind.Stats;
          stats.stackDepth = m[1]!.split('+').filter(Boolean).map(Number);
          continue;
        }
        break;
      case 109: // m
        if (s.startsWith('mark_precise:')) {
          kind[i] = LineKind.Debug;
          continue;
        }
        break;
      case 40: // (
        if (/^\(\d+\) /.test(s)) {
          kind[i] = LineKind.Debug;
          continue;
        }
        break;
      case 82: // R
        if (s.startsWith('Reason:')) {
          kind[i] = LineKind.Advice;
          continue;
        }
        break;
      case 83: // S
        if (s.startsWith('SCC ')) {
          kind[i] = LineKind.Debug;
          continue;
        }
        if (s.startsWith('Suggestion:')) {
          kind[i] = LineKind.Advice;
          continue;
        }
        break;
      case 108: // l
        if (s.startsWith('libbpf: ') || s.startsWith('last_idx ')) {
          kind[i] = s.startsWith('libbpf: ') ? LineKind.Meta : LineKind.Debug;
          continue;
        }
        break;
      case 45: // -
        if (s.startsWith('-- BEGIN') || s.startsWith('-- END')) {
          kind[i] = LineKind.Meta;
          continue;
        }
        break;
      case CH_HASH:
        if (!sawStart) {
          kind[i] = LineKind.Meta;
          continue;
        }
        break;
    }
    if (i > 0 && kind[i - 1] === LineKind.Advice && c0 === 9 /* tab */) {
      kind[i] = LineKind.Advice;
      continue;
    }
    kind[i] = LineKind.Other;
  }
  lineStart[n] = text.length;

  const insnLines = new Int32Array(insnCount);
  for (let i = 0, k = 0; i < n; i++) if (kind[i] === LineKind.Insn) insnLines[k++] = i;

  // A log the kernel cut at the front (ENOSPC tail) starts mid-line and never shows its start.
  let truncated = false;
  if (n > 0) {
    let first = 0;
    while (first < n && (kind[first] === LineKind.Blank || kind[first] === LineKind.Meta)) first++;
    const fk = kind[first];
    const startsClean =
      first >= n ||
      fk === LineKind.Func ||
      fk === LineKind.LiveRegs ||
      fk === LineKind.Source ||
      fk === LineKind.Stats ||
      (fk === LineKind.State && insn[first] === 0) ||
      (fk === LineKind.Insn && insn[first] === 0) ||
      (fk === LineKind.Other &&
        /^(?:arg#|\w[\w ]*:?|Func#|Validating|reg type unsupported)/.test(lineText(text, lineStart, first)) &&
        !/^\s/.test(lineText(text, lineStart, first)));
    truncated = !startsClean && insnCount > 0;
  }

  return new VerifierLog(text, {
    lineStart,
    kind,
    insn,
    aux,
    frame,
    stateAt,
    glueTo,
    sources,
    insnLines,
    maxInsn,
    stats,
    truncated,
    oldSyntax,
    insnText,
  });
}

function lineText(text: string, lineStart: Uint32Array, i: number): string {
  return text.slice(lineStart[i]!, lineStart[i + 1]!).replace(/\r?\n$/, '');
}

/** `frameN:` at pos -> N; otherwise -1. */
function frameOf(s: string, pos: number): number {
  if (!s.startsWith('frame', pos)) return -1;
  const [f, p] = leadingInt(s, pos + 5);
  return f >= 0 && s.charCodeAt(p) === 58 ? Math.min(f, 255) : -1;
}

/**
 * A state glued after an instruction's text (level 1, `9: (15) if r0 == 0x0 goto pc+3 13: R0=0 ...`,
 * `21: (85) call bpf_loop#181 32: frame1: R1=scalar() ...`): [offset of the state, its instruction]
 * or [-1, -1]. Instruction texts never contain `N: ` followed by state; state text after `; ` does
 * (`frame1: `), so only the part before the first `; ` is searched.
 */
function gluedState(s: string, from: number): [number, number] {
  const semi = s.indexOf('; ', from);
  for (let c = s.indexOf(': ', from); c > 0 && (semi < 0 || c < semi); c = s.indexOf(': ', c + 2)) {
    let b = c;
    while (b > from && isDigit(s.charCodeAt(b - 1))) b--;
    if (b < c && s.charCodeAt(b - 1) === CH_SPACE && looksLikeState(s, c + 2)) {
      return [c + 2, Number(s.slice(b, c))];
    }
  }
  return [-1, -1];
}

/** Does the text at pos look like register/stack state (`R1=`, `R1_w=`, `fp-8=`, `frame1: `)? */
function looksLikeState(s: string, pos: number): boolean {
  const c = s.charCodeAt(pos);
  if (c === 82 /* R */) {
    let p = pos + 1;
    if (!isDigit(s.charCodeAt(p))) return false;
    while (isDigit(s.charCodeAt(p))) p++;
    const d = s.charCodeAt(p);
    return d === 61 /* = */ || d === 95; /* _ */
  }
  if (c === 102 /* f */) return s.startsWith('fp-', pos) || frameOf(s, pos) >= 0;
  return false;
}
