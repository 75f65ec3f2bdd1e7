/**
 * How much of what the verifier says the catalog explains. Prints
 *   BENCH verifier_explanation_coverage_<kernel> ours=<pct>% baseline=95% ratio=<x>
 *     per kernel source (6.1, 6.12, 7.2): message families explained or deliberately generic / all families
 *     (docs/verifier-catalog-coverage.md); baseline: issue 13's goal.
 *   BENCH verifier_explanation_rate_mistakes ours=<pct>% baseline=<pct>% ratio=<x>
 *     the realistic mistake corpus (test/fixtures/mistakes/cases, made by another engineer, not shaped for the
 *     catalog) loaded on this kernel through the agent: rejections whose error the catalog explains; baseline:
 *     the same logs with only the hand-written entries of catalog.ts (the catalog before the message families).
 * Both are "higher is better", so ratio = ours / baseline (above 1: better than the baseline).
 * BPF_IDE_BENCH_VERBOSE=1 prints each case's catalog entry and message.
 * The corpus part needs root, BTF, clang and the agent; without them it says why and skips that line.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeLog } from '../../client/src/core/verifier/analyze';
import { CATALOG } from '../../client/src/core/verifier/catalog';
import { coverage } from '../../client/src/core/verifier/catalog-families';
import { parseVerifierLog } from '../../client/src/core/verifier/log-parser';
import { AgentRequestError } from '../../client/src/core/agent/agent-errors';
import { startAgent, tempDir } from '../agent/agent-harness';
import { agentUnavailableReason } from '../agent/preconditions';
import { compileMistakeFile, mistakeCases } from '../support/mistakes-corpus';

const pct = (n: number, d: number) => (d ? (100 * n) / d : 0);

function coverageLines(): void {
  for (const c of coverage()) {
    const ours = pct(c.explained + c.generic, c.families);
    console.log(
      `BENCH verifier_explanation_coverage_${c.kernel.replace('.', '_')} ours=${ours.toFixed(1)}% baseline=95% ratio=${(ours / 95).toFixed(2)}` +
        `  (${c.explained} explained + ${c.generic} generic of ${c.families} families)`,
    );
  }
}

async function mistakesLine(): Promise<void> {
  const reason = agentUnavailableReason();
  if (reason) {
    console.log(`BENCH verifier_explanation_rate_mistakes skipped: ${reason}`);
    return;
  }
  const dir = join(tempDir(), 'catalog-bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'vmlinux.h'),
    execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 256 << 20,
    }),
  );
  const agent = await startAgent();
  let rejected = 0;
  let ours = 0;
  let base = 0;
  const misses: string[] = [];
  try {
    for (const c of mistakeCases()) {
      const obj = await compileMistakeFile(c.file, dir, join(dir, `${c.id}.o`));
      let log: string | undefined;
      try {
        const r = await agent.request('load', { path: obj, log_level: 1 });
        await agent.request('unload', { handle: r.handle });
      } catch (e) {
        if (e instanceof AgentRequestError) log = e.body.log ?? e.body.failed?.[0]?.verifier?.log;
      }
      if (log === undefined) continue;
      const r = analyzeLog(parseVerifierLog(log));
      if (r.verdict !== 'rejected') continue;
      rejected++;
      if (process.env.BPF_IDE_BENCH_VERBOSE) console.log(`  ${c.id}: ${r.error?.catalog?.id} <- ${r.error?.message}`);
      if (r.error?.catalog) ours++;
      else misses.push(`${c.id}: ${r.error?.message}`);
      if (r.error?.lines.some((l) => CATALOG.some((e) => e.pattern.test(l.trim())))) base++;
    }
  } finally {
    await agent.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  const o = pct(ours, rejected);
  const b = pct(base, rejected);
  console.log(
    `BENCH verifier_explanation_rate_mistakes ours=${o.toFixed(1)}% baseline=${b.toFixed(1)}% ratio=${(b ? o / b : 0).toFixed(2)}` +
      `  (${ours}/${rejected} rejected cases explained; hand-written entries alone: ${base})`,
  );
  for (const m of misses) console.log(`  unexplained: ${m}`);
}

coverageLines();
void mistakesLine().catch((e: unknown) => {
  console.log(`BENCH verifier_explanation_rate_mistakes cannot run: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
