/** The verifier log parser on real logs of this kernel (levels 1, 2, 4) and hand-made 5.x logs. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeLog } from '../../client/src/core/verifier/analyze';
import { followBack } from '../../client/src/core/verifier/dependencies';
import { LineKind, parseVerifierLog } from '../../client/src/core/verifier/log-parser';
import { parseStateText, stateAtLine, typeOf } from '../../client/src/core/verifier/reg-state';
import { findLineByText, resolveSourceFile } from '../../client/src/core/verifier/source-map';
import { readableValue } from '../../client/src/core/verifier/value-format';

const DIR = join(__dirname, '..', 'fixtures', 'verifier');
const read = (name: string) => readFileSync(join(DIR, `${name}.log`), 'utf8');
const kinds = (name: string) => {
  const log = parseVerifierLog(read(name));
  const count = new Map<number, number>();
  for (const k of log.kind) count.set(k, (count.get(k) ?? 0) + 1);
  return { log, count: (k: LineKind) => count.get(k) ?? 0 };
};

describe('verifier log parser', () => {
  test('keeps every line: the lines put back together are the log', () => {
    for (const f of readdirSync(DIR).filter((n) => n.endsWith('.log'))) {
      const text = readFileSync(join(DIR, f), 'utf8');
      const log = parseVerifierLog(text);
      const lines: string[] = [];
      for (let i = 0; i < log.lineCount; i++) lines.push(log.line(i));
      assert.equal(lines.join('\n') + (text.endsWith('\n') ? '\n' : ''), text, f);
    }
  });

  test('level 2 with a subprogram: instructions, source lines, frames, branches, live regs, stats', () => {
    const { log, count } = kinds('accepted_subprog');
    assert.equal(count(LineKind.Func), 2);
    assert.ok(count(LineKind.LiveRegs) > 30, 'the Live regs table');
    assert.ok(count(LineKind.Branch) >= 4, 'from X to Y lines');
    assert.ok(count(LineKind.CallFrame) >= 8, 'caller/callee blocks');
    assert.equal(log.insnLines.length, 56);
    // the subprogram's instructions run in frame 1
    const callee = Array.from(log.insnLines).filter((l) => log.insn[l] === 33);
    assert.ok(callee.length >= 4 && callee.every((l) => log.frame[l] === 1));
    assert.equal(log.frame[log.firstLineOfInsn[14]!], 0);
    assert.equal(log.visitsOfInsn[33], callee.length);
    assert.equal(log.insnText[13], 'call pc+18');
    assert.deepEqual(log.stats, {
      processedInsns: 60,
      insnLimit: 1000000,
      maxStatesPerInsn: 0,
      totalStates: 6,
      peakStates: 6,
      markRead: 0,
      verificationTimeUsec: 254,
      stackDepth: [16, 0],
    });
    const s = log.sourceAt(log.firstLineOfInsn[9]!)!;
    assert.deepEqual(s, {
      file: 'accepted_subprog.bpf.c',
      line: 26,
      text: 'val = bpf_map_lookup_elem(&counts, &pid);',
    });
    assert.equal(analyzeLog(log).verdict, 'accepted');
  });

  test('level 1 and level 4 logs of an accepted program: stats only', () => {
    for (const f of ['accepted_level1', 'accepted_stats']) {
      const r = analyzeLog(parseVerifierLog(read(f)));
      assert.equal(r.verdict, 'accepted');
      assert.equal(r.instructions, 0);
      assert.equal(r.stats.processedInsns, 60);
    }
  });

  test('register state at an instruction: the last full state plus the changes since, changes marked', () => {
    const log = parseVerifierLog(read('accepted_subprog'));
    const li = log.firstLineOfInsn[9]!; // call bpf_map_lookup_elem
    const st = stateAtLine(log, li);
    assert.equal(st.entries.get('0:R0')?.type, 'map_value_or_null');
    assert.equal(st.entries.get('0:R10')?.value, 'fp0');
    assert.equal(st.entries.get('0:fp-16')?.value, '1');
    assert.ok(st.changed.has('0:R0'));
    assert.ok(!st.changed.has('0:R10'));
    const inCallee = stateAtLine(log, log.firstLineOfInsn[35]!);
    assert.equal(inCallee.frame, 1);
    assert.match(inCallee.entries.get('1:R1')!.value, /^scalar\(/);
  });

  test('state text: parentheses with spaces, frames, precise and written marks, old names', () => {
    const e = parseStateText('frame1: R1=scalar(smin=0,var_off=(0x0; 0xff)) R10=fp0 fp-8=mmmm???? fp-16_w=P3');
    assert.deepEqual(
      e.map((x) => [x.frame, x.name, x.type]),
      [
        [1, 'R1', 'scalar'],
        [1, 'R10', 'fp'],
        [1, 'fp-8', 'stack'],
        [1, 'fp-16', 'scalar'],
      ],
    );
    assert.equal(e[3]!.precise, true);
    assert.equal(e[3]!.written, true);
    assert.equal(typeOf('inv(id=0)'), 'scalar');
    assert.equal(typeOf('inv129'), 'scalar');
    assert.equal(typeOf('pkt(id=0,off=0,r=0,imm=0)'), 'pkt');
    assert.equal(typeOf('fp[1](off=-200)'), 'fp');
  });

  test('5.x syntax (hand-made fixtures): R1_w=inv(id=0), pkt(...,imm=0), source text without a line', () => {
    const log = parseVerifierLog(read('old_5x_null'));
    assert.equal(log.oldSyntax, true);
    assert.equal(log.insnLines.length, 9);
    const li = log.firstLineOfInsn[8]!;
    const st = stateAtLine(log, li + 1); // the `9: R0_w=...` state line after the call
    assert.equal(st.entries.get('0:R0')?.type, 'map_value_or_null');
    assert.equal(st.entries.get('0:R0')?.written, true);
    const r = analyzeLog(log);
    assert.equal(r.error?.source?.text, '*val += 1;');
    assert.equal(r.error?.source?.line, -1);
    const pkt = parseVerifierLog(read('old_5x_pkt'));
    const branchState = Array.from(pkt.kind).findIndex((k, i) => k === LineKind.State && pkt.insn[i] === -1);
    assert.ok(branchState > 0, 'a " R0=..." state line after a jump');
    assert.equal(stateAtLine(pkt, branchState).entries.get('0:R2')?.type, 'pkt');
  });

  test('a log the kernel cut at the front (ENOSPC tail) is parsed and flagged truncated', () => {
    const log = parseVerifierLog(read('too_large'));
    assert.equal(log.truncated, true);
    assert.ok(log.insnLines.length > 500);
    assert.equal(analyzeLog(log).error?.catalog?.id, 'too-many-insns');
    assert.equal(parseVerifierLog(read('null_map_value')).truncated, false);
    assert.equal(parseVerifierLog(read('infinite_loop')).truncated, false);
  });

  test('follow a value backwards: through a stack spill and fill, and out of a subprogram', () => {
    const text = [
      '0: R1=ctx() R10=fp0',
      '0: (85) call bpf_get_prandom_u32#7     ; R0=scalar()',
      '1: (7b) *(u64 *)(r10 -8) = r0          ; R0=scalar() R10=fp0 fp-8=scalar()',
      '2: (79) r3 = *(u64 *)(r10 -8)          ; R3=scalar()',
      '3: (bf) r1 = r3                        ; R1=scalar()',
      '4: (85) call pc+2',
      'caller:',
      ' R10=fp0',
      'callee:',
      ' frame1: R1=scalar() R10=fp0',
      '7: frame1: R1=scalar() R10=fp0',
      '7: (bf) r0 = r1                        ; frame1: R0=scalar()',
      '8: (95) exit',
      'returning from callee:',
      ' frame1: R0=scalar() R10=fp0',
      'to caller at 5:',
      ' R0=scalar() R10=fp0',
      '',
      'from 8 to 5: R0=scalar() R10=fp0',
      '5: (bf) r6 = r0                        ; R6=scalar()',
      '6: (61) r0 = *(u32 *)(r6 +0)',
      "R6 invalid mem access 'scalar'",
    ].join('\n');
    const log = parseVerifierLog(text);
    const use = log.firstLineOfInsn[6]!;
    const chain = followBack(log, use, 'R6');
    assert.deepEqual(
      chain.map((s) => [s.insn, s.role]),
      [
        [5, 'move'],
        [8, 'return'],
        [7, 'move'],
        [4, 'call-arg'],
        [3, 'move'],
        [2, 'fill'],
        [1, 'spill'],
        [0, 'origin'],
      ],
    );
  });

  test('source mapping: basename to workspace files, nearest to the object, text lookup for 5.x', () => {
    const files = ['/w/a/prog.bpf.c', '/w/b/prog.bpf.c', '/w/include/common.h'];
    assert.equal(resolveSourceFile('prog.bpf.c', files, { mainSource: '/w/b/prog.bpf.c' }), '/w/b/prog.bpf.c');
    assert.equal(resolveSourceFile('common.h', files), '/w/include/common.h');
    assert.equal(resolveSourceFile('missing.h', files), undefined);
    const src = readFileSync(join(DIR, 'null_map_value.bpf.c'), 'utf8');
    assert.equal(findLineByText(src, '*val += 1;'), 18);
  });

  test('Reason:/Suggestion: blocks and libbpf wrapping are recognised, not dropped', () => {
    const log = parseVerifierLog(
      [
        "libbpf: prog 'p': -- BEGIN PROG LOAD LOG --",
        '0: R1=ctx() R10=fp0',
        '0: (79) r0 = *(u64 *)(r1 +4096)',
        'invalid bpf_context access off=4096 size=8',
        'Reason: the offset is past the end of the context',
        'Suggestion: read a field of the context struct',
        'processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
        "libbpf: prog 'p': -- END PROG LOAD LOG --",
      ].join('\n'),
    );
    assert.deepEqual(Array.from(log.kind), [
      LineKind.Meta,
      LineKind.State,
      LineKind.Insn,
      LineKind.Other,
      LineKind.Advice,
      LineKind.Advice,
      LineKind.Stats,
      LineKind.Meta,
    ]);
    const r = analyzeLog(log);
    assert.equal(r.error?.catalog?.id, 'ctx-access');
    assert.ok(r.error?.lines.some((l) => l.startsWith('Reason:')));
  });

  test('values in words: ranges, map values that may be NULL, stack slots, 5.x names', () => {
    assert.equal(
      readableValue('scalar(smin=0,smax=umax=0xffffffff,var_off=(0x0; 0xffffffff))'),
      'number in [0, 4294967295]',
    );
    assert.equal(readableValue('scalar(smin=smin32=-128,smax=smax32=127)'), 'number in [-128, 127]');
    assert.equal(readableValue('scalar()'), 'any number');
    assert.equal(readableValue('P0'), 'the number 0 (precise: the verifier tracks its exact value)');
    assert.equal(readableValue('inv(id=0,umax_value=255,var_off=(0x0; 0xff))'), 'number in [0, 255]');
    assert.equal(
      readableValue('map_value_or_null(id=1,map=counts,ks=4,vs=8)'),
      'pointer to a value of map counts (8 bytes), or NULL (check it before use)',
    );
    assert.equal(
      readableValue('pkt(id=0,off=14,r=14,imm=0)'),
      'packet pointer + 14, 14 bytes checked against data_end',
    );
    assert.equal(readableValue('mmmm????'), 'stack slot: some bytes written, bytes never written');
    assert.match(
      readableValue('ptr_or_null_task_struct(id=2,ref_obj_id=2)'),
      /^pointer to task_struct .*must release.*or NULL/,
    );
    for (const junk of ['', '(', ')', 'scalar(smin=', 'P', '=', 'x(y(z', 'scalar(smin=zz)']) readableValue(junk);
  });

  test("bpftool -d output (real, ringbuf_null.bpf.c): the log inside BEGIN/END, not bpftool's own messages", () => {
    const r = analyzeLog(parseVerifierLog(read('ringbuf_null.bpftool-d')));
    assert.equal(r.verdict, 'rejected');
    assert.equal(r.error?.catalog?.id, 'null-pointer');
    assert.deepEqual(r.error?.lines, ["R0 invalid mem access 'ringbuf_mem_or_null'"]);
    assert.equal(r.error?.source?.line, 15);
  });
});
