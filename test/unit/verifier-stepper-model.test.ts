/** The stepper's model without a webview: rows, filters, windows, state, follow-back, search, source lookup. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeLog } from '../../client/src/core/verifier/analyze';
import { parseVerifierLog } from '../../client/src/core/verifier/log-parser';
import { StepperModel } from '../../client/src/core/verifier/stepper-model';

const model = (name: string) => {
  const log = parseVerifierLog(readFileSync(join(__dirname, '..', 'fixtures', 'verifier', `${name}.log`), 'utf8'));
  return new StepperModel(log, analyzeLog(log), name);
};

describe('verifier stepper model', () => {
  test('init: verdict, error row on the failing instruction, branch rows', () => {
    const m = model('ref_leak');
    const init = m.init();
    assert.equal(init.verdict, 'rejected');
    assert.equal(init.rowCount, m.log.lineCount);
    assert.equal(m.log.line(m.rows[init.error!.row]!), '15: (95) exit');
    assert.equal(init.error!.where, 'ref_leak.bpf.c:21');
    assert.ok(init.branchRows.length >= 1);
    assert.match(m.log.line(m.rows[init.branchRows[0]!]!), /^from 10 to 14:/);
  });

  test('windows are bounded and clipped; filters change the rows and keep positions', () => {
    const m = model('accepted_subprog');
    assert.equal(m.rowWindow(0, 10_000).rows.length, Math.min(500, m.rows.length));
    assert.deepEqual(
      m.rowWindow(-5, 2).rows.map((r) => r.row),
      [0, 1],
    );
    assert.equal(m.rowWindow(1e9, 10).rows.length, 0);
    m.setFilter('insns');
    assert.equal(m.rows.length, m.log.insnLines.length);
    assert.ok(m.rowWindow(0, 500).rows.every((r) => r.kind === 'insn'));
    m.setFilter('no-debug');
    assert.ok(m.rowWindow(0, 500).rows.every((r) => r.kind !== 'debug' && r.kind !== 'live-regs'));
    m.setFilter('bogus' as 'all');
    assert.equal(m.filter, 'all');
  });

  test('state, follow-back and search at rows', () => {
    const m = model('null_map_value');
    const err = m.init().error!.row;
    const st = m.state(err)!;
    const r0 = st.regs.find((r) => r.name === 'R0')!;
    assert.equal(r0.type, 'map_value_or_null');
    assert.match(r0.readable, /or NULL/);
    assert.equal(st.source, 'null_map_value.bpf.c:18');
    const chain = m.follow(err, 'R0');
    assert.equal(chain.steps.at(-1)?.text, 'call bpf_map_lookup_elem#1');
    assert.equal(chain.steps.at(-1)?.where, 'null_map_value.bpf.c:16');
    assert.equal(m.state(-1), undefined);
    assert.deepEqual(m.follow(1e9, 'R0').steps, []);
    const s = m.search('bpf_map_lookup_elem', false);
    assert.ok(s.rows.length >= 2);
    assert.ok(m.search('call .*#1$', true).rows.length >= 1);
    assert.match(m.search('(', true).error ?? '', /Invalid regular expression|Unterminated/);
    assert.equal(m.rowOfSource('/w/src/null_map_value.bpf.c', 16), m.rowOfLine(m.log.firstLineOfInsn[5]!));
    assert.equal(m.rowOfSource('other.c', 16), -1);
  });
});
