/**
 * Issue 15, item 10: when the agent died during `bpf-ide run --duration`, run kept printing
 * "<map>: the agent exited" every second until the duration ended. It must stop at once, say it
 * once, and exit 1. The agent (the CLI's own child) is killed by its PID mid-run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI, ROOT } from '../support/lsp-session';
import { haveBtf, isRoot, need } from '../support/preconditions';
import { waitFor } from './agent-harness';

/** The pids of a process's children (from /proc, no name matching). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`))
    out.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number));
  return out;
}

const comm = (pid: number) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim();

describe('bpf-ide run when the agent dies', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpf-ide-run-dies-'));
    const t = join(ROOT, 'bpf-templates', 'tracepoint');
    for (const f of readdirSync(t)) if (/\.(c|h)$/.test(f)) copyFileSync(join(t, f), join(dir, f));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the agent killed mid-run: one message naming it, exit 1 at once', async (t) => {
    if (!need(t, isRoot() && haveBtf(), 'needs root and /sys/kernel/btf/vmlinux')) return;
    const child = spawn(process.execPath, [CLI, 'run', 'tracepoint.bpf.c', '--attach', '--duration', '30'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    try {
      // watching: the map has been read at least once
      await waitFor(() => /opens: \d+ entr/.test(stderr), 'run to watch its map', 60_000);
      const agentPid = await waitFor(
        () => childrenOf(child.pid!).find((p) => comm(p) === 'bpf-agent'),
        'the agent child process',
      );
      process.kill(agentPid, 'SIGKILL');
      const killedAt = Date.now();
      const code = await exited;
      const ms = Date.now() - killedAt;
      const after = stderr.slice(stderr.lastIndexOf('entr'));
      t.diagnostic(
        `run exited ${ms} ms after the agent was killed; it said: ${after.trim().split('\n').slice(1).join(' | ')}`,
      );
      assert.equal(code, 1);
      assert.ok(ms < 3000, `run stopped at once (${ms} ms), not at the end of --duration`);
      assert.equal(stderr.match(/agent exited/g)?.length, 1, `said once:\n${stderr}`);
      assert.match(stderr, /bpf-ide run: the agent exited \(signal SIGKILL\)/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
