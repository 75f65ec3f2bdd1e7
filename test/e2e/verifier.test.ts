/**
 * The verifier feature in a real VS Code (the VS Code server bundled with code-server, driven from Chromium,
 * through the e2e harness): test/fixtures/verifier/host-suite/verifier-suite.ts runs in the extension host and
 * checks diagnostics, related information, the stepper panel and the commands on real logs. Needs the e2e
 * tier's tools (test/e2e setup) and a built extension: skipped with the reason otherwise, failed under CI=true.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { missingPrerequisites } from './harness/preconditions';
import { withVsCode } from './harness/session';
import { need } from '../support/preconditions';

const FIX = join(__dirname, '..', 'fixtures', 'verifier');

test(
  'verifier feature in a real VS Code: diagnostics, related information, stepper panel, commands',
  { timeout: 240_000 },
  async (t) => {
    const missing = missingPrerequisites();
    if (!need(t, missing.length === 0, missing.join('; '))) return;
    const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-verifier-suite-'));
    try {
      const outfile = join(dir, 'verifier-suite.cjs');
      mkdirSync(dir, { recursive: true });
      await build({
        entryPoints: [join(FIX, 'host-suite', 'verifier-suite.ts')],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['vscode'],
        define: { FIXTURE_DIR: JSON.stringify(FIX) },
        logLevel: 'warning',
      });
      const lines: string[] = [];
      let exited: (code: number) => void = () => {};
      const exit = new Promise<number>((resolve) => (exited = resolve));
      const code = await withVsCode(
        {
          name: 'verifier-suite',
          fixture: 'xdp-workspace',
          extensionTestsPath: outfile,
          deadlineMs: 200_000,
          signal: t.signal,
          beforeOpen: async (wb) => {
            await wb.page.exposeFunction('codeAutomationLog', (level: string, message: string) =>
              lines.push(`[${level}] ${message}`),
            );
            await wb.page.exposeFunction('codeAutomationExit', (c: number) => exited(c));
          },
        },
        async () => {
          let timer: NodeJS.Timeout | undefined;
          try {
            return await Promise.race([
              exit,
              new Promise<number>((_, reject) => {
                timer = setTimeout(() => reject(new Error(`the suite did not finish:\n${lines.join('\n')}`)), 120_000);
              }),
            ]);
          } finally {
            clearTimeout(timer);
          }
        },
      );
      t.diagnostic(lines.filter((l) => /verifier suite|AssertionError/.test(l)).join('\n'));
      assert.equal(code, 0, `the suite failed:\n${lines.join('\n')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
