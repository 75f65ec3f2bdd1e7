// What the rules catch on the third held-out mistake corpus (test/fixtures/mistakes-heldout3):
// mistakes written blind (without reading the rules) after the first two held-out corpora had been
// used to improve them. Its blind figure (see the corpus README): 35/60 = 58.3% with the rules from before
// the corpus existed, 36/60 = 60% when the rules work of 2026-12-05 ended. Post-fix (not blind, rules written
// from its miss list): 53/60 = 88.3%. No error at all on its verifier-passing programs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CParser, loadCLanguage } from '../../server/src/parser';
import { HELDOUT3_MISTAKES_DIR } from '../support/mistakes-corpus';
import { detectMistakes, falseErrors } from '../support/mistakes-detection';

/**
 * A few points below the post-fix figure, so a rule that stops catching its mistakes fails here: 88.3% in
 * the bench, which puts this kernel's vmlinux.h on the include path; 50/60 = 83.3% here, without one (the
 * rules that read it, tp-btf-args and core-field, then say nothing).
 */
const FLAGGED_FLOOR = 0.8;

test('the rules flag at least the floor of the third held-out corpus on the mistaken line', async () => {
  const parser = new CParser(await loadCLanguage());
  const results = detectMistakes(parser, HELDOUT3_MISTAKES_DIR);
  assert.ok(results.length >= 45, `${results.length} cases`);
  const flagged = results.filter((r) => r.flagged).length;
  const missed = results.filter((r) => !r.flagged).map((r) => `${r.case.class}: ${r.case.id}`);
  assert.ok(
    flagged / results.length >= FLAGGED_FLOOR,
    `${flagged}/${results.length} flagged; missed:\n${missed.join('\n')}`,
  );
});

test("no error on the third held-out corpus's verifier-passing programs", async () => {
  const parser = new CParser(await loadCLanguage());
  const { files, errors } = falseErrors(parser, HELDOUT3_MISTAKES_DIR);
  assert.equal(files, 6);
  assert.deepEqual(
    errors.map((e) => `${e.file}:${e.line} [${e.code}] ${e.message}`),
    [],
  );
});
