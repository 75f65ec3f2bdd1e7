/** A connected target's own knowledge (bpf/targetFeatures) reaches completion and diagnostics. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LspSession, positionOf } from '../support/lsp-session';

const TEXT = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int f(struct xdp_md *ctx)
{
	bpf_
	return XDP_PASS;
}
SEC("tracepoint/sys")
int g(void *ctx) { return 0; }
SEC("kprobe/do_unl")
int h(void *ctx) { return 0; }
char LICENSE[] SEC("license") = "GPL";
`;

test('target features: helpers per type, tracepoints and functions from the target; bundled again after disconnect', async () => {
  const s = new LspSession({ initializationOptions: { settings: { diagnostics: { clang: false } } } });
  try {
    await s.initialize();
    const uri = 'file:///tmp/bpf-ide-target/prog.bpf.c';
    const opened = s.waitDiagnostics(uri);
    s.open(uri, TEXT);
    await opened;
    const complete = (needle: string, delta: number) =>
      s.request<{ items: { label: string }[] }>('textDocument/completion', {
        textDocument: { uri },
        position: positionOf(TEXT, needle, delta),
      });

    const bundled = (await complete('\tbpf_', 5)).items.map((i) => i.label);
    assert.ok(bundled.includes('bpf_xdp_adjust_head'));

    const refreshed = s.waitDiagnostics(uri);
    await s.conn.sendNotification('bpf/targetFeatures', {
      target: 'ssh://root@box',
      kernelRelease: '6.1.0-test',
      helpersByProgramType: { xdp: ['bpf_map_lookup_elem', 'bpf_redirect'] },
      tracepoints: ['syscalls:sys_enter_openat', 'syscalls:sys_exit_openat', 'sched:sched_switch'],
      functions: ['do_unlinkat', 'do_unlinkat_helper', 'vfs_read'],
    });
    await refreshed;
    const fromTarget = (await complete('\tbpf_', 5)).items.map((i) => i.label);
    assert.ok(fromTarget.includes('bpf_redirect'));
    assert.ok(!fromTarget.includes('bpf_xdp_adjust_head'), 'the target says xdp may not call it');
    const tps = (await complete('tracepoint/sys', 14)).items.map((i) => i.label);
    assert.ok(tps.includes('tracepoint/syscalls/sys_enter_openat'), tps.join(', '));
    const fns = (await complete('kprobe/do_unl', 13)).items.map((i) => i.label);
    assert.deepEqual(fns.sort(), ['kprobe/do_unlinkat', 'kprobe/do_unlinkat_helper']);

    const back = s.waitDiagnostics(uri);
    await s.conn.sendNotification('bpf/targetFeatures', { target: null });
    await back;
    assert.ok((await complete('\tbpf_', 5)).items.some((i) => i.label === 'bpf_xdp_adjust_head'));
  } finally {
    await s.shutdown();
  }
});
