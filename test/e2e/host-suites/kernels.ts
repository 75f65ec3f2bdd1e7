/**
 * Runs inside the extension host: `bpf-ide: Test on Kernels...` on a program that uses bpf_for's
 * iterators (test/fixtures/vm/bpf-for.bpf.c), on this machine and a real 6.1 kernel booted in qemu.
 * 6.18 loads it, 6.1's verifier rejects it: the matrix panel opens, the rejection is a diagnostic
 * on its source line naming the kernel, and the rejected cell's action opens that kernel's log in
 * the verifier stepper.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { BpfIdeContext } from '../../../client/src/ctx';
import type { TestOnKernelsResult } from '../../../client/src/features/test-on-kernels';
import { runHostTests, waitForEvent } from './host-test';

const EXTENSION_ID = 'bpf-ide.bpf-ide';

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<BpfIdeContext>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  await ext.activate();
  process.env.BPF_IDE_AGENT ??= join(ext.extensionUri.fsPath, 'dist', 'bpf-agent');
  const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
  const dir = join(ws, 'kernels');
  mkdirSync(dir, { recursive: true });
  // the extension under development is this repository: its fixtures are there
  copyFileSync(join(ext.extensionUri.fsPath, 'test', 'fixtures', 'vm', 'bpf-for.bpf.c'), join(dir, 'bpf-for.bpf.c'));
  writeFileSync(
    join(dir, 'vmlinux.h'),
    execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { maxBuffer: 64 << 20 }),
  );
  const uri = vscode.Uri.file(join(dir, 'bpf-for.bpf.c'));
  await vscode.window.showTextDocument(uri);
  let result: TestOnKernelsResult | undefined;

  await runHostTests('kernels', [
    {
      name: 'Test on Kernels: local loads sum_on_exec, vm:6.1 rejects it; the diagnostic names the kernel and the line',
      timeoutMs: 240_000,
      fn: async () => {
        result = await vscode.commands.executeCommand<TestOnKernelsResult>('bpfIde.testOnKernels', {
          uri,
          kernels: ['local', 'vm:6.1'],
        });
        assert.ok(result, 'the command returned its matrix');
        const sum = result.report.programs.find((p) => p.name === 'sum_on_exec');
        assert.ok(sum, JSON.stringify(result.report).slice(0, 500));
        assert.equal(sum.results.local.status, 'loaded');
        assert.equal(sum.results['vm:6.1'].status, 'rejected');
        assert.ok(
          vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => t.label === 'Kernels: kernels/bpf-for.bpf.c'),
          'the matrix panel is open',
        );
        const d = vscode.languages.getDiagnostics(uri).find((x) => x.source === 'bpf-ide verifier (vm:6.1)');
        assert.ok(d, 'a diagnostic from vm:6.1');
        assert.match(d.message, /^sum_on_exec rejected by vm:6\.1 \(6\.1\.0-\d+-cloud-amd64\): infinite loop detected/);
        const text = (await vscode.workspace.openTextDocument(uri)).lineAt(d.range.start.line).text;
        assert.match(text, /bpf_iter_num_next/);
      },
    },
    {
      name: "a rejected cell opens that kernel's log in the verifier stepper",
      timeoutMs: 60_000,
      fn: async () => {
        assert.ok(result);
        await result.open('sum_on_exec', 'vm:6.1');
        await waitForEvent(
          vscode.window.tabGroups.onDidChangeTabs,
          () =>
            vscode.window.tabGroups.all
              .flatMap((g) => g.tabs)
              .find((t) => /^Verifier: sum_on_exec on vm:6\.1 \(6\.1\.0-/.test(t.label)),
          30_000,
          'the stepper tab of the 6.1 log',
        );
      },
    },
  ]);
}
