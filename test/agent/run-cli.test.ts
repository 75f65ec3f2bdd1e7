/**
 * `bpf-ide build`, `bpf-ide run` and `bpf-ide demo` on this machine's real kernel, through the real agent.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runWhileOpening } from '../support/busy-run';
import { CLI, ROOT } from '../support/lsp-session';
import { haveBtf, haveCommand, isRoot, need } from '../support/preconditions';

let dir: string;
const cli = (args: string[], timeout = 120000) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout });

const REJECTED = `// SPDX-License-Identifier: GPL-2.0
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpid")
int no_null_check(void *ctx)
{
	u32 key = 1;
	u64 *val = bpf_map_lookup_elem(&counts, &key);
	*val += 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

function progIdsByName(name: string): number[] {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return (JSON.parse(out) as { id: number; name?: string }[]).filter((p) => p.name === name).map((p) => p.id);
}

describe('bpf-ide build / run / demo on the real kernel', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpf-ide-run-'));
    const t = join(ROOT, 'bpf-templates', 'tracepoint');
    for (const f of readdirSync(t)) if (/\.(c|h)$/.test(f)) copyFileSync(join(t, f), join(dir, f));
    writeFileSync(join(dir, 'reject.bpf.c'), REJECTED);
    if (haveCommand('bpftool', ['version']) && haveBtf()) {
      const h = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
        maxBuffer: 64 << 20,
      });
      writeFileSync(join(dir, 'vmlinux.h'), h.stdout);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('build: an object and exit 0; a compile error: exit 1 with file:line', (t) => {
    if (!need(t, haveCommand('clang'), 'clang is not installed')) return;
    const ok = cli(['build', 'tracepoint.bpf.c', '-o', 'tp.o', '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    const r = JSON.parse(ok.stdout);
    assert.equal(r.ok, true);
    assert.match(execFileSync('file', [join(dir, 'tp.o')], { encoding: 'utf8' }), /ELF 64-bit LSB relocatable, eBPF/);
    writeFileSync(join(dir, 'broken.bpf.c'), 'int f(void) { return x; }\n');
    const bad = cli(['build', 'broken.bpf.c']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /broken\.bpf\.c:1:22: error: use of undeclared identifier 'x'/);
    const usage = cli(['build']);
    assert.equal(usage.status, 2);
  });

  test('run --attach --json: loaded, attached, verifier stats, released afterwards', async (t) => {
    if (!need(t, isRoot() && haveBtf(), 'needs root and /sys/kernel/btf/vmlinux')) return;
    const r = await runWhileOpening(
      process.execPath,
      [CLI, 'run', 'tracepoint.bpf.c', '--attach', '--duration', '1', '--json'],
      { cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.target, 'local');
    assert.equal(report.programs.length, 1);
    const p = report.programs[0];
    assert.equal(p.name, 'handle_openat');
    assert.equal(p.section, 'tracepoint/syscalls/sys_enter_openat');
    assert.equal(p.loaded, true);
    assert.equal(p.attached, true);
    assert.ok(p.id > 0);
    assert.ok(p.verifier.stats.processed_insns > 0);
    const opens = report.maps.find((m: { name: string }) => m.name === 'opens');
    assert.equal(opens.type, 'hash');
    assert.ok(opens.entries > 0, 'openat calls were counted while attached');
    assert.deepEqual(
      progIdsByName('handle_openat').filter((id) => id === p.id),
      [],
      'the program is gone after run',
    );
  });

  test('run: a verifier rejection exits 3 with the message and the source line', (t) => {
    if (!need(t, isRoot() && haveBtf(), 'needs root and /sys/kernel/btf/vmlinux')) return;
    const r = cli(['run', 'reject.bpf.c', '--json']);
    assert.equal(r.status, 3, r.stderr);
    const report = JSON.parse(r.stdout);
    const p = report.programs.find((x: { name: string }) => x.name === 'no_null_check');
    assert.equal(p.loaded, false);
    assert.match(p.verifier.error.message, /invalid mem access 'map_value_or_null'/);
    assert.equal(p.verifier.error.file, 'reject.bpf.c');
    assert.match(p.verifier.error.explanation, /NULL/, 'the catalog explains it');
    assert.equal(p.verifier.error.line, REJECTED.split('\n').findIndex((l) => l.includes('*val += 1')) + 1);
    // related: where R0 got its value, the lookup (issue 13: root cause as related locations)
    const lookup = REJECTED.split('\n').findIndex((l) => l.includes('bpf_map_lookup_elem')) + 1;
    assert.ok(
      p.verifier.error.related.some(
        (x: { message: string; file: string; line: number }) =>
          /bpf_map_lookup_elem/.test(x.message) && x.file === 'reject.bpf.c' && x.line === lookup,
      ),
      JSON.stringify(p.verifier.error.related),
    );
  });

  test('run: a SEC() libbpf cannot type is not loaded (exit 1, not a verifier rejection) and says why', (t) => {
    if (!need(t, isRoot() && haveBtf(), 'needs root and /sys/kernel/btf/vmlinux')) return;
    writeFileSync(
      join(dir, 'untyped.bpf.c'),
      `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp/pass")
int untyped(struct xdp_md *ctx)
{
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`,
    );
    const r = cli(['run', 'untyped.bpf.c', '--json']);
    assert.equal(r.status, 1, r.stderr);
    const p = JSON.parse(r.stdout).programs[0];
    assert.equal(p.loaded, false);
    assert.equal(p.verdict, 'refused');
    assert.match(p.verifier.error.message, /missing BPF prog type/);
    assert.match(r.stderr, /untyped \(xdp\/pass\) not loaded/);
  });

  test('run: a GPL-only helper in a BSD-licensed program: related names the license line', (t) => {
    if (!need(t, isRoot() && haveBtf(), 'needs root and /sys/kernel/btf/vmlinux')) return;
    const src = REJECTED.replace('*val += 1;', 'bpf_probe_read_kernel(val, 0, 0);')
      .replace('u64 *val = bpf_map_lookup_elem(&counts, &key);', 'u64 v = 0, *val = &v;')
      .replace('"GPL"', '"Dual BSD/MIT"');
    writeFileSync(join(dir, 'bsd.bpf.c'), src);
    const r = cli(['run', 'bsd.bpf.c', '--json']);
    assert.equal(r.status, 3, r.stderr);
    const e = JSON.parse(r.stdout).programs[0].verifier.error;
    assert.match(e.message, /GPL/);
    const lic = src.split('\n').findIndex((l) => l.includes('SEC("license")')) + 1;
    assert.ok(
      e.related.some((x: { file: string; line: number }) => x.file === 'bsd.bpf.c' && x.line === lic),
      JSON.stringify(e.related),
    );
    assert.match(r.stderr, /related: the license/);
  });

  test('run: bad usage exits 2; an unknown target exits 1 with a message', () => {
    assert.equal(cli(['run']).status, 2);
    assert.equal(cli(['run', 'x.bpf.c', '--log-level', '9']).status, 2);
    const bad = cli(['run', 'tracepoint.bpf.c', '--target', 'ftp://nope']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /target/);
  });

  test('demo: verdict, live map values, everything released', (t) => {
    if (!need(t, isRoot() && haveBtf(), 'needs root and /sys/kernel/btf/vmlinux')) return;
    const r = cli(['demo', '--seconds', '2'], 180000);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /✓ handle_openat \(SEC\("tracepoint\/syscalls\/sys_enter_openat"\), tracepoint\): accepted, \d+ insns processed/,
    );
    assert.match(r.stdout, /\[2s\] opens \(hash, \d+ entries\)/);
    assert.match(r.stdout, /this demo \(pid \d+\) => \{"opens":\d+/);
    assert.match(r.stdout, /released: 1 program\(s\), 1 link\(s\)/);
    const id = Number(/id (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(id > 0);
    const show = spawnSync('bpftool', ['prog', 'show', 'id', String(id)], { encoding: 'utf8' });
    assert.notEqual(show.status, 0, 'the demo program is no longer loaded');
  });
});

describe('vmlinux.h is never a manual step (build, run, vmlinux on the real kernel)', () => {
  let work: string;
  let cache: string;
  const env = () => ({ ...process.env, BPF_IDE_CACHE_DIR: cache });
  const cliIn = (args: string[]) =>
    spawnSync(process.execPath, [CLI, ...args], { cwd: work, encoding: 'utf8', timeout: 120000, env: env() });
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'bpf-ide-novmlinux-'));
    cache = mkdtempSync(join(tmpdir(), 'bpf-ide-cache-'));
    // a template copied out of bpf-templates/: it includes "vmlinux.h", and none is beside it
    const t = join(ROOT, 'bpf-templates', 'tracepoint');
    for (const f of readdirSync(t)) if (/\.(c|h)$/.test(f)) copyFileSync(join(t, f), join(work, f));
  });
  after(() => {
    rmSync(work, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  });

  test("build uses the target's vmlinux.h from the cache (made once, said once), run too; vmlinux -o writes it", async (t) => {
    if (!need(t, isRoot() && haveBtf(), 'needs root and BTF')) return;
    const file = readdirSync(work).find((f) => f.endsWith('.bpf.c'))!;
    const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
    const first = cliIn(['build', file]);
    assert.equal(first.status, 0, first.stderr);
    const notes = first.stderr.split('\n').filter((l) => l.includes('vmlinux.h is not on the include path'));
    assert.equal(notes.length, 1, first.stderr);
    assert.match(
      notes[0],
      new RegExp(
        `using the one of Linux ${release.replace(/[.+]/g, '\\$&')} on local, generated from its BTF \\(${cache.replace(/[.+]/g, '\\$&')}/`,
      ),
    );
    const second = cliIn(['build', file]);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /using the one of Linux \S+ on local \(/, 'the cached one, not generated again');
    const run = cliIn(['run', file, '--attach']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /vmlinux\.h is not on the include path/);
    assert.match(run.stderr, /✓ \S+ .* loaded/);
    const out = cliIn(['vmlinux', '-o', 'vm.h']);
    assert.equal(out.status, 0, out.stderr);
    const written = readFileSync(join(work, 'vm.h'), 'utf8');
    assert.match(written.split('\n')[0], new RegExp(`vmlinux\\.h of Linux ${release.replace(/[.+]/g, '\\$&')}`));
    if (haveCommand('bpftool', ['version'])) {
      const h = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
        maxBuffer: 64 << 20,
        encoding: 'utf8',
      });
      assert.equal(written.slice(written.indexOf('\n') + 1), h.stdout, 'the same text bpftool writes');
    }
    // a file with its own vmlinux.h beside it does not use the cache
    copyFileSync(join(work, 'vm.h'), join(work, 'vmlinux.h'));
    const own = cliIn(['build', file]);
    assert.equal(own.status, 0, own.stderr);
    assert.doesNotMatch(own.stderr, /not on the include path/);
    const bad = cliIn(['vmlinux', '--bogus']);
    assert.equal(bad.status, 2);
  });
});

test('run --trigger on a target that is not a vm: guest: exit 2 with the reason, before building or connecting', () => {
  const src = join(ROOT, 'bpf-templates', 'kprobe', 'kprobe.bpf.c');
  const r = spawnSync(
    process.execPath,
    [CLI, 'run', src, '--target', 'local', '--attach', '--trigger', 'true', '--json'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60000,
    },
  );
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--trigger runs a command inside a vm: guest .*--target local is not one/);
  assert.doesNotMatch(r.stderr, /^(built |✓|✗|attached )/m); // nothing was built, loaded or attached
  assert.equal(r.stdout, '');
});
