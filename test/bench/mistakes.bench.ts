// The realistic mistake corpus (test/fixtures/mistakes): the share of its mistakes the rules flag
// before any load (an error or warning on the mistaken line, or naming it; see
// test/support/mistakes-detection.ts), and the errors reported on verifier-passing programs (the
// corpus's own and test/fixtures/realistic). Baselines: the issue's goal of 60% flagged, and 0 false
// errors. Misses are listed by class.
import { CParser, loadCLanguage } from '../../server/src/parser';
import { detectMistakes, falseErrors, withVmlinuxHeader } from '../support/mistakes-detection';

void (async () => {
  const parser = new CParser(await loadCLanguage());
  const cleanup = withVmlinuxHeader();
  if (!cleanup) console.log('# no bpftool or kernel BTF: measured without a vmlinux.h (tp-btf-args cannot check)');
  const results = detectMistakes(parser);
  const flagged = results.filter((r) => r.flagged).length;
  const inFunction = results.filter((r) => r.inFunction).length;
  const pct = (n: number) => (100 * n) / results.length;
  for (const r of results.filter((x) => !x.flagged))
    console.log(
      `# missed ${r.case.class}: ${r.case.id}${r.inFunction ? ' (a new finding in the function, not on the mistaken line)' : ''}`,
    );
  const byClass = new Map<string, { n: number; hit: number }>();
  for (const r of results) {
    const e = byClass.get(r.case.class) ?? { n: 0, hit: 0 };
    e.n++;
    if (r.flagged) e.hit++;
    byClass.set(r.case.class, e);
  }
  console.log(`# by class: ${[...byClass].map(([c, e]) => `${c} ${e.hit}/${e.n}`).join(', ')}`);
  console.log(
    `BENCH lsp_mistakes_flagged ours=${pct(flagged).toFixed(1)}% baseline=60% ratio=${(60 / pct(flagged)).toFixed(2)}` +
      ` (${flagged}/${results.length} cases)`,
  );
  console.log(
    `BENCH lsp_mistakes_in_function ours=${pct(inFunction).toFixed(1)}% baseline=60% ratio=${(60 / pct(inFunction)).toFixed(2)}`,
  );
  const fe = falseErrors(parser);
  for (const e of fe.errors) console.log(`# false error ${e.file}:${e.line} [${e.code}] ${e.message}`);
  console.log(
    `BENCH lsp_false_errors ours=${fe.errors.length} baseline=0 ratio=${fe.errors.length ? 0 : 1} (${fe.files} passing programs)`,
  );
})();
