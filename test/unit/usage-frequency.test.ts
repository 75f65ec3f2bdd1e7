// server/data/usage-frequency.json (the completion ranking) and its generator,
// server/scripts/gen-usage-frequency.mjs: counted over public BPF code, which is not committed, so the
// committed table must say where its counts come from; the generator is run here on a directory written
// in the test (two small programs and a SOURCES.txt), not on public code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const TABLE = join(ROOT, 'server', 'data', 'usage-frequency.json');
const GEN = join(ROOT, 'server', 'scripts', 'gen-usage-frequency.mjs');

interface Table {
  source: string;
  files: number;
  sources: { repo: string; files: number; commits: string[] }[];
  counts: Record<string, number>;
}

test('the committed table counts public code and names its repositories and commits', () => {
  const t = JSON.parse(readFileSync(TABLE, 'utf8')) as Table;
  assert.match(t.source, /iovisor\/bcc/);
  assert.match(t.source, /libbpf\/libbpf-bootstrap/);
  const bcc = t.sources.find((s) => s.repo === 'iovisor/bcc');
  assert.ok(bcc && bcc.files >= 100, `iovisor/bcc files: ${bcc?.files}`);
  for (const s of t.sources) for (const c of s.commits) assert.match(c, /^[0-9a-f]{40}$/, `${s.repo} commit ${c}`);
  const counts = Object.values(t.counts);
  assert.deepEqual(
    counts,
    [...counts].sort((a, b) => b - a),
    'counts are sorted, most used first',
  );
  const helpers = Object.keys(t.counts).filter((n) => n.startsWith('bpf_'));
  for (const h of ['bpf_get_current_pid_tgid', 'bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_ktime_get_ns'])
    assert.ok(helpers.indexOf(h) >= 0 && helpers.indexOf(h) < 6, `${h} among the six most used helpers`);
  assert.equal(t.counts.bpf_cgrp_storage_delete, undefined, 'a helper real tools never call has no count');
});

test('the generator counts calls of known helpers, kfuncs and macros, not comments, and names the sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-usage-'));
  try {
    writeFileSync(
      join(dir, 'a.bpf.c'),
      [
        '// bpf_ktime_get_ns() in a comment does not count',
        '#include "a.h"',
        'SEC("tp/sched/sched_switch")',
        'int a(void *ctx)',
        '{',
        '\t__u64 t = bpf_ktime_get_ns();',
        '\t/* bpf_map_lookup_elem(&m, &k) neither */',
        '\treturn bpf_get_current_pid_tgid() + t + helper_of_mine(1);',
        '}',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'a.h'), 'static inline long helper_of_mine(long x) { return bpf_ktime_get_ns() + x; }\n');
    writeFileSync(join(dir, 'notes.txt'), 'bpf_ktime_get_ns()\n');
    writeFileSync(
      join(dir, 'SOURCES.txt'),
      `example/repo\tprogs/a.bpf.c\t${'a'.repeat(40)}\t10\nexample/repo\tprogs/a.h\t${'b'.repeat(40)}\t10\n`,
    );
    const out = join(dir, 'out.json');
    const r = spawnSync(process.execPath, [GEN, '--out', out, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const t = JSON.parse(readFileSync(out, 'utf8')) as Table;
    assert.equal(t.files, 2, 'the program and the header next to it, not notes.txt');
    assert.equal(t.counts.bpf_ktime_get_ns, 2);
    assert.equal(t.counts.bpf_get_current_pid_tgid, 1);
    assert.equal(t.counts.SEC, 1);
    assert.equal(t.counts.bpf_map_lookup_elem, undefined);
    assert.equal(t.counts.helper_of_mine, undefined, 'only known helpers, kfuncs and macros');
    assert.deepEqual(t.sources, [{ repo: 'example/repo', files: 2, commits: ['a'.repeat(40), 'b'.repeat(40)] }]);
    assert.match(t.source, /example\/repo \(2 files taken at 2 commits/);

    const bad = spawnSync(process.execPath, [GEN, '--out', out, join(dir, 'missing')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /is not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
