/**
 * Shared pieces of the agent tests: the binary, fixtures compiled with clang into a temp
 * dir, a started AgentClient, bpftool checks by id, and processes that trigger programs.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentClient, type AgentClientEvents } from '../../client/src/core/agent/agent-client';

export const ROOT = resolve(__dirname, '..', '..');
/** The agent under test: BPF_IDE_AGENT (as the product reads it; the sanitizer run sets it) or the built one. */
export const AGENT = process.env.BPF_IDE_AGENT ?? join(ROOT, 'remote-agent', 'build', 'bpf-agent');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'agent');

let tmp: string | undefined;
/** A temp dir for this test process, removed at exit. */
export function tempDir(): string {
  if (!tmp) {
    tmp = mkdtempSync(join(tmpdir(), 'bpf-ide-agent-test-'));
    const dir = tmp;
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return tmp;
}

/** Builds the agent when the binary is missing (npm run build normally has). */
export function ensureAgent(): string {
  if (!existsSync(AGENT))
    execFileSync('make', ['-C', join(ROOT, 'remote-agent'), '--no-print-directory'], { stdio: 'inherit' });
  return AGENT;
}

const compiled = new Map<string, string>();
/** Compiles test/fixtures/agent/<name>.bpf.c with clang -target bpf into the temp dir. */
export function fixture(name: string): string {
  const hit = compiled.get(name);
  if (hit) return hit;
  const out = join(tempDir(), `${name}.bpf.o`);
  const arch = execFileSync('uname', ['-m']).toString().trim();
  execFileSync('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    `-I/usr/include/${arch}-linux-gnu`,
    '-c',
    join(FIXTURES, `${name}.bpf.c`),
    '-o',
    out,
  ]);
  compiled.set(name, out);
  return out;
}

/** Starts an agent and waits for its hello. */
export async function startAgent(): Promise<AgentClient> {
  const client = AgentClient.spawn(ensureAgent(), { requestTimeoutMs: 60_000 });
  await client.hello;
  return client;
}

/** Does bpftool still see this object? kind: prog | map | link */
export function bpftoolHas(kind: 'prog' | 'map' | 'link', id: number): boolean {
  const r = spawnSync('bpftool', [kind, 'show', 'id', String(id)], { stdio: 'ignore' });
  return r.status === 0;
}

/** Runs a short-lived command under a unique name (its comm), and returns its pid. */
export async function runAs(name: string, cmd = '/bin/true', args: string[] = []): Promise<number> {
  const link = join(tempDir(), name);
  if (!existsSync(link)) symlinkSync(cmd, link);
  return new Promise((resolve, reject) => {
    const child = spawn(link, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

/** Polls fn until it returns a truthy value (events on the kernel side have no callback). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 100);
  }
}

/** Waits for an event that matches pred. */
export function nextEvent<K extends keyof AgentClientEvents>(
  client: AgentClient,
  name: K,
  pred: (...args: AgentClientEvents[K]) => boolean,
  timeoutMs = 10_000,
): Promise<AgentClientEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const on = (...args: AgentClientEvents[K]) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      client.off(name, on as never);
      resolve(args[0]);
    };
    const timer = setTimeout(() => {
      client.off(name, on as never);
      reject(new Error(`no matching ${String(name)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on(name, on as never);
  });
}

/** Process-unique names (for symlinks, netns, interfaces). */
export const UNIQUE = `${process.pid % 100000}`;
