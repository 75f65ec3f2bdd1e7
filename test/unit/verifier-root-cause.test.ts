/**
 * Root cause as related locations (issue 13, point 2), on the kernel's own logs of the realistic mistake
 * corpus (test/fixtures/mistakes/, logs captured at level 1 by test/fixtures/verifier/mistakes/make-logs.mjs;
 * test/agent/verifier-root-cause.test.ts checks they are still what the kernel says): the rate at which the
 * mistaken line is the error's line or one of its related locations has a floor, and each kind of root
 * cause lands where it should, through `bpf-ide log --json` too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeLog } from '../../client/src/core/verifier/analyze';
import { parseVerifierLog } from '../../client/src/core/verifier/log-parser';
import { runLogCommand } from '../../client/src/core/verifier/log-command';
import { sourcesBeside, verdictErrorFromLog } from '../../client/src/core/verifier/report-format';
import { MISTAKE_LOGS_DIR, rootCauseResults } from '../support/root-cause-rate';
import { MISTAKE_CASES_DIR, MISTAKE_PROGRAMS_DIR, mistakeCases } from '../support/mistakes-corpus';

/** The floor: the goal is 90%; measured 47 of 49 (95.9%) when this was written. */
const FLOOR = 0.9;

const logOf = (id: string) => readFileSync(join(MISTAKE_LOGS_DIR, `${id}.log`), 'utf8');
const caseFile = (id: string) => join(MISTAKE_CASES_DIR, `${id}.bpf.c`);
const markerLine = (id: string) => mistakeCases().find((c) => c.id === id)!.markerLine + 1;

/** The related lines (file:line) `run` reports for a case, with the sources beside the case file. */
function relatedLines(id: string): string[] {
  const v = verdictErrorFromLog(logOf(id), 'rejected', caseFile(id));
  return (v.related ?? []).map((r) => `${r.file}:${r.line}`);
}

describe('verifier root cause on the realistic mistake corpus', () => {
  test(`the mistaken line is the error's or a related location's in >= ${FLOOR * 100}% of the cases`, () => {
    const rs = rootCauseResults();
    assert.equal(rs.length, mistakeCases().length, 'every case has a captured log');
    const hits = rs.filter((r) => r.hit).length;
    const misses = rs.filter((r) => !r.hit).map((r) => `${r.id} (${r.class}): mistake ${r.mistake}, shown ${r.shown}`);
    assert.ok(hits / rs.length >= FLOOR, `${hits}/${rs.length}; misses:\n${misses.join('\n')}`);
  });

  test('a GPL-only call from a non-GPL program: the license line (or, with none, the end of the file)', () => {
    for (const id of ['execsnoop-license-bsd', 'runqslower-license-spdx', 'forkstat-license-mit']) {
      assert.ok(relatedLines(id).includes(`${id}.bpf.c:${markerLine(id)}`), `${id}: ${relatedLines(id)}`);
    }
    const none = 'execsnoop-no-license';
    assert.ok(relatedLines(none).includes(`${none}.bpf.c:${markerLine(none)}`), relatedLines(none).join());
  });

  test('a leak on an early return: the acquiring call and the return that skips the release', () => {
    const id = 'bashreadline-copy-fail-leak';
    const e = analyzeLog(parseVerifierLog(logOf(id))).error!;
    const acquired = e.related.find((r) => /acquired here/.test(r.message));
    assert.match(acquired?.source?.text ?? '', /bpf_ringbuf_reserve/);
    assert.ok(relatedLines(id).includes(`${id}.bpf.c:${markerLine(id)}`), relatedLines(id).join());
    // an exit with a lock held: the lock call and the return under it
    const lock = 'tc-drop-under-lock';
    const el = analyzeLog(parseVerifierLog(logOf(lock))).error!;
    assert.match(el.related.find((r) => /lock is taken/.test(r.message))?.source?.text ?? '', /bpf_spin_lock/);
    assert.ok(relatedLines(lock).includes(`${lock}.bpf.c:${markerLine(lock)}`));
  });

  test('an out-of-range map value access: the check that gave the index its range', () => {
    for (const id of ['biolatency-slot-off-by-one', 'execsnoop-args-bound']) {
      const e = analyzeLog(parseVerifierLog(logOf(id))).error!;
      const r = e.related.find((x) => /the index gets its/.test(x.message));
      assert.ok(r, `${id}: ${JSON.stringify(e.related.map((x) => x.message))}`);
      assert.ok(relatedLines(id).includes(`${id}.bpf.c:${markerLine(id)}`), `${id}: ${relatedLines(id)}`);
    }
  });

  test('a weakened packet bounds check: the nearest data_end check above the access', () => {
    const id = 'xdp-iph-bounds';
    assert.ok(relatedLines(id).includes(`${id}.bpf.c:${markerLine(id)}`), relatedLines(id).join());
  });

  test('a NULL check left out around an inlined header helper: the line of the program that calls it', () => {
    const id = 'biolatency-hist-unchecked';
    const e = analyzeLog(parseVerifierLog(logOf(id))).error!;
    assert.ok(e.related.some((r) => r.source?.file === 'maps.bpf.h'));
    assert.ok(relatedLines(id).includes(`${id}.bpf.c:${markerLine(id)}`), relatedLines(id).join());
  });

  test('a sleepable helper in a non-sleepable program: the SEC() line', () => {
    const id = 'bashreadline-not-sleepable';
    assert.ok(relatedLines(id).includes(`${id}.bpf.c:${markerLine(id)}`), relatedLines(id).join());
  });

  test('a stack too large or too deep (no instruction line): the call chain, each function with its stack', () => {
    const dir = join(__dirname, '..', 'fixtures', 'verifier');
    const combined = analyzeLog(parseVerifierLog(readFileSync(join(dir, 'combined_stack.log'), 'utf8'))).error!;
    assert.deepEqual(
      combined.related.map((r) => [r.message.replace(/:.*uses/, ' uses'), r.source?.line]),
      [
        ['call 1 of 4 uses 0 bytes of stack', 33],
        ['call 2 of 4 is made here uses 200 bytes of stack', 33], // main calls a()
        ['call 3 of 4 is made here uses 200 bytes of stack', 27], // a() calls b()
        ['call 4 of 4 is made here uses 200 bytes of stack', 19], // b() calls c()
      ],
    );
    const deep = analyzeLog(parseVerifierLog(readFileSync(join(dir, 'call_stack_deep.log'), 'utf8'))).error!;
    assert.equal(deep.related.length, 9); // "the call stack of 9 frames is too deep"
    assert.match(deep.related[8]!.source?.text ?? '', /LEVEL\(7, f8\)/);
  });

  test('a use after release (a record submitted twice): the call that released it', () => {
    const dir = join(__dirname, '..', 'fixtures', 'verifier');
    const e = analyzeLog(parseVerifierLog(readFileSync(join(dir, 'ringbuf_double_submit.log'), 'utf8'))).error!;
    assert.equal(e.source?.line, 19); // the second bpf_ringbuf_submit(e, 0)
    const rel = e.related.find((r) => /released here/.test(r.message));
    assert.equal(rel?.source?.line, 18); // the first one
    assert.ok(!e.related.some((r) => /from this check/.test(r.message)), 'the NULL check is not the cause');
  });

  test('a program too large to verify: the loop the verifier kept walking', () => {
    const dir = join(__dirname, '..', 'fixtures', 'verifier');
    const e = analyzeLog(parseVerifierLog(readFileSync(join(dir, 'too_large.log'), 'utf8'))).error!;
    const header = e.related.find((r) => /the loop starts here/.test(r.message));
    assert.match(header?.message ?? '', /walked \d+ times/);
    assert.match(header?.source?.text ?? '', /sum \+= i/); // the body of `for (i = 0; i < 1000000; i++)`
  });

  test('bpf-ide log --json: related locations with file and line, the license found in the sources', async () => {
    const id = 'execsnoop-license-bsd';
    const out: string[] = [];
    const ow = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
    let code: number;
    try {
      code = await runLogCommand([
        join(MISTAKE_LOGS_DIR, `${id}.log`),
        '--json',
        '--source-dir',
        MISTAKE_CASES_DIR,
        '--source-dir',
        MISTAKE_PROGRAMS_DIR,
      ]);
    } finally {
      process.stdout.write = ow;
    }
    assert.equal(code, 3);
    const j = JSON.parse(out.join(''));
    const lic = j.error.related.find((r: { message: string }) => /license/.test(r.message));
    assert.match(lic.file, /execsnoop-license-bsd\.bpf\.c$/);
    assert.equal(lic.line, markerLine(id));
    assert.equal(lic.insn, null);
  });

  test('without the sources, a search-only location is left out rather than shown without a line', () => {
    const v = verdictErrorFromLog(logOf('execsnoop-license-bsd'), 'rejected');
    assert.ok(!(v.related ?? []).some((r) => /license/.test(r.message)));
    assert.equal(sourcesBeside(caseFile('execsnoop-license-bsd')).read('no-such.h'), undefined);
  });
});
