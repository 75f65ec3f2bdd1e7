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
import { summarizeLoad } from '../../client/src/core/run/load-summary';
import { ROOT } from '../support/lsp-session';
import { bpftoolHas, fixture, waitFor } from './agent-harness';
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

const LOAD_FIXTURES = join(ROOT, 'test', 'fixtures', 'load');

/** The kernel's link ids of a program (bpftool link show). */
function linksOf(progId: number): number[] {
  const links = JSON.parse(spawnSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]') as {
    id: number;
    prog_id: number;
  }[];
  return links.filter((l) => l.prog_id === progId).map((l) => l.id);
}

test('Load + Attach on one program of a multi-program object: only that one is attached; the others load unattached, the refused one is accounted for, the summary says it all clicked-first', async (t) => {
  if (!need(t, isRoot() && haveBtf(), 'needs root and BTF')) return;
  const target = await connectTarget('local');
  try {
    const session = new LoadSession(target);
    const progress: string[] = [];
    const r = await session.load(join(LOAD_FIXTURES, 'multi.bpf.c'), {
      attach: true,
      clicked: 'count_raw',
      onProgress: (p) => progress.push(`${p.index}/${p.total} ${p.program} ${p.verdict}`),
    });
    const obj = r.loaded!;
    const byName = (n: string) => obj.programs.find((p) => p.name === n);
    assert.deepEqual(obj.programs.map((p) => p.name).sort(), ['count_getppid', 'count_raw', 'kp_nanosleep']);
    assert.deepEqual(
      obj.failed.map((f) => [f.name, f.code]),
      [['blocked_fentry', 'load_failed']],
    );
    assert.match(obj.failed[0].hint ?? '', /trampolines/);
    assert.deepEqual(progress, [
      '1/4 count_getppid loaded',
      '2/4 count_raw loaded',
      '3/4 blocked_fentry refused',
      '4/4 kp_nanosleep loaded',
    ]);
    // bpftool: a link for the clicked program only
    assert.equal(linksOf(byName('count_raw')!.id).length, 1, 'the clicked program is attached');
    assert.deepEqual(linksOf(byName('count_getppid')!.id), [], 'the other tracepoint is not');
    assert.deepEqual(linksOf(byName('kp_nanosleep')!.id), []);
    const s = summarizeLoad(r, { target: 'local', attach: true });
    assert.equal(s.severity, 'warning');
    assert.match(
      s.message,
      /^count_raw: loaded \(id \d+, \d+ insns verified\) and attached\. 2 other programs loaded \(not attached\), 1 refused: this kernel refuses BPF trampolines .*use tp_btf or a tracepoint\. \(on local\)$/,
    );

    // Re-clicking Load + Attach on another program of the loaded object: attached, nothing reloaded.
    const ids = obj.programs.map((p) => p.id);
    const again = await session.loadInto(obj.handle, { attach: true, clicked: 'count_getppid' });
    assert.deepEqual(
      again.loaded!.programs.map((p) => p.id),
      ids,
      'same programs, not reloaded',
    );
    assert.equal(linksOf(byName('count_getppid')!.id).length, 1);
    // The kprobe loads but this kernel cannot attach it: its own verdict says why.
    const kp = await session.loadInto(obj.handle, { attach: true, clicked: 'kp_nanosleep' });
    assert.match(byName('kp_nanosleep')!.attachError ?? '', /kprobes/);
    const ks = summarizeLoad(kp, { target: 'local', attach: true });
    assert.equal(ks.severity, 'error');
    assert.match(ks.message, /^kp_nanosleep: loaded \(id \d+, \d+ insns verified\), but attaching failed: .*kprobes/);
    // A SEC("?...") program libbpf does not autoload: Load on it loads it, into the same object.
    const opt = await session.loadInto(obj.handle, { clicked: 'optional_getpid' });
    assert.ok(byName('optional_getpid')!.id > 0, 'the ? program is loaded');
    assert.match(summarizeLoad(opt, { target: 'local' }).message, /^optional_getpid: loaded \(id \d+/);
    const all = obj.programs.map((p) => p.id);
    await session.unload(obj.handle);
    for (const id of all) await waitFor(() => !bpftoolHas('prog', id), `program ${id} released`);
  } finally {
    await target.dispose();
  }
});

test('load.programs = clicked: only the clicked program is loaded; a fresh load of a ? program loads it', async (t) => {
  if (!need(t, isRoot() && haveBtf(), 'needs root and BTF')) return;
  const target = await connectTarget('local');
  try {
    const session = new LoadSession(target);
    const r = await session.load(join(LOAD_FIXTURES, 'multi.bpf.c'), { clicked: 'count_getppid', programs: 'clicked' });
    assert.deepEqual(
      r.loaded!.programs.map((p) => p.name),
      ['count_getppid'],
    );
    assert.deepEqual(r.loaded!.failed, []);
    assert.match(
      summarizeLoad(r, { target: 'local' }).message,
      /^count_getppid: loaded \(id \d+, \d+ insns verified\)\. \(on local\)$/,
    );
    await session.unload(r.loaded!.handle);
    // object mode, clicked = a ? program: the autoloaded ones and the clicked one
    const o = await session.load(join(LOAD_FIXTURES, 'multi.bpf.c'), { clicked: 'optional_getpid' });
    assert.ok(o.loaded!.programs.some((p) => p.name === 'optional_getpid'));
    assert.ok(o.loaded!.programs.some((p) => p.name === 'count_getppid'));
    await session.unload(o.loaded!.handle);
  } finally {
    await target.dispose();
  }
});

test('two rejected programs: each with its own verdict and line (one in a header on the include path), one notification listing both', async (t) => {
  if (!need(t, isRoot() && haveBtf(), 'needs root and BTF')) return;
  const target = await connectTarget('local');
  try {
    const session = new LoadSession(target);
    const r = await session.load(join(LOAD_FIXTURES, 'two_rejected.bpf.c'), {
      clicked: 'fine',
      includeDirs: [join(LOAD_FIXTURES, 'inc')],
    });
    assert.deepEqual(
      r.rejected.map((f) => [f.name, f.error.file, f.error.line]),
      [
        ['null_here', 'two_rejected.bpf.c', 20],
        ['null_in_header', 'rejecting.bpf.h', 10],
      ],
    );
    const s = summarizeLoad(r, { target: 'local' });
    assert.equal(s.severity, 'warning');
    assert.match(
      s.message,
      /^fine: loaded \(id \d+, \d+ insns verified\)\. 2 rejected by the verifier\. Rejected: null_here at two_rejected\.bpf\.c:20: R\d invalid mem access 'map_value_or_null'; null_in_header at rejecting\.bpf\.h:10: R\d invalid mem access 'map_value_or_null'\./,
    );
    assert.equal(s.stepThrough?.name, 'null_here');
    await session.unload(r.loaded!.handle);
  } finally {
    await target.dispose();
  }
});

test('Cancel during a load of a large object: the load stops between programs, what it loaded is released', async (t) => {
  if (!need(t, isRoot() && haveBtf(), 'needs root and BTF')) return;
  const target = await connectTarget('local');
  try {
    const session = new LoadSession(target);
    const abort = new AbortController();
    const seen: string[] = [];
    const r = await session.load(fixture('many'), {
      logLevel: 2,
      signal: abort.signal,
      onProgress: (p) => {
        seen.push(p.program);
        abort.abort();
      },
    });
    assert.equal(r.cancelled, true);
    assert.equal(r.loaded, undefined);
    assert.deepEqual(session.loaded, []);
    assert.ok(seen.length >= 1 && seen.length < 16, `stopped after ${seen.length} of 16`);
    assert.equal(
      summarizeLoad(r, { target: 'local' }).message,
      'the load was cancelled: what it had loaded was released.',
    );
    const list = await target.client.request('list', {});
    assert.ok(!list.programs.some((p) => p.handle !== undefined), 'nothing of this agent is loaded');
  } finally {
    await target.dispose();
  }
});
