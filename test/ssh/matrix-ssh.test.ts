/**
 * `bpf-ide matrix --kernels local,ssh://...`: an SSH box (a real sshd on 127.0.0.1 with throwaway keys) joins
 * the same table as this machine, through the same target options as `run` (--identity, --known-hosts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { MatrixReport } from '../../client/src/core/run/matrix';
import { CLI, ROOT } from '../support/lsp-session';
import { Sshd } from './sshd-fixture';
import { canRun, tempDir } from './ssh-harness';

let sshd: Sshd | undefined;
after(async () => {
  await sshd?.dispose();
});

test('matrix --json: local and an SSH box, one column each, the spec as given', async (t) => {
  if (!canRun(t)) return;
  sshd = await Sshd.start();
  const dir = tempDir();
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  const tpl = join(ROOT, 'bpf-templates', 'tracepoint');
  for (const f of readdirSync(tpl)) if (/\.(c|h)$/.test(f)) copyFileSync(join(tpl, f), join(dir, f));
  const h = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
    maxBuffer: 64 << 20,
  });
  writeFileSync(join(dir, 'vmlinux.h'), h.stdout);
  const kh = join(dir, 'known_hosts');
  writeFileSync(kh, sshd.knownHostsLine());
  const box = `ssh://root@127.0.0.1:${sshd.port}`;
  const r = spawnSync(
    process.execPath,
    [
      CLI,
      'matrix',
      'tracepoint.bpf.c',
      '--kernels',
      `local,${box}`,
      '--identity',
      sshd.clientKey,
      '--known-hosts',
      kh,
      '--attach',
      '--json',
    ],
    {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, HOME: home, SSH_AUTH_SOCK: '', BPF_IDE_REMOTE_CACHE_DIR: join(dir, 'remote-cache') },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(r.stdout) as MatrixReport;
  assert.deepEqual(
    m.kernels.map((k) => [k.target, k.ok]),
    [
      ['local', true],
      [box, true],
    ],
  );
  const p = m.programs.find((x) => x.name === 'handle_openat');
  assert.ok(p, r.stdout);
  for (const k of ['local', box]) {
    assert.equal(p.results[k].loaded, true, k);
    assert.equal(p.results[k].attached, true, k);
    assert.ok(p.results[k].processed_insns! > 0, k);
  }
});
