/**
 * The held-out mistake corpus on the real kernel, through the agent: every program of
 * test/fixtures/mistakes-heldout/programs loads, and every case of its manifest.json is rejected
 * with its kernelMessage. The cases were written without looking at the language server's rules,
 * so the detection rate measured on them (test/unit/mistakes-detection-heldout.test.ts, BENCH
 * lsp_mistakes_flagged_heldout) is a held-out figure.
 */
import { HELDOUT_MISTAKES_DIR } from '../support/mistakes-corpus';
import { describeMistakeCorpus } from './mistake-corpus-suite';

describeMistakeCorpus({
  dir: HELDOUT_MISTAKES_DIR,
  title: 'held-out mistake corpus on the real kernel',
  minCases: 30,
});
