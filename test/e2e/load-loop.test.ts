/**
 * e2e, the load loop as a user walks it: open a BPF file, click the "Load" CodeLens above its SEC()
 * program, see the program in the Programs view (type, id, verified instructions), then disconnect and
 * check with bpftool that nothing is left loaded. Screenshots: test-artifacts/e2e/load-loop/.
 * Needs root and BTF (the agent loads a real program) besides the e2e tier's tools.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentUnavailableReason } from '../agent/preconditions';
import { lineIn } from './harness/fixtures';
import { FIXTURES_DIR } from './harness/paths';
import { assertPrerequisites, isCI, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';

const agentReason = agentUnavailableReason();
const skip = skipUnlessReady() || (agentReason && !isCI ? agentReason : false);

const LOAD_FIXTURES = join(FIXTURES_DIR, '..', '..', 'fixtures', 'load');
const EXTRA = join(FIXTURES_DIR, 'load-extra');

/** The kernel's links of a program (bpftool link show). */
function linksOf(progId: number): number[] {
  const out = execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' });
  return (JSON.parse(out || '[]') as { id: number; prog_id: number }[])
    .filter((l) => l.prog_id === progId)
    .map((l) => l.id);
}

function loadedIds(name: string): number[] {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return (JSON.parse(out) as { id: number; name?: string }[]).filter((p) => p.name === name).map((p) => p.id);
}

test(
  'UI: the Load CodeLens loads the program, the Programs view shows it; a lens acts on its own program (only the clicked one attached, bpftool), a refused program says so, two rejected programs get two diagnostics (one in a header on the include path), a project without vmlinux.h builds, loads and completes members; disconnect releases it',
  { skip, timeout: 330_000 },
  async (t) => {
    assertPrerequisites();
    if (agentReason) assert.fail(`precondition not met under CI: ${agentReason}`);
    const before = new Set(loadedIds('xdp_count'));
    await withVsCode(
      {
        name: 'load-loop',
        fixture: 'xdp-workspace',
        deadlineMs: 320_000,
        signal: t.signal,
        // The header of two_rejected.bpf.c sits outside the workspace, on the include path (bpfIde.includePaths).
        userSettings: { 'bpfIde.includePaths': ['${workspaceFolder}/../home/inc'] },
        prepareHome: (home) => {
          const workspace = join(home, '..', 'workspace');
          mkdirSync(join(home, 'inc'), { recursive: true });
          copyFileSync(join(LOAD_FIXTURES, 'inc', 'rejecting.bpf.h'), join(home, 'inc', 'rejecting.bpf.h'));
          copyFileSync(join(LOAD_FIXTURES, 'two_rejected.bpf.c'), join(workspace, 'two_rejected.bpf.c'));
          copyFileSync(join(EXTRA, 'multi.bpf.c'), join(workspace, 'multi.bpf.c'));
        },
      },
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

        // A multi-program object in a project without vmlinux.h: Load + Attach above the first program attaches it
        // alone; the others load unattached, the fentry is refused (its lens and the notification say why).
        await wb.clearNotifications();
        await wb.openFile('multi.bpf.c');
        await wb.clickCodeLens(/Load \+ Attach/, 60_000);
        const attachedLens = await wb.codeLens(/loaded: id \d+ · \d+ insns verified · attached/, 120_000);
        const clickedId = Number(/id (\d+)/.exec(await attachedLens.innerText())?.[1]);
        const note = await wb.notification(/count_getppid: loaded \(id \d+/, 120_000);
        const noteText = await note.innerText();
        assert.match(
          noteText,
          /count_getppid: loaded \(id \d+, \d+ insns verified\) and attached\. 2 other programs loaded \(not attached\), 1 refused: this kernel refuses BPF trampolines/,
        );
        await wb.notification(/vmlinux\.h and none is on its include path: using the one of Linux/, 10_000);
        await wb.codeLens(/refused: this kernel refuses BPF trampolines/, 10_000);
        await wb.screenshot('multi-lenses');
        assert.equal(linksOf(clickedId).length, 1, 'bpftool: the clicked program is attached');
        const others = ['count_raw', 'kp_nanosleep'].flatMap((n) => loadedIds(n).filter((x) => x > clickedId));
        assert.equal(others.length, 2, `the other programs are loaded: ${others.join(', ')}`);
        for (const id of others) assert.deepEqual(linksOf(id), [], `bpftool: program ${id} is not attached`);
        // The editor's Build uses the same cached vmlinux.h.
        await wb.clearNotifications();
        await wb.runCommand('bpf-ide: Build BPF Program');
        await wb.notification(/built \.output\/multi\.bpf\.o in \d+ ms/, 90_000);
        // Members of kernel types complete from the target's vmlinux.h (the language server has the cache folder).
        await wb.clearNotifications();
        await wb.goToLine(lineIn(join(EXTRA, 'multi.bpf.c'), 'completion test types task->'));
        await wb.page.keyboard.press('End');
        await wb.page.keyboard.press('Enter');
        await wb.type('task->pi');
        await wb.page.keyboard.press('Escape');
        await wb.triggerSuggest('pid', 60_000);
        const members = await wb.suggestionLabels();
        assert.ok(members.includes('pid'), `task->pi members: ${members.slice(0, 20).join(', ')}`);
        await wb.screenshot('members');
        await wb.page.keyboard.press('Escape');
        await wb.runCommand('File: Revert File');

        // Two rejected programs: one diagnostic each, on the line the kernel names (one in the header outside the
        // workspace), and one notification that lists both with their own messages.
        await wb.openFile('two_rejected.bpf.c');
        await wb.clickCodeLens(/^\s*Load\s*$/, 60_000);
        // each program's lens says what happened to it
        await wb.codeLens(/rejected: R\d invalid mem access 'map_value_or_null'/, 120_000);
        await wb.codeLens(/loaded: id \d+ · \d+ insns verified$/, 10_000);
        const rej = await wb.notification(/null_here: rejected by the verifier/, 120_000);
        assert.match(
          await rej.innerText(),
          /null_here: rejected by the verifier at two_rejected\.bpf\.c:20: R\d invalid mem access 'map_value_or_null'\. 1 other program loaded \(not attached\), 1 rejected by the verifier\. Rejected: null_in_header at rejecting\.bpf\.h:10: R\d invalid mem access/,
        );
        await wb.openProblems();
        await wb.waitForProblem(/null_here: R\d invalid mem access 'map_value_or_null'/, 30_000);
        await wb.waitForProblem(/null_in_header: R\d invalid mem access 'map_value_or_null'/, 30_000);
        const rows = await wb.problemRows();
        assert.ok(
          rows.some((r) => r.includes('rejecting.bpf.h')),
          `the header's diagnostic: ${rows.join(' | ')}`,
        );
        assert.ok(!rows.some((r) => /is not in this workspace/.test(r)), rows.join(' | '));
        assert.equal(rows.filter((r) => /null_here:|null_in_header:/.test(r)).length, 2, rows.join(' | '));
        await wb.screenshot('two-rejected');

        // Generate vmlinux.h never replaces one silently: it asks, naming both kernels.
        writeFileSync(join(s.workspace, 'vmlinux.h'), '/* a vmlinux.h from somewhere else */\n');
        await wb.runCommand("bpf-ide: Generate vmlinux.h from the Target's Kernel");
        const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
        const ask = await wb.dialog(/vmlinux\.h exists: replace it\?/, 30_000);
        assert.match(
          await ask.innerText(),
          new RegExp(
            `of an unknown kernel \\(not written by bpf-ide\\); the new one is of Linux ${release.replace(/[.+]/g, '\\$&')}`,
          ),
        );
        await ask.locator('.monaco-button').filter({ hasText: 'Replace' }).click();
        await wb.notification(new RegExp(`wrote vmlinux\\.h \\(Linux ${release.replace(/[.+]/g, '\\$&')}\\)`), 60_000);
        assert.match(readFileSync(join(s.workspace, 'vmlinux.h'), 'utf8').split('\n')[0], /vmlinux\.h of Linux /);

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
