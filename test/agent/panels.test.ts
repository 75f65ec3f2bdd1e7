/**
 * The panels' controllers against real programs and maps on this machine (the local agent, the
 * real kernel), with the webview replaced by a recorder of the messages it would get:
 * decoded values checked against what the program wrote, typed edits read back with bpftool,
 * a 200,000-entry map paged by cursor, a log2 histogram a program filled, a ring buffer stream
 * counted end to end, perf buffer records with their CPU, bpf_printk lines, program stats.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import type { LoadedMap } from '../../client/src/core/agent/agent-protocol';
import { BtfTypes } from '../../client/src/core/panels/btf-types';
import { MapController } from '../../client/src/core/panels/map-controller';
import type { ToWebview } from '../../client/src/core/panels/panel-messages';
import { EventsController } from '../../client/src/core/panels/events-controller';
import type { StreamStats } from '../../client/src/core/panels/event-stream';
import { StatsController } from '../../client/src/core/panels/stats-controller';
import { TraceController } from '../../client/src/core/panels/trace-controller';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, runAs, startAgent, tempDir, waitFor, UNIQUE } from './agent-harness';

const reason = agentUnavailableReason();

/** What a webview would receive. */
class Recorder {
  readonly msgs: ToWebview[] = [];
  post = (m: ToWebview) => {
    this.msgs.push(m);
  };
  last<T extends ToWebview['type']>(type: T): Extract<ToWebview, { type: T }> | undefined {
    for (let i = this.msgs.length - 1; i >= 0; i--)
      if (this.msgs[i].type === type) return this.msgs[i] as Extract<ToWebview, { type: T }>;
    return undefined;
  }
  all<T extends ToWebview['type']>(type: T): Extract<ToWebview, { type: T }>[] {
    return this.msgs.filter((m) => m.type === type) as Extract<ToWebview, { type: T }>[];
  }
}

/** bpftool's view of one entry (its BTF-formatted value), or undefined when the key is absent. */
function bpftoolLookup(mapId: number, key: number): { formatted?: { value: unknown }; value: unknown } | undefined {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(key);
  try {
    const out = execFileSync(
      'bpftool',
      [
        '-j',
        'map',
        'lookup',
        'id',
        String(mapId),
        'key',
        ...[...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // bpftool prints u64 values as bare numbers: keep the big ones exact
    return JSON.parse(out.toString().replace(/(?<=[:\[,]\s*)(\d{16,})(?=\s*[,\]}])/g, '"$1"'));
  } catch {
    return undefined;
  }
}

describe('panels on the real kernel: maps', { concurrency: false }, () => {
  let agent: AgentClient;
  let maps: Map<string, LoadedMap>;
  let handle = 0;
  let ncpus = 1;
  let childPid = 0;
  let object = '';
  const comm = `bpfide_p${UNIQUE}`.slice(0, 15);
  const controllers: { dispose(): Promise<void> | void }[] = [];
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    ncpus = (await agent.hello).kernel.ncpus;
    object = fixture('maps');
    const r = await agent.request('load', { path: object, map_sizes: { big: 200_000 } });
    handle = r.handle;
    maps = new Map(r.maps.map((m) => [m.name, m]));
    await agent.request('attach', { handle });
    childPid = await runAs(comm);
  });
  after(async () => {
    for (const c of controllers) await c.dispose();
    if (agent) {
      await agent.request('unload', { handle }).catch(() => undefined);
      await agent.shutdown();
    }
  });
  const open = async (name: string, o: { fullLimit?: number; pageSize?: number } = {}) => {
    const rec = new Recorder();
    const m = maps.get(name)!;
    const c = new MapController({
      agent,
      map: m,
      types: BtfTypes.fromObjectFile(object).mapTypes(name),
      ncpus,
      post: rec.post,
      ...o,
    });
    controllers.push(c);
    await c.start();
    return { c, rec, m };
  };

  test('struct values: the cells show what the program wrote (nested struct, enum by name, char array as string, bit-fields)', async (t) => {
    if (!precondition(t, reason)) return;
    const { rec } = await open('structs');
    const cols = rec.last('map-columns')!.columns.map((c) => c.label);
    assert.deepEqual(cols, ['key', 'count', 'comm', 'color', 'in.a', 'in.b', 'neg', 'flag', 'level']);
    const w = rec.last('map-window')!;
    assert.equal(w.complete, true);
    const row = w.rows.find((r) => r.cells[0] === String(childPid));
    assert.ok(row, `our child ${childPid} is in the table`);
    assert.deepEqual(row.cells, [String(childPid), '1', comm, 'GREEN', String(childPid), '[1, 2, 3]', '-5', '1', '5']);
  });

  test('per-CPU array: summed in the cell, one value per CPU in the detail', async (t) => {
    if (!precondition(t, reason)) return;
    const { c, rec } = await open('pcpu');
    const w = rec.last('map-window')!;
    assert.ok(Number(w.rows[0].cells[1]) >= 1, 'slot 0 counted our exec');
    await c.handle({ type: 'select', id: w.rows[0].id });
    const d = rec.last('map-detail')!;
    assert.equal(d.perCpu!.length, ncpus);
    const sum = d.perCpu!.map((l) => Number(l.split(': ')[1])).reduce((a, b) => a + b, 0);
    assert.equal(String(sum), w.rows[0].cells[1]);
    // and as columns: the sum, then one per CPU
    await c.handle({ type: 'percpu', on: true });
    const cols = rec.last('map-columns')!.columns.map((x) => x.label);
    assert.deepEqual(cols, ['key', 'value (sum)', ...Array.from({ length: ncpus }, (_, i) => `value@cpu${i}`)]);
    const cells = rec.last('map-window')!.rows[0].cells;
    assert.equal(
      cells.slice(2).reduce((a, b) => a + Number(b), 0),
      Number(cells[1]),
    );
  });

  test('typed edits: checked against BTF before sending, written, read back with bpftool; delete', async (t) => {
    if (!precondition(t, reason)) return;
    const { c, rec, m } = await open('structs');
    // rejected before anything is sent: a 3-bit field cannot hold 8
    await c.handle({ type: 'edit', op: 'update', key: String(childPid), value: '{"level": 8}' });
    const bad = rec.last('edit-result')!;
    assert.equal(bad.ok, false);
    assert.match(bad.message, /does not fit unsigned int:3 at \.level/);
    assert.equal(Number((bpftoolLookup(m.id, childPid)!.formatted!.value as { level: number }).level), 5);
    await c.handle({
      type: 'edit',
      op: 'update',
      key: String(childPid),
      value:
        '{"count": 18446744073709551615, "comm": "edited", "color": "BLUE", "in": {"a": 7, "b": [9]}, "neg": -1, "level": 7}',
    });
    assert.equal(rec.last('edit-result')!.ok, true, rec.last('edit-result')!.message);
    const v = bpftoolLookup(m.id, childPid)!.formatted!.value as Record<string, unknown>;
    assert.equal(String(v.count), '18446744073709551615');
    assert.equal(v.comm, 'edited');
    assert.equal(v.color, 'BLUE');
    assert.deepEqual(v.in, { a: 7, b: [9, 0, 0] });
    assert.equal(v.neg, -1);
    assert.equal(Number(v.level), 7); // bpftool prints bit-fields in hex
    // the table shows the write at once
    const row = rec.last('map-window')!.rows.find((r) => r.cells[0] === String(childPid))!;
    assert.equal(row.cells[2], 'edited');
    // insert a new key into the u32 -> u64 hash, then delete it
    const counts = await open('counts');
    await counts.c.handle({ type: 'edit', op: 'insert', key: '4242424', value: '0x10' });
    assert.equal(counts.rec.last('edit-result')!.ok, true, counts.rec.last('edit-result')!.message);
    assert.equal(bpftoolLookup(counts.m.id, 4242424)!.formatted!.value, 16);
    await counts.c.handle({ type: 'edit', op: 'insert', key: '4242424', value: '1' });
    assert.match(counts.rec.last('edit-result')!.message, /exist/i);
    await counts.c.handle({ type: 'edit', op: 'delete', key: '4242424' });
    assert.equal(counts.rec.last('edit-result')!.ok, true);
    assert.equal(bpftoolLookup(counts.m.id, 4242424), undefined);
  });

  test('live refresh: map_watch diffs reach the table and mark the changed row', async (t) => {
    if (!precondition(t, reason)) return;
    const { c, rec } = await open('counts');
    await c.handle({ type: 'interval', ms: 100 });
    const n0 = rec.all('map-window').length;
    await runAs(comm); // a second exec under the same name: a new tgid, a new row
    const w = await waitFor(
      () =>
        rec
          .all('map-window')
          .slice(n0)
          .find((x) => x.rows.some((r) => r.changed)),
      'a changed row in a refresh',
    );
    assert.ok(w.rows.some((r) => r.changed));
    // a counter plotted over time: the first row's value, sampled on every refresh
    const row = w.rows[0];
    await c.handle({ type: 'plot', id: row.id, column: 'value' });
    const series = rec.last('map-series')!;
    assert.equal(series.values[series.values.length - 1], Number(row.cells[1]));
    await c.handle({ type: 'pause', paused: true });
  });

  test('a live map that outgrows the panel goes on paged, saying so', async (t) => {
    if (!precondition(t, reason)) return;
    const { c, rec, m } = await open('pcpu_hash', { fullLimit: 5 });
    await c.handle({ type: 'interval', ms: 100 });
    assert.equal(rec.last('map-window')!.complete, true);
    await agent.request('map_update', {
      map_id: m.id,
      entries: Array.from({ length: 10 }, (_, i) => ({ key: i, value: i })),
    });
    await waitFor(() => rec.all('status').find((x) => /page by page/.test(x.text)), 'the switch to paged reads');
    const w = await waitFor(() => rec.all('map-window').find((x) => !x.complete), 'a paged window');
    assert.equal(w.rows.length, 10);
    // per-CPU values written as one value for every CPU: the cell is the sum
    assert.equal(w.rows.find((r) => r.cells[0] === '3')!.cells[1], String(3 * ncpus));
    await c.dispose();
  });

  test('a 200,000-entry map: first page at once, rows deep in the map fetched by cursor', async (t) => {
    if (!precondition(t, reason)) return;
    const big = maps.get('big')!;
    const entries = Array.from({ length: 200_000 }, (_, i) => ({ key: i + 1, value: (i + 1) * 3 }));
    for (let i = 0; i < entries.length; i += 50_000)
      await agent.request('map_update', { map_id: big.id, entries: entries.slice(i, i + 50_000) });
    const { c, rec } = await open('big', { fullLimit: 50_000, pageSize: 1000 });
    const first = rec.all('map-window')[0];
    assert.equal(first.complete, false);
    assert.ok(first.rows.length > 0);
    await c.handle({ type: 'viewport', start: 150_000, count: 50 });
    let w = rec.last('map-window')!;
    // scrolling past what was read reads on until the rows exist
    assert.equal(w.start, 150_000);
    assert.equal(w.rows.length, 50);
    for (const r of w.rows) assert.equal(Number(r.cells[1]), Number(r.cells[0]) * 3);
    await c.handle({ type: 'viewport', start: 0, count: 10 });
    w = rec.last('map-window')!;
    assert.equal(w.rows.length, 10);
    assert.match(w.note ?? '', /^$|whole map/);
    await c.dispose();
  });

  test('a log2 histogram filled by a program renders as buckets', async (t) => {
    if (!precondition(t, reason)) return;
    // slot = log2(pid) of every exec: the bucket that holds our child's pid counts at least our child
    const src = join(tempDir(), 'hist.bpf.c');
    writeFileSync(
      src,
      `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 32); __type(key, __u32); __type(value, __u64); } pid_hist SEC(".maps");
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	__u32 v = bpf_get_current_pid_tgid() >> 32, slot = 0;
	for (int i = 0; i < 31; i++)
		if (v >> (i + 1))
			slot = i + 1;
	__u64 *n = bpf_map_lookup_elem(&pid_hist, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`,
    );
    const obj = join(tempDir(), 'hist.bpf.o');
    const arch = execFileSync('uname', ['-m']).toString().trim();
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${arch}-linux-gnu`, '-c', src, '-o', obj]);
    const r = await agent.request('load', { path: obj });
    try {
      await agent.request('attach', { handle: r.handle });
      const pid = await runAs(`bpfide_h${UNIQUE}`.slice(0, 15));
      const m = r.maps.find((x) => x.name === 'pid_hist')!;
      const rec = new Recorder();
      const c = new MapController({ agent, map: m, ncpus, post: rec.post });
      await c.start();
      await c.dispose();
      const h = rec.last('map-histograms')!.histograms[0];
      const slot = Math.floor(Math.log2(pid));
      assert.equal(h.buckets[slot].label, `${2 ** slot} -> ${2 ** (slot + 1) - 1}`);
      assert.ok(h.buckets[slot].count >= 1);
      assert.equal(
        h.total,
        h.buckets.reduce((a, b) => a + b.count, 0),
      );
    } finally {
      await agent.request('unload', { handle: r.handle });
    }
  });
});

describe('panels on the real kernel: streams', { concurrency: false }, () => {
  let agent: AgentClient;
  let maps: Map<string, LoadedMap>;
  let handle = 0;
  let object = '';
  let progId = 0;
  const comm = `bpfide_q${UNIQUE}`.slice(0, 15);
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    object = fixture('events');
    const r = await agent.request('load', { path: object });
    handle = r.handle;
    progId = r.programs[0].id;
    maps = new Map(r.maps.map((m) => [m.name, m]));
    await agent.request('attach', { handle });
  });
  after(async () => {
    if (agent) {
      await agent.request('unload', { handle }).catch(() => undefined);
      await agent.shutdown();
    }
  });
  const config = (ring: number, perf: number) =>
    agent.request('map_update', {
      map_id: maps.get('config')!.id,
      key: 0,
      value: { ring_burst: ring, perf_burst: perf, comm },
    });

  /** failed reservations the events fixture counted (ring full) */
  const programDrops = async () =>
    ((await agent.request('map_dump', { map_id: maps.get('drops')!.id })).entries[0].value as number) ?? 0;

  test('ring buffer: 20,000 records counted end to end (delivered + dropped = written), decoded as the suggested type', async (t) => {
    if (!precondition(t, reason)) return;
    const N = 20_000;
    await config(N, 0);
    const rec = new Recorder();
    const types = BtfTypes.fromObjectFile(object).recordTypeSuggestions();
    const c = new EventsController({
      agent,
      map: maps.get('rb')!,
      typeChoices: types,
      dropsMap: { id: maps.get('drops')!.id, name: 'drops' },
      post: rec.post,
      tickMs: 50,
    });
    await c.start();
    assert.equal(rec.last('stream-init')!.choices!.current, 'struct event');
    const pid = await runAs(comm);
    await waitFor(async () => c.received + (await programDrops()) >= N, `${N} records`, 30_000);
    c.flush(); // what the view has now (ticks are coalesced)
    await c.dispose();
    const drops = await programDrops();
    const s = c.stats;
    // nothing is lost silently: every record written is received or counted as dropped somewhere
    assert.equal(
      c.received + drops + s.agentDropped,
      N,
      `received ${c.received}, dropped in the program ${drops}, by the agent ${s.agentDropped}`,
    );
    assert.equal(c.delivered, c.received, 'everything the agent delivered arrived');
    const batches = rec.all('stream-batch');
    const cols = rec.last('stream-init')!.columns.map((x) => x.label);
    assert.deepEqual(cols.slice(0, 6), ['#', 'time (s)', 'seq', 'pid', 'cpu', 'comm']);
    const lastRows = batches.flatMap((b) => b.rows);
    const lastRow = lastRows[lastRows.length - 1];
    assert.equal(lastRow[3], String(pid));
    assert.equal(lastRow[5], comm);
    // the view got coalesced batches, not one message per record
    assert.ok(batches.length < N / 10, `${batches.length} batches`);
    const stats = batches[batches.length - 1].stats;
    assert.equal(stats.received, c.received);
  });

  test('ring buffer with max_rate: the agent skips what is over the rate; written = received + skipped + dropped, received = shown + not shown; records right behind the subscribe reply and drained at unsubscribe counted', async (t) => {
    if (!precondition(t, reason)) return;
    const N = 30_000;
    await config(N, 0);
    const drops0 = await programDrops();
    const rec = new Recorder();
    const c = new EventsController({
      agent,
      map: maps.get('rb')!,
      typeChoices: ['struct event'],
      post: rec.post,
      tickMs: 50,
      maxRate: 500,
    });
    // records already in the ring when the subscription starts: the agent sends them right behind its reply
    await runAs(comm);
    await c.start();
    await runAs(comm);
    // ends the subscription while the agent may still hold records: those arrive before its reply
    await waitFor(() => c.stats.skipped > 0, 'an events_dropped report with skipped records');
    await c.dispose();
    const s = rec.last('stream-batch')!.stats as unknown as StreamStats;
    const written = 2 * N - ((await programDrops()) - drops0);
    assert.equal(s.received + s.skipped + s.agentDropped, written, JSON.stringify(s));
    assert.equal(c.delivered, s.received, 'everything the agent forwarded was counted');
    assert.equal(s.shown + s.coalesced + s.filtered + s.whilePaused + s.pending, s.received, JSON.stringify(s));
    assert.ok(s.received < 5_000 && s.skipped > 0, JSON.stringify(s));
    assert.equal(s.maxRate, 500);
  });

  test('perf buffer: records with their CPU', async (t) => {
    if (!precondition(t, reason)) return;
    await config(0, 200);
    const rec = new Recorder();
    const c = new EventsController({
      agent,
      map: maps.get('pb')!,
      typeChoices: ['struct event'],
      post: rec.post,
      tickMs: 50,
    });
    await c.start();
    await runAs(comm);
    await waitFor(() => c.received >= 200, '200 perf records');
    c.flush();
    await c.dispose();
    assert.ok(rec.last('stream-init')!.columns.some((x) => x.label === 'cpu'));
    const rows = rec.all('stream-batch').flatMap((b) => b.rows);
    assert.ok(rows.length > 0);
    assert.match(rows[0][2], /^\d+$/, 'the cpu column');
  });

  test('record type: switching to raw bytes resubscribes and shows hex', async (t) => {
    if (!precondition(t, reason)) return;
    await config(3, 0);
    const rec = new Recorder();
    const c = new EventsController({
      agent,
      map: maps.get('rb')!,
      typeChoices: ['struct event'],
      post: rec.post,
      tickMs: 50,
    });
    await c.start();
    await c.handle({ type: 'record-type', name: null });
    assert.equal(rec.last('stream-init')!.choices!.current, null);
    await runAs(comm);
    await waitFor(() => c.received >= 3, '3 raw records');
    c.flush();
    await c.dispose();
    const cols = rec.last('stream-init')!.columns.map((x) => x.label);
    assert.deepEqual(cols, ['#', 'time (s)', 'data']);
    const row = rec
      .all('stream-batch')
      .flatMap((b) => b.rows)
      .pop()!;
    assert.match(row[2], /^[0-9a-f]{192}$/, '96 bytes as hex');
  });

  test('bpf_printk: the line the program printed, with the task and pid that printed it', async (t) => {
    if (!precondition(t, reason)) return;
    await config(0, 0);
    const rec = new Recorder();
    const c = new TraceController({ agent, post: rec.post, tickMs: 50, filter: comm });
    // trace_pipe has one reader: while another process holds it, the panel says so and keeps trying
    await c.start(200);
    const busy = () => rec.all('status').some((m) => m.error && /busy/i.test(m.text));
    const subscribed = await waitFor(() => rec.all('status').some((m) => m.text === ''), 'trace_pipe', 30_000).catch(
      () => false,
    );
    if (!subscribed) {
      await c.dispose();
      if (busy() && process.env.CI !== 'true') return t.skip('another reader held trace_pipe on this machine for 30 s');
      assert.fail(`no trace_pipe subscription: ${rec.last('status')?.text}`);
    }
    const pids = new Set<number>();
    const row = await waitFor(
      async () => {
        // an exec per try: trace_pipe is system-wide, another program may print too; only our lines count
        pids.add(await runAs(comm));
        return rec
          .all('stream-batch')
          .flatMap((b) => b.rows)
          .find((r) => [...pids].some((p) => r[5] === `bpf-ide trace pid=${p} comm=${comm}`));
      },
      'the bpf_printk line',
      15_000,
    );
    const pid = Number(/pid=(\d+)/.exec(row[5])![1]);
    await c.dispose();
    // the task column is the kernel's pid -> comm cache (saved_cmdlines): for a process this short-lived it may
    // be "<...>" or the pid's previous owner; the message carries the real comm
    assert.ok(row[1].length > 0, 'the task column is filled');
    assert.equal(row[2], String(pid));
    assert.match(row[0], /^\d+\.\d{6}$/);
    assert.equal(row[5], `bpf-ide trace pid=${pid} comm=${comm}`);
  });

  test('program stats: runs and run time of our program go up with execs', async (t) => {
    if (!precondition(t, reason)) return;
    const rec = new Recorder();
    const c = new StatsController({
      agent,
      post: rec.post,
      programs: () => [{ id: progId, name: 'on_exec', type: 'tracepoint' }],
      intervalMs: 200,
    });
    await c.start();
    const before = Number(rec.last('stats-rows')!.rows[0].runs.replace(/,/g, ''));
    for (let i = 0; i < 5; i++) await runAs(`bpfide_r${UNIQUE}`.slice(0, 15));
    const row = await waitFor(
      () =>
        rec
          .all('stats-rows')
          .map((m) => m.rows[0])
          .find((r) => Number(r.runs.replace(/,/g, '')) >= before + 5 && r.series.length > 0),
      'runs counted',
    );
    c.dispose();
    assert.equal(rec.last('stats-rows')!.enabled, true);
    assert.equal(row.name, 'on_exec');
    assert.ok(Number(row.avgNs) > 0);
  });

  test("program stats, all programs on the target: another loader's programs too, the busiest first", async (t) => {
    if (!precondition(t, reason)) return;
    const other = await startAgent();
    try {
      const theirs = await other.request('load', { path: fixture('attach') });
      const rec = new Recorder();
      const c = new StatsController({
        agent,
        post: rec.post,
        programs: () => [{ id: progId, name: 'on_exec', type: 'tracepoint' }],
        allPrograms: async () =>
          (await agent.request('list', {})).programs.map((p) => ({ id: p.id, name: p.name, type: p.type })),
        intervalMs: 60_000,
      });
      await c.start();
      assert.deepEqual(
        rec.last('stats-rows')!.rows.map((r) => r.id),
        [progId],
        'this window only, by default',
      );
      await runAs(`bpfide_r${UNIQUE}`.slice(0, 15));
      await c.handle({ type: 'scope', all: true });
      const m = rec.last('stats-rows')!;
      c.dispose();
      assert.equal(m.all, true);
      const ids = m.rows.map((r) => r.id);
      for (const id of [progId, ...theirs.programs.map((p) => p.id!)]) assert.ok(ids.includes(id), `program ${id}`);
      const cpu = m.rows.map((r) => Number(r.cpuPercent));
      assert.deepEqual(
        cpu,
        [...cpu].sort((a, b) => b - a),
        'ordered by CPU',
      );
      assert.equal(m.rows.find((r) => r.id === progId)!.type, 'tracepoint');
    } finally {
      await other.shutdown();
    }
  });
});
