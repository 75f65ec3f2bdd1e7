/**
 * The editor's load session on the real kernel: build + load + attach of an XDP program asks for the interface
 * (the editor prompts the user; here the callback answers `lo`), attaches there, and unload releases it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectTarget } from '../../client/src/core/run/connect';
import { attachTargetNeeded, LoadSession } from '../../client/src/core/run/load-session';
import { ROOT } from '../support/lsp-session';
import { haveBtf, isRoot, need } from '../support/preconditions';

test('attach targets by program type', () => {
  assert.equal(attachTargetNeeded('xdp', 'xdp')?.what, 'a network interface');
  assert.equal(attachTargetNeeded('sched_cls', 'tc')?.what, 'a network interface');
  assert.equal(attachTargetNeeded('cgroup_skb', 'cgroup_skb/ingress')?.what, 'a cgroup path');
  assert.equal(attachTargetNeeded('kprobe', 'uprobe')?.what, 'a binary:function to probe');
  assert.equal(attachTargetNeeded('kprobe', 'uprobe/libc.so.6:close'), undefined);
  assert.equal(attachTargetNeeded('tracepoint', 'tp/syscalls/sys_enter_openat'), undefined);
});

test('load + attach an XDP program: the interface is asked for, the link made, and released by unload', async (t) => {
  if (!need(t, isRoot() && haveBtf(), 'needs root and BTF')) return;
  const target = await connectTarget('local');
  try {
    const session = new LoadSession(target);
    const asked: string[] = [];
    session.attachTarget = async (req) => {
      asked.push(`${req.program}:${req.need.what}`);
      return 'lo';
    };
    const r = await session.load(join(ROOT, 'test', 'e2e', 'fixtures', 'xdp-workspace', 'xdp_count.bpf.c'), {
      attach: true,
      logLevel: 0,
    });
    assert.equal(r.error, undefined, r.error);
    assert.deepEqual(asked, ['xdp_count:a network interface']);
    const p = r.loaded!.programs[0];
    assert.equal(p.links.length, 1);
    const links = JSON.parse(spawnSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as {
      prog_id: number;
      type: string;
    }[];
    assert.ok(
      links.some((l) => l.prog_id === p.id && l.type === 'xdp'),
      'bpftool sees the XDP link on lo',
    );
    await session.unload(r.loaded!.handle);
    assert.notEqual(spawnSync('bpftool', ['prog', 'show', 'id', String(p.id)]).status, 0, 'released');
  } finally {
    await target.dispose();
  }
});
