/**
 * The agent owns cleanup: when its client dies (SIGKILL, mid-stream), when stdin closes,
 * on SIGTERM, nothing it loaded stays behind: no program, map or link (checked with bpftool
 * by id).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { agentUnavailableReason, precondition } from './preconditions';
import { bpftoolHas, fixture, startAgent, waitFor, ROOT } from './agent-harness';

const reason = agentUnavailableReason();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('agent cleanup', { concurrency: false }, () => {
  test('a client killed with SIGKILL mid-stream leaves no program, map or link', async (t) => {
    if (!precondition(t, reason)) return;
    const holder = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'agent', 'agent-holder.ts')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      const rl = createInterface({ input: holder.stdout! });
      rl.once('line', resolve);
      holder.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    const made = JSON.parse(first) as {
      agentPid: number;
      tempDir: string;
      progIds: number[];
      mapIds: number[];
      linkIds: number[];
    };
    t.after(() => rmSync(made.tempDir, { recursive: true, force: true }));
    assert.ok(made.progIds.length >= 3 && made.mapIds.length >= 5 && made.linkIds.length >= 3);
    for (const id of made.progIds) assert.ok(bpftoolHas('prog', id), `prog ${id} loaded while streaming`);
    for (const id of made.linkIds) assert.ok(bpftoolHas('link', id), `link ${id} attached while streaming`);
    holder.kill('SIGKILL');
    await waitFor(() => !alive(made.agentPid), 'the agent to exit after its client died');
    await waitFor(
      () =>
        made.progIds.every((id) => !bpftoolHas('prog', id)) &&
        made.mapIds.every((id) => !bpftoolHas('map', id)) &&
        made.linkIds.every((id) => !bpftoolHas('link', id)),
      'every program, map and link to be released',
    );
  });

  test('only what the client pins outlives the agent; unpin releases it', async (t) => {
    if (!precondition(t, reason)) return;
    const agent = await startAgent();
    const r = await agent.request('load', { path: fixture('maps') });
    const counts = r.maps.find((m) => m.name === 'counts')!;
    const other = r.maps.find((m) => m.name === 'arr')!;
    const path = `/sys/fs/bpf/bpfide_test_${process.pid}`;
    t.after(() => rmSync(path, { force: true })); // only if an assertion failed half way
    assert.deepEqual(await agent.request('pin', { map_id: counts.id, path }), { path, pinned: true });
    await assert.rejects(agent.request('pin', { map_id: counts.id, path }), { code: 'invalid_params' });
    await assert.rejects(agent.request('pin', { map_id: counts.id, path: '/tmp/not-bpffs' }), {
      code: 'invalid_params',
    });
    await agent.shutdown();
    await waitFor(() => !bpftoolHas('prog', r.programs[0].id) && !bpftoolHas('map', other.id), 'the rest to go');
    assert.ok(bpftoolHas('map', counts.id), 'the pinned map stays');
    const again = await startAgent();
    try {
      assert.deepEqual(await again.request('unpin', { path }), { path, unpinned: true });
      await assert.rejects(again.request('unpin', { path }), { code: 'not_found' });
    } finally {
      await again.shutdown();
    }
    await waitFor(() => !bpftoolHas('map', counts.id), 'the unpinned map to be released');
  });

  for (const how of ['stdin EOF', 'SIGTERM', 'SIGHUP', 'shutdown'] as const) {
    test(`${how} releases everything`, async (t) => {
      if (!precondition(t, reason)) return;
      const agent = await startAgent();
      const r = await agent.request('load', { path: fixture('attach') });
      const links = (await agent.request('attach', { handle: r.handle, program: 'on_tp' })).links;
      const ids = {
        progs: r.programs.map((p) => p.id),
        maps: r.maps.map((m) => m.id),
        links: links.map((l) => l.link_id!),
      };
      const closed = new Promise((resolve) => agent.once('close', resolve));
      if (how === 'stdin EOF') agent.endInput();
      else if (how === 'shutdown') await agent.shutdown();
      else agent.child!.kill(how);
      const info = (await closed) as { exitCode: number | null };
      assert.equal(info.exitCode, 0, 'the agent exits cleanly');
      await waitFor(
        () =>
          ids.progs.every((id) => !bpftoolHas('prog', id)) &&
          ids.maps.every((id) => !bpftoolHas('map', id)) &&
          ids.links.every((id) => !bpftoolHas('link', id)),
        'everything to be released',
      );
    });
  }
});
