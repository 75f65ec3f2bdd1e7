/**
 * e2e, the way a user sees it: a real VS Code workbench in Chromium, the checkout loaded as the extension under
 * development, a BPF C file opened from the workspace. Screenshots: test-artifacts/e2e/<test>/.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureLine } from './harness/fixtures';
import { assertPrerequisites, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';

const FIXTURE = 'xdp-workspace';
const options = { skip: skipUnlessReady(), timeout: 180_000 };

test(
  'UI: the Problems panel shows the bpf-ide license warning and a clang error for a BPF file',
  options,
  async (t) => {
    assertPrerequisites();
    await withVsCode({ name: 'problems-panel', fixture: FIXTURE, deadlineMs: 170_000, signal: t.signal }, async (s) => {
      const wb = s.workbench;
      await wb.openFile('xdp_drop.bpf.c');
      await wb.openProblems();

      const license = await wb.waitForProblem('No LICENSE section', 60_000);
      const licenseText = await license.innerText();
      assert.match(licenseText, /bpf-ide\s*\(?\s*license/, `license row does not name source and code: ${licenseText}`);
      assert.equal(
        await license.locator('.codicon-warning').count(),
        1,
        'the license problem is not shown as a warning',
      );

      const clang = await wb.waitForProblem("use of undeclared identifier 'XDP_DROPP'", 60_000);
      const clangText = await clang.innerText();
      assert.match(clangText, /clang/, `clang row does not name its source: ${clangText}`);
      assert.match(clangText, new RegExp(`Ln ${fixtureLine(FIXTURE, 'xdp_drop.bpf.c', 'XDP_DROPP;')}, Col \\d+`));
      assert.equal(await clang.locator('.codicon-error').count(), 1, 'the clang problem is not shown as an error');

      await wb.screenshot('problems-panel');
      assert.deepEqual(activationErrors(s.extensionHostLog()), [], 'the extension host log reports activation errors');
    });
  },
);

test('UI: Ctrl+Space after bpf_map_l inside a SEC("xdp") function lists bpf_map_lookup_elem', options, async (t) => {
  assertPrerequisites();
  await withVsCode(
    { name: 'helper-completion', fixture: FIXTURE, deadlineMs: 170_000, signal: t.signal },
    async (s) => {
      const wb = s.workbench;
      await wb.openFile('xdp_count.bpf.c');
      await wb.goToLine(fixtureLine(FIXTURE, 'xdp_count.bpf.c', 'e2e: completion goes here'));
      await wb.page.keyboard.press('End');
      await wb.page.keyboard.press('Enter');
      await wb.type('bpf_map_l');
      // Quick suggestions may already have opened the widget while typing; close it so Ctrl+Space is what opens it.
      await wb.page.keyboard.press('Escape');

      const item = await wb.triggerSuggest('bpf_map_lookup_elem', 60_000);
      const labels = await wb.suggestionLabels();
      assert.ok(labels.includes('bpf_map_lookup_elem'), `suggest widget lists: ${labels.join(', ')}`);
      // VS Code filters fuzzily (bpf_for_each_map_elem matches too); the exact-prefix helper must rank first.
      assert.equal(labels[0], 'bpf_map_lookup_elem', `suggest widget order: ${labels.join(', ')}`);
      await wb.screenshot('suggest-widget');

      // Accepting it inserts the helper call at the start of the new line (the fixture's own call follows `count = `).
      await item.click();
      await wb.page.locator('.editor-widget.suggest-widget').waitFor({ state: 'hidden' });
      await wb.activeEditor
        .locator('.view-line')
        .filter({ hasText: /^\s*bpf_map_lookup_elem\(/ })
        .waitFor({ state: 'visible', timeout: 10_000 });
      await wb.screenshot('completion-accepted');
      assert.deepEqual(activationErrors(s.extensionHostLog()), [], 'the extension host log reports activation errors');
    },
  );
});
