/**
 * e2e: the packaged .vsix installed into a clean VS Code (an empty extensions dir, no development path) activates
 * with no other setup: the language server from the package reports on a BPF file, the status bar shows the
 * target, and the extension logs its activation time. Screenshots: test-artifacts/e2e/vsix/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertPrerequisites, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';
import { packageVsix } from './harness/vsix';

test(
  'the .vsix installs into a clean VS Code and activates: diagnostics from its own server, target in the status bar',
  { skip: skipUnlessReady(), timeout: 240_000 },
  async (t) => {
    assertPrerequisites();
    const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-vsix-e2e-'));
    try {
      const vsix = packageVsix(dir);
      await withVsCode(
        { name: 'vsix', fixture: 'xdp-workspace', installVsix: vsix, deadlineMs: 220_000, signal: t.signal },
        async (s) => {
          const wb = s.workbench;
          await wb.openFile('xdp_drop.bpf.c');
          await wb.openProblems();
          const license = await wb.waitForProblem('No LICENSE section', 90_000);
          assert.match(await license.innerText(), /bpf-ide/);
          await wb.waitForProblem("use of undeclared identifier 'XDP_DROPP'", 60_000);
          const status = wb.page.locator('.statusbar-item').filter({ hasText: 'BPF: local' }).first();
          await wb.step('status bar shows the target', () => status.waitFor({ state: 'visible', timeout: 30_000 }));
          await wb.screenshot('installed-vsix');
          assert.match(s.outputChannelLog(), /activated in \d+ ms/);
          assert.deepEqual(
            activationErrors(s.extensionHostLog()),
            [],
            'the extension host log reports activation errors',
          );
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
