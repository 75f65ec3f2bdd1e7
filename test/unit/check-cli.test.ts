/** `bpf-ide check`: the built CLI, run as a user runs it. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { runCheckCommand } from '../../server/src/check';
import type { Rule } from '../../server/src/diagnostics/rule';
import { CLI } from '../support/lsp-session';
import { haveCommand, need } from '../support/preconditions';

let dir: string;
const run = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 60000 });

const GOOD = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;
const GPL_MISUSE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tracepoint/syscalls/sys_enter_openat")
int trace(void *ctx)
{
	char buf[16];
	bpf_probe_read_kernel(buf, sizeof(buf), ctx);
	return 0;
}
char LICENSE[] SEC("license") = "Proprietary";
`;

describe('bpf-ide check', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpf-ide-check-'));
    writeFileSync(join(dir, 'good.bpf.c'), GOOD);
    writeFileSync(join(dir, 'bad.bpf.c'), GPL_MISUSE);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a clean file: exit 0, empty JSON array', () => {
    const r = run('check', '--json', 'good.bpf.c');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });

  test('an error: exit 1, JSON findings with 1-based positions and every field', () => {
    const r = run('check', '--json', '--no-clang', 'bad.bpf.c', 'good.bpf.c');
    assert.equal(r.status, 1, r.stderr);
    const findings = JSON.parse(r.stdout) as Record<string, unknown>[];
    const f = findings.find((x) => x.code === 'license');
    assert.ok(f, r.stdout);
    assert.deepEqual(
      Object.keys(f).sort(),
      ['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'message', 'severity', 'source'].sort(),
    );
    assert.equal(f.file, 'bad.bpf.c');
    assert.equal(f.line, 7);
    assert.equal(f.column, 2);
    assert.equal(f.severity, 'error');
    assert.equal(f.source, 'bpf-ide');
  });

  test('text output is compiler-style file:line:col: severity: message [code]', () => {
    const r = run('check', '--no-clang', 'bad.bpf.c');
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^bad\.bpf\.c:7:2: error: .*GPL-only.* \[license\]$/m);
    assert.match(r.stderr, /1 file\(s\) checked: 1 error\(s\)/);
  });

  test('printk formats with C escapes that are not JSON (\\033, \\0, \\a): findings are reported (issue 15.11)', () => {
    writeFileSync(
      join(dir, 'escapes.bpf.c'),
      GOOD.replace(
        'return XDP_PASS;',
        'bpf_printk("bad conversion %q\\n", 1);\n\tbpf_printk("\\033[31mred\\033[0m %d\\n", 2);\n\treturn XDP_PASS;',
      ),
    );
    const r = run('check', '--json', '--no-clang', 'escapes.bpf.c');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const findings = JSON.parse(r.stdout) as { code: string; line: number; message: string }[];
    assert.deepEqual(
      findings.map((f) => [f.code, f.line]),
      [['printk-args', 6]],
    );
    assert.match(findings[0].message, /"%q"/);
  });

  test('a rule that throws is reported as a finding, and check exits 3 (its findings are missing)', async () => {
    // No input makes a shipped rule throw once the bug above is fixed, so a rule that throws (a stand-in for
    // a future bug) is passed in; everything else is the real check.
    const throwing: Rule = {
      id: 'license',
      description: 'throws',
      run: () => {
        throw new Error('boom');
      },
    };
    const collect = () => {
      let text = '';
      const stream = new Writable({
        write(chunk, _enc, done) {
          text += String(chunk);
          done();
        },
      });
      return { stream, text: () => text };
    };
    const out = collect();
    const err = collect();
    const file = join(dir, 'good.bpf.c');
    const code = await runCheckCommand(['--json', '--no-clang', file], out.stream, err.stream, [throwing]);
    assert.equal(code, 3, out.text() + err.text());
    const findings = JSON.parse(out.text()) as { code: string; severity: string; message: string; line: number }[];
    assert.deepEqual(
      findings.map((f) => [f.code, f.severity, f.line]),
      [['rule-failed', 'error', 1]],
    );
    assert.match(findings[0].message, /rule license failed on this file: boom/);
    assert.match(err.text(), /rule license failed/);
    const textOut = collect();
    assert.equal(await runCheckCommand(['--no-clang', file], textOut.stream, collect().stream, [throwing]), 3);
    assert.match(textOut.text(), /good\.bpf\.c:1:1: error: .*rule license failed.* \[rule-failed\]/);
  });

  test('bad usage and unreadable files exit 2 with a message', () => {
    const none = run('check');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /no FILE given/);
    const unknown = run('check', '--frobnicate', 'good.bpf.c');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown option --frobnicate/);
    const missing = run('check', 'nope.bpf.c');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read nope\.bpf\.c: no such file/);
  });

  test('-I, -D and compile_commands.json reach clang', (t) => {
    if (!need(t, haveCommand('clang'), 'clang is not installed')) return;
    writeFileSync(
      join(dir, 'inc.bpf.c'),
      '#include "my.h"\n#ifndef NEEDED\n#error NEEDED not defined\n#endif\nint x = MY_VALUE;\n',
    );
    const incDir = join(dir, 'include');
    spawnSync('mkdir', ['-p', incDir]);
    writeFileSync(join(incDir, 'my.h'), '#define MY_VALUE 1\n');
    const bare = run('check', '--json', 'inc.bpf.c');
    assert.equal(bare.status, 1, 'without flags clang fails');
    const flags = run('check', '--json', '-I', 'include', '-DNEEDED', 'inc.bpf.c');
    assert.equal(flags.status, 0, flags.stdout + flags.stderr);
    writeFileSync(
      join(dir, 'compile_commands.json'),
      JSON.stringify([
        { directory: dir, file: 'inc.bpf.c', command: 'clang -target bpf -Iinclude -DNEEDED=1 -c inc.bpf.c' },
      ]),
    );
    const db = run('check', '--json', 'inc.bpf.c');
    assert.equal(db.status, 0, db.stdout + db.stderr);
    rmSync(join(dir, 'compile_commands.json'));
  });
});
