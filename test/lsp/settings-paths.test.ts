/**
 * Path settings are expanded by the language server as by Build (issue 14.5): `${workspaceFolder}` and `~`
 * in bpfIde.includePaths find <vmlinux.h>, and member completion (`p->`) offers its struct's fields.
 * The real language server over stdio.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import { expandPathSetting } from '../../server/src/config';
import { LspSession } from '../support/lsp-session';

const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('expandPathSetting: ${workspaceFolder}, ${userHome}, ~', () => {
  assert.equal(expandPathSetting('${workspaceFolder}/include', '/w'), '/w/include');
  assert.equal(expandPathSetting('~/inc', '/w', '/home/u'), '/home/u/inc');
  assert.equal(expandPathSetting('~', '/w', '/home/u'), '/home/u');
  assert.equal(expandPathSetting('${userHome}/x', '/w', '/home/u'), '/home/u/x');
  assert.equal(expandPathSetting('/abs/~x', '/w', '/home/u'), '/abs/~x');
  assert.equal(expandPathSetting('~/x', undefined), join(homedir(), 'x'));
});

// A vmlinux.h only the setting can find (not beside the file, not on a system path).
const VMLINUX = `#ifndef __VMLINUX_H__
#define __VMLINUX_H__
typedef unsigned int u32;
struct task_struct {
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
};
#endif
`;
const PROGRAM = `#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

SEC("tp_btf/sched_wakeup")
int handle(u64 *ctx)
{
	struct task_struct *p = (void *)ctx[0];
	int x = p->
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

async function memberLabels(settings: unknown): Promise<string[]> {
  const s = new LspSession({
    rootUri: pathToFileURL(dir).toString(),
    initializationOptions: { settings },
    settings,
  });
  try {
    await s.initialize();
    const uri = pathToFileURL(join(dir, 'src', 'prog.bpf.c')).toString();
    const ready = s.waitDiagnostics(uri, () => true, 30000);
    s.open(uri, PROGRAM);
    await ready;
    const line = PROGRAM.split('\n').findIndex((l) => l.includes('p->'));
    const r = await s.request<{ items: { label: string }[] } | { label: string }[] | null>('textDocument/completion', {
      textDocument: { uri },
      position: { line, character: PROGRAM.split('\n')[line].indexOf('p->') + 3 },
    });
    const items = !r ? [] : Array.isArray(r) ? r : r.items;
    return items.map((i) => i.label.replace(/^\W+/, ''));
  } finally {
    await s.shutdown();
  }
}

test('member completion through a vmlinux.h found via ${workspaceFolder} in bpfIde.includePaths', async () => {
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'kernel-headers'), { recursive: true });
  writeFileSync(join(dir, 'kernel-headers', 'vmlinux.h'), VMLINUX);
  writeFileSync(join(dir, 'src', 'prog.bpf.c'), PROGRAM);
  const without = await memberLabels({ diagnostics: { clang: false } });
  assert.ok(!without.includes('real_parent'), `without the setting nothing finds vmlinux.h: ${without.join(', ')}`);
  const labels = await memberLabels({
    includePaths: ['${workspaceFolder}/kernel-headers'],
    diagnostics: { clang: false },
  });
  for (const m of ['pid', 'tgid', 'real_parent', 'comm']) assert.ok(labels.includes(m), `${m} in ${labels.join(', ')}`);
});
