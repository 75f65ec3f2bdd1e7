/**
 * The verifier error catalog against real logs: every entry is tested on the log of a real program
 * (test/fixtures/verifier/<name>.log, made by make-logs.mjs from <name>.bpf.c on Linux 6.18), and the
 * source line each rejection lands on is checked against the file itself.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeLog, sourceForLine } from '../../client/src/core/verifier/analyze';
import { CATALOG, matchCatalog } from '../../client/src/core/verifier/catalog';
import { parseVerifierLog } from '../../client/src/core/verifier/log-parser';

const DIR = join(__dirname, '..', 'fixtures', 'verifier');
const read = (name: string) => readFileSync(join(DIR, `${name}.log`), 'utf8');
const isHandMade = (name: string) => read(name).startsWith('# hand-made');
const report = (name: string) => analyzeLog(parseVerifierLog(read(name)));

describe('verifier catalog', () => {
  test('has at least 30 entries, unique ids, each with an explanation, a fix and a real log', () => {
    assert.ok(CATALOG.length >= 30, `only ${CATALOG.length} entries`);
    assert.equal(new Set(CATALOG.map((e) => e.id)).size, CATALOG.length);
    for (const e of CATALOG) {
      assert.ok(e.fix.length > 10, `${e.id}: no fix`);
      const real = e.fixtures.filter((f) => !isHandMade(f));
      assert.ok(real.length > 0, `${e.id}: no fixture from a real kernel`);
      for (const f of e.fixtures) {
        assert.ok(existsSync(join(DIR, `${f}.log`)), `${e.id}: missing ${f}.log`);
        if (!isHandMade(f))
          assert.ok(existsSync(join(DIR, `${f}.bpf.c`)), `${e.id}: ${f}.log has no .bpf.c that made it`);
      }
    }
  });

  for (const entry of CATALOG) {
    test(`${entry.id}: ${entry.title}`, () => {
      for (const f of entry.fixtures) {
        const r = report(f);
        assert.equal(r.verdict, 'rejected', `${f}: verdict`);
        const err = r.error!;
        if (entry.id === 'mem-range') {
          // a second line of these errors: the catalog explains it when it comes alone
          const line = err.lines.find((l) => entry.pattern.test(l));
          assert.ok(line, `${f}: no line for ${entry.id}`);
          assert.equal(matchCatalog([line])?.entry.id, entry.id);
          continue;
        }
        assert.equal(err.catalog?.id, entry.id, `${f}: matched ${err.catalog?.id} for "${err.message}"`);
        const m = entry.pattern.exec(err.message)!;
        const why = entry.explain(m);
        assert.ok(why.length > 20 && !why.includes('undefined'), `${f}: explanation "${why}"`);
        assert.equal(err.catalog!.explanation, why);
      }
    });
  }

  test('every rejected real log is explained by the catalog', () => {
    for (const f of readdirSync(DIR).filter((n) => n.endsWith('.log'))) {
      const r = report(f.replace(/\.log$/, ''));
      if (r.verdict !== 'rejected') continue;
      assert.ok(r.error?.catalog, `${f}: "${r.error?.message}" has no catalog entry`);
    }
  });

  test('rejections land on the source line the kernel names, and that line is in the file', () => {
    let checked = 0;
    for (const f of readdirSync(DIR).filter((n) => n.endsWith('.log'))) {
      const r = report(f.replace(/\.log$/, ''));
      const src = r.error?.source;
      if (!src || !src.file || src.line <= 0) continue;
      const lines = readFileSync(join(DIR, src.file), 'utf8').split('\n');
      assert.equal(lines[src.line - 1]!.trim(), src.text, `${f}: ${src.file}:${src.line}`);
      checked++;
    }
    assert.ok(checked >= 30, `only ${checked} logs checked`);
  });

  test('missing NULL check: the dereference, with the lookup as related information', () => {
    const e = report('null_map_value').error!;
    assert.deepEqual([e.source?.file, e.source?.line, e.source?.text], ['null_map_value.bpf.c', 18, '*val += 1;']);
    assert.equal(e.related.length, 1);
    assert.match(e.related[0]!.message, /R0 gets its value here: call bpf_map_lookup_elem#1/);
    assert.equal(e.related[0]!.source?.line, 16);
  });

  test('an error inside a header lands in the header; its cause in the .bpf.c', () => {
    const e = report('null_in_header').error!;
    assert.deepEqual([e.source?.file, e.source?.line], ['header_helpers.h', 8]);
    assert.deepEqual([e.related[0]?.source?.file, e.related[0]?.source?.line], ['null_in_header.bpf.c', 20]);
  });

  test('a reference leak points at the acquiring call', () => {
    const e = report('ref_leak').error!;
    assert.equal(e.catalog?.id, 'reference-leak');
    const acq = e.related.find((x) => /acquired/.test(x.message));
    assert.equal(acq?.source?.line, 13);
    assert.match(acq!.source!.text, /bpf_ringbuf_reserve/);
  });

  test('checks of the whole program say there is no source line, and why', () => {
    for (const f of ['no_exit', 'unreachable_insn', 'jump_out_of_range']) {
      const e = report(f).error!;
      assert.equal(e.source, undefined);
      assert.match(e.noSource!, /before walking any instruction/);
    }
  });

  test('compiler-generated code (line 0) maps to the nearest real line, and says so', () => {
    const log = parseVerifierLog(read('line_zero'));
    const zero = log.sources.findIndex((s) => s.line === 0);
    assert.ok(zero >= 0, 'the fixture has a line-0 record');
    const li = Array.from(log.insnLines).find((l) => log.aux[l] === zero)!;
    const s = sourceForLine(log, li)!;
    assert.equal(s.compilerGenerated, true);
    assert.equal(s.line, 17); // the statement before: `unsigned int pid = ...`
  });
});
