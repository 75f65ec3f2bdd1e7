/**
 * Every template (bpf-templates/) loaded through the agent on the real kernel and attached where
 * this machine allows, with a check that it does its job where that is cheap to observe. Where
 * the kernel refuses (fentry/fexit and lsm: trampolines; kprobe: no CONFIG_KPROBES), the test
 * checks that the agent's error says so clearly. Everything created is released: the agent's
 * handles and links, the veth pair, the cgroup, the iterator pin.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import { AgentRequestError } from '../../client/src/core/agent/agent-errors';
import type { LoadedMap } from '../../client/src/core/agent/agent-protocol';
import { bpfTargetArch, loadTemplates, targetVmlinux, type TemplateInfo } from '../../client/src/core/templates';
import { bpftoolHas, runAs, startAgent, tempDir, UNIQUE, waitFor } from './agent-harness';
import { agentUnavailableReason, netUnavailableReason, precondition } from './preconditions';

const ROOT = resolve(__dirname, '..', '..');
const templates = loadTemplates(join(ROOT, 'bpf-templates'));
const tpl = (id: string): TemplateInfo => templates.find((t) => t.id === id)!;
const reason = agentUnavailableReason();

function libc(): string | undefined {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  return [`/lib/${arch}-linux-gnu/libc.so.6`, '/lib64/libc.so.6', '/usr/lib/libc.so.6'].find((p) => existsSync(p));
}

/** The cgroup v2 mount (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems). */
function cgroup2Root(): string | undefined {
  const line = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[2] === 'cgroup2');
  return line?.split(' ')[1];
}

/** Sums a map value that may be per-CPU (an array of per-CPU values) or a struct field. */
function sum(value: unknown, field?: string): number {
  if (Array.isArray(value)) return value.reduce((a: number, v) => a + sum(v, field), 0);
  if (value && typeof value === 'object' && 'value' in value && !field) return sum((value as { value: unknown }).value);
  if (value && typeof value === 'object' && field) return sum((value as Record<string, unknown>)[field]);
  return typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : 0;
}

describe('templates on the real kernel, through the agent', { concurrency: false }, () => {
  let agent: AgentClient;
  const objects = new Map<string, string>();
  const handles: number[] = [];
  const exercised = new Set<string>();
  let includeDir = '';

  before(async () => {
    if (reason) return;
    const dir = tempDir();
    const inc = join(dir, 'templates-include');
    mkdirSync(inc, { recursive: true });
    writeFileSync(
      join(inc, 'vmlinux.h'),
      execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
        maxBuffer: 256 << 20,
      }),
    );
    const arch = bpfTargetArch(process.arch);
    for (const t of templates) {
      const out = join(dir, `${t.id}.tpl.bpf.o`);
      execFileSync('clang', [
        '-O2',
        '-g',
        '-target',
        'bpf',
        `-D__TARGET_ARCH_${arch}`,
        `-I${inc}`,
        '-c',
        join(t.dir, `${t.id}.bpf.c`),
        '-o',
        out,
      ]);
      objects.set(t.id, out);
    }
    includeDir = inc;
    agent = await startAgent();
  });

  after(async () => {
    for (const h of handles) await agent?.request('unload', { handle: h }).catch(() => undefined);
    await agent?.shutdown();
  });

  /** Loads a template; returns its handle, program ids and maps by name. */
  async function load(id: string) {
    exercised.add(id);
    const r = await agent.request('load', { path: objects.get(id)! });
    handles.push(r.handle);
    const expected = tpl(id).sections.length;
    assert.equal(r.programs.length, expected, `${id}: every program loaded`);
    for (const p of r.programs)
      assert.ok(p.verified_insns > 0 && bpftoolHas('prog', p.id), `${id}/${p.name} is in the kernel`);
    return { handle: r.handle, programs: r.programs, maps: new Map<string, LoadedMap>(r.maps.map((m) => [m.name, m])) };
  }

  /** Unloads and checks the kernel let go of every program. */
  async function unload(l: Awaited<ReturnType<typeof load>>) {
    await agent.request('unload', { handle: l.handle });
    handles.splice(handles.indexOf(l.handle), 1);
    for (const p of l.programs) await waitFor(() => !bpftoolHas('prog', p.id), `program ${p.id} to go away`);
  }

  async function dump(l: Awaited<ReturnType<typeof load>>, map: string) {
    return (await agent.request('map_dump', { map_id: l.maps.get(map)!.id })).entries;
  }

  test('tracepoint: attaches by SEC(); a child that opens files shows up in `opens`', async (t) => {
    if (!precondition(t, reason)) return;
    const l = await load('tracepoint');
    const { links } = await agent.request('attach', { handle: l.handle });
    assert.equal(links.length, 1);
    const pid = await runAs(`bpfide_tpl_tp${UNIQUE}`.slice(0, 15), '/bin/cat', ['/dev/null']);
    const e = await waitFor(async () => (await dump(l, 'opens')).find((x) => x.key === pid), `opens[${pid}]`);
    assert.ok(sum(e.value, 'opens') >= 1, JSON.stringify(e.value));
    await unload(l);
  });

  for (const [id, map, field] of [
    ['raw_tp', 'switches', 'switches'],
    ['tp_btf', 'forks', 'processes'],
  ] as const) {
    test(`${id}: attaches by SEC(); ${map} counts`, async (t) => {
      if (!precondition(t, reason)) return;
      const l = await load(id);
      const { links } = await agent.request('attach', { handle: l.handle });
      assert.equal(links.length, 1);
      await runAs(`bpfide_tpl_${id}${UNIQUE}`.slice(0, 15));
      await waitFor(async () => (await dump(l, map)).some((e) => sum(e.value, field) > 0), `${map}.${field} > 0`);
      await unload(l);
    });
  }

  test('ringbuf: both tracepoints attach; an exec and an exit arrive as ring buffer events', async (t) => {
    if (!precondition(t, reason)) return;
    const l = await load('ringbuf');
    const { links } = await agent.request('attach', { handle: l.handle });
    assert.equal(links.length, 2);
    const events: unknown[] = [];
    const on = (ev: { map_id: number; data: unknown }) =>
      void (ev.map_id === l.maps.get('rb')!.id && events.push(ev.data));
    agent.on('ringbuf_event', on);
    const sub = await agent.request('ringbuf_subscribe', {
      map_id: l.maps.get('rb')!.id,
      type: 'struct exec_exit_event',
    });
    const comm = `bpfide_rb${UNIQUE}`.slice(0, 15);
    await runAs(comm);
    const mine = (exit: number) =>
      events.some((d) => JSON.stringify(d).includes(comm) && (d as { exit_event?: number }).exit_event === exit);
    await waitFor(() => mine(0) && mine(1), 'exec and exit events of the child');
    agent.off('ringbuf_event', on);
    await agent.request('unsubscribe', { subscription: sub.subscription });
    await unload(l);
  });

  test('task_iter: loads, attaches, and (pinned with bpftool) lists this process', async (t) => {
    if (!precondition(t, reason)) return;
    const l = await load('task_iter');
    const { links } = await agent.request('attach', { handle: l.handle });
    assert.equal(links.length, 1);
    await unload(l);
    // The agent cannot read an iterator yet: pin one with bpftool and read it as a file.
    const pin = `/sys/fs/bpf/bpf_ide_tpl_iter_${UNIQUE}`;
    try {
      execFileSync('bpftool', ['iter', 'pin', objects.get('task_iter')!, pin]);
      const text = readFileSync(pin, 'utf8');
      const excerpt = `${text.slice(0, 200)} ... ${text.slice(-200)}`;
      assert.match(text, /TGID +PID +PPID +COMM/, `header: ${excerpt}`);
      assert.match(
        text,
        new RegExp(`^ *${process.pid} +${process.pid} `, 'm'),
        `this process (${process.pid}): ${excerpt}`,
      );
      assert.match(text, /\d+ tasks\n$/, `footer: ${excerpt}`);
    } finally {
      rmSync(pin, { force: true });
    }
  });

  test('uprobe: attaches to libc close(); the histogram counts a child that calls it', async (t) => {
    const lib = libc();
    if (!precondition(t, reason ?? (lib ? null : 'no libc.so.6 found'))) return;
    const l = await load('uprobe');
    for (const program of ['func_entry', 'func_exit']) {
      const { links } = await agent.request('attach', { handle: l.handle, program, target: `${lib}:close` });
      assert.equal(links[0].function, 'close');
    }
    await runAs(`bpfide_tpl_up${UNIQUE}`.slice(0, 15), '/bin/cat', ['/dev/null']);
    await waitFor(async () => (await dump(l, 'hist')).some((e) => sum(e.value) > 0), 'a histogram slot > 0');
    await unload(l);
  });

  test('perf_event: attaches to cpu-clock on every CPU; busy samples land in `counts` with stack ids', async (t) => {
    if (!precondition(t, reason)) return;
    const l = await load('perf_event');
    const { links } = await agent.request('attach', { handle: l.handle, target: 'cpu-clock', frequency: 999 });
    assert.equal(links[0].kind, 'perf_event');
    assert.ok((links[0].perf_events ?? 0) >= 1);
    const comm = `bpfide_pe${UNIQUE}`.slice(0, 15);
    await waitFor(async () => {
      // a short CPU-bound child, so samples catch a process of this test with a user stack
      await runAs(comm, process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 100);']);
      return (await dump(l, 'counts')).some((e) => {
        const k = e.key as { kernel_stack_id?: number; user_stack_id?: number };
        return sum(e.value) > 0 && ((k.kernel_stack_id ?? -1) >= 0 || (k.user_stack_id ?? -1) >= 0);
      });
    }, 'a sample with a stack id');
    await unload(l);
  });

  test('cgroup_skb: both programs attach to a cgroup of the test; a process in it is counted both ways', async (t) => {
    const root = cgroup2Root();
    if (!precondition(t, reason ?? (root ? null : 'no cgroup v2 mount'))) return;
    const cg = join(root!, `bpf-ide-tpl-${UNIQUE}`);
    mkdirSync(cg, { recursive: true });
    try {
      const l = await load('cgroup_skb');
      for (const program of ['cgroup_ingress', 'cgroup_egress']) {
        const { links } = await agent.request('attach', { handle: l.handle, program, cgroup: cg });
        assert.equal(links[0].cgroup, cg);
      }
      // A shell that moves itself into the cgroup, then sends itself a UDP datagram over loopback.
      const js = `const s=require('dgram').createSocket('udp4');s.bind(0,'127.0.0.1',()=>{s.on('message',()=>s.close());s.send('bpf-ide',s.address().port,'127.0.0.1');});`;
      execFileSync('sh', ['-c', `echo $$ > ${cg}/cgroup.procs && exec "${process.execPath}" -e "${js}"`], {
        timeout: 10_000,
      });
      const traffic = await dump(l, 'traffic');
      const dir = (k: number) => sum(traffic.find((e) => e.key === k)?.value, 'packets');
      assert.ok(dir(0) >= 1 && dir(1) >= 1, `ingress ${dir(0)}, egress ${dir(1)}: ${JSON.stringify(traffic)}`);
      await unload(l);
    } finally {
      rmdirSync(cg);
    }
  });

  describe('networking templates on a veth pair into a namespace of the test', { concurrency: false }, () => {
    const n = ((process.pid + 97) % 250) + 1;
    const ns = `bpfidetpl${UNIQUE}`;
    const host = `bpfidet${UNIQUE}`.slice(0, 15);
    const peer = `bpfidep${UNIQUE}`.slice(0, 15);
    const hostIp = `10.200.${n}.1`;
    const peerIp = `10.200.${n}.2`;
    const netReason = reason ?? netUnavailableReason();
    let made = false;
    before(() => {
      if (netReason) return;
      const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
      ip('netns', 'add', ns);
      made = true;
      ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
      ip('link', 'set', peer, 'netns', ns);
      ip('addr', 'add', `${hostIp}/24`, 'dev', host);
      ip('link', 'set', host, 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${peerIp}/24`, 'dev', peer);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', peer, 'up');
    });
    after(() => {
      if (!made) return;
      spawnSync('ip', ['netns', 'del', ns]);
      spawnSync('ip', ['link', 'del', host]);
    });

    /** UDP datagrams from inside the namespace to the host side of the veth, port 9 (discard). */
    function sendFromPeer(count = 3): void {
      const js = `const s=require('dgram').createSocket('udp4');let i=0;const f=()=>s.send('bpf-ide',9,'${hostIp}',()=>{if(++i<${count})f();else s.close();});f();`;
      execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', js], { stdio: 'pipe' });
    }

    test('xdp: attaches to the interface; UDP from the namespace is counted under protocol 17', async (t) => {
      if (!precondition(t, netReason)) return;
      const l = await load('xdp');
      const { links } = await agent.request('attach', { handle: l.handle, target: host });
      assert.equal(links[0].ifname, host);
      await waitFor(async () => {
        sendFromPeer();
        return sum((await dump(l, 'proto_stats')).find((e) => e.key === 17)?.value, 'packets') > 0;
      }, 'proto_stats[17] > 0');
      await unload(l);
    });

    test('tc: attaches to the interface, ingress; UDP to port 9 is counted under {9, 17}', async (t) => {
      if (!precondition(t, netReason)) return;
      const l = await load('tc');
      const { links } = await agent.request('attach', { handle: l.handle, target: host, direction: 'ingress' });
      assert.equal(links[0].direction, 'ingress');
      await waitFor(async () => {
        sendFromPeer();
        return (await dump(l, 'ports')).some((e) => {
          const k = e.key as { port?: number; proto?: number };
          return k.port === 9 && k.proto === 17 && sum(e.value, 'packets') > 0;
        });
      }, 'ports[{9, 17}] > 0');
      await unload(l);
    });

    test('tc: attaches to the interface, egress', async (t) => {
      if (!precondition(t, netReason)) return;
      const l = await load('tc');
      const { links } = await agent.request('attach', { handle: l.handle, target: host, direction: 'egress' });
      assert.equal(links[0].direction, 'egress');
      await unload(l);
    });

    test('socket_filter: attaches to a packet socket on the interface; UDP is counted under 17', async (t) => {
      if (!precondition(t, netReason)) return;
      const l = await load('socket_filter');
      const { links } = await agent.request('attach', { handle: l.handle, target: host });
      assert.equal(links[0].kind, 'socket');
      await waitFor(async () => {
        sendFromPeer();
        return sum((await dump(l, 'counts')).find((e) => e.key === 17)?.value) > 0;
      }, 'counts[17] > 0');
      await unload(l);
    });
  });

  /**
   * Types this kernel may refuse. Where it loads (and attaches), fine; where it refuses, the
   * agent's error must name the program and the reason, and say what to do instead.
   */
  test('kprobe: loads; if the kernel cannot attach kprobes, the error says so', async (t) => {
    if (!precondition(t, reason)) return;
    const l = await load('kprobe');
    try {
      await agent.request('attach', { handle: l.handle, program: 'unlink_entry' });
    } catch (err) {
      assert.ok(err instanceof AgentRequestError, String(err));
      assert.equal(err.code, 'attach_failed');
      assert.match(err.message, /unlink_entry/);
      assert.match(err.message, /kprobe\/do_unlinkat/);
      assert.match(err.hint ?? '', /kprobe/i, 'the hint names the cause');
      assert.match(err.hint ?? '', /tracepoint|raw_tp/, 'the hint names an alternative');
    }
    await unload(l);
  });

  for (const id of ['fentry', 'lsm']) {
    test(`${id}: loads, or the kernel's refusal of trampolines is reported clearly`, async (t) => {
      if (!precondition(t, reason)) return;
      let l: Awaited<ReturnType<typeof load>> | undefined;
      try {
        l = await load(id);
      } catch (err) {
        assert.ok(err instanceof AgentRequestError, String(err));
        const body = err.body as { program?: string; errno?: number; section?: string };
        assert.equal(body.errno, 1, 'EPERM');
        assert.ok(tpl(id).sections.includes(body.section ?? ''), `the error names the section: ${body.section}`);
        assert.match(err.message, /Operation not permitted/);
        assert.match(err.hint ?? '', /trampoline/, 'the hint names the cause');
        assert.match(err.hint ?? '', /tp_btf|tracepoint/, 'the hint names an alternative');
        return;
      }
      await agent.request('attach', { handle: l.handle }).catch(() => undefined);
      await unload(l);
    });
  }

  test('objects built by clang-19 load too (different code for the verifier), or are refused the same way', async (t) => {
    const has19 = spawnSync('clang-19', ['--version']).status === 0;
    if (!precondition(t, reason ?? (has19 ? null : 'clang-19 is not installed (scripts/setup.sh installs it)'))) return;
    const arch = bpfTargetArch(process.arch);
    const refused: string[] = [];
    for (const tpl of templates) {
      const out = join(tempDir(), `${tpl.id}.tpl19.bpf.o`);
      execFileSync('clang-19', [
        '-O2',
        '-g',
        '-target',
        'bpf',
        `-D__TARGET_ARCH_${arch}`,
        `-I${includeDir}`,
        '-c',
        join(tpl.dir, `${tpl.id}.bpf.c`),
        '-o',
        out,
      ]);
      try {
        const r = await agent.request('load', { path: out });
        await agent.request('unload', { handle: r.handle });
        for (const p of r.programs) await waitFor(() => !bpftoolHas('prog', p.id), `program ${p.id} to go away`);
      } catch (err) {
        if (!(err instanceof AgentRequestError) || !/trampoline/.test(err.hint ?? ''))
          throw new Error(`${tpl.id} built by clang-19: ${(err as Error).message}`, { cause: err });
        refused.push(tpl.id);
      }
    }
    for (const id of refused) assert.ok(['fentry', 'lsm'].includes(id), `${id} was refused for trampolines`);
  });

  test("vmlinux.h from a target (the agent's btf_dump) equals bpftool's header for this kernel", async (t) => {
    if (!precondition(t, reason)) return;
    const fromTarget = await targetVmlinux(agent, 'local').generate();
    const local = readFileSync(join(includeDir, 'vmlinux.h'), 'utf8');
    assert.ok(fromTarget.length > 100_000, `${fromTarget.length} bytes`);
    assert.ok(fromTarget === local, 'the same header as bpftool btf dump file /sys/kernel/btf/vmlinux');
  });

  describe('through the product: bpf-ide run --attach --json', { concurrency: false }, () => {
    interface RunProgram {
      name: string;
      id?: number;
      loaded: boolean;
      attached?: boolean;
      attachError?: string;
      verifier?: { error?: { message: string } };
    }
    /** `bpf-ide run` (from source) on a copy of the template next to a vmlinux.h; its JSON and exit code. */
    function bpfIdeRun(id: string): { status: number | null; programs: RunProgram[] } {
      const dir = join(tempDir(), `run-${id}`);
      mkdirSync(dir, { recursive: true });
      for (const f of tpl(id).files) writeFileSync(join(dir, f), readFileSync(join(tpl(id).dir, f)));
      writeFileSync(join(dir, 'vmlinux.h'), readFileSync(join(includeDir, 'vmlinux.h')));
      const cli = join(ROOT, 'client', 'src', 'cli', 'bpf-ide.ts');
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', cli, 'run', join(dir, `${id}.bpf.c`), '--attach', '--duration', '1', '--json'],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      let out: { programs?: RunProgram[] };
      try {
        out = JSON.parse(r.stdout) as { programs?: RunProgram[] };
      } catch {
        assert.fail(`bpf-ide run ${id}: no JSON (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
      }
      const programs = out.programs ?? [];
      for (const p of programs) if (p.id) assert.ok(!bpftoolHas('prog', p.id), `${id}/${p.name} was left loaded`);
      return { status: r.status, programs };
    }

    test('tracepoint: loaded and attached, exit 0', (t) => {
      if (!precondition(t, reason)) return;
      const r = bpfIdeRun('tracepoint');
      assert.equal(r.status, 0);
      assert.ok(r.programs.length === 1 && r.programs[0].loaded && r.programs[0].attached);
    });

    test('kprobe: loaded; where kprobes cannot attach, the reason and an alternative are given', (t) => {
      if (!precondition(t, reason)) return;
      const r = bpfIdeRun('kprobe');
      assert.equal(r.programs.length, 2);
      for (const p of r.programs) {
        assert.equal(p.loaded, true);
        if (p.attached) continue;
        assert.notEqual(r.status, 0, 'a failed attach is not a success');
        assert.ok((p.attachError ?? '').includes(`'${p.name}'`), `the error names the program: ${p.attachError}`);
        assert.match(p.attachError ?? '', /kprobes/);
        assert.match(p.attachError ?? '', /tracepoint|raw_tp/);
      }
    });

    for (const id of ['fentry', 'lsm']) {
      test(`${id}: where trampolines are refused, each program says so and names an alternative`, (t) => {
        if (!precondition(t, reason)) return;
        const r = bpfIdeRun(id);
        assert.equal(r.programs.length, tpl(id).sections.length);
        if (r.programs.every((p) => p.loaded)) return;
        assert.notEqual(r.status, 0, 'a refused load is not a success');
        for (const p of r.programs.filter((x) => !x.loaded)) {
          assert.match(p.verifier?.error?.message ?? '', /Operation not permitted/);
          assert.match(p.verifier?.error?.message ?? '', /trampolines/);
          assert.match(p.verifier?.error?.message ?? '', /tp_btf|tracepoint/);
        }
      });
    }
  });

  test('every template was loaded (or refused clearly) above', (t) => {
    if (!precondition(t, reason)) return;
    assert.deepEqual(
      templates.map((x) => x.id).filter((id) => !exercised.has(id)),
      [],
    );
  });
});
