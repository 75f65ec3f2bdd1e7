/**
 * e2e: a saved verifier log opened the way a user opens it (the log in an editor, then "bpf-ide: Open Verifier
 * Log"): the stepper panel shows the verdict and the error, and the rejection lands in the Problems panel on the
 * source line, with source `verifier`; after a window reload the stepper is back on the same log and row.
 * Screenshots: test-artifacts/e2e/verifier-ui/.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureLine } from './harness/fixtures';
import { assertPrerequisites, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';

const FIXTURE = 'verifier-workspace';

test(
  'UI: the verifier stepper on a saved log, and the rejection on its source line',
  { skip: skipUnlessReady(), timeout: 180_000 },
  async (t) => {
    assertPrerequisites();
    await withVsCode({ name: 'verifier-ui', fixture: FIXTURE, deadlineMs: 170_000, signal: t.signal }, async (s) => {
      const wb = s.workbench;
      await wb.openFile('null_map_value.log');
      await wb.runCommand('bpf-ide: Open Verifier Log');
      const view = wb.page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('#active-frame');
      const verdict = view.locator('.verdict');
      await wb.step('stepper shows the verdict', () => verdict.waitFor({ state: 'visible', timeout: 60_000 }));
      assert.match(await verdict.innerText(), /rejected/);
      const body = view.locator('body');
      await wb.step('stepper shows the error', async () => {
        const deadline = Date.now() + 30_000;
        while (!/map_value_or_null/.test(await body.innerText())) {
          if (Date.now() > deadline) throw new Error('the error text never appeared');
          await new Promise((r) => setTimeout(r, 200));
        }
      });
      await wb.screenshot('stepper');
      await wb.openProblems();
      const row = await wb.waitForProblem(/map_value_or_null/, 60_000);
      const text = await row.innerText();
      assert.match(text, /verifier/);
      assert.match(text, new RegExp(`Ln ${fixtureLine(FIXTURE, 'null_map_value.bpf.c', '*val += 1;')}`));
      await wb.screenshot('problems');

      // The stepper comes back after a window reload, on the same log, at the row that was selected.
      await view.locator('.list').click();
      await view.locator('.list').press('e');
      await view.locator('.row.selected.failing').waitFor({ timeout: 10_000 });
      const selected = await view.locator('.row.selected').innerText();
      await wb.reloadWindow();
      const again = wb.webview;
      await wb.step('the stepper is restored', async () => {
        await again.locator('.verdict').filter({ hasText: 'rejected' }).waitFor({ timeout: 60_000 });
        await again.locator('.row.selected.failing').waitFor({ timeout: 30_000 });
      });
      assert.equal(await again.locator('.row.selected').innerText(), selected);
      await wb.screenshot('stepper-after-reload');
      assert.deepEqual(activationErrors(s.extensionHostLog()), [], 'the extension host log reports activation errors');
    });
  },
);
