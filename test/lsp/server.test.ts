/**
 * The language server spawned for real (`bpf-ide lsp --stdio`), driven with real LSP requests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { haveCommand, need } from '../support/preconditions';
import { LspSession, positionOf } from '../support/lsp-session';

const XDP = `// SPDX-License-Identifier: GPL-2.0
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *val = bpf_map_lookup_elem(&counts, &key);
	if (val)
		__sync_fetch_and_add(val, 1);
	bpf_map_update_elem(&counts, &key, &key, BPF_ANY);
	return XDP_PASS;
}
`;

let dir: string;
let s: LspSession;
const uri = () => pathToFileURL(join(dir, 'prog.bpf.c')).toString();

describe('language server over stdio', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bpf-ide-lsp-'));
    writeFileSync(join(dir, 'prog.bpf.c'), XDP);
    s = new LspSession({ rootUri: pathToFileURL(dir).toString() });
    const init = await s.initialize();
    assert.ok(init.capabilities.completionProvider, 'completion declared');
    assert.ok(init.capabilities.hoverProvider, 'hover declared');
    assert.ok(init.capabilities.codeActionProvider, 'code actions declared');
  });
  after(async () => {
    await s.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('missing LICENSE: a warning with a quick fix that removes it', async () => {
    const got = s.waitDiagnostics(uri(), (d) => d.some((x) => x.code === 'license'));
    s.open(uri(), XDP);
    const { diagnostics } = await got;
    const lic = diagnostics.find((d) => d.code === 'license')!;
    assert.equal(lic.severity, 2, 'warning: no GPL-only helper is used');
    assert.equal(lic.source, 'bpf-ide');
    assert.match(String(lic.message), /LICENSE/);
    const actions = await s.request<
      { title: string; edit: { changes: Record<string, { range: unknown; newText: string }[]> } }[]
    >('textDocument/codeAction', { textDocument: { uri: uri() }, range: lic.range, context: { diagnostics: [lic] } });
    const fix = actions.find((a) => /license/i.test(a.title));
    assert.ok(fix, `a license fix among ${actions.map((a) => a.title).join(', ')}`);
    const edit = fix.edit.changes[uri()][0];
    assert.match(edit.newText, /char LICENSE\[\] SEC\("license"\) = "Dual BSD\/GPL";/);
    const fixed = s.waitDiagnostics(uri(), (d) => !d.some((x) => x.code === 'license'));
    s.change(uri(), edit.range as never, edit.newText);
    await fixed;
    // Back to the original text for the next tests.
    const back = s.waitDiagnostics(uri(), (d) => d.some((x) => x.code === 'license'));
    s.change(uri(), null, XDP);
    await back;
  });

  test('completion in an XDP program offers XDP helpers, not bpf_get_stack', async () => {
    const pos = positionOf(XDP, '\tbpf_map_update_elem', 1);
    const list = await s.request<{ items: { label: string; insertText?: string }[] }>('textDocument/completion', {
      textDocument: { uri: uri() },
      position: pos,
    });
    const labels = new Set(list.items.map((i) => i.label));
    assert.ok(labels.has('bpf_map_lookup_elem'));
    assert.ok(labels.has('bpf_xdp_adjust_head'));
    assert.ok(!labels.has('bpf_get_stack'), 'bpf_get_stack is not allowed in XDP');
    const lookup = list.items.find((i) => i.label === 'bpf_map_lookup_elem')!;
    assert.match(lookup.insertText ?? '', /^bpf_map_lookup_elem\(\$\{1:map\}, \$\{2:key\}\)$/);
  });

  test('completion resolves helper documentation, without repeating the signature the detail shows', async () => {
    const list = await s.request<{ items: { label: string; detail?: string; data?: unknown }[] }>(
      'textDocument/completion',
      { textDocument: { uri: uri() }, position: positionOf(XDP, '\tbpf_map_update_elem', 1) },
    );
    const sent = list.items.find((i) => i.label === 'bpf_map_lookup_elem')!;
    assert.ok(sent.detail?.includes('bpf_map_lookup_elem('), sent.detail);
    const item = await s.request<{ documentation?: { value: string } }>('completionItem/resolve', sent);
    assert.match(item.documentation?.value ?? '', /Perform a lookup in \*map\*/);
    assert.ok(
      !item.documentation?.value.includes('bpf_map_lookup_elem('),
      'the signature is shown once (in the detail)',
    );
  });

  test('completion ranks the helpers real programs call most first (server/data/usage-frequency.json)', async () => {
    const list = await s.request<{ items: { label: string; sortText?: string }[] }>('textDocument/completion', {
      textDocument: { uri: uri() },
      position: positionOf(XDP, '\tbpf_map_update_elem', 1),
    });
    const order = list.items
      .filter((i) => i.label.startsWith('bpf_'))
      .sort((a, b) => (a.sortText ?? a.label).localeCompare(b.sortText ?? b.label))
      .map((i) => i.label);
    // The counts come from real programs (iovisor/bcc libbpf-tools, libbpf-bootstrap): what they call most
    // leads; a helper they never call (bpf_cgrp_storage_delete) comes after every one they do.
    const top = order.slice(0, 5);
    for (const h of ['bpf_map_lookup_elem', 'bpf_get_current_pid_tgid', 'bpf_ktime_get_ns', 'bpf_map_update_elem'])
      assert.ok(top.includes(h), `${h} in the first five: ${top.join(', ')}`);
    assert.ok(order.indexOf('bpf_map_delete_elem') < order.indexOf('bpf_cgrp_storage_delete'));
    assert.ok(order.indexOf('bpf_perf_event_output') < order.indexOf('bpf_cgrp_storage_delete'));
  });

  test('completion of SEC() names, return codes and context members', async () => {
    const text = XDP.replace('SEC("xdp")', 'SEC("')
      .replace('return XDP_PASS;', 'return X')
      .replace('__u32 key = 0;', '__u32 key = ctx->');
    const u = pathToFileURL(join(dir, 'edit.bpf.c')).toString();
    s.open(u, text);
    const sec = await s.request<{ items: { label: string }[] }>('textDocument/completion', {
      textDocument: { uri: u },
      position: positionOf(text, 'SEC("', 5),
    });
    const secLabels = sec.items.map((i) => i.label);
    for (const l of ['xdp', 'tc', 'tracepoint/', 'kprobe/', 'socket'])
      assert.ok(secLabels.includes(l), `SEC completion has ${l}`);

    const withSec = text.replace('SEC("\n', 'SEC("xdp")\n');
    s.change(u, null, withSec);
    const ret = await s.request<{ items: { label: string }[] }>('textDocument/completion', {
      textDocument: { uri: u },
      position: positionOf(withSec, 'return X', 8),
    });
    const retLabels = ret.items.map((i) => i.label);
    for (const l of ['XDP_PASS', 'XDP_DROP', 'XDP_TX']) assert.ok(retLabels.includes(l), `return codes have ${l}`);

    const members = await s.request<{ items: { label: string }[] }>('textDocument/completion', {
      textDocument: { uri: u },
      position: positionOf(withSec, 'ctx->', 5),
    });
    const m = members.items.map((i) => i.label);
    assert.deepEqual(m.slice(0, 2), ['data', 'data_end']);
    assert.ok(m.includes('ingress_ifindex'));
    s.close(u);
  });

  test('hover on a helper, a map and a SEC()', async () => {
    const h = await s.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri: uri() },
      position: positionOf(XDP, 'bpf_map_lookup_elem', 3),
    });
    assert.match(h.contents.value, /void \*bpf_map_lookup_elem\(struct bpf_map \*map, const void \*key\)/);
    assert.match(h.contents.value, /may return NULL/);
    const m = await s.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri: uri() },
      position: positionOf(XDP, '&counts', 2),
    });
    assert.match(m.contents.value, /BPF_MAP_TYPE_HASH/);
    assert.match(m.contents.value, /max_entries: `1024`/);
    const sec = await s.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri: uri() },
      position: positionOf(XDP, 'SEC("xdp")', 6),
    });
    assert.match(sec.contents.value, /BPF_PROG_TYPE_XDP/);
    assert.match(sec.contents.value, /struct xdp_md \*/);
  });

  test('signature help tracks the active argument', async () => {
    const sig = await s.request<{ signatures: { label: string }[]; activeParameter: number }>(
      'textDocument/signatureHelp',
      {
        textDocument: { uri: uri() },
        position: positionOf(XDP, '&key, &key, BPF_ANY', 7),
      },
    );
    assert.match(sig.signatures[0].label, /bpf_map_update_elem/);
    assert.equal(sig.activeParameter, 2);
  });

  test('document symbols: the program with its type, the map', async () => {
    const syms = await s.request<{ name: string; detail: string }[]>('textDocument/documentSymbol', {
      textDocument: { uri: uri() },
    });
    const prog = syms.find((x) => x.name === 'xdp_count');
    assert.ok(prog);
    assert.match(prog.detail, /xdp program/);
    const map = syms.find((x) => x.name === 'counts');
    assert.match(map?.detail ?? '', /BPF_MAP_TYPE_HASH/);
  });

  test('go to definition of a map', async () => {
    const loc = await s.request<{ uri: string; range: { start: { line: number } } }>('textDocument/definition', {
      textDocument: { uri: uri() },
      position: positionOf(XDP, '&counts, &key);', 3),
    });
    assert.equal(loc.uri, uri());
    assert.equal(loc.range.start.line, positionOf(XDP, '} counts').line);
  });

  test('clang diagnostics merge in with source clang', async (t) => {
    if (!need(t, haveCommand('clang'), 'clang is not installed')) return;
    const u = pathToFileURL(join(dir, 'broken.bpf.c')).toString();
    const broken = XDP.replace('__u32 key = 0;', '__u32 key = 0') + 'char LICENSE[] SEC("license") = "GPL";\n';
    writeFileSync(join(dir, 'broken.bpf.c'), broken);
    const got = s.waitDiagnostics(u, (d) => d.some((x) => x.source === 'clang'), 20000);
    s.open(u, broken);
    const { diagnostics } = await got;
    const c = diagnostics.find((d) => d.source === 'clang')!;
    assert.equal(c.severity, 1);
    assert.match(String(c.message), /expected ';'/);
    assert.equal(c.range.start.line, positionOf(broken, '__u32 key = 0').line);
    s.close(u);
  });

  test('hostile input: random bytes, invalid UTF-8, 1 MB, deep nesting: bounded answers, server alive', async () => {
    const inputs: [string, string][] = [
      ['random', Buffer.from(Array.from({ length: 20000 }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1')],
      [
        'invalid-utf8',
        Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x53, 0x45, 0x43, 0x28, 0x22]).toString('utf8').repeat(500),
      ],
      ['1mb', XDP.repeat(Math.ceil((1 << 20) / XDP.length))],
      ['nested', 'int f(void) {' + '{('.repeat(5000) + ')}'.repeat(5000) + '}\n'],
      ['truncated', XDP.slice(0, XDP.length / 2)],
    ];
    for (const [name, text] of inputs) {
      const u = `untitled:${name}.bpf.c`;
      const t0 = performance.now();
      const got = s.waitDiagnostics(u, () => true, 15000);
      s.open(u, text);
      await got;
      await s.request('textDocument/completion', { textDocument: { uri: u }, position: { line: 0, character: 3 } });
      await s.request('textDocument/hover', { textDocument: { uri: u }, position: { line: 0, character: 3 } });
      const ms = performance.now() - t0;
      assert.ok(ms < 10000, `${name} answered in ${ms.toFixed(0)} ms`);
      s.close(u);
    }
    // Still serving.
    const syms = await s.request<unknown[]>('textDocument/documentSymbol', { textDocument: { uri: uri() } });
    assert.ok(syms.length > 0);
  });
});
