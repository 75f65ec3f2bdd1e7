/**
 * Extension activation in a real VS Code, the packaged .vsix installed as a user installs it: the time from the
 * bundle starting to load to activate() returning, as the extension logs it, p50 of 3 fresh VS Code sessions.
 * The baseline is the target (300 ms). Needs the real-VS-Code tier (bash test/e2e/setup.sh).
 *   node --import tsx test/bench/activation.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingPrerequisites } from '../e2e/harness/preconditions';
import { withVsCode } from '../e2e/harness/session';
import { packageVsix } from '../e2e/harness/vsix';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);

async function main(): Promise<void> {
  const missing = missingPrerequisites();
  if (missing.length) {
    console.log(`# activation: the real-VS-Code tier is not set up (${missing.join('; ')}): bash test/e2e/setup.sh`);
    console.log('BENCH extension_activation ours=n/a baseline=300ms ratio=n/a');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-bench-activation-'));
  try {
    const vsix = packageVsix(dir);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await withVsCode(
        { name: `bench-activation-${i}`, fixture: 'xdp-workspace', installVsix: vsix, deadlineMs: 120_000 },
        async (s) => {
          await s.workbench.openFile('xdp_drop.bpf.c');
          const deadline = Date.now() + 60_000;
          let m: RegExpExecArray | null = null;
          while (!(m = /activated in (\d+) ms/.exec(s.outputChannelLog()))) {
            if (Date.now() > deadline) throw new Error('the extension never logged its activation');
            await new Promise((r) => setTimeout(r, 100));
          }
          times.push(Number(m[1]));
        },
      );
    }
    const p50 = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    console.log(
      `# activation of the installed .vsix, ${RUNS} fresh sessions: ${times.join(', ')} ms (bundle load + activate(); the language server starts after)`,
    );
    console.log(`BENCH extension_activation ours=${p50}ms baseline=300ms ratio=${(300 / p50).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
