/**
 * e2e: the Programs view's "All on <target>" lists every program and map on the box, not only this window's: a
 * second agent process (started by the test, standing in for another tool on the box) loads two objects; the view
 * lists their programs and maps, one of their maps opens read-only with its live values, and their ring buffer is
 * not opened (reading it would take its events). Screenshots: test-artifacts/e2e/system-view/.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import { fixture, runAs, startAgent, UNIQUE } from '../agent/agent-harness';
import { agentUnavailableReason } from '../agent/preconditions';
import { assertPrerequisites, isCI, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';

const reason = agentUnavailableReason();
const skip = skipUnlessReady() || (reason && !isCI ? reason : false);

test(
  "UI: All on the target lists another tool's programs and maps; its map opens read-only, its ring buffer does not",
  { skip, timeout: 240_000 },
  async (t) => {
    assertPrerequisites();
    if (reason) assert.fail(`precondition not met under CI: ${reason}`);
    let other: AgentClient | undefined;
    try {
      other = await startAgent();
      const maps = await other.request('load', { path: fixture('maps') });
      const events = await other.request('load', { path: fixture('events') });
      await other.request('attach', { handle: maps.handle });
      const counts = maps.maps.find((m) => m.name === 'counts')!;
      const rb = events.maps.find((m) => m.name === 'rb')!;
      const onExec = maps.programs.find((p) => p.name === 'on_exec')!;
      const pid = await runAs(`bpfide_v${UNIQUE}`.slice(0, 15)); // an exec the other tool's program counts

      await withVsCode(
        { name: 'system-view', fixture: 'xdp-workspace', deadlineMs: 230_000, signal: t.signal },
        async (s) => {
          const wb = s.workbench;
          await wb.runCommand('bpf-ide: Connect to Target');
          await wb.runCommand('bpf-ide: Show Loaded Programs');
          const row = (text: RegExp) => wb.page.locator('.monaco-list-row').filter({ hasText: text }).first();
          await wb.step('expand All on local', async () => {
            await row(/All on local/).click();
            await row(/^\s*Programs\s*\d+/).waitFor({ timeout: 30_000 });
          });
          await row(/^\s*Programs\s*\d+/).click();
          const prog = row(new RegExp(`on_exec\\s*tracepoint · id ${onExec.id} · \\d+ insns`));
          await wb.step("the other tool's program is listed", () => prog.waitFor({ timeout: 30_000 }));
          assert.doesNotMatch(await prog.innerText(), /this window/);
          await row(/^\s*Programs\s*\d+/).click(); // collapse again: the maps fit the view
          await row(/^\s*Maps\s*\d+/).click();
          const mapRow = row(new RegExp(`counts\\s*hash · id ${counts.id} ·`));
          await wb.step("the other tool's map is listed", () => mapRow.waitFor({ timeout: 30_000 }));
          await wb.screenshot('all-on-target');

          await mapRow.click();
          const v = wb.webview;
          await wb.step('the map opens read-only with its values', async () => {
            await v.locator('body[data-panel="map"] .vt-row').first().waitFor({ timeout: 60_000 });
            await v.locator('input.filter').fill(`key=${pid}`);
            await v
              .locator('.status')
              .filter({ hasText: /^1 of \d+ entries/ })
              .waitFor({ timeout: 30_000 });
          });
          const cells = await v.locator('.vt-row').first().locator('.vt-cell').allInnerTexts();
          assert.deepEqual(
            cells.map((c) => c.trim()),
            [String(pid), '1'],
            'the exec of our child, counted by the other tool',
          );
          assert.equal(await v.locator('.edit').isVisible(), false, 'no edits on another tool’s map');
          await wb.page
            .locator('.tabs-container .tab')
            .filter({ hasText: 'Map counts (read-only)' })
            .waitFor({ timeout: 10_000 });
          await wb.screenshot('read-only-map');

          await row(new RegExp(`^\\s*rb\\s*ringbuf · id ${rb.id}`)).click();
          await wb.notification(/another program's ringbuf: reading it here would take its events/, 30_000);
          assert.deepEqual(activationErrors(s.extensionHostLog()), [], 'activation errors in the extension host log');
        },
      );
    } finally {
      await other?.shutdown();
    }
  },
);
