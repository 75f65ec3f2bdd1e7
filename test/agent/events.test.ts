/**
 * Streams: ring buffer and perf buffer records decoded with a BTF type, and trace_pipe lines
 * from bpf_printk. A program fires on execs of a uniquely named command, so other activity
 * on the machine does not confuse the test.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient, AgentRequestError } from '../../client/src/core/agent/agent-client';
import type { LoadedMap, RingbufEvent } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, nextEvent, runAs, startAgent, tempDir, waitFor, UNIQUE } from './agent-harness';

const reason = agentUnavailableReason();

describe('agent events', { concurrency: false }, () => {
  let agent: AgentClient;
  let maps: Map<string, LoadedMap>;
  const comm = `bpfide_e${UNIQUE}`.slice(0, 15);
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    const r = await agent.request('load', { path: fixture('events') });
    maps = new Map(r.maps.map((m) => [m.name, m]));
    await agent.request('attach', { handle: r.handle });
  });
  after(async () => {
    await agent?.shutdown();
  });
  const config = (ring: number, perf: number) =>
    agent.request('map_update', {
      map_id: maps.get('config')!.id,
      key: 0,
      value: { ring_burst: ring, perf_burst: perf, comm },
    });

  test('ringbuf_subscribe: records decoded as struct event, all delivered, counts on unsubscribe', async (t) => {
    if (!precondition(t, reason)) return;
    await config(50, 0);
    const s = await agent.request('ringbuf_subscribe', { map_id: maps.get('rb')!.id, type: 'struct event' });
    const got: RingbufEvent[] = [];
    agent.on('ringbuf_event', (e) => e.subscription === s.subscription && got.push(e));
    const pid = await runAs(comm);
    await waitFor(() => got.length >= 50, '50 ring buffer records');
    const data = got[0].data as { seq: number; pid: number; comm: string; pad: number[] };
    assert.equal(got[0].source, 'ringbuf');
    assert.equal(got[0].size, 96);
    assert.equal(data.pid, pid);
    assert.equal(data.comm, comm);
    assert.deepEqual(
      got.map((e) => (e.data as { seq: number }).seq),
      Array.from({ length: 50 }, (_, i) => i),
    );
    const u = await agent.request('unsubscribe', { subscription: s.subscription });
    assert.equal(u.delivered, 50);
    assert.equal(u.dropped, 0);
  });

  test('perfbuf_subscribe: records with their CPU, raw hex without a type, typed with one', async (t) => {
    if (!precondition(t, reason)) return;
    await config(0, 5);
    const raw = await agent.request('perfbuf_subscribe', { map_id: maps.get('pb')!.id });
    const first = nextEvent(agent, 'ringbuf_event', (e) => e.subscription === raw.subscription);
    await runAs(comm);
    const e = await first;
    assert.equal(e.source, 'perfbuf');
    assert.equal(typeof e.cpu, 'number');
    assert.match(e.data as string, /^[0-9a-f]+$/);
    await agent.request('unsubscribe', { subscription: raw.subscription });
    const typed = await agent.request('perfbuf_subscribe', { map_id: maps.get('pb')!.id, type: 'struct event' });
    const next = nextEvent(agent, 'ringbuf_event', (x) => x.subscription === typed.subscription);
    const pid = await runAs(comm);
    assert.equal(((await next).data as { pid: number }).pid, pid);
    await agent.request('unsubscribe', { subscription: typed.subscription });
  });

  test('perf buffer bursts: every record arrives or is counted, the kernel lost records are reported', async (t) => {
    if (!precondition(t, reason)) return;
    const dropsNow = async () =>
      ((await agent.request('map_dump', { map_id: maps.get('drops')!.id })).entries[0].value as number) ?? 0;
    // 4,000 records fit a 1024-page buffer: all arrive (samples wake the agent in batches, the rest on its timer)
    const N = 4_000;
    await config(0, N);
    const big = await agent.request('perfbuf_subscribe', { map_id: maps.get('pb')!.id, pages: 1024 });
    let got = 0;
    const count = (e: RingbufEvent) => e.subscription === big.subscription && got++;
    agent.on('ringbuf_event', count);
    const d0 = await dropsNow();
    await runAs(comm);
    await waitFor(() => got >= N, `${N} perf records`);
    assert.equal(await dropsNow(), d0, 'nothing was refused by a full buffer');
    await agent.request('unsubscribe', { subscription: big.subscription });
    agent.off('ringbuf_event', count);
    // one page per CPU holds ~35 records: most of a burst is refused by the kernel, which reports it lost. Both
    // bursts run on CPU 0 (taskset before the exec the program fires on): the kernel writes the LOST record into
    // that CPU's buffer, ahead of the first record it accepts again.
    const onCpu0 = async () => {
      const link = join(tempDir(), comm); // the command runAs runs: /bin/true under the unique name
      if (!existsSync(link)) symlinkSync('/bin/true', link);
      await new Promise<void>((resolve, reject) => {
        const c = spawn('taskset', ['-c', '0', link], { stdio: 'ignore' });
        c.on('error', reject);
        c.on('exit', () => resolve());
      });
    };
    await config(0, 0);
    const small = await agent.request('perfbuf_subscribe', { map_id: maps.get('pb')!.id, pages: 1 });
    let few = 0;
    const countFew = (e: RingbufEvent) => e.subscription === small.subscription && few++;
    agent.on('ringbuf_event', countFew);
    await config(0, N);
    const d1 = await dropsNow();
    await onCpu0();
    const { refused } = await waitFor(async () => {
      const d = (await dropsNow()) - d1;
      return few + d >= N ? { refused: d } : undefined;
    }, 'the burst to be received or refused');
    assert.equal(few + refused, N, `received ${few}, refused by the kernel ${refused}`);
    assert.ok(refused > 0, 'a 1-page buffer refused part of the burst');
    const firstBurst = few;
    await onCpu0();
    await waitFor(() => few > firstBurst, 'records of the second burst');
    const u = await agent.request('unsubscribe', { subscription: small.subscription });
    agent.off('ringbuf_event', countFew);
    assert.ok((u.lost ?? 0) >= refused, `lost reported ${u.lost}, refused in the first burst ${refused}`);
  });

  test('a client that stops reading: stream events are dropped and counted, replies are not', async (t) => {
    if (!precondition(t, reason)) return;
    const slow = await startAgent();
    try {
      const r = await slow.request('load', { path: fixture('events'), map_sizes: { rb: 1 << 26 } });
      const id = (n: string) => r.maps.find((m) => m.name === n)!.id;
      await slow.request('attach', { handle: r.handle });
      const N = 400_000; // ~120 MB of JSON lines: more than the agent queues (64 MiB)
      const name = `bpfide_s${UNIQUE}`.slice(0, 15);
      await slow.request('map_update', {
        map_id: id('config'),
        key: 0,
        value: { ring_burst: N, perf_burst: 0, comm: name },
      });
      const s = await slow.request('ringbuf_subscribe', { map_id: id('rb'), type: 'struct event' });
      let delivered = 0;
      slow.on('ringbuf_event', () => delivered++);
      const dropped = nextEvent(slow, 'events_dropped', (e) => e.dropped > 0, 30_000);
      const pid = (await slow.hello).pid;
      const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
      slow.child!.stdout!.pause();
      await runAs(name);
      // the agent reads the whole ring into its queue (64 MiB) and drops the rest: wait for that
      let last = 0;
      await waitFor(() => {
        const now = rss();
        const steady = now > 60_000 && now === last;
        last = now;
        return steady;
      }, 'the agent to fill its output queue');
      slow.child!.stdout!.resume();
      const report = await dropped;
      assert.ok(report.dropped > 0);
      const u = await slow.request('unsubscribe', { subscription: s.subscription }, { timeoutMs: 60_000 });
      assert.equal(u.delivered! + u.dropped!, N, 'every record is either delivered or counted as dropped');
      assert.ok(u.dropped! > 0);
      assert.equal(delivered, u.delivered, 'the client got exactly the delivered ones');
      assert.deepEqual(await slow.request('ping', {}), { pong: true });
    } finally {
      await slow.shutdown();
    }
  });

  test('subscribe errors: wrong map type, unknown type name, unknown map', async (t) => {
    if (!precondition(t, reason)) return;
    await assert.rejects(agent.request('ringbuf_subscribe', { map_id: maps.get('pb')!.id }), {
      code: 'invalid_params',
    });
    await assert.rejects(agent.request('ringbuf_subscribe', { map_id: maps.get('rb')!.id, type: 'struct nope' }), {
      code: 'btf_error',
    });
    await assert.rejects(agent.request('perfbuf_subscribe', { map_id: 0x7ffffff0 }), { code: 'not_found' });
    await assert.rejects(agent.request('unsubscribe', { subscription: 99999 }), { code: 'not_found' });
  });

  test('max_rate: a burst is thinned at the agent; forwarded + skipped + dropped = written, the drain counted', async (t) => {
    if (!precondition(t, reason)) return;
    await config(20_000, 0);
    const dropsBefore = (await agent.request('map_dump', { map_id: maps.get('drops')!.id })).entries![0]
      .value as number;
    const s = await agent.request('ringbuf_subscribe', {
      map_id: maps.get('rb')!.id,
      type: 'struct event',
      max_rate: 1000,
    });
    assert.equal(s.max_rate, 1000);
    let got = 0;
    const skippedReports: number[] = [];
    const onEv = (e: RingbufEvent) => void (e.subscription === s.subscription && got++);
    const onDrop = (e: { subscription: number; skipped?: number }) =>
      e.subscription === s.subscription && skippedReports.push(e.skipped ?? -1);
    agent.on('ringbuf_event', onEv);
    agent.on('events_dropped', onDrop);
    // two execs: 40,000 records in two bursts, far above 1,000/s
    await runAs(comm);
    await runAs(comm);
    await waitFor(() => skippedReports.length > 0, 'an events_dropped report with skipped');
    const u = await agent.request('unsubscribe', { subscription: s.subscription });
    agent.off('ringbuf_event', onEv);
    agent.off('events_dropped', onDrop);
    const drops =
      ((await agent.request('map_dump', { map_id: maps.get('drops')!.id })).entries![0].value as number) - dropsBefore;
    const written = 40_000 - drops;
    assert.equal(u.delivered, got, 'every forwarded record reached the client before the unsubscribe reply');
    assert.equal(u.delivered! + u.skipped! + u.dropped!, written, `delivered ${u.delivered} skipped ${u.skipped}`);
    // a tenth of a second's worth per burst, plus the refill while the bursts last
    assert.ok(u.delivered! >= 2 && u.delivered! < 2_000, `forwarded ${u.delivered} of ${written}`);
    assert.ok(skippedReports[0] > 0);
  });

  test('trace_subscribe: bpf_printk lines from trace_pipe, parsed; one reader at a time', async (t) => {
    if (!precondition(t, reason)) return;
    await config(0, 0);
    // the kernel allows one trace_pipe reader machine-wide: wait out another process's turn
    const s = await waitFor(
      () =>
        agent.request('trace_subscribe', { filter: comm }).catch((e: AgentRequestError) => {
          if (e.code !== 'busy') throw e;
          return undefined;
        }),
      'trace_pipe to be free',
      60_000,
    );
    await assert.rejects(agent.request('trace_subscribe', {}), { code: 'busy' });
    // trace_pipe is system-wide and consuming: trigger until a line of one of our children arrives
    const ours = new Set<number>();
    const line = nextEvent(
      agent,
      'trace_line',
      (e) => ours.has(e.pid ?? -1) || (e.message?.includes(comm) ?? false),
      15_000,
    );
    const trigger = () => void runAs(comm).then((p) => ours.add(p));
    const timer = setInterval(trigger, 200);
    trigger();
    const ev = await line.finally(() => clearInterval(timer));
    assert.equal(ev.function, 'bpf_trace_printk');
    // the kernel prints "<...>" when it did not record the task's name in time (short-lived tasks)
    assert.ok(ev.task === comm || ev.task === '<...>', `task ${ev.task}`);
    assert.match(ev.message!, new RegExp(`bpf-ide trace pid=\\d+ comm=${comm}`));
    assert.equal(typeof ev.timestamp, 'number');
    await agent.request('unsubscribe', { subscription: s.subscription });
  });
});
