/**
 * The one function that shows target text (map keys and values, comm, events, printk and log lines): control,
 * bidi and invisible characters become escapes, so such text cannot reorder, hide or forge what is around it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasHiddenText, visibleDeep, visibleLines, visibleText } from '../../client/src/core/visible-text';
import { formatValue } from '../../client/src/core/panels/value-format';
import { analyzeLog } from '../../client/src/core/verifier/analyze';
import { parseVerifierLog } from '../../client/src/core/verifier/log-parser';
import { StepperModel } from '../../client/src/core/verifier/stepper-model';

describe('visible text', () => {
  test('bidi controls, controls and invisible characters are escaped; plain text and other scripts are not', () => {
    assert.equal(visibleText('ev\u202eil'), 'ev\\u202eil'); // right-to-left override
    assert.equal(visibleText('a\u2066b\u2069c\u200fd\u061ce'), 'a\\u2066b\\u2069c\\u200fd\\u061ce');
    assert.equal(visibleText('ab\u0000cd'), 'ab\\0cd'); // text after a NUL shows, with the NUL marked
    assert.equal(visibleText('x\ny\rz\tw'), 'x\\ny\\rz\\tw');
    assert.equal(visibleText('\u001b[31mred'), '\\u001b[31mred'); // a terminal escape
    assert.equal(visibleText('pay\u200bpal\ufeff'), 'pay\\u200bpal\\ufeff'); // zero-width
    assert.equal(visibleText('a\u2028b\u0085c'), 'a\\u2028b\\u0085c'); // line separators
    assert.equal(visibleText('naïve 日本 שלום'), 'naïve 日本 שלום'); // RTL letters themselves are text
    assert.equal(visibleText('abcdef', 3), 'abc…');
    assert.ok(hasHiddenText('a\u202eb') && !hasHiddenText('plain'));
  });

  test('multi-line text of our own keeps its lines and tabs; every string of a message is escaped', () => {
    assert.equal(visibleLines('{\n  "k": "a\u202eb"\n}'), '{\n  "k": "a\\u202eb"\n}');
    assert.equal(visibleLines('a\tb\u202e'), 'a\tb\\u202e');
    assert.deepEqual(visibleDeep({ rows: [{ text: 'x\u202ey', n: 1 }], ok: true }), {
      rows: [{ text: 'x\\u202ey', n: 1 }],
      ok: true,
    });
  });

  test('panel cells use it: a key with U+202E, a char array with text after a NUL', () => {
    assert.equal(formatValue({ name: 'ev\u202eil' }), '{name: ev\\u202eil}');
    assert.equal(formatValue('ab\u0000cd'), 'ab\\0cd');
    assert.equal(
      formatValue('real message\n  forged-4242 [003] d..31 1.0: bpf_trace_printk: FORGED'),
      'real message\\n  forged-4242 [003] d..31 1.0: bpf_trace_printk: FORGED',
    );
  });

  test('log lines: a source line quoted by the verifier with a U+202E reaches the stepper escaped', () => {
    // a real log's shape; the quoted source line (from the program's BTF line info) is the target's text
    const text = [
      '0: R1=ctx() R10=fp0',
      '; int x = 1; /* ev\u202eil */ @ hostile.bpf.c:3',
      '0: (b7) r0 = 0                        ; R0_w=0',
      '1: (95) exit',
      'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
    ].join('\n');
    const log = parseVerifierLog(text);
    const m = new StepperModel(log, analyzeLog(log), 'hostile');
    // what stepper-panel.ts posts to the webview
    const posted = visibleDeep(m.rowWindow(0, 10));
    const source = posted.rows.find((r) => r.text.includes('hostile.bpf.c'));
    assert.ok(source, JSON.stringify(posted.rows));
    assert.ok(source.text.includes('ev\\u202eil') && !source.text.includes('\u202e'), source.text);
  });
});
