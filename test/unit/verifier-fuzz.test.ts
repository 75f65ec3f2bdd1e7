/**
 * Bad input: random bytes, random lines made of log vocabulary, and mutated real logs never make the
 * parser, the analysis, the state rebuild or the dependency walk throw, and parsing stays linear.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeLog } from '../../client/src/core/verifier/analyze';
import { followBack } from '../../client/src/core/verifier/dependencies';
import { parseVerifierLog } from '../../client/src/core/verifier/log-parser';
import { stateAtLine } from '../../client/src/core/verifier/reg-state';

const DIR = join(__dirname, '..', 'fixtures', 'verifier');
const REAL = readdirSync(DIR)
  .filter((n) => n.endsWith('.log'))
  .map((n) => readFileSync(join(DIR, n), 'utf8'));

// a small deterministic PRNG: failures reproduce
let seed = 0x2545f491;
const rnd = (n: number) => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
};
const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;

const VOCAB = [
  '0:',
  '12: ',
  '(85)',
  '(bf) ',
  'r1 = r0',
  '; ',
  ' @ ',
  'x.bpf.c:',
  ':0',
  'R0=',
  'R1_w=',
  'fp-8=',
  'frame1: ',
  'from 3 to 9: ',
  'func#1 @7',
  'Live regs before insn:',
  'caller:',
  'callee:',
  'to caller at 4:',
  'returning from callee:',
  'processed ',
  ' insns (limit ',
  'stack depth ',
  'verification time ',
  'scalar(',
  'var_off=(0x0; 0xff)',
  ')',
  '(',
  'map_value_or_null(id=1)',
  "invalid mem access 'scalar'",
  'mark_precise: ',
  'Reason:',
  'Suggestion:',
  '\t',
  ' ',
  '\n',
  '\r\n',
  'call pc+',
  'exit',
  '*(u64 *)(r10 -8) = r1',
  'r2 = *(u64 *)(r10 -8)',
  '99999999999999999999:',
  '-1:',
  'R',
  '=',
  ';',
  '@',
  '#',
  'libbpf: ',
  '\u0000',
  '\uffff',
  'é',
];

function exercise(text: string): void {
  const log = parseVerifierLog(text);
  const r = analyzeLog(log);
  assert.ok(['accepted', 'rejected', 'unknown'].includes(r.verdict));
  assert.equal(log.lineCount, text === '' ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
  for (let k = 0; k < 5 && log.lineCount > 0; k++) {
    const li = rnd(log.lineCount);
    stateAtLine(log, li);
    followBack(log, li, pick(['R0', 'R1', 'R6', 'fp-8', 'R10', 'bogus']));
    log.line(li);
    log.insnBody(li);
  }
}

function mutate(text: string): string {
  const lines = text.split('\n');
  for (let k = 0, n = 1 + rnd(8); k < n && lines.length; k++) {
    const i = rnd(lines.length);
    switch (rnd(6)) {
      case 0:
        lines.splice(i, 1);
        break;
      case 1:
        lines.splice(i, 0, lines[rnd(lines.length)]!);
        break;
      case 2:
        lines[i] = lines[i]!.slice(0, rnd(lines[i]!.length + 1));
        break;
      case 3:
        lines[i] = lines[i]! + pick(VOCAB);
        break;
      case 4: {
        const s = lines[i]!;
        const p = rnd(s.length + 1);
        lines[i] = s.slice(0, p) + pick(VOCAB) + s.slice(p);
        break;
      }
      default:
        lines[i] = Array.from({ length: rnd(12) }, () => pick(VOCAB)).join('');
    }
  }
  return lines.join('\n');
}

describe('verifier log parser under bad input', () => {
  test('random bytes never throw', () => {
    for (let k = 0; k < 300; k++) {
      const n = rnd(2000);
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(rnd(4) === 0 ? 10 : rnd(0x250));
      exercise(s);
    }
    exercise('');
    exercise('\n');
    exercise('\n\n\n');
  });

  test('random lines of log vocabulary never throw', () => {
    for (let k = 0; k < 500; k++) {
      const lines = Array.from({ length: rnd(60) }, () => Array.from({ length: rnd(10) }, () => pick(VOCAB)).join(''));
      exercise(lines.join('\n'));
    }
  });

  test('mutated real logs never throw', () => {
    for (let k = 0; k < 1500; k++) exercise(mutate(pick(REAL)));
  });

  test('parse time is linear in the size of the log (mutated logs, 16x the input, < 40x the time)', () => {
    const unit = Array.from({ length: 40 }, () => mutate(pick(REAL))).join('\n');
    const time = (text: string) => {
      let best = Infinity;
      for (let r = 0; r < 5; r++) {
        const t0 = process.hrtime.bigint();
        parseVerifierLog(text);
        best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
      }
      return best;
    };
    const small = unit.repeat(8);
    const big = unit.repeat(128);
    time(small); // warm up the JIT
    const ts = time(small);
    const tb = time(big);
    assert.ok(
      tb < Math.max(ts, 1) * 40,
      `16x input took ${(tb / ts).toFixed(1)}x the time (${ts.toFixed(1)} ms -> ${tb.toFixed(1)} ms)`,
    );
  });

  test('pathological lines: one huge line, deep parentheses, long runs of digits', () => {
    exercise('0: (bf) r1 = r0 ; R1=' + '('.repeat(200000) + ')'.repeat(10));
    exercise('1'.repeat(500000) + ': (85) call x');
    exercise(`; ${'x @ '.repeat(50000)}f.c:1`);
    exercise('from 1 to 2: ' + 'R1=scalar() '.repeat(20000));
  });
});
