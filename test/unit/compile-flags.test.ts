/** compile_commands.json flags beyond -I/-D reach Build and clang's diagnostics (issue 14.5). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildArgs } from '../../client/src/core/build/bpf-build';
import { compileFlagsFor, flagsFromArgs } from '../../server/src/clang/compile-flags';

test('flagsFromArgs keeps -mcpu, -idirafter, -include (joined or not), -isystem, -iquote', () => {
  const f = flagsFromArgs(
    [
      '-mcpu=v3',
      '-idirafter',
      'after',
      '-include',
      'pre.h',
      '-includeother.h',
      '-isystem/sys',
      '-iquote',
      'q',
      '-Iinc',
      '-DX=1',
    ],
    '/proj',
  );
  assert.deepEqual(f.includeDirs, ['/proj/inc']);
  assert.deepEqual(f.defines, ['X=1']);
  assert.deepEqual(f.extra, [
    '-mcpu=v3',
    '-idirafter',
    '/proj/after',
    '-include',
    '/proj/pre.h',
    '-include',
    '/proj/other.h',
    '-isystem',
    '/sys',
    '-iquote',
    '/proj/q',
  ]);
});

test("Build's clang command gets compile_commands.json's extra flags, then bpfIde.build.extraFlags", () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-flags-'));
  try {
    const file = join(dir, 'p.bpf.c');
    writeFileSync(file, 'int x;\n');
    writeFileSync(
      join(dir, 'compile_commands.json'),
      JSON.stringify([
        { directory: dir, file: 'p.bpf.c', command: 'clang -target bpf -mcpu=v3 -idirafter kh -c p.bpf.c' },
      ]),
    );
    assert.deepEqual(compileFlagsFor(file)?.extra, ['-mcpu=v3', '-idirafter', join(dir, 'kh')]);
    const args = buildArgs({ file, extraArgs: ['-include', 'extra.h'] }, join(dir, 'p.o'));
    const at = (a: string) => args.indexOf(a);
    assert.ok(at('-mcpu=v3') > 0 && at('-idirafter') > 0, args.join(' '));
    assert.ok(at('-include') > at('-mcpu=v3'), 'the setting comes after the database');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
