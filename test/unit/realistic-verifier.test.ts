// The realistic fixtures (test/fixtures/realistic/*.bpf.c) and the rules' good fixtures really pass the kernel's verifier: each is
// compiled with clang -O2 -target bpf against a vmlinux.h generated from this kernel's BTF, and
// loaded with `bpftool prog loadall`. These are the programs the rules must not flag with errors
// (rules.test.ts checks that side), so they must be programs the verifier accepts.
// Needs root (or CAP_BPF + CAP_SYS_ADMIN), clang, bpftool and /sys/kernel/btf/vmlinux; without them
// the test says why and skips, or fails under CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { BpfDocument } from '../../server/src/bpf-document';
import { runRules } from '../../server/src/diagnostics/engine';
import { CParser, loadCLanguage } from '../../server/src/parser';

const DIR = join(__dirname, '..', 'fixtures', 'realistic');
const RULES = join(__dirname, '..', 'fixtures', 'rules');
// The realistic programs, and the rules' good fixtures (they claim to load too). bpftool loadall
// skips SEC("?...") programs and then fails to pin them, so files with one are left out.
const files = [
  ...readdirSync(DIR)
    .filter((f) => f.endsWith('.bpf.c'))
    .sort()
    .map((f) => join(DIR, f)),
  ...readdirSync(RULES)
    .sort()
    .flatMap((r) =>
      readdirSync(join(RULES, r))
        .filter((f) => f.startsWith('good-') && f.endsWith('.bpf.c'))
        .sort()
        .map((f) => join(RULES, r, f)),
    ),
].filter((p) => !/SEC\("\?/.test(readFileSync(p, 'utf8')));

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  if (!has('clang')) return 'clang not found';
  if (!has('bpftool')) return 'bpftool not found';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'no /sys/kernel/btf/vmlinux';
  return undefined;
}

let parser: CParser | undefined;
const why = missing();
if (why && process.env.CI === 'true') {
  test('realistic programs pass the verifier', () => assert.fail(`cannot run under CI: ${why}`));
} else if (why) {
  test('realistic programs pass the verifier', { skip: why }, () => {});
} else {
  const work = mkdtempSync(join(tmpdir(), 'bpf-ide-realistic-'));
  const vmlinux = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
    maxBuffer: 64 << 20,
  });
  writeFileSync(join(work, 'vmlinux.h'), vmlinux.stdout);
  if (spawnSync('mountpoint', ['-q', '/sys/fs/bpf']).status !== 0)
    spawnSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);

  for (const path of files) {
    const f = relative(join(__dirname, '..', 'fixtures'), path);
    test(`${f} compiles and passes the verifier`, () => {
      const obj = join(work, f.replace(/\W/g, '_') + '.o');
      const cc = spawnSync(
        'clang',
        [
          '-O2',
          '-g',
          '-target',
          'bpf',
          '-D__TARGET_ARCH_x86',
          `-I${work}`,
          `-I${dirname(path)}`,
          '-c',
          path,
          '-o',
          obj,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(cc.status, 0, `clang failed:\n${cc.stderr}`);
      assert.doesNotMatch(cc.stderr, /implicit declaration/, 'an undeclared function would fail to load');
      const pin = `/sys/fs/bpf/bpf-ide-test-${process.pid}-${basename(obj, '.o')}`;
      try {
        const load = spawnSync('bpftool', ['prog', 'loadall', obj, pin], { encoding: 'utf8', maxBuffer: 64 << 20 });
        assert.equal(load.status, 0, `the verifier rejected ${f}:\n${load.stderr.split('\n').slice(-30).join('\n')}`);
      } finally {
        rmSync(pin, { recursive: true, force: true });
      }
    });
  }
  // The quick fixes of null-check and packet-bounds, applied to their bad fixtures, give programs the
  // verifier accepts: the fix really is the check the verifier wanted.
  for (const rule of ['null-check', 'packet-bounds']) {
    for (const name of readdirSync(join(RULES, rule)).filter((f) => f.startsWith('bad-') && f.endsWith('.bpf.c'))) {
      test(`rules/${rule}/${name} with every quick fix applied passes the verifier`, async () => {
        parser ??= new CParser(await loadCLanguage());
        let text = readFileSync(join(RULES, rule, name), 'utf8');
        for (let round = 0; round < 50; round++) {
          const doc = new BpfDocument(`file://${join(RULES, rule, name)}`, round, text, parser);
          const d = runRules(doc).find((x) => x.code === rule && x.fixes?.length);
          doc.dispose();
          if (!d) break;
          const fix = d.fixes!.find((f) => f.preferred) ?? d.fixes![0];
          for (const e of [...fix.edits].sort((a, b) => b.start - a.start))
            text = text.slice(0, e.start) + e.newText + text.slice(e.end);
        }
        const src = join(work, `fixed-${rule}-${name}`);
        writeFileSync(src, text);
        const obj = src.replace(/\.c$/, '.o');
        const cc = spawnSync(
          'clang',
          // The fixture's own headers (-I its folder), as the unfixed file is compiled.
          [
            '-O2',
            '-g',
            '-target',
            'bpf',
            '-D__TARGET_ARCH_x86',
            `-I${work}`,
            `-I${join(RULES, rule)}`,
            '-c',
            src,
            '-o',
            obj,
          ],
          { encoding: 'utf8' },
        );
        assert.equal(cc.status, 0, `clang failed on the fixed file:\n${cc.stderr}`);
        const pin = `/sys/fs/bpf/bpf-ide-test-${process.pid}-fixed-${rule}`;
        try {
          const load = spawnSync('bpftool', ['prog', 'loadall', obj, pin], { encoding: 'utf8', maxBuffer: 64 << 20 });
          assert.equal(
            load.status,
            0,
            `the verifier rejected the fixed ${name}:\n${load.stderr.split('\n').slice(-30).join('\n')}`,
          );
        } finally {
          rmSync(pin, { recursive: true, force: true });
        }
      });
    }
  }
  test.after(() => rmSync(work, { recursive: true, force: true }));
}
