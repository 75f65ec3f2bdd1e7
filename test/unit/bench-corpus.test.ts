/**
 * The benchmark corpus (test/fixtures/bench/*.bpf.c, realistic programs in the style of libbpf-tools) is
 * real code: each compiles with clang -target bpf against a vmlinux.h made from this kernel's BTF, and the
 * rules report no error on it. (Most need not load: they carry fentry variants for several kernels, and
 * this machine blocks BPF trampolines.) fs_agent.bpf.c, the 2,500-line one, loads here: every program through
 * the verifier of the running kernel, then unloaded.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BpfDocument } from '../../server/src/bpf-document';
import { runRules } from '../../server/src/diagnostics/engine';
import { CParser, loadCLanguage } from '../../server/src/parser';
import { haveBtf, haveCommand, isRoot, need } from '../support/preconditions';

const DIR = join(__dirname, '..', 'fixtures', 'bench');
/** The corpus programs written to load on this kernel (no fentry/fexit). */
const LOADS = new Set(['fs_agent.bpf.c']);
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.bpf.c'))
  .sort();

describe('benchmark corpus', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'bpf-ide-bench-corpus-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test('has at least 3 programs of 1,000-3,000 lines that include vmlinux.h', () => {
    assert.ok(files.length >= 3, files.join(', '));
    for (const f of files) {
      const text = readFileSync(join(DIR, f), 'utf8');
      const lines = text.split('\n').length;
      assert.ok(lines >= 1000 && lines <= 3000, `${f}: ${lines} lines`);
      assert.match(text, /#include "vmlinux\.h"/, f);
    }
  });

  for (const f of files) {
    test(`${f} compiles with clang -target bpf`, (t) => {
      if (
        !need(t, haveCommand('clang') && haveCommand('bpftool', ['version']) && haveBtf(), 'needs clang, bpftool, BTF')
      )
        return;
      if (!readdirSync(work).includes('vmlinux.h')) {
        const btf = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
          maxBuffer: 64 << 20,
        });
        assert.equal(btf.status, 0, String(btf.stderr));
        writeFileSync(join(work, 'vmlinux.h'), btf.stdout);
      }
      const cc = spawnSync(
        'clang',
        [
          '-O2',
          '-g',
          '-target',
          'bpf',
          '-D__TARGET_ARCH_x86',
          `-I${work}`,
          `-I${DIR}`,
          '-c',
          join(DIR, f),
          '-o',
          join(work, `${f}.o`),
        ],
        { encoding: 'utf8' },
      );
      assert.equal(cc.status, 0, cc.stderr);
    });

    if (LOADS.has(f))
      test(`${f} loads on this kernel (bpftool prog loadall), then is unloaded`, (t) => {
        if (!need(t, isRoot() && haveCommand('bpftool', ['version']) && haveBtf(), 'needs root, bpftool, BTF')) return;
        const obj = join(work, `${f}.o`);
        if (!existsSync(obj)) return assert.fail('the compile test above did not produce the object');
        if (spawnSync('mountpoint', ['-q', '/sys/fs/bpf']).status !== 0)
          spawnSync('mount', ['-t', 'bpf', 'bpf', '/sys/fs/bpf']);
        const pins = `/sys/fs/bpf/bpf-ide-bench-${process.pid}`;
        try {
          const r = spawnSync('bpftool', ['prog', 'loadall', obj, pins], { encoding: 'utf8' });
          assert.equal(r.status, 0, r.stderr.split('\n').slice(-30).join('\n'));
          const programs = (readFileSync(join(DIR, f), 'utf8').match(/^SEC\("(?!\.maps|license)/gm) ?? []).length;
          assert.equal(readdirSync(pins).length, programs, 'every program pinned');
        } finally {
          rmSync(pins, { recursive: true, force: true }); // unpinning unloads them
        }
      });

    test(`${f} gets no error from the rules`, async () => {
      const parser = new CParser(await loadCLanguage());
      const doc = new BpfDocument(`file://${join(DIR, f)}`, 0, readFileSync(join(DIR, f), 'utf8'), parser);
      const errors = runRules(doc).filter((d) => d.severity === 'error');
      assert.deepEqual(
        errors.map((d) => `${doc.positionAt(d.start).line + 1}: [${d.code}] ${d.message}`),
        [],
      );
      doc.dispose();
    });
  }
});
