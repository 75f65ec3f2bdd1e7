/**
 * The third held-out mistake corpus on the real kernel, through the agent: every program of
 * test/fixtures/mistakes-heldout3/programs loads, and every case of its manifest.json is rejected
 * with its kernelMessage. Written blind (without looking at the rules) after the first two held-out
 * corpora had been used to improve them, so its detection rate (test/unit/mistakes-detection-heldout3.test.ts,
 * BENCH lsp_mistakes_flagged_heldout3) is a fresh held-out figure.
 */
import { HELDOUT3_MISTAKES_DIR } from '../support/mistakes-corpus';
import { describeMistakeCorpus } from './mistake-corpus-suite';

describeMistakeCorpus({
  dir: HELDOUT3_MISTAKES_DIR,
  title: 'third held-out mistake corpus on the real kernel',
  minCases: 45,
});
