/**
 * The second held-out mistake corpus on the real kernel, through the agent: every program of
 * test/fixtures/mistakes-heldout2/programs loads, and every case of its manifest.json is rejected
 * with its kernelMessage. Written after the first held-out corpus had been used to improve the
 * rules, without looking at the rules, so its detection rate (test/unit/mistakes-detection-heldout2.test.ts,
 * BENCH lsp_mistakes_flagged_heldout2) is a fresh held-out figure.
 */
import { HELDOUT2_MISTAKES_DIR } from '../support/mistakes-corpus';
import { describeMistakeCorpus } from './mistake-corpus-suite';

describeMistakeCorpus({
  dir: HELDOUT2_MISTAKES_DIR,
  title: 'second held-out mistake corpus on the real kernel',
  minCases: 35,
});
