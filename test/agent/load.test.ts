/**
 * load / unload on the real kernel: verdicts, logs, statistics, the ENOSPC retry, the time
 * bound, per-program loading, and rejections with the verifier's own words.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { AgentClient, AgentRequestError } from '../../client/src/core/agent/agent-client';
import { agentUnavailableReason, precondition } from './preconditions';
import { bpftoolHas, ensureAgent, fixture, startAgent, waitFor } from './agent-harness';

const reason = agentUnavailableReason();

async function rejection(p: Promise<unknown>): Promise<AgentRequestError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AgentRequestError, `expected AgentRequestError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the request to fail');
}

describe('agent load', { concurrency: false }, () => {
  let agent: AgentClient;
  before(async () => {
    if (!reason) agent = await startAgent();
  });
  after(async () => {
    await agent?.shutdown();
  });

  test('hello reports protocol, kernel, privileges and preconditions', async (t) => {
    if (!precondition(t, reason)) return;
    const hello = await agent.hello;
    assert.equal(hello.protocol, 1);
    assert.equal(hello.kernel.btf, true);
    assert.equal(hello.privileges.privileged, true);
    assert.ok(hello.capabilities.includes('load'));
    assert.ok(hello.capabilities.includes('map_dump'));
    assert.equal(typeof hello.fs.bpffs.mounted, 'boolean');
  });

  test('a valid object loads: ids, tag, sizes, maps with BTF types, stats; bpftool sees it; unload frees it', async (t) => {
    if (!precondition(t, reason)) return;
    const r = await agent.request('load', { path: fixture('maps'), log_level: 1 });
    assert.equal(r.programs.length, 1);
    const p = r.programs[0];
    assert.equal(p.name, 'on_exec');
    assert.equal(p.type, 'tracepoint');
    assert.match(p.tag, /^[0-9a-f]{16}$/);
    assert.ok(p.xlated_insns > 0 && p.jited_bytes > 0 && p.verified_insns > 0);
    assert.equal(p.verifier.stats.processed_insns, p.verified_insns);
    assert.ok((p.verifier.stats.total_states ?? -1) >= 0);
    assert.ok((p.verifier.stats.time_usec ?? -1) >= 0);
    assert.equal(p.verifier.stats.stack_depth !== null, true);
    assert.equal(p.verifier.truncated, false);
    const structs = r.maps.find((m) => m.name === 'structs')!;
    assert.equal(structs.type, 'hash');
    assert.equal(structs.key_type, 'u32');
    assert.equal(structs.value_type, 'struct value');
    assert.ok(bpftoolHas('prog', p.id));
    assert.ok(bpftoolHas('map', structs.id));
    const u = await agent.request('unload', { handle: r.handle });
    assert.equal(u.programs_released, 1);
    // the kernel frees programs and maps after an RCU grace period: wait for it
    await waitFor(() => !bpftoolHas('prog', p.id) && !bpftoolHas('map', structs.id), 'program and map to be freed');
  });

  test('log level 2 gives the per-instruction log; level 0 still gives stats', async (t) => {
    if (!precondition(t, reason)) return;
    const r2 = await agent.request('load', { path: fixture('maps'), log_level: 2 });
    const log = r2.programs[0].verifier.log;
    assert.match(log, /^\d+: \(\w\w\) .*R\d/m, 'level 2 prints instructions with register state');
    assert.match(log, /; .* @ maps\.bpf\.c:\d+/, 'BTF line info names the source line');
    const r0 = await agent.request('load', { path: fixture('maps'), log_level: 0 });
    assert.ok((r0.programs[0].verifier.stats.processed_insns ?? 0) > 0);
    assert.doesNotMatch(r0.programs[0].verifier.log, /^\d+: \(/m);
    await agent.request('unload', { handle: r2.handle });
    await agent.request('unload', { handle: r0.handle });
  });

  test('a too-small log buffer does not fail a valid program: the agent retries bigger and says so', async (t) => {
    if (!precondition(t, reason)) return;
    const r = await agent.request('load', { path: fixture('maps'), log_level: 2, log_size: 256 });
    const v = r.programs[0].verifier;
    assert.ok(v.retries >= 1);
    assert.ok(v.log_buffer_bytes > 256);
    assert.match(v.notes.join('\n'), /did not fit in 256 bytes/);
    assert.equal(v.truncated, false);
    assert.match(v.log, /processed \d+ insns/);
    await agent.request('unload', { handle: r.handle });
  });

  test('the object can come as base64 bytes', async (t) => {
    if (!precondition(t, reason)) return;
    const object = readFileSync(fixture('maps')).toString('base64');
    const r = await agent.request('load', { object });
    assert.equal(r.programs[0].name, 'on_exec');
    await agent.request('unload', { handle: r.handle });
  });

  test('maps that ask to be pinned by name are neither pinned in /sys/fs/bpf nor taken from there', async (t) => {
    if (!precondition(t, reason)) return;
    const pin = '/sys/fs/bpf/bpf_ide_pinned_probe'; // this test's own name: only its own leftovers are there
    rmSync(pin, { force: true });
    const r = await agent.request('load', { path: fixture('pinned') });
    assert.equal(r.programs[0].name, 'count_pinned');
    assert.equal(existsSync(pin), false, 'the load left no pin behind');
    await agent.request('unload', { handle: r.handle });
    // a map another tool pinned under that name is not reused (libbpf would share it)
    const made = spawnSync('bpftool', [
      'map',
      'create',
      pin,
      'type',
      'array',
      'key',
      '4',
      'value',
      '8',
      'entries',
      '1',
      'name',
      'other_tool',
    ]);
    if (made.status !== 0) return; // no bpftool or no bpffs: the first half stands
    try {
      const theirs = JSON.parse(spawnSync('bpftool', ['-j', 'map', 'show', 'pinned', pin]).stdout.toString()).id;
      const r2 = await agent.request('load', { path: fixture('pinned') });
      const mine = r2.maps.find((m) => m.name === 'bpf_ide_pinned_probe')!;
      assert.notEqual(mine.id, theirs, "the agent's map is its own");
      await agent.request('unload', { handle: r2.handle });
    } finally {
      rmSync(pin, { force: true });
    }
  });

  test('per-program loading: an fentry this kernel refuses does not sink the tracepoint (partial)', async (t) => {
    if (!precondition(t, reason)) return;
    const r = await agent.request('load', { path: fixture('mixed'), partial: true });
    assert.deepEqual(
      r.programs.map((p) => p.name),
      ['good_tp'],
    );
    assert.equal(r.failed?.length, 1);
    assert.equal(r.failed![0].name, 'blocked_fentry');
    assert.ok(bpftoolHas('prog', r.programs[0].id));
    await agent.request('unload', { handle: r.handle });
    // without partial the whole load fails and reports every verdict
    const err = await rejection(agent.request('load', { path: fixture('mixed') }));
    assert.equal(err.body.program, 'blocked_fentry');
    assert.equal(err.body.loaded?.[0]?.name, 'good_tp');
    await waitFor(() => !bpftoolHas('prog', err.body.loaded![0].id), 'the loaded program to be released');
    // and programs: [...] loads just the one asked for
    const one = await agent.request('load', { path: fixture('mixed'), programs: ['good_tp'] });
    assert.deepEqual(
      one.programs.map((p) => p.name),
      ['good_tp'],
    );
    await agent.request('unload', { handle: one.handle });
  });

  test('load_progress: one event per program, in order, with its verdict', async (t) => {
    if (!precondition(t, reason)) return;
    const seen: { program: string; index: number; total: number; verdict: string }[] = [];
    let loadId = -1;
    const on = (ev: { request: unknown; program: string; index: number; total: number; verdict: string }) => {
      if (ev.request === loadId) seen.push(ev);
    };
    agent.on('load_progress', on);
    const r = await agent.request('load', { path: fixture('mixed'), partial: true }, { onId: (id) => (loadId = id) });
    agent.off('load_progress', on);
    assert.deepEqual(
      seen.map((e) => [e.program, e.index, e.total, e.verdict]),
      [
        ['good_tp', 1, 2, 'loaded'],
        ['blocked_fentry', 2, 2, 'refused'],
      ],
    );
    await agent.request('unload', { handle: r.handle });
  });

  test('load {handle, programs}: more programs of a loaded object, sharing its maps, nothing reloaded', async (t) => {
    if (!precondition(t, reason)) return;
    const first = await agent.request('load', { path: fixture('many'), programs: ['prog_0'] });
    const mapId = first.maps.find((m) => m.name === 'vals')!.id;
    // a SEC("?...") program and another autoloaded one, into the same handle
    const more = await agent.request('load', { handle: first.handle, programs: ['optional_prog', 'prog_3'] });
    assert.equal(more.handle, first.handle);
    assert.deepEqual(
      more.programs.map((p) => p.name),
      ['optional_prog', 'prog_3'],
    );
    assert.equal(more.maps.find((m) => m.name === 'vals')!.id, mapId, 'the same map, not a new one');
    assert.ok(bpftoolHas('prog', first.programs[0].id), 'the first program is still loaded (not reloaded)');
    const again = await rejection(agent.request('load', { handle: first.handle, programs: ['prog_0'] }));
    assert.equal(again.code, 'invalid_params');
    // attach works on the added program
    const a = await agent.request('attach', { handle: first.handle, program: 'optional_prog' });
    assert.equal(a.links.length, 1);
    const u = await agent.request('unload', { handle: first.handle });
    assert.equal(u.programs_released, 3);
    for (const p of [...first.programs, ...more.programs])
      await waitFor(() => !bpftoolHas('prog', p.id), `program ${p.name} released`);
    const unknown = await rejection(agent.request('load', { handle: 999999, programs: ['prog_0'] }));
    assert.equal(unknown.code, 'not_found');
  });

  test('cancel: a load stops between programs and releases what it loaded; the cancel says so', async (t) => {
    if (!precondition(t, reason)) return;
    let loadId = -1;
    const loaded: string[] = [];
    const firstDone = new Promise<void>((resolve) => {
      const on = (ev: { request: unknown; program: string; verdict: string }) => {
        if (ev.request !== loadId) return;
        loaded.push(ev.program);
        resolve();
      };
      agent.on('load_progress', on);
      t.after(() => agent.off('load_progress', on));
    });
    const load = agent.request('load', { path: fixture('many'), log_level: 2 }, { onId: (id) => (loadId = id) });
    await firstDone;
    const cancel = agent.request('cancel', { request: loadId });
    const err = await rejection(load);
    assert.equal(err.code, 'cancelled');
    const body = err.body as unknown as { released: string[]; done: number; total: number };
    assert.equal(body.total, 16);
    assert.ok(body.done >= 1 && body.done < 16, `stopped between programs (after ${body.done})`);
    assert.deepEqual(body.released, loaded.slice(0, body.done));
    assert.deepEqual(await cancel, { request: loadId, cancelled: true });
    // nothing of it is left: no program named prog_* from this agent's load, and the agent still serves
    const list = await agent.request('list', {});
    assert.ok(!list.programs.some((p) => p.handle !== undefined && /^prog_\d+$/.test(p.name)), 'released');
    assert.deepEqual(await agent.request('ping', {}), { pong: true });
    // a cancel for a request that is not running says it stopped nothing
    assert.deepEqual(await agent.request('cancel', { request: 424242 }), { request: 424242, cancelled: false });
  });

  const rejections: [string, RegExp, number[]][] = [
    ['reject_null', /R\d invalid mem access 'map_value_or_null'/, [13]],
    ['reject_stack', /invalid (variable-offset read from stack|.*stack)/, [13, 22]],
    ['reject_loop', /infinite loop detected at insn \d+/, [22]],
    ['reject_big', /BPF program is too large\. Processed 1000001 insn/, [7]],
    ['reject_helper', /program of this type cannot use helper bpf_get_stack#67/, [22]],
  ];
  for (const [name, re, errnos] of rejections) {
    test(`rejection ${name}: verifier_rejected with the program, errno text, full log and stats`, async (t) => {
      if (!precondition(t, reason)) return;
      const err = await rejection(agent.request('load', { path: fixture(name), log_level: 1 }));
      assert.equal(err.code, 'verifier_rejected');
      assert.ok(err.body.program);
      assert.ok(errnos.includes(err.body.errno!), `errno ${err.body.errno}`);
      assert.ok(err.body.errno_text && err.body.errno_text.length > 3);
      assert.match(err.body.log!, re);
      assert.match(err.body.log!, /processed \d+ insns/);
      assert.ok((err.body.stats?.processed_insns ?? 0) > 0);
      assert.ok(err.hint);
    });
  }

  test('an fentry on this kernel fails with a clear error and hint', async (t) => {
    if (!precondition(t, reason)) return;
    const err = await rejection(agent.request('load', { path: fixture('mixed'), programs: ['blocked_fentry'] }));
    assert.ok(['load_failed', 'verifier_rejected', 'permission_denied'].includes(err.code));
    assert.equal(err.body.program, 'blocked_fentry');
    assert.ok(err.hint && err.hint.length > 10);
  });

  test('verification is bounded in time: verifier_timeout', async (t) => {
    if (!precondition(t, reason)) return;
    const t0 = Date.now();
    const err = await rejection(agent.request('load', { path: fixture('reject_big'), log_level: 2, timeout_ms: 150 }));
    assert.equal(err.code, 'verifier_timeout');
    assert.ok(Date.now() - t0 < 5000, 'the bound holds');
    // the agent keeps serving
    assert.deepEqual(await agent.request('ping', {}), { pong: true });
  });

  test('without privileges: hello says so up front, load fails with permission_denied and a hint', async (t) => {
    const setpriv = spawnSync('setpriv', ['--version']).status === 0;
    if (!precondition(t, reason ?? (setpriv ? null : 'setpriv (util-linux) is not installed'))) return;
    const args = ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ensureAgent()];
    const nobody = AgentClient.spawn('setpriv', { args });
    try {
      const hello = await nobody.hello;
      assert.equal(hello.privileges.privileged, false);
      assert.equal(hello.privileges.uid, 65534);
      assert.match(hello.warnings.join('\n'), /not privileged/);
      // the test's temp dir is private to root: reading the file is refused ...
      assert.equal((await rejection(nobody.request('load', { path: fixture('maps') }))).code, 'permission_denied');
      // ... and with the bytes sent inline, the kernel refuses
      const object = readFileSync(fixture('maps')).toString('base64');
      const err = await rejection(nobody.request('load', { object }));
      assert.equal(err.code, 'permission_denied');
      assert.match(err.hint ?? '', /root|CAP_BPF/);
    } finally {
      await nobody.shutdown();
    }
  });

  test('bad load params get coded errors', async (t) => {
    if (!precondition(t, reason)) return;
    assert.equal((await rejection(agent.request('load', {}))).code, 'invalid_params');
    assert.equal((await rejection(agent.request('load', { path: '/nonexistent.o' }))).code, 'not_found');
    assert.equal((await rejection(agent.request('load', { object: '!!!notbase64' }))).code, 'invalid_base64');
    assert.equal(
      (await rejection(agent.request('load', { object: Buffer.from('not an elf').toString('base64') }))).code,
      'invalid_object',
    );
    assert.equal(
      (await rejection(agent.request('load', { path: fixture('maps'), programs: ['nope'] }))).code,
      'not_found',
    );
    assert.equal(
      (await rejection(agent.request('load', { path: fixture('maps'), log_level: 3 }))).code,
      'invalid_params',
    );
    assert.equal((await rejection(agent.request('unload', { handle: 999999 }))).code, 'not_found');
  });
});
