/**
 * Shared pieces of the SSH tests: the agent binary and its version, BPF fixtures compiled with
 * clang into a temp dir, a temp "home" (so ~/.ssh of the machine is never read or written),
 * SshTarget construction against a fixture sshd, and kernel-side checks with bpftool.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { need } from '../support/preconditions';
import { SshTarget, type SshTargetOptions } from '../../client/src/core/targets/ssh-target';
import type { Target, TargetState, TargetStateChange } from '../../client/src/core/targets/target';
import { sshdUnavailableReason, type Sshd } from './sshd-fixture';

export const ROOT = resolve(__dirname, '..', '..');
export const AGENT = join(ROOT, 'remote-agent', 'build', 'bpf-agent');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'ssh');

/** Why these tests can't run here (root, sshd, clang, bpftool, BTF), or null. */
export function sshTestsUnavailableReason(): string | null {
  const r = sshdUnavailableReason();
  if (r) return r;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'the kernel has no BTF';
  for (const tool of ['clang', 'bpftool']) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return `${tool} is not installed`;
  }
  return null;
}

/** Skips (or fails under CI=true) when the tests can't run. */
export function canRun(t: TestContext): boolean {
  const reason = sshTestsUnavailableReason();
  return need(t, reason === null, reason ?? '');
}

let tmp: string | undefined;
/** A temp dir for this test process, removed at exit. */
export function tempDir(): string {
  if (!tmp) {
    tmp = mkdtempSync(join(tmpdir(), 'bpf-ide-ssh-test-'));
    const dir = tmp;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return tmp;
}

/** A fresh empty home dir (with .ssh) inside the temp dir. */
export function tempHome(name: string): string {
  const home = join(tempDir(), `home-${name}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  return home;
}

/** Builds the agent when missing; returns its path and version. */
export function agentBinary(): { path: string; version: string } {
  if (!existsSync(AGENT))
    execFileSync('make', ['-C', join(ROOT, 'remote-agent'), '--no-print-directory'], { stdio: 'inherit' });
  const out = execFileSync(AGENT, ['--version'], { encoding: 'utf8' });
  return { path: AGENT, version: out.split(/\s+/)[1] };
}

const compiled = new Map<string, string>();
/** Compiles test/fixtures/ssh/<name>.bpf.c with clang -O2 -g -target bpf into the temp dir. */
export function fixture(name: string, debug = true): string {
  const hit = compiled.get(name);
  if (hit) return hit;
  const out = join(tempDir(), `${name}.bpf.o`);
  execFileSync('clang', [
    '-O2',
    ...(debug ? ['-g'] : []),
    '-target',
    'bpf',
    '-I/usr/include/x86_64-linux-gnu',
    '-c',
    join(FIXTURES, `${name}.bpf.c`),
    '-o',
    out,
  ]);
  compiled.set(name, out);
  return out;
}

/** Does bpftool see this program id? */
export function progExists(id: number): boolean {
  return spawnSync('bpftool', ['prog', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0;
}

/** Does bpftool see this map id? */
export function mapExists(id: number): boolean {
  return spawnSync('bpftool', ['map', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0;
}

/** Ids of loaded programs whose name starts with prefix. */
export function progIdsNamed(prefix: string): number[] {
  const r = spawnSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`bpftool prog show failed: ${r.stderr}`);
  const list = JSON.parse(r.stdout) as Array<{ id: number; name?: string }>;
  return list.filter((p) => p.name?.startsWith(prefix)).map((p) => p.id);
}

/** Is a process alive? */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls fn until truthy (kernel-side state has no event to wait on). */
export async function waitFor<T>(fn: () => T | undefined | null | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Resolves with the first state change to `state` (or rejects after timeoutMs). */
export function nextState(target: Target, state: TargetState, timeoutMs = 20_000): Promise<TargetStateChange> {
  return new Promise((resolve, reject) => {
    const on = (s: TargetStateChange) => {
      if (s.state !== state) return;
      clearTimeout(timer);
      target.off('state', on);
      resolve(s);
    };
    const timer = setTimeout(() => {
      target.off('state', on);
      reject(new Error(`no "${state}" state within ${timeoutMs} ms (now ${target.state})`));
    }, timeoutMs);
    target.on('state', on);
  });
}

/** An SshTarget for a fixture sshd: temp home, no ssh-agent, its client key, a temp remote cache. */
export function targetFor(sshd: Sshd, overrides: Partial<SshTargetOptions> = {}): SshTarget {
  const home = overrides.homeDir ?? tempHome('t');
  return new SshTarget({
    spec: `ssh://root@${sshd.address}:${sshd.port}`,
    agent: agentBinary(),
    homeDir: home,
    sshConfig: join(home, '.ssh', 'config'),
    agentSocket: null,
    identityFiles: [sshd.clientKey],
    knownHostsFile: join(home, '.ssh', 'known_hosts'),
    confirmUnknownHost: async () => true,
    remoteCacheDir: join(sshd.dir, 'remote-cache'),
    readyTimeoutMs: 10_000,
    keepaliveIntervalMs: 1000,
    keepaliveCountMax: 3,
    reconnect: false,
    ...overrides,
  });
}

/** Collects a target's state changes. */
export function recordStates(target: Target): TargetStateChange[] {
  const out: TargetStateChange[] = [];
  target.on('state', (s) => out.push(s));
  return out;
}

/** sftp sessions sshd logged (LogLevel VERBOSE): no session, no sftp write. */
export function sftpSessions(log: string): string[] {
  return log.split('\n').filter((l) => /Starting session: subsystem 'sftp'/.test(l));
}

/** Awaits p, expecting it to reject with an instance of cls; returns the error. */
export async function rejects<T extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => T): Promise<T> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${(err as Error).name}: ${(err as Error).message}`);
    return err as T;
  }
  assert.fail(`expected ${cls.name}, but it resolved`);
}
