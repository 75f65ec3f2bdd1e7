/**
 * Root cause as related locations: the line the kernel names is often the symptom, not the mistake.
 * From the failing path of the log (and, where the log cannot know, a search of the program's source
 * that the consumer runs: source-map.ts resolveRelatedSearch) this names where the mistake usually is:
 * - the license declaration for GPL-only helpers, kfuncs and kernel types;
 * - the acquiring call of a leaked reference (`alloc_insn=`), the lock taken for an exit under a lock,
 *   and the early `return`/`goto` after the last check on the leaking path;
 * - where a register got the type it has at the error (its origin, the check that let it through on
 *   this path) for invalid memory accesses;
 * - where an index got its range (the check that bounds it, or where it comes from when none does)
 *   for out-of-range map value / stack / packet accesses, and the nearest packet bounds check above;
 * - the program's SEC() line for sleepable helpers in non-sleepable programs;
 * - for a location inside an inlined header helper, the line of the program that calls it;
 * - the loop header for an infinite loop or a program too large to verify (the loop walked most);
 * - for a stack too large or too deep (no instruction line), the call chain with each function's stack.
 */
import type { RelatedLocation, SourceLocation, VerifierError } from './analyze';
import { followBack, type DepStep } from './dependencies';
import { decodedAt } from './insn-decode';
import { LineKind, type VerifierLog } from './log-parser';
import { stateAtLine } from './reg-state';

type SourceOf = (log: VerifierLog, li: number) => SourceLocation | undefined;

const RE_GPL = /non-GPL compatible|GPL-restricted|only GPL|GPL-compatible/;
const RE_LEAK = /Unreleased reference id=(\d+) alloc_insn=(\d+)/;
const RE_LOCK_EXIT = /bpf_spin_lock-ed region|inside bpf_spin_lock|bpf_spin_lock is missing|missing bpf_spin_unlock/;
const RE_SLEEP = /might sleep|sleepable/;
const RE_RANGE =
  /invalid access to (?:map value|packet|memory)|outside of the (?:packet|allowed memory range)|min value is (?:negative|outside)|max value is outside|unbounded memory access|variable-offset|invalid (?:read|write) from stack|invalid indirect (?:read|access)/;
const RE_PACKET = /packet/;
const RE_AFTER_RELEASE =
  /type=scalar expected=|invalid mem access 'scalar'|unacquired reference|expected an? (?:initialized|referenced)/i;
const RE_INFINITE = /infinite loop detected at insn (\d+)/;
const RE_TOO_LARGE =
  /program is too large|too many states|sequence of \d+ jumps is too complex|loop is not bounded|back-edge/;
const RE_STACK_CHAIN = /combined stack size of (\d+) calls is (\d+)|the call stack of (\d+) frames is too deep/;

/** Is the source file a header (an inlined helper) rather than the program's own .c file? */
const isHeader = (file: string) => /\.h$/.test(file);

/** The first instruction line of the failing walk at or after `from` (the last walk of insn n before `before`). */
function lastWalkBefore(log: VerifierLog, n: number, before: number): number {
  for (let i = before; i >= 0; i--) if (log.kind[i] === LineKind.Insn && log.insn[i] === n) return i;
  return -1;
}

/** The program's main file as the log names it: the first `.c` file of its source lines. */
export function mainFileOf(log: VerifierLog): string | undefined {
  return log.sources.find((s) => /\.c$/.test(s.file))?.file;
}

/** The nearest earlier source line of the program's own .c file: the call site of an inlined header helper. */
function callSiteOf(
  log: VerifierLog,
  li: number,
  sourceOf: SourceOf,
): { line: number; source: SourceLocation } | undefined {
  for (let i = li - 1; i >= 0 && li - i < 20000; i--) {
    if (log.kind[i] !== LineKind.Source) continue;
    const s = log.sources[log.aux[i]!];
    if (s && s.line > 0 && !isHeader(s.file)) {
      const src = sourceOf(log, i);
      return src ? { line: i, source: src } : undefined;
    }
  }
  return undefined;
}

function related(log: VerifierLog, li: number, message: string, sourceOf: SourceOf): RelatedLocation {
  return { message, logLine: li, insn: li >= 0 ? log.insn[li]! : -1, source: li >= 0 ? sourceOf(log, li) : undefined };
}

/** The conditional jumps on the failing path between log lines `from` and `to` (level 1: the path is linear). */
function jumpsOnPath(log: VerifierLog, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) {
    if (log.kind[i] === LineKind.Branch) out.length = 0; // level 2: a new path starts here
    if (log.kind[i] === LineKind.Insn && /^if /.test(decodedAt(log, i).text)) out.push(i);
  }
  return out;
}

/** Is the jump at line j the NULL check of the pointer the call at line `call` returned (`if r0 == 0x0`)? */
function isNullCheckOf(log: VerifierLog, j: number, call: number): boolean {
  if (!/R0=\w*_or_null/.test(log.stateText(call))) return false; // an int result (0 or an error) is not a pointer
  const m = /^if r(\d+) [!=]= 0x0 goto/.exec(decodedAt(log, j).text);
  if (!m) return false;
  const chain = followBack(log, j, `R${m[1]}`, 8, 2000);
  return chain.some((s) => s.line === call);
}

/** The register the failing instruction accesses memory through (`r1 = *(u32 *)(r9 +0)` -> R9). */
function baseRegister(log: VerifierLog, li: number): string | undefined {
  const d = decodedAt(log, li);
  if ((d.kind === 'assign' && (d.rhs === 'load' || d.rhs === 'fill')) || d.kind === 'store') return `R${d.src}`;
  const m = /\*\(u\d+ \*\)\(r(\d+) /.exec(d.text);
  return m ? `R${m[1]}` : undefined;
}

/** A conditional jump at most 2 instructions before line li on the same path (-1: none). */
function guardingJump(log: VerifierLog, li: number): number {
  for (let i = li - 1, n = 0; i >= 0 && n < 3; i--) {
    const k = log.kind[i];
    if (k === LineKind.Branch || (k === LineKind.Insn && log.glueTo[i]! >= 0)) return -1;
    if (k !== LineKind.Insn) continue;
    n++;
    if (decodedAt(log, i).text.startsWith('if ')) return i;
  }
  return -1;
}

/** For a pointer's chain: the index register added to it (`r0 += r1`), followed back from there. */
function indexChains(log: VerifierLog, chain: DepStep[]): DepStep[][] {
  const out: DepStep[][] = [];
  for (const s of chain) {
    if (s.role !== 'modify') continue;
    const m = /^r\d+ [+-]= r(\d+)$/.exec(s.text);
    if (m) out.push(followBack(log, s.line, `R${m[1]}`, 32, 200000, true));
  }
  return out;
}

/** The related locations that name the likely mistake behind the error. */
export function rootCauseRelated(log: VerifierLog, err: VerifierError, sourceOf: SourceOf): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  const text = err.lines.join('\n');
  const main = mainFileOf(log);

  if (RE_GPL.test(text)) {
    out.push({
      message: 'the license: GPL-only helpers, kfuncs and kernel types need a GPL-compatible license here',
      logLine: -1,
      insn: -1,
      find: { file: main, pattern: '\\bSEC\\(\\s*"license"\\s*\\)', endIfMissing: true },
    });
  }

  const leak = RE_LEAK.exec(text);
  const lockExit = RE_LOCK_EXIT.test(text);
  if ((leak || lockExit) && err.insnLine >= 0) {
    let acquire = -1;
    if (leak) acquire = lastWalkBefore(log, Number(leak[2]), err.insnLine);
    else
      for (let i = err.insnLine; i >= 0 && acquire < 0; i--)
        if (log.kind[i] === LineKind.Insn && /^call bpf_spin_lock#/.test(decodedAt(log, i).text)) acquire = i;
    if (acquire >= 0) {
      const what = leak ? `the reference is acquired here (insn ${leak[2]})` : 'the lock is taken here';
      out.push(related(log, acquire, what, sourceOf));
      // the path that leaks leaves through a check: the early return (or goto) right after the first
      // check past the acquire (not the NULL check of what was acquired) or after the last one
      const jumps = jumpsOnPath(log, acquire + 1, err.insnLine);
      if (jumps.length && isNullCheckOf(log, jumps[0]!, acquire)) jumps.shift();
      for (const j of new Set([jumps[0], jumps[jumps.length - 1]])) {
        if (j === undefined) continue;
        const r = related(
          log,
          j,
          leak
            ? 'the path that leaks the reference goes through this check (release before returning)'
            : 'the path that exits with the lock held goes through this check (unlock before returning)',
          sourceOf,
        );
        if (r.source && r.source.line > 0)
          r.find = {
            file: r.source.file,
            pattern: '^\\s*(?:return\\b|goto\\b|break;)',
            from: r.source.line,
            within: 2,
          };
        out.push(r);
      }
      // where the reference (or the locked map value) is last used: the release belongs after it
      const held = leak
        ? `ref_obj_id=${leak[1]}`
        : stateAtLine(log, acquire - 1).entries.get(`${log.frame[acquire]}:R1`)?.value;
      if (held) {
        for (let i = err.insnLine - 1; i > acquire; i--) {
          if (log.kind[i] === LineKind.Branch) break;
          const d = log.kind[i] === LineKind.Insn ? decodedAt(log, i) : undefined;
          const touches = d && (leak || d.kind === 'store' || (d.kind === 'assign' && d.rhs === 'load'));
          if (touches && log.stateText(i).includes(held)) {
            const what = leak
              ? 'the reference is last used here: release it after this'
              : 'the locked value is last used here: unlock after this';
            out.push(related(log, i, what, sourceOf));
            break;
          }
        }
      }
    }
  }

  if (RE_SLEEP.test(text) && err.source) {
    out.push({
      message: "the program's section decides whether it may sleep (a sleepable section ends in .s)",
      logLine: -1,
      insn: -1,
      find: { file: err.source.file, pattern: '^\\s*SEC\\(', from: err.source.line, within: -400 },
    });
  }

  if (RE_RANGE.test(text) && err.insnLine >= 0) {
    const m = /\bR(\d+)\b/.exec(text);
    const reg = m ? `R${m[1]}` : baseRegister(log, err.insnLine);
    if (reg) {
      const chain = followBack(log, err.insnLine, reg);
      for (const idx of indexChains(log, chain)) {
        // `slot = slot > MAX ? MAX - 1 : slot` compiles to a jump over a move: the jump right before the
        // index's last definition decides which value it has on this path
        const def = idx.find((s) => s.role !== 'modify' && s.role !== 'check');
        const guard = def ? guardingJump(log, def.line) : -1;
        const check = idx.find((s) => s.role === 'check');
        const origin = idx[idx.length - 1];
        // a check in the program's own file first (one inside an inlined helper such as log2() bounds
        // an intermediate value, rarely the index), then the jump that selects the index's value
        const own = check && !isHeader(sourceOf(log, check.line)?.file ?? '') ? check : undefined;
        if (own) out.push(related(log, own.line, `the index gets its range from this check: ${own.text}`, sourceOf));
        if (guard >= 0 && guard !== own?.line)
          out.push(
            related(
              log,
              guard,
              `the index gets its value on this path from this check: ${decodedAt(log, guard).text}`,
              sourceOf,
            ),
          );
        else if (!own && check)
          out.push(related(log, check.line, `the index gets its range from this check: ${check.text}`, sourceOf));
        else if (origin)
          out.push(
            related(log, origin.line, `the index comes from here, and no check bounds it: ${origin.text}`, sourceOf),
          );
      }
      const check = chain.find((s) => s.role === 'check');
      if (check && !out.some((r) => r.logLine === check.line))
        out.push(related(log, check.line, `the last bounds check of ${reg} on this path: ${check.text}`, sourceOf));
    }
    if (RE_PACKET.test(text) && err.source && err.source.line > 0) {
      out.push({
        message: 'the nearest packet bounds check above the access (it must cover the bytes read)',
        logLine: -1,
        insn: -1,
        find: { file: err.source.file, pattern: 'data_end', from: err.source.line, within: -40 },
      });
    }
  }
  if (RE_AFTER_RELEASE.test(text) && err.insnLine >= 0) {
    const rel = releasedBy(log, err.insnLine);
    if (rel >= 0)
      out.push(
        related(log, rel, 'the reference is released here: the pointer is no longer valid after this call', sourceOf),
      );
  }

  const inf = RE_INFINITE.exec(text);
  if (inf || RE_TOO_LARGE.test(text)) out.push(...loopHeader(log, inf ? Number(inf[1]) : -1, sourceOf));
  const chain = RE_STACK_CHAIN.exec(text);
  if (chain) out.push(...callChain(log, sourceOf, Number(chain[1] ?? chain[3])));
  return out;
}

/**
 * A use after release: the latest helper or kfunc call before line li that was passed a reference
 * (`ref_obj_id=N` in R1-R5) that no register holds any more at li (-1: none).
 */
function releasedBy(log: VerifierLog, li: number): number {
  const at = stateAtLine(log, li - 1).entries;
  const held = new Set<string>();
  for (const e of at.values()) {
    const m = /ref_obj_id=(\d+)/.exec(e.value);
    if (m) held.add(m[1]!);
  }
  for (let i = li - 1, calls = 0; i >= 0 && li - i < 4000 && calls < 16; i--) {
    if (log.kind[i] === LineKind.Branch) break;
    if (log.kind[i] !== LineKind.Insn || decodedAt(log, i).kind !== 'call-helper') continue;
    calls++;
    const before = stateAtLine(log, i - 1).entries;
    const f = log.frame[i]!;
    for (let r = 1; r <= 5; r++) {
      const m = /ref_obj_id=(\d+)/.exec(before.get(`${f}:R${r}`)?.value ?? '');
      if (m && !held.has(m[1]!)) return i;
    }
  }
  return -1;
}

/** Back edges: [jump insn, target insn] of jumps to an earlier instruction (`goto pc-2`, `if ... goto pc-9`). */
function backEdges(log: VerifierLog): [number, number][] {
  const out: [number, number][] = [];
  for (let n = 0; n < log.insnText.length; n++) {
    const m = /goto pc(-\d+)$/.exec(log.insnText[n] ?? '');
    if (m) out.push([n, n + 1 + Number(m[1])]);
  }
  return out;
}

/**
 * The loop behind an infinite loop at insn `at` (its back edge or header) or behind a program too large
 * (the innermost loop around the instruction walked most): its header, and how often it was walked.
 */
function loopHeader(log: VerifierLog, at: number, sourceOf: SourceOf): RelatedLocation[] {
  const edges = backEdges(log);
  let hot = at;
  if (hot < 0) {
    let most = 0;
    for (let n = 0; n < log.visitsOfInsn.length; n++)
      if (log.visitsOfInsn[n]! > most) {
        most = log.visitsOfInsn[n]!;
        hot = n;
      }
  }
  if (hot < 0) return [];
  const around = edges.filter(([j, t]) => t <= hot && hot <= j).sort((a, b) => a[0] - a[1] - (b[0] - b[1]))[0];
  if (!around) return [];
  const [jump, header] = around;
  const li = log.firstLineOfInsn[header] ?? -1;
  const visits = log.visitsOfInsn[header] ?? 0;
  const out: RelatedLocation[] = [];
  if (li >= 0)
    out.push(related(log, li, `the loop starts here (its header, insn ${header}, walked ${visits} times)`, sourceOf));
  const jl = log.firstLineOfInsn[jump] ?? -1;
  if (jl >= 0) out.push(related(log, jl, `the loop jumps back here (insn ${jump})`, sourceOf));
  return out;
}

/**
 * The deepest chain of subprogram calls from the main program (by stack used, then by depth), each
 * function with its stack size: `stack depth 0+200+200` (log level 4) per function in order, or else
 * the deepest r10 offset its instructions use.
 */
function callChain(log: VerifierLog, sourceOf: SourceOf, frames: number): RelatedLocation[] {
  const starts = new Set<number>([0]);
  const calls: [number, number][] = []; // [caller insn, callee start]
  for (let n = 0; n < log.insnText.length; n++) {
    const m = /^call pc([+-]\d+)$/.exec(log.insnText[n] ?? '');
    if (m) {
      starts.add(n + Number(m[1]) + 1);
      calls.push([n, n + Number(m[1]) + 1]);
    }
  }
  for (let i = 0; i < log.lineCount; i++) if (log.kind[i] === LineKind.Func) starts.add(log.aux[i]!);
  const funcs = [...starts].sort((a, b) => a - b);
  const funcOf = (insn: number) => {
    let f = 0;
    for (let k = 0; k < funcs.length; k++) if (funcs[k]! <= insn) f = k;
    return f;
  };
  const stack = funcs.map((start, k) => {
    const given = log.stats.stackDepth?.[k];
    if (given !== undefined && log.stats.stackDepth!.length === funcs.length) return given;
    let deepest = 0;
    const end = funcs[k + 1] ?? log.insnText.length;
    for (let n = start; n < end; n++) {
      const m = /\(r10 -(\d+)\)|^r\d+ \+= -(\d+)$/.exec(log.insnText[n] ?? '');
      if (m) deepest = Math.max(deepest, Number(m[1] ?? m[2]));
    }
    return Math.ceil(deepest / 16) * 16;
  });
  const callees = funcs.map(() => [] as { insn: number; f: number }[]);
  for (const [from, to] of calls) callees[funcOf(from)]!.push({ insn: from, f: funcs.indexOf(to) });
  // the heaviest chain, by depth-first search (a recursive call ends the chain where it repeats)
  let best: { f: number; via: number }[] = [];
  let bestCost = -1;
  const walk = (path: { f: number; via: number }[], cost: number) => {
    if (cost > bestCost || (cost === bestCost && path.length > best.length)) {
      best = [...path];
      bestCost = cost;
    }
    if (path.length > 12) return;
    for (const c of callees[path[path.length - 1]!.f]!) {
      if (path.some((p) => p.f === c.f)) {
        if (path.length + 1 > best.length) best = [...path, { f: c.f, via: c.insn }];
        continue;
      }
      walk([...path, { f: c.f, via: c.insn }], cost + stack[c.f]!);
    }
  };
  walk([{ f: 0, via: -1 }], stack[0]!);
  if (best.length < 2) return [];
  if (frames > 1 && best.length > frames) best = best.slice(0, frames);
  return best.map((p, k) => {
    const li = log.firstLineOfInsn[funcs[p.f]!] ?? -1;
    const at = p.via >= 0 ? (log.firstLineOfInsn[p.via] ?? -1) : li;
    const name = p.f === 0 ? 'the program' : `function ${p.f} (insn ${funcs[p.f]})`;
    return {
      ...related(
        log,
        at >= 0 ? at : li,
        k === 0
          ? `call 1 of ${best.length}: ${name} uses ${stack[p.f]} bytes of stack`
          : `call ${k + 1} of ${best.length} is made here: ${name} uses ${stack[p.f]} bytes of stack`,
        sourceOf,
      ),
      keep: true,
    };
  });
}

/** For related locations inside inlined header helpers: the line of the program that calls the helper. */
export function callSites(log: VerifierLog, rel: RelatedLocation[], sourceOf: SourceOf): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const r of rel) {
    if (r.logLine < 0 || !r.source || !isHeader(r.source.file)) continue;
    const site = callSiteOf(log, r.logLine, sourceOf);
    if (!site) continue;
    // the call itself often has no line of its own in the log (all its instructions are the helper's):
    // the first line with a call after the program's last line before it
    out.push({
      message: `called from here: ${r.message}`,
      logLine: site.line,
      insn: -1,
      source: site.source,
      find: { file: site.source.file, pattern: '\\w\\s*\\(', from: site.source.line + 1, within: 4 },
    });
  }
  return out;
}
