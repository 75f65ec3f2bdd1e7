/**
 * Runs inside the extension host of a real VS Code (extensionTestsPath): the extension activates, its language
 * client runs, and the language server's diagnostics and completions reach the editor through the vscode API.
 * Workspace: test/e2e/fixtures/xdp-workspace.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { BpfIdeContext } from '../../../client/src/ctx';
import { runHostTests, waitForEvent } from './host-test';

const EXTENSION_ID = 'bpf-ide.bpf-ide';

function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return vscode.Uri.joinPath(folder.uri, name);
}

async function activeExtension(): Promise<vscode.Extension<BpfIdeContext>> {
  const ext = vscode.extensions.getExtension<BpfIdeContext>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this VS Code`);
  // Activation is triggered by workspaceContains:**/*.bpf.c; activate() joins it (or starts it if not yet).
  await ext.activate();
  return ext;
}

export async function run(): Promise<void> {
  await runHostTests('activation', [
    {
      name: 'the extension activates and its language client runs',
      timeoutMs: 45_000,
      fn: async () => {
        const ext = await activeExtension();
        assert.equal(ext.isActive, true, 'extension not active after activate()');
        await ext.exports?.serverReady; // the language server starts in the background after activation
        const client = ext.exports?.languageClient;
        assert.ok(client, 'the extension API exposes no language client');
        assert.equal(client.isRunning(), true, 'the language client is not running');
        const commands = await vscode.commands.getCommands(true);
        for (const id of ['bpfIde.restartServer', 'bpfIde.showOutput'])
          assert.ok(commands.includes(id), `command ${id} not registered`);
      },
    },
    {
      name: 'opening a BPF file yields the license warning and a clang error',
      timeoutMs: 45_000,
      fn: async () => {
        await activeExtension();
        const uri = workspaceFile('xdp_drop.bpf.c');
        const doc = await vscode.workspace.openTextDocument(uri);
        assert.equal(doc.languageId, 'c');
        await vscode.window.showTextDocument(doc);
        const find = (source: string, code: string) => (d: vscode.Diagnostic) =>
          d.source === source && (typeof d.code === 'object' ? d.code.value : d.code) === code;
        const diags = await waitForEvent(
          vscode.languages.onDidChangeDiagnostics,
          () => {
            const all = vscode.languages.getDiagnostics(uri);
            return all.some(find('bpf-ide', 'license')) && all.some((d) => d.source === 'clang') ? all : undefined;
          },
          40_000,
          'the license warning and a clang diagnostic on xdp_drop.bpf.c',
        );
        const license = diags.find(find('bpf-ide', 'license'))!;
        assert.equal(license.severity, vscode.DiagnosticSeverity.Warning);
        assert.match(license.message, /No LICENSE section/);
        const clang = diags.find((d) => d.source === 'clang')!;
        assert.equal(clang.severity, vscode.DiagnosticSeverity.Error);
        assert.match(clang.message, /XDP_DROPP/);
        assert.equal(clang.range.start.line, 21, `clang error on line ${clang.range.start.line + 1}, expected 22`);
      },
    },
    {
      name: 'completion inside a SEC("xdp") function offers bpf_map_lookup_elem',
      timeoutMs: 30_000,
      fn: async () => {
        await activeExtension();
        const doc = await vscode.workspace.openTextDocument(workspaceFile('xdp_count.bpf.c'));
        const editor = await vscode.window.showTextDocument(doc);
        const marker = doc
          .getText()
          .split('\n')
          .findIndex((l) => l.includes('e2e: completion goes here'));
        assert.ok(marker >= 0, 'marker comment not found in xdp_count.bpf.c');
        const at = new vscode.Position(marker + 1, 0);
        await editor.edit((e) => e.insert(at, '\tbpf_map_l\n'));
        try {
          const list = await vscode.commands.executeCommand<vscode.CompletionList>(
            'vscode.executeCompletionItemProvider',
            doc.uri,
            new vscode.Position(marker + 1, '\tbpf_map_l'.length),
          );
          const labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
          assert.ok(
            labels.includes('bpf_map_lookup_elem'),
            `bpf_map_lookup_elem not offered; got: ${labels.slice(0, 20).join(', ')}`,
          );
        } finally {
          await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
        }
      },
    },
    {
      name: 'member completion (p->) through a vmlinux.h found via ${workspaceFolder} in bpfIde.includePaths',
      timeoutMs: 45_000,
      fn: async () => {
        await activeExtension();
        const root = vscode.workspace.workspaceFolders![0].uri.fsPath;
        // A vmlinux.h only the setting finds (the workspace is a temp copy of the fixture); its struct has a
        // member no real kernel has, so a vmlinux.h from anywhere else cannot pass this.
        mkdirSync(join(root, 'kernel-headers'), { recursive: true });
        writeFileSync(
          join(root, 'kernel-headers', 'vmlinux.h'),
          'struct task_struct {\n\tint pid;\n\tstruct task_struct *real_parent;\n\tint bpf_ide_e2e_member;\n};\n',
        );
        mkdirSync(join(root, 'src'), { recursive: true });
        const text =
          '#include <vmlinux.h>\n#include <bpf/bpf_helpers.h>\n\nSEC("tp_btf/sched_wakeup")\nint handle(unsigned long long *ctx)\n{\n\tstruct task_struct *p = (void *)ctx[0];\n\tint x = p->\n\treturn 0;\n}\n';
        writeFileSync(join(root, 'src', 'member.bpf.c'), text);
        const cfg = vscode.workspace.getConfiguration('bpfIde');
        await cfg.update('includePaths', ['${workspaceFolder}/kernel-headers'], vscode.ConfigurationTarget.Workspace);
        try {
          const doc = await vscode.workspace.openTextDocument(workspaceFile('src/member.bpf.c'));
          await vscode.window.showTextDocument(doc);
          const line = text.split('\n').findIndex((l) => l.includes('p->'));
          const at = new vscode.Position(line, text.split('\n')[line].indexOf('p->') + 3);
          // The setting reaches the server asynchronously (workspace/configuration): ask until it has.
          let labels: string[] = [];
          for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
            const list = await vscode.commands.executeCommand<vscode.CompletionList>(
              'vscode.executeCompletionItemProvider',
              doc.uri,
              at,
            );
            labels = list.items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label));
            if (labels.includes('bpf_ide_e2e_member')) break;
            await new Promise((r) => setTimeout(r, 250)); // polling the provider: there is no event for "settings applied"
          }
          for (const m of ['pid', 'real_parent', 'bpf_ide_e2e_member'])
            assert.ok(labels.includes(m), `${m} not offered after p->; got: ${labels.slice(0, 20).join(', ')}`);
        } finally {
          await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
          await cfg.update('includePaths', undefined, vscode.ConfigurationTarget.Workspace);
        }
      },
    },
  ]);
}
