/**
 * A parsed verifier log: the text kept as one string, and per line a few typed-array slots (kind,
 * instruction index, source id, frame, where the state text starts). No object per line, so a
 * 170,000-line log costs a few MB beyond its text. Built by parseVerifierLog (log-parser.ts).
 */
/** What a log line is. Stored as a byte per line. */
export const enum LineKind {
  Blank = 0,
  /** `12: (85) call bpf_map_lookup_elem#1     ; R0=map_value_or_null(...)` */
  Insn = 1,
  /** `0: R1=ctx() R10=fp0`, ` R0=map_value(...)` (5.x), ` frame1: R1=...` (caller/callee blocks) */
  State = 2,
  /** `; u64 *val = bpf_map_lookup_elem(&counts, &pid); @ small.bpf.c:17` or 5.x `; text` */
  Source = 3,
  /** `from 10 to 13: R0=... ` (a path the verifier comes back to) */
  Branch = 4,
  /** `func#1 @32` */
  Func = 5,
  /** `Live regs before insn:` and its rows */
  LiveRegs = 6,
  /** `caller:`, `callee:`, `returning from callee:`, `to caller at 14:` */
  CallFrame = 7,
  /** `processed N insns ...`, `verification time N usec`, `stack depth N+M` */
  Stats = 8,
  /** precision backtracking and liveness debugging: `mark_precise: ...`, `(0) frame 0 insn 9 +live -8` */
  Debug = 9,
  /** `cur state:` / `old state:` lines that explain an infinite-loop verdict */
  LoopState = 10,
  /** `Reason:` / `Suggestion:` blocks some kernels print after the error */
  Advice = 11,
  /** libbpf's wrapping (`libbpf: prog 'x': -- BEGIN PROG LOAD LOG --`), `#` comment lines at the top */
  Meta = 12,
  /** anything else: kept, shown, and candidates for the final error */
  Other = 13,
}

export const LINE_KIND_NAMES = [
  'blank',
  'insn',
  'state',
  'source',
  'branch',
  'func',
  'live-regs',
  'call-frame',
  'stats',
  'debug',
  'loop-state',
  'advice',
  'meta',
  'other',
] as const;

/** One interned BTF line-info record. */
export interface SourceRef {
  /** basename as the log names it; '' for 5.x logs that give only the text */
  file: string;
  /** 1-based source line; 0 means compiler-generated code; -1 when the log gives no line number */
  line: number;
  /** the source text the log quotes (trimmed) */
  text: string;
}

/** Statistics from `processed ...`, `verification time`, `stack depth` (null where the log is silent). */
export interface VerifierStats {
  processedInsns: number | null;
  insnLimit: number | null;
  maxStatesPerInsn: number | null;
  totalStates: number | null;
  peakStates: number | null;
  markRead: number | null;
  verificationTimeUsec: number | null;
  /** per-frame stack depths (`stack depth 16+0` -> [16, 0]) */
  stackDepth: number[] | null;
}

/** A parsed verifier log. Lines are addressed by 0-based index; all arrays have `lineCount` slots. */
export class VerifierLog {
  /** start offset of line i in `text`; `lineStart[lineCount]` is the end */
  readonly lineStart: Uint32Array;
  readonly kind: Uint8Array;
  /** Insn/State: instruction index; Branch: `from`; CallFrame `to caller at N`: N; Func: func number; else -1 */
  readonly insn: Int32Array;
  /** Insn/State/Source: id in `sources` of the source line in effect; Branch: `to`; Func: start insn; else -1 */
  readonly aux: Int32Array;
  /** call frame (0 = main program) the walk is in at each line (Insn lines: the instruction's own frame) */
  readonly frame: Uint8Array;
  /** offset in the line where register/stack state text begins (0: none) */
  readonly stateAt: Uint32Array;
  /**
   * Insn lines of level-1 logs: the instruction the next path starts at, when the kernel printed that
   * path's first state glued to this line (`... goto pc+3 13: R0=0 ...`; its stateAt points there); else -1
   */
  readonly glueTo: Int32Array;
  readonly sources: SourceRef[] = [];
  /** line indexes of Insn lines, in order (the stepper's rows) */
  readonly insnLines: Int32Array;
  /** line index of the first Insn line for each instruction index (-1: never walked) */
  readonly firstLineOfInsn: Int32Array;
  /** how many times the verifier walked each instruction index */
  readonly visitsOfInsn: Uint32Array;
  /** source id of each instruction index (-1: unknown) */
  readonly sourceOfInsn: Int32Array;
  /** instruction text from the `Live regs before insn:` table or Insn lines, by instruction index */
  readonly insnText: (string | undefined)[];
  readonly stats: VerifierStats;
  /** the log starts mid-way (the kernel kept only the tail of a log that did not fit its buffer) */
  readonly truncated: boolean;
  /** `R1_w=inv(id=0)` style (kernels before 5.19/6.x) */
  readonly oldSyntax: boolean;

  constructor(
    readonly text: string,
    parts: {
      lineStart: Uint32Array;
      kind: Uint8Array;
      insn: Int32Array;
      aux: Int32Array;
      frame: Uint8Array;
      stateAt: Uint32Array;
      glueTo: Int32Array;
      sources: SourceRef[];
      insnLines: Int32Array;
      maxInsn: number;
      stats: VerifierStats;
      truncated: boolean;
      oldSyntax: boolean;
      insnText: (string | undefined)[];
    },
  ) {
    this.lineStart = parts.lineStart;
    this.kind = parts.kind;
    this.insn = parts.insn;
    this.aux = parts.aux;
    this.frame = parts.frame;
    this.stateAt = parts.stateAt;
    this.glueTo = parts.glueTo;
    this.sources = parts.sources;
    this.insnLines = parts.insnLines;
    this.stats = parts.stats;
    this.truncated = parts.truncated;
    this.oldSyntax = parts.oldSyntax;
    this.insnText = parts.insnText;
    const n = parts.maxInsn + 1;
    this.firstLineOfInsn = new Int32Array(n).fill(-1);
    this.visitsOfInsn = new Uint32Array(n);
    this.sourceOfInsn = new Int32Array(n).fill(-1);
    for (let k = 0; k < this.insnLines.length; k++) {
      const li = this.insnLines[k]!;
      const idx = this.insn[li]!;
      if (idx < 0 || idx >= n) continue;
      if (this.firstLineOfInsn[idx] === -1) this.firstLineOfInsn[idx] = li;
      this.visitsOfInsn[idx]!++;
      if (this.sourceOfInsn[idx] === -1 && this.aux[li]! >= 0) this.sourceOfInsn[idx] = this.aux[li]!;
    }
  }

  get lineCount(): number {
    return this.kind.length;
  }

  /** The text of line i, without its newline. */
  line(i: number): string {
    let end = this.lineStart[i + 1]!;
    if (end > this.lineStart[i]! && this.text.charCodeAt(end - 1) === 10) end--;
    if (end > this.lineStart[i]! && this.text.charCodeAt(end - 1) === 13) end--;
    return this.text.slice(this.lineStart[i]!, end);
  }

  /** The register/stack state text of line i ('' when it has none). */
  stateText(i: number): string {
    const at = this.stateAt[i]!;
    if (!at) return '';
    const s = this.line(i);
    return s.slice(at);
  }

  /** For Insn lines: the instruction text (`r1 = *(u64 *)(r0 +0)`), without index, opcode or state. */
  insnBody(i: number): string {
    const s = this.line(i);
    const p = s.indexOf(') ');
    if (p < 0) return s;
    const at = this.stateAt[i]!;
    if (!at) return s.slice(p + 2).trimEnd();
    const end = this.glueTo[i]! >= 0 ? s.lastIndexOf(' ', s.lastIndexOf(':', at)) : s.lastIndexOf(';', at);
    return s.slice(p + 2, end).trimEnd();
  }

  /** The source record in effect at line i (-1: none). */
  sourceAt(i: number): SourceRef | undefined {
    const k = this.kind[i];
    const id = k === LineKind.Insn || k === LineKind.State || k === LineKind.Source ? this.aux[i]! : -1;
    return id >= 0 ? this.sources[id] : undefined;
  }
}
