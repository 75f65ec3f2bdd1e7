/**
 * The realistic mistake corpus on the real kernel, through the agent: every program of
 * test/fixtures/mistakes/programs loads, and every case of manifest.json is rejected with its
 * kernelMessage. The language server's detection rate is measured on the same corpus
 * (test/unit/mistakes-detection.test.ts); this test keeps the corpus honest.
 */
import { MISTAKES_DIR } from '../support/mistakes-corpus';
import { describeMistakeCorpus } from './mistake-corpus-suite';

describeMistakeCorpus({ dir: MISTAKES_DIR, title: 'realistic mistake corpus on the real kernel', minCases: 40 });
