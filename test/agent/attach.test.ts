/**
 * attach / detach on the real kernel: each program type is attached by its SEC(), triggered,
 * and read back through map_dump. Networking types run on a veth pair in a network namespace
 * this test creates (10.200.x.y only) and removes.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { AgentRequestError, type AgentClient } from '../../client/src/core/agent/agent-client';
import type { LoadedMap } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, netUnavailableReason, precondition } from './preconditions';
import { bpftoolHas, fixture, runAs, startAgent, waitFor, UNIQUE } from './agent-harness';

const reason = agentUnavailableReason();

function libc(): string | undefined {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  return [`/lib/${arch}-linux-gnu/libc.so.6`, '/lib64/libc.so.6', '/usr/lib/libc.so.6'].find((p) => existsSync(p));
}

describe('agent attach', { concurrency: false }, () => {
  let agent: AgentClient;
  let handle: number;
  let maps: Map<string, LoadedMap>;
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    const r = await agent.request('load', { path: fixture('attach') });
    handle = r.handle;
    maps = new Map(r.maps.map((m) => [m.name, m]));
  });
  after(async () => {
    await agent?.shutdown();
  });

  async function valueFor(map: string, key: number): Promise<number | undefined> {
    const d = await agent.request('map_dump', { map_id: maps.get(map)!.id });
    const e = d.entries.find((x) => x.key === key);
    return e ? (e.value as number) : undefined;
  }

  for (const [program, map] of [
    ['on_tp', 'tp_hits'],
    ['on_raw_tp', 'raw_hits'],
    ['on_tp_btf', 'btf_hits'],
  ] as const) {
    test(`${program}: attach by SEC(), an exec fires it, the map shows the child's pid; detach`, async (t) => {
      if (!precondition(t, reason)) return;
      const { links } = await agent.request('attach', { handle, program });
      assert.equal(links.length, 1);
      assert.equal(links[0].kind, 'bpf_link');
      assert.ok(links[0].link_id && bpftoolHas('link', links[0].link_id));
      const pid = await runAs(`bpfide_${program}_${UNIQUE}`.slice(0, 15));
      assert.ok(((await waitFor(() => valueFor(map, pid), `${map}[${pid}]`)) ?? 0) >= 1);
      const d = await agent.request('detach', { link: links[0].link });
      assert.equal(d.detached, true);
      await waitFor(() => !bpftoolHas('link', links[0].link_id!), 'the link to go away');
      const after = await runAs(`bpfide_${program}_${UNIQUE}`.slice(0, 15));
      assert.equal(await valueFor(map, after), undefined, 'detached: no more hits');
    });
  }

  test('uprobe on libc close(): binary:function target, fired by a child process', async (t) => {
    const lib = libc();
    if (!precondition(t, reason ?? (lib ? null : 'no libc.so.6 found'))) return;
    const { links } = await agent.request('attach', { handle, program: 'on_uprobe', target: `${lib}:close` });
    assert.equal(links[0].function, 'close');
    assert.equal(links[0].pid, -1);
    // cat calls close() on its input through libc's exported close (ls's exit path does not)
    const pid = await runAs(`bpfide_up_${UNIQUE}`, '/bin/cat', ['/dev/null']);
    assert.ok(((await waitFor(() => valueFor('uprobe_hits', pid), 'uprobe hit')) ?? 0) >= 1);
    await agent.request('detach', { link: links[0].link });
  });

  test('perf_event: a cpu-clock sampling event on every CPU fires the program', async (t) => {
    if (!precondition(t, reason)) return;
    const count = async () =>
      (await agent.request('map_dump', { map_id: maps.get('pkt_counts')!.id })).entries.find((e) => e.key === 3)!
        .value as number;
    const before = await count();
    const { links } = await agent.request('attach', {
      handle,
      program: 'on_perf',
      target: 'cpu-clock',
      frequency: 1000,
    });
    assert.equal(links[0].kind, 'perf_event');
    assert.ok((links[0].perf_events ?? 0) >= 1);
    await waitFor(async () => (await count()) > before, 'perf samples');
    await agent.request('detach', { link: links[0].link });
    await assert.rejects(agent.request('attach', { handle, program: 'on_perf', target: 'no-such-event' }), {
      code: 'invalid_params',
    });
  });

  test('prog_stats counts runs through bpf_enable_stats', async (t) => {
    if (!precondition(t, reason)) return;
    const first = await agent.request('prog_stats', { handle });
    assert.equal(first.enabled, true);
    const { links } = await agent.request('attach', { handle, program: 'on_tp' });
    await runAs(`bpfide_st_${UNIQUE}`);
    const stats = await waitFor(async () => {
      const s = await agent.request('prog_stats', { handle });
      const p = s.programs.find((x) => x.name === 'on_tp');
      return p && p.run_cnt > 0 ? p : undefined;
    }, 'run_cnt > 0');
    assert.ok(stats.run_time_ns > 0);
    await agent.request('detach', { link: links[0].link });
  });

  test('kprobe: loads, and where the kernel cannot attach kprobes the error says why', async (t) => {
    if (!precondition(t, reason)) return;
    const r = await agent.request('load', { path: fixture('kprobe') });
    try {
      const { links } = await agent.request('attach', { handle: r.handle });
      // a kernel with CONFIG_KPROBES: the attach works
      assert.equal(links[0].kind, 'bpf_link');
    } catch (err) {
      assert.ok(err instanceof AgentRequestError);
      assert.equal(err.code, 'attach_failed');
      assert.equal(err.body.program, 'probe_nanosleep');
      assert.match(err.message, /No such file or directory/);
      assert.match(err.hint ?? '', /kprobes/);
    } finally {
      await agent.request('unload', { handle: r.handle });
    }
  });

  test('attach errors: unknown handle/program/link, missing interface', async (t) => {
    if (!precondition(t, reason)) return;
    await assert.rejects(agent.request('attach', { handle: 99999 }), { code: 'not_found' });
    await assert.rejects(agent.request('attach', { handle, program: 'nope' }), { code: 'not_found' });
    await assert.rejects(agent.request('attach', { handle, program: 'on_xdp' }), { code: 'invalid_params' });
    await assert.rejects(agent.request('attach', { handle, program: 'on_xdp', target: 'nonexistent0' }), {
      code: 'not_found',
    });
    await assert.rejects(agent.request('detach', { link: 99999 }), { code: 'not_found' });
  });

  describe('networking on a veth in a network namespace', { concurrency: false }, () => {
    const n = (process.pid % 250) + 1;
    const ns = `bpfide${UNIQUE}`;
    const host = `bih${UNIQUE}`;
    const peer = `bip${UNIQUE}`;
    const hostIp = `10.200.${n}.1`;
    const peerIp = `10.200.${n}.2`;
    let netOk = false;
    before(() => {
      if (reason || netUnavailableReason()) return;
      const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
      ip('netns', 'add', ns);
      ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
      ip('link', 'set', peer, 'netns', ns);
      ip('addr', 'add', `${hostIp}/24`, 'dev', host);
      ip('link', 'set', host, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${peerIp}/24`, 'dev', peer);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      netOk = true;
    });
    after(() => {
      if (!netOk) return;
      spawnSync('ip', ['netns', 'del', ns]);
      spawnSync('ip', ['link', 'del', host]);
    });

    /** Sends UDP datagrams from inside the namespace to the host side of the veth. */
    function sendFromPeer(count = 3): void {
      const js = `const s=require('dgram').createSocket('udp4');let i=0;const f=()=>s.send('bpf-ide',9,'${hostIp}',()=>{if(++i<${count})f();else s.close();});f();`;
      execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', js], { stdio: 'pipe' });
    }
    async function packets(index: number): Promise<number> {
      const d = await agent.request('map_dump', { map_id: maps.get('pkt_counts')!.id });
      return d.entries.find((e) => e.key === index)!.value as number;
    }

    for (const [program, index, kind] of [
      ['on_xdp', 0, 'bpf_link'],
      ['on_tc', 1, 'tcx'],
      ['on_socket', 2, 'socket'],
    ] as const) {
      test(`${program} on ${'the host veth'}: packets from the namespace are counted`, async (t) => {
        if (!precondition(t, reason ?? netUnavailableReason())) return;
        const before = await packets(index);
        const { links } = await agent.request('attach', { handle, program, target: host });
        assert.equal(links[0].kind, kind);
        assert.equal(links[0].ifname, host);
        await waitFor(async () => {
          sendFromPeer();
          return (await packets(index)) > before;
        }, `${program} to count packets`);
        await agent.request('detach', { link: links[0].link });
      });
    }
  });
});
