/** `bpf-ide log FILE [--json]` (runLogCommand), on real fixture logs; exit codes 0 / 3 / 2. */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runLogCommand } from '../../client/src/core/verifier/log-command';
import { verdictErrorFromLog } from '../../client/src/core/verifier/report-format';
import { readFileSync } from 'node:fs';

const DIR = join(__dirname, '..', 'fixtures', 'verifier');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await runLogCommand(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

describe('bpf-ide log', () => {
  test('a rejection: exit 3, the error with file, line, explanation and fix', async () => {
    const r = await run([join(DIR, 'null_map_value.log')]);
    assert.equal(r.code, 3);
    assert.match(r.out, /verdict: rejected/);
    assert.match(r.out, /error: R0 invalid mem access 'map_value_or_null'/);
    assert.match(r.out, /null_map_value\.bpf\.c:18: \*val \+= 1;/);
    assert.match(r.out, /why: R0 holds the result of a map lookup/);
    assert.match(r.out, /fix: Check the pointer/);
    assert.match(r.out, /related: R0 gets its value here: call bpf_map_lookup_elem#1 \(.*null_map_value\.bpf\.c:16\)/);
    assert.match(r.out, /instructions: 8 /);
  });

  test('--json: verdict, instructions, stats, error with the resolved path', async () => {
    const r = await run([join(DIR, 'null_in_header.log'), '--json']);
    assert.equal(r.code, 3);
    const j = JSON.parse(r.out);
    assert.equal(j.verdict, 'rejected');
    assert.equal(j.instructions, 7);
    assert.equal(j.stats.processedInsns, 7);
    assert.equal(j.error.id, 'null-map-value');
    assert.match(j.error.file, /header_helpers\.h$/);
    assert.equal(j.error.line, 8);
    assert.match(j.error.related[0].file, /null_in_header\.bpf\.c$/);
    assert.equal(j.error.related[0].line, 20);
  });

  test('an accepted program: exit 0 with its statistics', async () => {
    const r = await run(['--json', join(DIR, 'accepted_subprog.log')]);
    assert.equal(r.code, 0);
    const j = JSON.parse(r.out);
    assert.equal(j.verdict, 'accepted');
    assert.equal(j.error, null);
    assert.equal(j.instructions, 56);
    assert.deepEqual(j.stats.stackDepth, [16, 0]);
  });

  test('no source line: says why', async () => {
    const r = await run([join(DIR, 'no_exit.log')]);
    assert.equal(r.code, 3);
    assert.match(r.out, /no source line: the kernel rejected the program before walking any instruction/);
  });

  test('usage errors and unreadable files: exit 2', async () => {
    assert.equal((await run([])).code, 2);
    assert.equal((await run(['a.log', 'b.log'])).code, 2);
    assert.equal((await run(['--bogus', 'a.log'])).code, 2);
    const missing = await run([join(DIR, 'does-not-exist.log')]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read .*ENOENT/);
    const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-log-'));
    try {
      writeFileSync(join(dir, 'notes.txt'), 'hello\nworld\n');
      const r = await run([join(dir, 'notes.txt')]);
      assert.equal(r.code, 2);
      assert.match(r.err, /does not look like a verifier log/);
      assert.equal((await run([dir])).code, 2); // a folder
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /usage: bpf-ide log FILE/);
  });

  test('verdictErrorFromLog: the shape bpf-ide run reports, from the same parser', () => {
    const v = verdictErrorFromLog(readFileSync(join(DIR, 'ref_leak.log'), 'utf8'), 'fallback');
    assert.equal(v.message, 'Unreleased reference id=2 alloc_insn=4');
    assert.equal(v.file, 'ref_leak.bpf.c');
    assert.equal(v.line, 21);
    assert.match(v.explanation!, /Fix: Release it on every path/);
    assert.deepEqual(verdictErrorFromLog('', 'no log'), { message: 'no log' });
  });

  test('5.x logs (text, no file or line): the line is found in the sources next to the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-log5-'));
    try {
      copyFileSync(join(DIR, 'old_5x_null.log'), join(dir, 'old.log'));
      copyFileSync(join(DIR, 'null_map_value.bpf.c'), join(dir, 'prog.bpf.c'));
      const j = JSON.parse((await run([join(dir, 'old.log'), '--json'])).out);
      assert.match(j.error.file, /prog\.bpf\.c$/);
      assert.equal(j.error.line, 18);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
