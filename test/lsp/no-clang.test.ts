/** Without clang, the server says so once and every other feature keeps working. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LspSession } from '../support/lsp-session';

test('a missing clang: one clear message, rule diagnostics and completion still work', async () => {
  const s = new LspSession({
    initializationOptions: { settings: { clang: { path: '/nonexistent/clang' }, diagnostics: { clangDelayMs: 0 } } },
  });
  try {
    await s.initialize();
    const uri = 'file:///tmp/bpf-ide-no-clang/prog.bpf.c';
    const text = 'SEC("xdp")\nint f(struct xdp_md *ctx)\n{\n\treturn 2;\n}\n';
    const got = s.waitDiagnostics(uri, (d) => d.some((x) => x.code === 'license'));
    s.open(uri, text);
    await got;
    // The status notification arrives once, even after several edits.
    for (let i = 0; i < 3; i++) {
      const again = s.waitDiagnostics(uri);
      s.change(uri, null, text + `// edit ${i}\n`);
      await again;
    }
    const deadline = Date.now() + 10000;
    while (!s.notifications.some((n) => n.method === 'bpf/serverStatus') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const status = s.notifications
      .filter((n) => n.method === 'bpf/serverStatus')
      .map((n) => n.params as { kind: string; message: string });
    assert.equal(status.length, 1, JSON.stringify(status));
    assert.equal(status[0].kind, 'clang-missing');
    assert.match(status[0].message, /clang was not found at "\/nonexistent\/clang".*bpfIde\.clang\.path/);
    const list = await s.request<{ items: { label: string }[] }>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 3, character: 1 },
    });
    assert.ok(list.items.some((i) => i.label === 'bpf_xdp_adjust_head'));
  } finally {
    await s.shutdown();
  }
});
