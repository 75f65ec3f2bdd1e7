import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { flagsFromArgs, splitCommand } from '../../server/src/clang/compile-flags';
import { parseClangOutput } from '../../server/src/clang/clang-runner';
import { HeaderIndex, indexDefinitions, parseMembers } from '../../server/src/header-index';

test('struct members: pointers, arrays, bitfields, function pointers, anonymous unions flattened', () => {
  const m = parseMembers(`
	struct list_head tasks;
	struct task_struct __rcu *real_parent;
	char comm[16];
	unsigned int flags: 3, other: 5;
	int a, *b, c[4];
	void (*fn)(int x);
	union {
		u64 counter;
		struct { u32 lo; u32 hi; };
	};
	struct { int x; } named;
	/* a comment; with a semicolon */
`);
  const byName = Object.fromEntries(m.map((x) => [x.name, x.type]));
  assert.equal(byName.tasks, 'struct list_head');
  assert.equal(byName.real_parent, 'struct task_struct __rcu *');
  assert.equal(byName.comm, 'char[16]');
  assert.equal(byName.flags, 'unsigned int');
  assert.equal(byName.other, 'unsigned int');
  assert.equal(byName.b, 'int *');
  assert.equal(byName.c, 'int[4]');
  assert.ok(byName.fn.includes('(*'));
  assert.equal(byName.counter, 'u64');
  assert.equal(byName.hi, 'u32');
  assert.equal(byName.named, 'struct {...}');
});

test('header index: finds structs through includes, first definition wins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-hdr-'));
  try {
    writeFileSync(join(dir, 'a.h'), '#include "b.h"\nstruct outer { struct inner in; int z; };\n');
    writeFileSync(join(dir, 'b.h'), 'struct inner {\n\tint x;\n\tlong y;\n};\n');
    const idx = new HeaderIndex();
    const inner = idx.findStruct('inner', [join(dir, 'a.h')]);
    assert.equal(inner?.file, join(dir, 'b.h'));
    assert.equal(inner?.line, 0);
    assert.deepEqual(
      inner?.members.map((x) => x.name),
      ['x', 'y'],
    );
    assert.equal(idx.findStruct('nope', [join(dir, 'a.h')]), undefined);
    assert.ok(indexDefinitions('struct a { struct b { int x; } y; };').has('b'), 'nested definitions are indexed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compile_commands.json: commands split like a shell, -I/-D read relative to the directory', () => {
  assert.deepEqual(splitCommand(`clang -DNAME="a b" -I 'x y' -c f.c`), [
    'clang',
    '-DNAME=a b',
    '-I',
    'x y',
    '-c',
    'f.c',
  ]);
  const f = flagsFromArgs(['-Iinc', '-I', '/abs', '-DX=1', '-D', 'Y', '-include', 'pre.h', '-std=gnu11'], '/proj');
  assert.deepEqual(f.includeDirs, ['/proj/inc', '/abs']);
  assert.deepEqual(f.defines, ['X=1', 'Y']);
  assert.deepEqual(f.extra, ['-include', '/proj/pre.h', '-std=gnu11']);
});

test("clang's diagnostics: ranges, warning options, notes dropped, other files ignored", () => {
  const d = parseClangOutput(
    [
      "<stdin>:5:12:{5:12-5:20}: error: use of undeclared identifier 'missing'",
      "<stdin>:7:3: warning: unused variable 'x' [-Wunused-variable]",
      '<stdin>:7:3: note: something',
      'vmlinux.h:1:1: error: in a header',
    ].join('\n'),
    '<stdin>',
  );
  assert.equal(d.length, 2);
  assert.deepEqual([d[0].line, d[0].column, d[0].endLine, d[0].endColumn], [4, 11, 4, 19]);
  assert.equal(d[1].severity, 'warning');
  assert.equal(d[1].option, '-Wunused-variable');
  assert.equal(d[1].message, "unused variable 'x'");
});
