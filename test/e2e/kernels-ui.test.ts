/**
 * e2e UI: Test on Kernels... the way a user runs it, in a real VS Code: the command from the palette on a
 * program that uses bpf_for's iterators, the kernel picker (local and vm:6.1 kept, vm:6.12 unticked), the
 * matrix panel filling in, a click on the rejected 6.1 cell, then that kernel's diagnostic in the Problems
 * panel on the source line and its log in the verifier stepper. Screenshots: test-artifacts/e2e/kernels-ui/.
 * Needs the VM tier's preconditions (qemu, busybox-static, the cached 6.1 kernel) and root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { agentUnavailableReason } from '../agent/preconditions';
import { ROOT, vmUnavailableReason } from '../vm/vm-fixture';
import { assertPrerequisites, isCI, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';

const missing = vmUnavailableReason() ?? agentUnavailableReason();
const skip = skipUnlessReady() || (missing && !isCI ? missing : false);

test(
  'UI: Test on Kernels, a click on the rejected vm:6.1 cell shows its diagnostic and its log',
  { skip, timeout: 360_000 },
  async (t) => {
    assertPrerequisites();
    if (missing) throw new Error(`precondition failed under CI: ${missing}`);
    await withVsCode(
      { name: 'kernels-ui', fixture: 'xdp-workspace', deadlineMs: 340_000, signal: t.signal },
      async (s) => {
        const wb = s.workbench;
        const dir = join(s.workspace, 'kernels');
        mkdirSync(dir, { recursive: true });
        copyFileSync(join(ROOT, 'test', 'fixtures', 'vm', 'bpf-for.bpf.c'), join(dir, 'bpf-for.bpf.c'));
        writeFileSync(
          join(dir, 'vmlinux.h'),
          execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
            maxBuffer: 64 << 20,
          }),
        );
        await wb.openFile('kernels/bpf-for.bpf.c');
        await wb.runCommand('bpf-ide: Test on Kernels...', { thenInput: /Test on Kernels/ });
        await wb.step('pick local and vm:6.1', async () => {
          // the first run proposes local, vm:6.1 and vm:6.12: untick 6.12 (one guest is enough here)
          await wb.quickInput.locator('.monaco-list-row').filter({ hasText: 'vm:6.12' }).first().click();
          await wb.quickInput.locator('input').press('Enter');
        });
        const view = wb.page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('#active-frame');
        const cell = view.locator('td.rejected[data-target="vm:6.1"][data-program="sum_on_exec"]');
        await wb.step('the matrix shows 6.1 rejecting sum_on_exec', () => cell.waitFor({ timeout: 240_000 }));
        assert.match(await cell.innerText(), /rejected[\s\S]*infinite loop detected/);
        assert.match(await view.locator('tr[data-program="count_exec"] td.loaded').first().innerText(), /loaded/);
        await wb.screenshot('matrix');
        await cell.click();
        await wb.step('the stepper opens on the 6.1 log', () =>
          wb.page
            .locator('.tab')
            .filter({ hasText: /Verifier: sum_on_exec on vm:6\.1/ })
            .first()
            .waitFor({ timeout: 60_000 }),
        );
        // keys go to whatever has focus: take it back from the stepper's webview into the source editor
        await wb.page.locator('.editor-group-container').first().locator('.view-lines').click();
        await wb.openProblems();
        const row = await wb.waitForProblem(/sum_on_exec rejected by vm:6\.1/, 60_000);
        assert.match(await row.innerText(), /bpf-ide verifier \(vm:6\.1\)/);
        await wb.screenshot('problems');
        assert.deepEqual(
          activationErrors(s.extensionHostLog()),
          [],
          'the extension host log reports activation errors',
        );
      },
    );
  },
);
