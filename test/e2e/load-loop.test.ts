/**
 * e2e, the load loop as a user walks it: open a BPF file, click the "Load" CodeLens above its SEC()
 * program, see the program in the Programs view (type, id, verified instructions), then disconnect and
 * check with bpftool that nothing is left loaded. Screenshots: test-artifacts/e2e/load-loop/.
 * Needs root and BTF (the agent loads a real program) besides the e2e tier's tools.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { agentUnavailableReason } from '../agent/preconditions';
import { assertPrerequisites, isCI, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';

const agentReason = agentUnavailableReason();
const skip = skipUnlessReady() || (agentReason && !isCI ? agentReason : false);

function loadedIds(name: string): number[] {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return (JSON.parse(out) as { id: number; name?: string }[]).filter((p) => p.name === name).map((p) => p.id);
}

test(
  'UI: the Load CodeLens loads the program, the Programs view shows it, disconnect releases it',
  { skip, timeout: 240_000 },
  async (t) => {
    assertPrerequisites();
    if (agentReason) assert.fail(`precondition not met under CI: ${agentReason}`);
    const before = new Set(loadedIds('xdp_count'));
    await withVsCode(
      { name: 'load-loop', fixture: 'xdp-workspace', deadlineMs: 230_000, signal: t.signal },
      async (s) => {
        const wb = s.workbench;
        await wb.openFile('xdp_count.bpf.c');
        const lens = wb.activeEditor
          .locator('.codelens-decoration a')
          .filter({ hasText: /^\s*Load\s*$/ })
          .first();
        await wb.step('codelens visible', () => lens.waitFor({ state: 'visible', timeout: 60_000 }));
        await wb.screenshot('codelens');
        await wb.step('click Load', () => lens.click());

        // The CodeLens turns into "loaded: id N · M insns verified" once the agent has loaded it.
        const loaded = wb.activeEditor
          .locator('.codelens-decoration a')
          .filter({ hasText: /loaded: id \d+/ })
          .first();
        await wb.step('loaded lens', () => loaded.waitFor({ state: 'visible', timeout: 90_000 }));
        const lensText = await loaded.innerText();
        const id = Number(/id (\d+)/.exec(lensText)?.[1]);
        assert.ok(id > 0, lensText);
        assert.match(lensText, /\d+ insns verified/);

        await wb.runCommand('bpf-ide: Show Loaded Programs');
        const row = wb.page
          .locator('.monaco-list-row')
          .filter({ hasText: /xdp_count\s*xdp · id/ })
          .first();
        await wb.step('program in the Programs view', () => row.waitFor({ state: 'visible', timeout: 30_000 }));
        assert.match(await row.innerText(), new RegExp(`xdp · id ${id} · \\d+ insns`));
        const mapRow = wb.page
          .locator('.monaco-list-row')
          .filter({ hasText: /packets\s*array · id/ })
          .first();
        await mapRow.waitFor({ state: 'visible', timeout: 10_000 });
        assert.match(await mapRow.innerText(), /array · id \d+/);
        await wb.screenshot('programs-view');
        assert.ok(!before.has(id));
        assert.ok(loadedIds('xdp_count').includes(id), 'bpftool sees the program while it is loaded');

        await wb.runCommand('bpf-ide: Disconnect from Target (releases everything loaded)');
        await wb.step('released', async () => {
          const deadline = Date.now() + 30_000;
          while (loadedIds('xdp_count').includes(id)) {
            if (Date.now() > deadline) throw new Error(`program ${id} still loaded after disconnect`);
            await new Promise((r) => setTimeout(r, 200));
          }
        });
        await wb.screenshot('disconnected');
        assert.deepEqual(
          activationErrors(s.extensionHostLog()),
          [],
          'the extension host log reports activation errors',
        );
      },
    );
    assert.equal(
      spawnSync('bpftool', ['prog', 'show', 'name', 'xdp_count']).status === 0 &&
        loadedIds('xdp_count').some((x) => !before.has(x)),
      false,
      'nothing of ours is left loaded',
    );
  },
);
