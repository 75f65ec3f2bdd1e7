/**
 * The parser on logs fresh from this machine's kernel: compile fixtures with clang, load them through
 * the project's agent at levels 1 and 2, and check the verdicts and source lines. Needs root, BTF, clang
 * and a built agent (make -C remote-agent): skipped with the reason otherwise, failed under CI=true.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { analyzeLog } from '../../client/src/core/verifier/analyze';
import { parseVerifierLog } from '../../client/src/core/verifier/log-parser';
import { haveBtf, haveCommand, isRoot, need } from '../support/preconditions';
import { comparableLog as norm } from '../support/verifier-log-compare';

const ROOT = join(__dirname, '..', '..');
const DIR = join(ROOT, 'test', 'fixtures', 'verifier');
const AGENT = join(ROOT, 'remote-agent', 'build', 'bpf-agent');
const CLANG = ['clang-19', 'clang'].find((c) => haveCommand(c));
let tmp: string;

function ready(t: import('node:test').TestContext): boolean {
  return (
    need(t, isRoot(), 'needs root to load BPF programs') &&
    need(t, haveBtf(), 'needs /sys/kernel/btf/vmlinux') &&
    need(t, !!CLANG, 'needs clang') &&
    need(t, existsSync(AGENT), `needs the agent: make -C remote-agent (${AGENT})`)
  );
}

/** Compiles a fixture and loads it with the agent; returns the kernel's log and whether it loaded. */
async function load(name: string, level: number): Promise<{ log: string; loaded: boolean }> {
  const obj = join(tmp, `${name}.o`);
  const cc = spawnSync(
    CLANG!,
    ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', `${name}.bpf.c`, '-o', obj],
    {
      cwd: DIR,
      encoding: 'utf8',
    },
  );
  assert.equal(cc.status, 0, cc.stderr);
  const agent = spawn(AGENT, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const reply = await new Promise<{
      error?: { log?: string };
      result?: { programs: { verifier: { log: string } }[] };
    }>((resolve, reject) => {
      const rl = createInterface({ input: agent.stdout });
      rl.on('line', (l) => {
        const m = JSON.parse(l);
        if (m.id === 1) resolve(m);
      });
      agent.on('exit', (c) => reject(new Error(`agent exited (${c}) before replying`)));
      agent.stdin.write(JSON.stringify({ id: 1, method: 'load', params: { path: obj, log_level: level } }) + '\n');
    });
    if (reply.error) return { log: reply.error.log ?? '', loaded: false };
    return { log: reply.result!.programs[0]!.verifier.log, loaded: true };
  } finally {
    agent.stdin.end();
    agent.kill();
  }
}

describe('verifier logs from this kernel', () => {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'bpf-ide-vk-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('a missing NULL check, level 2: rejected on line 18, lookup on line 16', async (t) => {
    if (!ready(t)) return;
    const { log, loaded } = await load('null_map_value', 2);
    assert.equal(loaded, false);
    const r = analyzeLog(parseVerifierLog(log));
    assert.equal(r.verdict, 'rejected');
    assert.equal(r.error?.catalog?.id, 'null-map-value');
    assert.equal(r.error?.source?.line, 18);
    assert.equal(r.error?.related[0]?.source?.line, 16);
  });

  test('the same at level 1: the failing path only, same line', async (t) => {
    if (!ready(t)) return;
    const { log } = await load('null_map_value', 1);
    const r = analyzeLog(parseVerifierLog(log));
    assert.equal(r.error?.catalog?.id, 'null-map-value');
    assert.equal(r.error?.source?.line, 18);
  });

  test('an accepted program with a subprogram at level 2: accepted, frames and stats parsed', async (t) => {
    if (!ready(t)) return;
    const { log, loaded } = await load('accepted_subprog', 2);
    assert.equal(loaded, true);
    const parsed = parseVerifierLog(log);
    const r = analyzeLog(parsed);
    assert.equal(r.verdict, 'accepted');
    assert.ok(r.instructions > 40);
    assert.ok(Array.from(parsed.frame).some((f) => f === 1));
    assert.equal(r.stats.processedInsns, 60);
  });

  test('a ring buffer reference leak: acquired on line 13', async (t) => {
    if (!ready(t)) return;
    const r = analyzeLog(parseVerifierLog((await load('ref_leak', 2)).log));
    assert.equal(r.error?.catalog?.id, 'reference-leak');
    assert.equal(r.error?.related.find((x) => /acquired/.test(x.message))?.source?.line, 13);
  });
  test('the stepper fixtures (levels 1 and 2: subprograms, bpf_loop, jumps) are still what this kernel logs', async (t) => {
    if (!ready(t)) return;
    for (const name of ['stepper_calls', 'stepper_branch', 'stepper_loop']) {
      for (const [level, file] of [
        [2, name],
        [1, `${name}_l1`],
      ] as const) {
        const { log } = await load(name, level);
        assert.equal(norm(log), norm(readFileSync(join(DIR, `${file}.log`), 'utf8')), `${file}.log differs`);
      }
    }
  });
});
