/**
 * `bpf-ide run --target ssh://...` against a real sshd on 127.0.0.1 (throwaway keys): host keys checked
 * (unknown refused with the fingerprint, changed refused plainly), then build, deploy, load, attach, read
 * the map, and nothing left loaded afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runWhileOpening } from '../support/busy-run';
import { CLI, ROOT } from '../support/lsp-session';
import { fixture, startAgent } from '../agent/agent-harness';
import { Sshd } from './sshd-fixture';
import { canRun, progExists, tempDir } from './ssh-harness';

let sshd: Sshd | undefined;
let dir: string;
let home: string;

function runArgs(args: string[], knownHosts: string): string[] {
  return [
    CLI,
    'run',
    'tracepoint.bpf.c',
    '--target',
    `ssh://root@127.0.0.1:${sshd!.port}`,
    '--identity',
    sshd!.clientKey,
    '--known-hosts',
    knownHosts,
    ...args,
  ];
}
const runEnv = () => ({
  ...process.env,
  HOME: home,
  SSH_AUTH_SOCK: '',
  BPF_IDE_REMOTE_CACHE_DIR: join(dir, 'remote-cache'),
});

function run(args: string[], knownHosts: string) {
  return spawnSync(process.execPath, runArgs(args, knownHosts), {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
    env: runEnv(),
  });
}

describe('bpf-ide run over SSH', () => {
  before(async () => {
    dir = tempDir();
    home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true });
    const t = join(ROOT, 'bpf-templates', 'tracepoint');
    for (const f of readdirSync(t)) if (/\.(c|h)$/.test(f)) copyFileSync(join(t, f), join(dir, f));
    const h = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 64 << 20,
    });
    writeFileSync(join(dir, 'vmlinux.h'), h.stdout);
  });
  after(async () => {
    await sshd?.dispose();
  });

  test('unknown host key: refused, with the fingerprint and how to trust it', async (t) => {
    if (!canRun(t)) return;
    sshd ??= await Sshd.start();
    const kh = join(dir, 'empty_known_hosts');
    writeFileSync(kh, '');
    const r = run(['--json'], kh);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(sshd.hostFingerprint()), r.stderr);
    assert.match(r.stderr, /known_hosts|trust/i);
  });

  test('changed host key: refused plainly', async (t) => {
    if (!canRun(t)) return;
    sshd ??= await Sshd.start();
    const kh = join(dir, 'changed_known_hosts');
    const [, type] = sshd.knownHostsLine().trim().split(/\s+/);
    // A well-formed key of the same type that is not the server's.
    const other = spawnSync('ssh-keygen', ['-y', '-f', sshd.strangerKey], { encoding: 'utf8' })
      .stdout.trim()
      .split(/\s+/);
    writeFileSync(kh, `[127.0.0.1]:${sshd.port} ${other[0] ?? type} ${other[1]}\n`);
    const r = run(['--json'], kh);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /changed/i);
  });

  test('known host: build, deploy, load, attach, read the map; nothing left loaded', async (t) => {
    if (!canRun(t)) return;
    sshd ??= await Sshd.start();
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, sshd.knownHostsLine());
    // openat() calls from this process while the program is attached give the map something to count.
    const r = await runWhileOpening(process.execPath, runArgs(['--attach', '--duration', '1', '--json'], kh), {
      cwd: dir,
      env: runEnv(),
    });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.match(report.target, /root@127\.0\.0\.1/);
    const p = report.programs[0];
    assert.equal(p.name, 'handle_openat');
    assert.equal(p.loaded, true);
    assert.equal(p.attached, true);
    assert.ok(report.maps.find((m: { name: string }) => m.name === 'opens').entries > 0);
    // the object went over SSH as bytes with its file name: libbpf names its .rodata after it (8 characters of
    // "tracepoint" there, as for a file it opens itself), not after a placeholder
    const names = report.maps.map((m: { name: string }) => m.name);
    assert.ok(names.includes('tracepoi.rodata'), `maps: ${names.join(', ')}`);
    assert.equal(progExists(p.id), false, 'released when the CLI ended the session');
  });

  test("bpf-ide list over SSH: every program on the box, another loader's too (no bpftool needed there)", async (t) => {
    if (!canRun(t)) return;
    sshd ??= await Sshd.start();
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, sshd.knownHostsLine());
    const other = await startAgent(); // another tool on the box, with its own programs
    try {
      const theirs = await other.request('load', { path: fixture('events') });
      const args = ['list', '--target', `ssh://root@127.0.0.1:${sshd.port}`, '--identity', sshd.clientKey];
      const r = spawnSync(process.execPath, [CLI, ...args, '--known-hosts', kh, '--json'], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
        env: runEnv(),
      });
      assert.equal(r.status, 0, r.stderr);
      const listed = JSON.parse(r.stdout) as { target: string; programs: { id: number }[]; maps: { id: number }[] };
      assert.match(listed.target, /root@127\.0\.0\.1/);
      for (const p of theirs.programs)
        assert.ok(
          listed.programs.some((x) => x.id === p.id),
          `program ${p.id}`,
        );
      for (const m of theirs.maps)
        assert.ok(
          listed.maps.some((x) => x.id === m.id),
          `map ${m.id}`,
        );
      const text = spawnSync(process.execPath, [CLI, ...args, '--known-hosts', kh], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
        env: runEnv(),
      });
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /^\d+ programs and \d+ maps on root@127\.0\.0\.1/);
      assert.match(text.stdout, new RegExp(`^${theirs.programs[0].id}\\s+tracepoint\\s+on_exec\\s`, 'm'));
      const bad = spawnSync(process.execPath, [CLI, 'list', 'extra'], { encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /unexpected argument extra/);
    } finally {
      await other.shutdown();
    }
  });
});
