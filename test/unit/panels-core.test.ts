/**
 * The panels' pure logic: BTF types read from a real object (clang -g -target bpf), typed input
 * checked against them, value formatting, per-CPU sums, filters, the paged map table with its cursor
 * cache (a simulated 1,000,000-entry map), snapshot diffs, histograms, export, event streams.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BtfTypes, type TypeInfo } from '../../client/src/core/panels/btf-types';
import { parseTypedInput } from '../../client/src/core/panels/typed-input';
import { formatValue, sumPerCpu, visible, columnsOf, compareValues } from '../../client/src/core/panels/value-format';
import { parseFilter } from '../../client/src/core/panels/row-filter';
import { MapTable, type FetchPage } from '../../client/src/core/panels/map-table';
import { detectHistograms, log2Bounds } from '../../client/src/core/panels/histogram';
import { toCsv, toJson } from '../../client/src/core/panels/export-rows';
import { EventStream, Ring } from '../../client/src/core/panels/event-stream';
import { ProgStatsTracker } from '../../client/src/core/panels/prog-stats';

const ROOT = join(__dirname, '..', '..');

function compile(src: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-panels-unit-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'o.bpf.o');
  const arch = execFileSync('uname', ['-m']).toString().trim();
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', `-I/usr/include/${arch}-linux-gnu`, '-c', src, '-o', out]);
  return out;
}

describe('BTF types from a real object', () => {
  const btf = BtfTypes.fromObjectFile(compile(join(ROOT, 'test', 'fixtures', 'agent', 'maps.bpf.c')));
  test('map key and value types by name, nested struct, enum, char array, bit-fields', () => {
    const maps = btf.maps();
    // the fixture's maps (others may be added to it: only these are pinned)
    for (const name of ['arr', 'big', 'counts', 'lru', 'pcpu', 'pcpu_hash', 'structs'])
      assert.ok(maps.has(name), `map ${name}`);
    const v = maps.get('structs')!.value!;
    assert.equal(v.kind, 'struct');
    assert.equal(v.name, 'struct value');
    if (v.kind !== 'struct') return;
    assert.deepEqual(
      v.members.map((m) => m.name),
      ['count', 'comm', 'color', 'in', 'neg', 'flag', 'level'],
    );
    const color = v.members.find((m) => m.name === 'color')!.type;
    assert.equal(color.kind, 'enum');
    if (color.kind === 'enum')
      assert.deepEqual(
        color.values.map((e) => e.name),
        ['RED', 'GREEN', 'BLUE'],
      );
    assert.equal(v.members.find((m) => m.name === 'level')!.bitSize, 3);
    assert.equal(maps.get('counts')!.key!.name, 'u32');
    assert.equal(btf.mapTypes('pcpu_hash')?.value?.name, 'u64');
  });
  test('typed input: accepted values become the agent JSON, wrong ones say where and why', () => {
    const v = btf.maps().get('structs')!.value!;
    assert.deepEqual(
      parseTypedInput(
        '{"count": 18446744073709551615, "comm": "bash", "color": "BLUE", "in": {"a": 7, "b": [1, 2]}, "neg": -3, "level": 7}',
        v,
      ),
      {
        ok: true,
        value: {
          count: '18446744073709551615',
          comm: 'bash',
          color: 'BLUE',
          in: { a: 7, b: [1, 2] },
          neg: -3,
          level: 7,
        },
      },
    );
    const bad = (text: string, t: TypeInfo = v) => {
      const r = parseTypedInput(text, t);
      assert.equal(r.ok, false, text);
      return r.ok ? '' : r.error;
    };
    assert.match(bad('{"level": 8}'), /does not fit unsigned int:3 at \.level/);
    assert.match(bad('{"in": {"b": [1, 2, 3, 4]}}'), /4 elements do not fit/);
    assert.match(bad('{"in": {"b": [70000]}}'), /does not fit unsigned short at \.in\.b\[0\] \(0\.\.65535\)/);
    assert.match(bad('{"comm": "a-very-long-process-name"}'), /does not fit char\[16\]/);
    assert.match(bad('{"color": "PURPLE"}'), /expected one of RED, GREEN, BLUE/);
    assert.match(bad('{"nope": 1}'), /no member 'nope'/);
    assert.match(bad('count=1'), /written as JSON/);
    const u32 = btf.maps().get('counts')!.key!;
    assert.deepEqual(parseTypedInput('0x2a', u32), { ok: true, value: 42 });
    assert.match(bad('-1', u32), /does not fit u32/);
    assert.match(bad('4294967296', u32), /does not fit u32/);
    assert.deepEqual(parseTypedInput('[1, 2]', btf.maps().get('pcpu')!.value!, { percpu: 2 }), {
      ok: true,
      value: [1, 2],
    });
    assert.deepEqual(parseTypedInput('0102', { size: 2 }), { ok: true, value: '0102' });
    assert.deepEqual(parseTypedInput('258', { size: 2 }), { ok: true, value: '0201' });
  });
  test('ring buffer record types are suggested from the events object', () => {
    const ev = BtfTypes.fromObjectFile(compile(join(ROOT, 'test', 'fixtures', 'agent', 'events.bpf.c')));
    const s = ev.recordTypeSuggestions();
    assert.equal(s[0], 'struct event');
    assert.ok(ev.find('struct event'));
  });
});

describe('value formatting', () => {
  test('numbers, big integers, hex, pointers, char arrays, nested values', () => {
    assert.equal(formatValue(42, { hex: true }), '0x2a');
    assert.equal(formatValue('18446744073709551615', { hex: true }), '0xffffffffffffffff');
    assert.equal(formatValue('0xffff888003a1c000'), '0xffff888003a1c000');
    assert.equal(formatValue({ a: 1, b: [1, 2, 3] }), '{a: 1, b: [1, 2, 3]}');
    assert.equal(formatValue(new Array(40).fill(0)).endsWith('… 40 items]'), true);
  });
  test('invisible and bidi characters from the target are made visible', () => {
    assert.equal(visible('a\nb\u202ec<img>'), 'a\\nb\\u202ec<img>');
  });
  test('per-CPU sums: numbers, big numbers, structs', () => {
    assert.equal(sumPerCpu([1, 2, 3]), 6);
    assert.equal(sumPerCpu(['9007199254740993', 1]), '9007199254740994');
    assert.deepEqual(
      sumPerCpu([
        { a: 1, s: 'x' },
        { a: 2, s: 'y' },
      ]),
      { a: 3, s: 'x' },
    );
  });
  test('sort order: numeric (also big decimal strings), then text', () => {
    const v = ['10', 9, '18446744073709551615', 'abc', 2];
    assert.deepEqual(v.sort(compareValues), [2, 9, '10', '18446744073709551615', 'abc']);
  });
  test('filters: free text and column comparisons', () => {
    const cols = [...columnsOf('key', 1), ...columnsOf('value', { count: 1, comm: 'x' })];
    const f = parseFilter('count>=5 comm~ba', cols);
    assert.deepEqual(f.errors, []);
    assert.equal(f.test({ key: 1, value: { count: 7, comm: 'bash' } }), true);
    assert.equal(f.test({ key: 1, value: { count: 3, comm: 'bash' } }), false);
    assert.match(parseFilter('nope=1', cols).errors[0], /no column 'nope'/);
    assert.equal(parseFilter('BASH', cols).test({ key: 2, value: { count: 1, comm: 'bash' } }), true);
  });
});

/** A simulated hash map of n entries behind a map_dump-like cursor API, counting calls. */
function fakeMap(n: number, value = (i: number) => i * 10) {
  const calls: { cursor?: string; limit: number }[] = [];
  const fetch: FetchPage = async (cursor, limit) => {
    calls.push({ cursor, limit });
    const start = cursor ? Number(cursor.slice(2)) : 0;
    const end = Math.min(n, start + limit);
    const entries = [];
    for (let i = start; i < end; i++) entries.push({ key: i, value: value(i) });
    return { entries, cursor: end < n ? `b:${end}` : null, done: end >= n };
  };
  return { fetch, calls };
}

describe('map table', () => {
  test('a 1,000,000-entry map: first page from one request, jumps read on in big steps, the cache stays bounded', async () => {
    const m = fakeMap(1_000_000);
    const t = new MapTable(m.fetch, { percpu: false, pageSize: 1000, maxCachedPages: 2 });
    await t.open();
    assert.equal(m.calls.length, 1);
    assert.equal(t.complete, false);
    const w = await t.window(0, 50);
    assert.equal(w.rows.length, 50);
    assert.equal(w.rows[0].key, 0);
    const deep = await t.window(900_500, 10);
    assert.equal(deep.rows[0].key, 900_500);
    assert.ok(deep.total > 900_510);
    // 899,000 rows skipped in steps of 50,000, then the page that holds the rows
    assert.ok(m.calls.length <= 1 + 19 + 1, `${m.calls.length} requests`);
    assert.ok(m.calls.some((c) => c.limit === 50_000));
    await t.window(1500, 10);
    const before = m.calls.length;
    // back to the start: page 0 was evicted (two pages held) and is read again from its cursor
    const back = await t.window(0, 5);
    assert.equal(back.rows[0].key, 0);
    assert.equal(m.calls.length, before + 1);
    assert.equal(m.calls[m.calls.length - 1].cursor, undefined);
    assert.equal(await t.loadAll(), false);
    assert.equal(t.complete, false);
  });
  test('a small map becomes complete: filter, sort, snapshot diffs mark changed rows', async () => {
    const m = fakeMap(3000);
    const t = new MapTable(m.fetch, { percpu: false, pageSize: 1000 });
    await t.open();
    assert.equal(await t.loadAll(), true);
    assert.equal(t.loaded, 3000);
    t.setSort({ column: 'value', descending: true });
    assert.equal((await t.window(0, 1)).rows[0].key, 2999);
    t.setFilter('value<100');
    assert.equal((await t.window(0, 100)).total, 10);
    t.setFilter('');
    t.applySnapshot({ full: false, entries: [{ key: 5, value: 1_000_000 }], removed: [6] });
    const w = await t.window(0, 2);
    assert.equal(w.rows[0].key, 5);
    assert.ok(w.rows[0].changed > 0);
    assert.equal(w.total, 2999);
    t.applySnapshot({
      full: true,
      entries: [
        { key: 1, value: 10 },
        { key: 2, value: 21 },
      ],
      removed: [],
    });
    const f = await t.window(0, 10);
    assert.equal(f.total, 2);
    assert.equal(f.rows.find((r) => r.key === 1)!.changed, 0);
  });
  test('per-CPU values are summed, the per-CPU values kept', async () => {
    const t = new MapTable(async () => ({ entries: [{ key: 0, value: [1, 2, 3] }], cursor: null, done: true }), {
      percpu: true,
    });
    await t.open();
    const r = (await t.window(0, 1)).rows[0];
    assert.equal(r.value, 6);
    assert.deepEqual(r.perCpu, [1, 2, 3]);
  });
  test('paged refresh re-reads the visible pages and marks changes', async () => {
    let bump = 0;
    const m = fakeMap(5000, (i) => i + (i === 3 ? bump : 0));
    const t = new MapTable(m.fetch, { percpu: false, pageSize: 1000, fullLimit: 100 });
    await t.open();
    await t.loadAll();
    bump = 7;
    await t.refreshWindow(0, 10);
    const w = await t.window(0, 10);
    assert.equal(w.rows[3].value, 10);
    assert.ok(w.rows[3].changed > 0);
    assert.equal(w.rows[2].changed, 0);
  });
});

describe('histograms', () => {
  test('log2 bucket bounds as BCC prints them', () => {
    assert.deepEqual(log2Bounds(0), { low: 0n, high: 1n });
    assert.deepEqual(log2Bounds(1), { low: 2n, high: 3n });
    assert.deepEqual(log2Bounds(10), { low: 1024n, high: 2047n });
  });
  test('slot-keyed arrays, struct hist { slots[] }, and maps that are not histograms', () => {
    const rows = [0, 5, 9, 3, 0].map((v, i) => ({ key: i, value: v }));
    const h = detectHistograms({ name: 'hist', type: 'array', max_entries: 27 }, rows);
    assert.equal(h.length, 1);
    assert.deepEqual(
      h[0].buckets.map((b) => b.count),
      [0, 5, 9, 3],
    );
    assert.equal(h[0].total, 17);
    const s = detectHistograms({ name: 'hists', type: 'hash', max_entries: 1024, value_type: 'struct hist' }, [
      { key: 1, value: { slots: [1, 2, 0, 4, 0, 0], comm: 'bash' } },
    ]);
    assert.equal(s[0].label, '1 comm=bash');
    assert.equal(s[0].buckets.length, 4);
    assert.deepEqual(detectHistograms({ name: 'counts', type: 'hash', max_entries: 1024 }, rows), []);
    assert.deepEqual(
      detectHistograms({ name: 'lat_hist', type: 'hash', max_entries: 1024 }, [{ key: 5000, value: 1 }]),
      [],
    );
  });
});

describe('export', () => {
  test('CSV escapes quotes, commas, newlines and formula starts; JSON keeps per-CPU values', () => {
    const cols = [...columnsOf('key', 1), ...columnsOf('value', { comm: 'x', n: 1 })];
    const csv = toCsv(cols, [
      { key: 1, value: { comm: '=HYPERLINK("x")', n: -5 } },
      { key: 2, value: { comm: 'a,b\n"c"', n: '18446744073709551615' } },
    ]);
    assert.equal(
      csv,
      'key,value.comm,value.n\r\n1,"\'=HYPERLINK(""x"")",-5\r\n2,"a,b\n""c""",18446744073709551615\r\n',
    );
    const j = JSON.parse(toJson([{ key: 0, value: 3, perCpu: [1, 2] }], { map: 'pcpu' }));
    assert.deepEqual(j.entries, [{ key: 0, value: 3, per_cpu: [1, 2] }]);
    assert.equal(j.map, 'pcpu');
  });
});

describe('event stream', () => {
  test('bounded history, rate, coalescing at 100k events/s, pause and filter', () => {
    let now = 0;
    const s = new EventStream<{ n: number }>({ history: 1000, perTick: 100, now: () => now });
    for (let i = 0; i < 10_000; i++) {
      now = Math.floor(i / 100); // 100k/s
      s.push({ n: i });
    }
    now = 100;
    const b = s.takeBatch()!;
    assert.equal(b.rows.length, 100);
    assert.equal(b.rows[99].n, 9999);
    assert.equal(b.stats.received, 10_000);
    assert.equal(b.stats.evicted, 9000);
    assert.equal(b.stats.coalesced, 9900);
    assert.ok(b.stats.rate > 50_000, `rate ${b.stats.rate}`);
    assert.equal(s.history().length, 1000);
    s.setPaused(true);
    s.push({ n: -1 });
    assert.equal(s.takeBatch()!.rows.length, 0);
    s.setPaused(false);
    s.setFilter((r) => r.n % 2 === 0);
    const f = s.takeBatch()!;
    assert.equal(f.reset, true);
    assert.ok(f.rows.every((r) => r.n % 2 === 0));
  });
  test('ring keeps the newest', () => {
    const r = new Ring<number>(3);
    for (let i = 0; i < 5; i++) r.push(i);
    assert.deepEqual(r.toArray(), [2, 3, 4]);
    assert.deepEqual(r.last(2), [3, 4]);
  });
});

describe('program stats', () => {
  test('runs/s, recent average ns, CPU share, series', () => {
    const t = new ProgStatsTracker();
    t.update(0, [{ id: 1, name: 'p', run_cnt: 100, run_time_ns: 10_000 }]);
    const [r] = t.update(2000, [{ id: 1, name: 'p', run_cnt: 300, run_time_ns: 50_000 }]);
    assert.equal(r.runsPerSec, 100);
    assert.equal(r.avgNsRecent, 200);
    assert.equal(r.avgNs, 50_000 / 300);
    assert.deepEqual(r.series, [100]);
    assert.ok(Math.abs(r.cpuPercent - 0.002) < 1e-9);
  });
});

describe('map edits', () => {
  test('typed, raw (no BTF), per-CPU; flags by operation and map type', async () => {
    const { editRequest } = await import('../../client/src/core/panels/map-edit');
    const u64: TypeInfo = { kind: 'int', name: 'u64', size: 8, bits: 64, signed: false, bool: false, char: false };
    const u32: TypeInfo = { ...u64, name: 'u32', size: 4, bits: 32 };
    const hash = { id: 9, type: 'hash', key_size: 4, value_size: 8 };
    assert.deepEqual(editRequest({ map: hash, types: { key: u32, value: u64 } }, 'update', '7', '0x10'), {
      ok: true,
      method: 'map_update',
      params: { map_id: 9, key: 7, value: 16, flags: 'exist' },
    });
    const arr = editRequest({ map: { ...hash, type: 'array' }, types: { key: u32, value: u64 } }, 'update', '1', '2');
    assert.equal(arr.ok && arr.params.flags, 'any', 'every index of an array exists: update is "any"');
    assert.deepEqual(editRequest({ map: hash }, 'insert', '258', '01 00 00 00 00 00 00 00'), {
      ok: true,
      method: 'map_update',
      params: { map_id: 9, key_hex: '02010000', value_hex: '0100000000000000', flags: 'noexist' },
    });
    assert.deepEqual(editRequest({ map: hash }, 'delete', '0x00000001'), {
      ok: true,
      method: 'map_delete',
      params: { map_id: 9, key_hex: '00000001' },
    });
    assert.deepEqual(
      editRequest(
        { map: { ...hash, type: 'percpu_hash' }, types: { key: u32, value: u64 }, percpu: 2 },
        'update',
        '1',
        '[1, 2]',
      ),
      {
        ok: true,
        method: 'map_update',
        params: { map_id: 9, key: 1, value: [1, 2], flags: 'exist' },
      },
    );
    const bad = editRequest({ map: hash, types: { key: u32, value: u64 } }, 'update', '1', '-1');
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /^value: "?-1"? does not fit u64/);
  });
});
