// The BPF templates (bpf-templates/): every one builds with the oldest and newest clang we support
// (clang-14, clang-19), its object has the sections its manifest names, the language server finds
// nothing to say about it, and creating a program from it (client/src/core/templates.ts) gives
// files that build as they are.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  bpfTargetArch,
  clangdConfig,
  createProgram,
  loadTemplates,
  localVmlinux,
  mergeCompileCommands,
  programNameProblem,
  renderTemplate,
  TemplateError,
  type TemplateInfo,
  type VmlinuxSource,
} from '../../client/src/core/templates';
import { check } from '../../server/src/check';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const TEMPLATES = join(ROOT, 'bpf-templates');
const ARCH = bpfTargetArch(process.arch);
const CI = process.env.CI === 'true';

/** The kinds of program issue 4 asks a template for, by the SEC() prefix that proves it. */
const REQUIRED: Record<string, RegExp> = {
  tracepoint: /^(tracepoint|tp)\//,
  raw_tp: /^raw_tp\//,
  tp_btf: /^tp_btf\//,
  kprobe: /^kprobe\//,
  kretprobe: /^kretprobe\//,
  fentry: /^fentry\//,
  fexit: /^fexit\//,
  uprobe: /^uprobe/,
  xdp: /^xdp$/,
  tc: /^(tc|classifier|tcx\/)/,
  socket: /^socket$/,
  cgroup_skb: /^cgroup_skb\//,
  lsm: /^lsm\//,
  perf_event: /^perf_event$/,
  iter: /^iter\/task$/,
};

/** Skips (or fails under CI=true) when the environment can't run a test. */
function need(t: TestContext, reason: string | null): boolean {
  if (!reason) return true;
  if (CI) assert.fail(`cannot run under CI: ${reason}`);
  t.skip(reason);
  return false;
}

function clangMajor(bin: string): number | null {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const m = /clang version (\d+)/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

/** clang-<major>, or plain clang when it is that major version. */
function findClangMajor(major: number): string | null {
  for (const bin of [`clang-${major}`, 'clang']) if (clangMajor(bin) === major) return bin;
  return null;
}

const templates = loadTemplates(TEMPLATES);
let work: string;
let vmlinuxDir: string | null = null;
let vmlinuxProblem: string | null = null;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'bpf-ide-templates-'));
  // vmlinux.h is generated, never committed (2.8 MB): from this kernel's BTF, as users get it.
  if (!existsSync('/sys/kernel/btf/vmlinux')) vmlinuxProblem = 'this kernel has no BTF (/sys/kernel/btf/vmlinux)';
  else {
    const r = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 256 << 20,
    });
    if (r.error || r.status !== 0)
      vmlinuxProblem = `bpftool could not dump the kernel BTF: ${r.error?.message ?? r.stderr.toString()}`;
    else {
      vmlinuxDir = join(work, 'include');
      mkdirSync(vmlinuxDir);
      writeFileSync(join(vmlinuxDir, 'vmlinux.h'), r.stdout);
    }
  }
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('template manifests and sources', () => {
  test('there are at least 12 templates, covering every kind issue 4 lists', () => {
    assert.ok(templates.length >= 12, `only ${templates.length} templates`);
    const sections = templates.flatMap((t) => t.sections);
    for (const [kind, re] of Object.entries(REQUIRED)) {
      assert.ok(
        sections.some((s) => re.test(s)),
        `no template has a ${kind} program (SEC matching ${re})`,
      );
    }
  });

  for (const t of templates) {
    test(`${t.id}: libbpf-bootstrap shape, and the manifest matches the source`, () => {
      assert.equal(t.files[0], `${t.id}.bpf.c`);
      for (const f of t.files) assert.ok(existsSync(join(t.dir, f)), `${f} is listed but missing`);
      const src = readFileSync(join(t.dir, `${t.id}.bpf.c`), 'utf8');
      assert.match(src.split('\n')[0], /^\/\/ SPDX-License-Identifier: /, 'first line: SPDX header');
      assert.match(src, /^#include "vmlinux\.h"$/m);
      assert.match(src, /^char LICENSE\[\] SEC\("license"\) = "Dual BSD\/GPL";$/m);
      assert.match(src, /^const volatile \w[\w ]* \w+ = [^;]+;$/m, 'at least one const volatile knob');
      for (const knob of Object.keys(t.knobs))
        assert.match(src, new RegExp(`^const volatile [\\w ]+ ${knob} = `, 'm'), `knob ${knob}`);
      for (const map of t.maps) assert.match(src, new RegExp(`\\} ${map} SEC\\("\\.maps"\\);`), `map ${map} in .maps`);
      const secs = [...src.matchAll(/^SEC\("([^"]+)"\)$/gm)].map((m) => m[1]);
      assert.deepEqual(secs.sort(), [...t.sections].sort(), 'SEC() names vs template.json sections');
      if (t.files.includes(`${t.id}.h`)) {
        assert.match(src, new RegExp(`^#include "${t.id}\\.h"$`, 'm'));
        const h = readFileSync(join(t.dir, `${t.id}.h`), 'utf8');
        assert.match(h, /^\/\* SPDX-License-Identifier: /);
        assert.match(h, new RegExp(`#ifndef ${t.id.toUpperCase()}_H\\n#define ${t.id.toUpperCase()}_H\\n`));
      }
    });
  }

  test('bpf-templates/README.md has a section for every template', () => {
    const readme = readFileSync(join(TEMPLATES, 'README.md'), 'utf8');
    for (const t of templates) assert.match(readme, new RegExp(`^### \`${t.id}\``, 'm'), `README section for ${t.id}`);
  });
});

/** Runs jobs two at a time (the machine has two cores). */
async function pool<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    [0, 1].map(async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

for (const major of [14, 19]) {
  test(`every template builds with clang-${major} and has its sections`, async (t) => {
    const clang = findClangMajor(major);
    if (!need(t, clang ? vmlinuxProblem : `clang-${major} is not installed (scripts/setup.sh installs it)`)) return;
    const failures: string[] = [];
    await pool(templates, async (tpl: TemplateInfo) => {
      const out = join(work, `${tpl.id}.clang${major}.o`);
      const args = [
        '-O2',
        '-g',
        '-Wall',
        '-Werror',
        '-target',
        'bpf',
        `-D__TARGET_ARCH_${ARCH}`,
        `-I${vmlinuxDir}`,
        '-c',
        join(tpl.dir, `${tpl.id}.bpf.c`),
        '-o',
        out,
      ];
      try {
        await run(clang!, args);
      } catch (err) {
        failures.push(`${tpl.id}: ${(err as { stderr?: string }).stderr ?? String(err)}`);
        return;
      }
      const { stdout } = await run('llvm-objdump', ['-h', out]).catch(() => ({ stdout: '' }));
      if (stdout)
        for (const s of tpl.sections)
          if (!stdout.includes(` ${s} `)) failures.push(`${tpl.id}: object has no section ${s}`);
    });
    assert.deepEqual(failures, []);
  });
}

for (const major of [14, 19]) {
  test(`the language server reports nothing on any template (its rules, and clang-${major}'s diagnostics)`, async (t) => {
    const clang = findClangMajor(major);
    if (!need(t, clang ? vmlinuxProblem : `clang-${major} is not installed (scripts/setup.sh installs it)`)) return;
    const saved = process.env.BPF_IDE_CLANG;
    process.env.BPF_IDE_CLANG = clang!;
    try {
      const { findings, unreadable } = await check({
        files: templates.map((tpl) => join(tpl.dir, `${tpl.id}.bpf.c`)),
        json: true,
        includeDirs: [vmlinuxDir!],
        defines: [`__TARGET_ARCH_${ARCH}`],
        clang: true,
        disabledRules: [],
      });
      assert.deepEqual(unreadable, []);
      assert.deepEqual(
        findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.code}: ${f.message}`),
        [],
      );
    } finally {
      if (saved === undefined) delete process.env.BPF_IDE_CLANG;
      else process.env.BPF_IDE_CLANG = saved;
    }
  });
}

test('vmlinux.h from this machine: bpftool on /sys/kernel/btf/vmlinux, and clear errors when it cannot', async (t) => {
  if (!need(t, vmlinuxProblem)) return;
  const text = await localVmlinux().generate();
  assert.equal(text, readFileSync(join(vmlinuxDir!, 'vmlinux.h'), 'utf8'));
  await assert.rejects(
    localVmlinux({ btfPath: join(work, 'no-such-btf') }).generate(),
    (e: Error) => e instanceof TemplateError && /has no BTF/.test(e.message),
  );
  await assert.rejects(
    localVmlinux({ bpftool: join(work, 'no-such-bpftool') }).generate(),
    (e: Error) => e instanceof TemplateError && /is not installed/.test(e.message),
  );
});

describe('creating a program from a template', () => {
  const fakeVmlinux = (text = '/* vmlinux.h */\n'): VmlinuxSource & { calls: number } => {
    const src = { describe: 'a test', calls: 0, generate: async () => (src.calls++, text) };
    return src;
  };
  const tpl = (id: string) => templates.find((x) => x.id === id)!;

  test('names: C identifiers only, and not vmlinux', () => {
    assert.equal(programNameProblem('my_prog2'), null);
    for (const bad of ['', '2fast', 'has-dash', 'a b', '../x', 'vmlinux', 'x'.repeat(65)])
      assert.ok(programNameProblem(bad), bad);
    assert.throws(() => renderTemplate(tpl('xdp'), 'bad-name'), TemplateError);
  });

  test('renderTemplate renames the files, the include and the header guard, and nothing else', () => {
    const files = renderTemplate(tpl('ringbuf'), 'execsnoop');
    assert.deepEqual(
      files.map((f) => f.path),
      ['execsnoop.bpf.c', 'execsnoop.h'],
    );
    assert.match(files[0].content, /^#include "execsnoop\.h"$/m);
    assert.doesNotMatch(files[0].content, /"ringbuf\.h"/);
    assert.match(files[1].content, /#ifndef EXECSNOOP_H\n#define EXECSNOOP_H\n/);
    assert.match(files[0].content, /BPF_MAP_TYPE_RINGBUF/, 'the map type name is not renamed');
    const tc = renderTemplate(tpl('tc'), 'ports');
    assert.match(tc[0].content, /TC_ACT_OK/, 'TC_ACT_OK is not a header guard');
    assert.match(tc[1].content, /#ifndef PORTS_H/);
    const iter = renderTemplate(tpl('task_iter'), 'ps');
    assert.match(iter[0].content, /bpftool iter pin ps\.bpf\.o/);
  });

  test("compile_commands.json: keeps other entries, replaces this file's, refuses a broken file", () => {
    const dir = '/w/p';
    const other = { directory: '/w', file: '/w/other.c', command: 'cc -c other.c' };
    const stale = { directory: dir, file: 'a.bpf.c', command: 'old' };
    const merged = JSON.parse(
      mergeCompileCommands(JSON.stringify([other, stale]), {
        clang: 'clang-19',
        arch: 'x86',
        dir,
        files: ['/w/p/a.bpf.c'],
      }),
    );
    assert.equal(merged.length, 2);
    assert.deepEqual(merged[0], other);
    assert.equal(merged[1].file, '/w/p/a.bpf.c');
    assert.deepEqual(merged[1].arguments.slice(0, 7), [
      'clang-19',
      '-O2',
      '-g',
      '-Wall',
      '-target',
      'bpf',
      '-D__TARGET_ARCH_x86',
    ]);
    assert.ok(merged[1].arguments.includes('-I/w/p'));
    assert.equal(merged[1].output, '/w/p/a.bpf.o');
    assert.throws(
      () => mergeCompileCommands('{not json', { clang: 'c', arch: 'x86', dir, files: ['a'] }),
      TemplateError,
    );
    assert.throws(() => mergeCompileCommands('{}', { clang: 'c', arch: 'x86', dir, files: ['a'] }), TemplateError);
    assert.match(clangdConfig('arm64'), /-target, bpf, -D__TARGET_ARCH_arm64/);
  });

  test("target arch names map to bpf_tracing.h's __TARGET_ARCH_ values", () => {
    assert.equal(bpfTargetArch('x86_64'), 'x86');
    assert.equal(bpfTargetArch('x64'), 'x86');
    assert.equal(bpfTargetArch('aarch64'), 'arm64');
    assert.equal(bpfTargetArch('s390x'), 's390');
    assert.equal(bpfTargetArch('riscv64'), 'riscv');
  });

  test('createProgram writes sources, vmlinux.h, compile_commands.json and .clangd, and never overwrites', async () => {
    const dir = join(work, 'create-basic', 'nested');
    const v = fakeVmlinux();
    const r = await createProgram({
      template: tpl('kprobe'),
      name: 'unlinks',
      dir,
      vmlinux: v,
      clang: 'clang',
      arch: 'x86',
    });
    assert.equal(r.mainFile, join(dir, 'unlinks.bpf.c'));
    assert.deepEqual(
      r.written.map((p) => p.slice(dir.length + 1)),
      ['unlinks.bpf.c', 'unlinks.h', 'vmlinux.h', 'compile_commands.json', '.clangd'],
    );
    assert.equal(v.calls, 1);
    await assert.rejects(createProgram({ template: tpl('kprobe'), name: 'unlinks', dir, vmlinux: v }), /already exist/);
    // A second program in the same folder reuses vmlinux.h and .clangd, and adds its compile command.
    const r2 = await createProgram({
      template: tpl('xdp'),
      name: 'count',
      dir,
      vmlinux: v,
      clang: 'clang',
      arch: 'x86',
    });
    assert.equal(v.calls, 1, 'vmlinux.h is not generated again');
    assert.deepEqual(
      r2.kept.map((p) => p.slice(dir.length + 1)),
      ['vmlinux.h', '.clangd'],
    );
    const cc = JSON.parse(readFileSync(join(dir, 'compile_commands.json'), 'utf8')) as { file: string }[];
    assert.deepEqual(
      cc.map((e) => e.file),
      [join(dir, 'unlinks.bpf.c'), join(dir, 'count.bpf.c')],
    );
  });

  test('clangd finds everything in a created program, through compile_commands.json and through .clangd alone', async (t) => {
    const clangd = ['clangd-19', 'clangd'].find((c) => spawnSync(c, ['--version']).status === 0);
    if (!need(t, clangd ? vmlinuxProblem : 'clangd is not installed (scripts/setup.sh installs clangd-19)')) return;
    const dir = join(work, 'create-clangd');
    const vmlinux = readFileSync(join(vmlinuxDir!, 'vmlinux.h'), 'utf8');
    await createProgram({
      template: tpl('ringbuf'),
      name: 'procs',
      dir,
      vmlinux: fakeVmlinux(vmlinux),
      clang: 'clang',
      arch: ARCH,
    });
    const clangdCheck = async () => {
      const r = await run(clangd!, ['--check=procs.bpf.c'], { cwd: dir, maxBuffer: 64 << 20 }).catch(
        (e: { stdout?: string; stderr?: string }) => e,
      );
      return `${r.stdout ?? ''}${r.stderr ?? ''}`;
    };
    assert.match(await clangdCheck(), /All checks completed, 0 errors/);
    rmSync(join(dir, 'compile_commands.json'));
    assert.match(await clangdCheck(), /All checks completed, 0 errors/, '.clangd alone');
  });

  test('a created program builds with the command compile_commands.json gives it', async (t) => {
    const clang = findClangMajor(19) ?? findClangMajor(14);
    if (!need(t, clang ? vmlinuxProblem : 'no clang-14 or clang-19')) return;
    const dir = join(work, 'create-build');
    const vmlinux = readFileSync(join(vmlinuxDir!, 'vmlinux.h'), 'utf8');
    await createProgram({
      template: tpl('ringbuf'),
      name: 'procs',
      dir,
      vmlinux: fakeVmlinux(vmlinux),
      clang: clang!,
      arch: ARCH,
    });
    const [entry] = JSON.parse(readFileSync(join(dir, 'compile_commands.json'), 'utf8')) as {
      arguments: string[];
      directory: string;
    }[];
    execFileSync(entry.arguments[0], entry.arguments.slice(1), { cwd: entry.directory });
    assert.ok(existsSync(join(dir, 'procs.bpf.o')));
  });
});
