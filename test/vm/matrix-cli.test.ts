/**
 * `bpf-ide matrix --json` through the CLI on three real kernels at once: this machine (6.18), a
 * 6.1 guest and a 6.12 guest. The fixture uses open-coded iterators (bpf_iter_num_*, what bpf_for
 * expands to): 6.18 and 6.12 load it, 6.1's verifier rejects it, and the matrix says so, with the
 * source line, and exits 3. Both guests are gone afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { MatrixReport } from '../../client/src/core/run/matrix';
import { agentUnavailableReason } from '../agent/preconditions';
import { need } from '../support/preconditions';
import { ROOT, vmlinuxInclude, vmPrecondition } from './vm-fixture';

/** `bpf-ide` from source with TMPDIR private to the test (the guests' socket dirs go there). */
const cli = (tmp: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'client', 'src', 'cli', 'bpf-ide.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
    env: { ...process.env, TMPDIR: tmp },
  });

test('matrix --json: bpf_for loads on 6.18 and 6.12, rejected by 6.1 with its line; exit 3; no guest left', (t) => {
  if (!vmPrecondition(t)) return;
  const local = agentUnavailableReason();
  if (!need(t, !local, local ?? '')) return;
  // a private TMPDIR: the guests' socket dirs go there (other VM users on this machine have their own)
  const tmp = mkdtempSync(join(tmpdir(), 'bpf-ide-matrix-cli-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const src = join(ROOT, 'test', 'fixtures', 'vm', 'bpf-for.bpf.c');
  const r = cli(tmp, [
    'matrix',
    src,
    '-I',
    vmlinuxInclude(),
    '--kernels',
    'local,vm:6.1,vm:6.12',
    '--attach',
    '--json',
  ]);
  assert.equal(r.status, 3, r.stderr);
  const m = JSON.parse(r.stdout) as MatrixReport;
  assert.deepEqual(
    m.kernels.map((k) => [k.target, k.ok]),
    [
      ['local', true],
      ['vm:6.1', true],
      ['vm:6.12', true],
    ],
  );
  assert.match(m.kernels[1].release!, /^6\.1\.0-/);
  assert.match(m.kernels[2].release!, /^6\.12\./);
  const sum = m.programs.find((p) => p.name === 'sum_on_exec')!;
  assert.equal(sum.section, 'tracepoint/syscalls/sys_enter_execve');
  assert.equal(sum.results.local.loaded, true);
  assert.equal(sum.results.local.attached, true);
  assert.equal(sum.results['vm:6.12'].loaded, true);
  assert.ok(sum.results['vm:6.12'].processed_insns! > 0);
  const rejected = sum.results['vm:6.1'];
  assert.equal(rejected.loaded, false);
  assert.match(rejected.error!.message, /infinite loop detected/);
  assert.equal(rejected.error!.file, 'bpf-for.bpf.c');
  assert.match(readFileSync(src, 'utf8').split('\n')[rejected.error!.line! - 1], /bpf_iter_num_next/);
  assert.ok(rejected.error!.explanation);
  const count = m.programs.find((p) => p.name === 'count_exec')!;
  for (const k of ['local', 'vm:6.1', 'vm:6.12']) {
    assert.equal(count.results[k].loaded, true, k);
    assert.equal(count.results[k].attached, true, k);
    assert.equal(typeof count.results[k].verify_us === 'number' || k === 'local', true);
  }
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.startsWith('bpf-ide-vm-')),
    [],
    'no guest socket dir is left',
  );
});

test('matrix --trigger: the kprobe template fires in a 6.1 guest (run_cnt > 0); local loads but says the trigger runs only in vm: guests', (t) => {
  if (!vmPrecondition(t)) return;
  const local = agentUnavailableReason();
  if (!need(t, !local, local ?? '')) return;
  const tmp = mkdtempSync(join(tmpdir(), 'bpf-ide-matrix-trigger-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const r = cli(tmp, [
    'matrix',
    join(ROOT, 'bpf-templates', 'kprobe', 'kprobe.bpf.c'),
    '-I',
    vmlinuxInclude(),
    '--kernels',
    'local,vm:6.1',
    '--attach',
    '--trigger',
    'touch /tmp/x && rm /tmp/x && echo removed',
    '--json',
  ]);

  // local may refuse kprobe attach (this machine does: exit 1) or attach it (exit 0); never a rejection or bad usage
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  const m = JSON.parse(r.stdout) as MatrixReport;
  const [loc, vm] = m.kernels;
  assert.equal(loc.ok, true, loc.error);
  assert.equal(loc.trigger!.exit_code, null);
  assert.match(loc.trigger!.error!, /runs only in vm: guests/);
  assert.equal(vm.ok, true, vm.error);
  assert.deepEqual([vm.trigger!.exit_code, vm.trigger!.error], [0, undefined], JSON.stringify(vm.trigger));
  assert.match(vm.trigger!.output_tail, /removed/);
  for (const name of ['unlink_entry', 'unlink_exit']) {
    const p = m.programs.find((x) => x.name === name)!;
    assert.equal(p.results.local.loaded, true, name);
    const g = p.results['vm:6.1'];
    assert.equal(g.attached, true, `${name}: ${JSON.stringify(g)}`);
    assert.ok(g.run_cnt! > 0, `${name} ran ${g.run_cnt} times in the guest`);
  }
  assert.match(r.stderr, /vm:6\.1: triggering/);
  assert.deepEqual(
    readdirSync(tmp).filter((f) => f.startsWith('bpf-ide-vm-')),
    [],
    'no guest socket dir is left',
  );
});
