/**
 * Runs inside the extension host of a real VS Code: bpf-ide: New BPF Program creates a program from a template
 * (its files, a vmlinux.h, compile_commands.json and .clangd), opens it, and the language server reports nothing
 * on it. Workspace: test/e2e/fixtures/xdp-workspace.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { runHostTests, waitForEvent } from './host-test';

export async function run(): Promise<void> {
  await runHostTests('new-program', [
    {
      name: 'New BPF Program from the xdp template: files, vmlinux.h, clangd config, opened, no diagnostics',
      timeoutMs: 90_000,
      fn: async () => {
        const ext = vscode.extensions.getExtension('bpf-ide.bpf-ide');
        assert.ok(ext);
        await ext.activate();
        const folder = vscode.workspace.workspaceFolders![0].uri;
        const dir = vscode.Uri.joinPath(folder, 'newprog');
        const uri = vscode.Uri.joinPath(dir, 'counter.bpf.c');
        // Count diagnostics publications for the new file: the rules' (at once) and clang's (after edits settle).
        let published = 0;
        const sub = vscode.languages.onDidChangeDiagnostics((e) => {
          if (e.uris.some((u) => u.toString() === uri.toString())) published++;
        });
        await vscode.commands.executeCommand('bpfIde.newProgram', {
          template: 'xdp',
          name: 'counter',
          folder: dir.fsPath,
        });
        await waitForEvent(
          vscode.window.onDidChangeActiveTextEditor,
          () =>
            vscode.window.activeTextEditor?.document.uri.path.endsWith('/newprog/counter.bpf.c') ? true : undefined,
          60_000,
          'the new program to open',
        );
        for (const f of ['counter.bpf.c', 'counter.h', 'vmlinux.h', 'compile_commands.json', '.clangd']) {
          const st = await vscode.workspace.fs.stat(vscode.Uri.joinPath(dir, f));
          assert.ok(st.size > 0, `${f} is empty`);
        }
        const src = Buffer.from(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(dir, 'counter.bpf.c'))).toString(
          'utf8',
        );
        assert.match(src, /#include "counter\.h"/);
        assert.match(src, /SEC\("xdp"\)/);
        // The language server analyses it: its symbols answer once the file is parsed; then both publications.
        await vscode.commands.executeCommand('vscode.executeDocumentSymbolProvider', uri);
        await waitForEvent(
          vscode.languages.onDidChangeDiagnostics,
          () => (published >= 2 ? true : undefined),
          30_000,
          'rule and clang diagnostics',
        );
        sub.dispose();
        const diags = vscode.languages
          .getDiagnostics(uri)
          .filter((d) => d.severity <= vscode.DiagnosticSeverity.Warning);
        assert.deepEqual(
          diags.map((d) => `${d.source}: ${d.message}`),
          [],
          'a template gets no diagnostic',
        );
      },
    },
  ]);
}
