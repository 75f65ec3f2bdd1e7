/** Building with clang -target bpf: problems parsed, and the precompiled vmlinux.h gives the same object. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildBpf, parseBuildOutput } from '../../client/src/core/build/bpf-build';
import { haveBtf, haveCommand, need } from '../support/preconditions';
import { ROOT } from '../support/lsp-session';

test('clang output: located problems, ranges, options, and bare errors', () => {
  const p = parseBuildOutput(
    [
      "/x/a.bpf.c:3:5:{3:5-3:9}: error: use of undeclared identifier 'foo'",
      "/x/a.bpf.c:7:1: warning: unused variable 'y' [-Wunused-variable]",
      '/x/a.bpf.c:7:1: note: declared here',
      'clang: error: no such file or directory: nope.c',
    ].join('\n'),
  );
  assert.deepEqual(
    p.map((x) => [x.severity, x.line, x.column, x.endColumn, x.option ?? '']),
    [
      ['error', 3, 5, 9, ''],
      ['warning', 7, 1, undefined, '-Wunused-variable'],
      ['note', 7, 1, undefined, ''],
      ['error', 0, 0, undefined, ''],
    ],
  );
});

test('a precompiled vmlinux.h is made once, reused, and gives a byte-identical object', async (t) => {
  if (
    !need(t, haveCommand('clang') && haveCommand('bpftool', ['version']) && haveBtf(), 'needs clang, bpftool and BTF')
  )
    return;
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-pch-'));
  try {
    const src = join(ROOT, 'bpf-templates', 'tracepoint');
    for (const f of readdirSync(src)) if (/\.(c|h)$/.test(f)) copyFileSync(join(src, f), join(dir, f));
    writeFileSync(
      join(dir, 'vmlinux.h'),
      execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
        maxBuffer: 64 << 20,
      }),
    );
    const file = join(dir, 'tracepoint.bpf.c');
    const plain = await buildBpf({ file, out: join(dir, 'plain.o'), pch: false });
    assert.ok(plain.ok && !plain.usedPch, plain.stderr);
    const first = await buildBpf({ file, out: join(dir, 'out', 'a.o') });
    assert.ok(first.ok && !first.usedPch, 'the first build has no PCH yet');
    const pchDir = join(dir, 'out', '.pch');
    const deadline = Date.now() + 60000;
    while (!(existsSync(pchDir) && readdirSync(pchDir).some((f) => f.endsWith('.pch')))) {
      if (Date.now() > deadline) throw new Error('no PCH was made');
      await new Promise((r) => setTimeout(r, 100));
    }
    const second = await buildBpf({ file, out: join(dir, 'out', 'a.o') });
    assert.ok(second.ok && second.usedPch, second.stderr);
    assert.deepEqual(
      readFileSync(join(dir, 'out', 'a.o')),
      readFileSync(join(dir, 'plain.o')),
      'same object with and without the PCH',
    );
    // An error is reported the same way with the PCH in use.
    writeFileSync(file, readFileSync(file, 'utf8').replace('return 0;\n}', 'return nope;\n}'));
    const broken = await buildBpf({ file, out: join(dir, 'out', 'a.o') });
    assert.equal(broken.ok, false);
    assert.ok(broken.problems.some((p) => /undeclared identifier 'nope'/.test(p.message)));
    // A file that defines something before vmlinux.h does not use the PCH (it could change the header).
    writeFileSync(
      join(dir, 'first.bpf.c'),
      '#define BPF_NO_PRESERVE_ACCESS_INDEX\n' + readFileSync(join(src, 'tracepoint.bpf.c'), 'utf8'),
    );
    const other = await buildBpf({ file: join(dir, 'first.bpf.c'), out: join(dir, 'out', 'b.o') });
    assert.ok(other.ok && !other.usedPch);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
