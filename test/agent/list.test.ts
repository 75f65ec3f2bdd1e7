/**
 * `list`: every program and map on the box, as bpftool prog/map show lists them, the agent's own marked with their
 * handle. A second agent process stands in for "another program on the box".
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import type { MethodResult } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, startAgent, waitFor } from './agent-harness';

const reason = agentUnavailableReason();

describe('agent list', { concurrency: false }, () => {
  let ours: AgentClient;
  let other: AgentClient;
  let mine: MethodResult<'load'>;
  let theirs: MethodResult<'load'>;
  before(async () => {
    if (reason) return;
    ours = await startAgent();
    other = await startAgent();
    mine = await ours.request('load', { path: fixture('maps') });
    theirs = await other.request('load', { path: fixture('events') });
  });
  after(async () => {
    await ours?.shutdown();
    await other?.shutdown();
  });

  test('lists every program and map on the box, its own with their handle, like bpftool', async (t) => {
    if (!precondition(t, reason)) return;
    const r = await ours.request('list', {});
    const bpftoolProgs = (
      JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as {
        id: number;
      }[]
    ).map((p) => p.id);
    const listed = new Set(r.programs.map((p) => p.id));
    // programs loaded by someone else between the two reads may differ; ours and the other agent's are in both
    for (const p of [...mine.programs, ...theirs.programs]) {
      assert.ok(listed.has(p.id!), `program ${p.name} (${p.id}) is listed`);
      assert.ok(bpftoolProgs.includes(p.id!));
    }
    for (const p of mine.programs) {
      const l = r.programs.find((x) => x.id === p.id)!;
      assert.equal(l.handle, mine.handle);
      assert.equal(l.name, p.name);
      assert.equal(l.kernel_name, p.name.slice(0, 15));
      assert.equal(l.type, p.type);
      assert.match(l.tag, /^[0-9a-f]{16}$/);
      assert.equal(l.uid, 0);
      assert.ok(l.verified_insns > 0);
      assert.ok(l.btf_id! > 0, 'built with -g: the program has BTF');
    }
    for (const p of theirs.programs) assert.equal(r.programs.find((x) => x.id === p.id)!.handle, undefined);
    // maps: ours with the handle and their sizes, the other agent's without
    for (const m of mine.maps) {
      const l = r.maps.find((x) => x.id === m.id);
      assert.ok(l, `map ${m.name} is listed`);
      assert.equal(l.handle, mine.handle);
      assert.deepEqual(
        [l.type, l.key_size, l.value_size, l.max_entries],
        [m.type, m.key_size, m.value_size, m.max_entries],
      );
    }
    for (const m of theirs.maps) {
      const l = r.maps.find((x) => x.id === m.id);
      assert.ok(l, `their map ${m.name} is listed`);
      assert.equal(l.handle, undefined);
    }
    // a program lists the maps it uses
    const user = r.programs.find((x) => x.id === mine.programs[0].id)!;
    assert.ok(
      user.map_ids.some((id) => mine.maps.some((m) => m.id === id)),
      `map_ids ${user.map_ids.join(',')}`,
    );
  });

  test('whole names: programs past 15 characters by their BTF name (list, prog_stats), internal maps after the object file', async (t) => {
    if (!precondition(t, reason)) return;
    const named = await ours.request('load', { path: fixture('names') });
    try {
      assert.deepEqual(named.programs.map((p) => p.name).sort(), ['handle_sched_wakeup', 'handle_sched_wakeup_new']);
      // libbpf names internal maps after the object file (names.bpf.o), as it does for a file it opens itself
      assert.deepEqual(named.maps.map((m) => m.name).sort(), ['names.bss', 'names.rodata']);
      const ids = named.programs.map((p) => p.id!);
      const r = await ours.request('list', {});
      const listed = ids.map((id) => r.programs.find((p) => p.id === id)!);
      assert.deepEqual(listed.map((p) => p.name).sort(), ['handle_sched_wakeup', 'handle_sched_wakeup_new']);
      assert.deepEqual(
        listed.map((p) => p.kernel_name),
        ['handle_sched_wa', 'handle_sched_wa'],
      );
      // bpftool finds the same whole names (it reads them from BTF too) and the kernel's map names agree
      const bpftool = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as {
        id: number;
        name: string;
      }[];
      for (const p of listed) assert.equal(bpftool.find((b) => b.id === p.id)?.name, p.name);
      const maps = named.maps.map((m) => r.maps.find((x) => x.id === m.id)!.name).sort();
      assert.deepEqual(maps, ['names.bss', 'names.rodata']);
      const stats = await ours.request('prog_stats', { ids });
      assert.deepEqual(stats.programs.map((p) => p.name).sort(), ['handle_sched_wakeup', 'handle_sched_wakeup_new']);
      // with the bytes (a remote target): the name comes from file_name
      const b64 = await ours.request('load', {
        object: readFileSync(fixture('names')).toString('base64'),
        file_name: 'runqlat.bpf.o',
      });
      assert.deepEqual(b64.maps.map((m) => m.name).sort(), ['runqlat.bss', 'runqlat.rodata']);
      await ours.request('unload', { handle: b64.handle });
    } finally {
      await ours.request('unload', { handle: named.handle });
    }
  });

  test("another program's map reads like our own (map_dump by id), and unloading it removes it from the list", async (t) => {
    if (!precondition(t, reason)) return;
    const cfg = theirs.maps.find((m) => m.name === 'config')!;
    const d = await ours.request('map_dump', { map_id: cfg.id });
    assert.equal(d.name, 'config');
    assert.equal(d.count, 1);
    await other.request('unload', { handle: theirs.handle });
    // the kernel frees maps a moment after their last reference goes (deferred work): poll, bounded
    await waitFor(async () => {
      const r = await ours.request('list', {});
      return (
        !theirs.programs.some((p) => r.programs.some((x) => x.id === p.id)) &&
        !theirs.maps.some((m) => r.maps.some((x) => x.id === m.id))
      );
    }, 'the unloaded programs and maps to leave the list');
  });
});
