#!/usr/bin/env node
// Measures the language server on real BPF programs that nobody here wrote (e.g. a clone of
// iovisor/bcc's libbpf-tools, or libbpf-bootstrap's examples/c): which of them compile and pass this
// kernel's verifier, then what `bpf-ide check` reports on the ones that pass. An error on a program the
// kernel accepted is a false error. Their code is not part of this repository: give the directory.
// Programs are the *.bpf.c files, and the *.c files that are BPF programs by their content (a SEC(...)
// and no main(): xdp-tutorial, bpf-examples and cilium/ebpf name theirs xdp_prog_kern.c, filter.c, ...).
//
// Usage: node scripts/measure-real-programs.mjs DIR [--no-load] [--no-clang] [--json OUT] [--files a,b,...]
//   DIR        a directory holding BPF programs (searched recursively) and the headers they include
//   --no-load  skip the load (treat every program that compiles as verifier-passing; for machines without BPF)
//   --no-clang check with bpf-ide's rules only (no clang -fsyntax-only diagnostics)
//   --json OUT write every program's result and every finding to OUT
//   --files    only these programs (base names, comma separated)
//
// Steps, per program: clang -target bpf -D__TARGET_ARCH_<arch> -g -O2 -I<its dir> -I<headers/ and include/
// beside it or beside any directory above it, up to DIR: where XDP trees keep <xdp/parsing_helpers.h>,
// <bpf/vmlinux.h>> -I<DIR> -I<vmlinux.h dir> -D<what a BPF_CFLAGS file in its directory or one above says:
// the defines a project's configure step would pass, e.g. xdp-tools' -DHAVE_LIBBPF_BPF_PROGRAM__TYPE> (a
// vmlinux.h of the running kernel is generated with `bpf-ide vmlinux` unless DIR has one), then the
// object is loaded through the agent (`bpf-ide run OBJ --json`: programs one by one, no attach, all
// released at the end); a program passes when every program of its object loaded. Then `bpf-ide check
// --json` with the same include paths over the passing programs. Needs `npm run build` (dist/bpf-ide.js),
// root for the load. Prints `#` lines (per program and per finding) and
//   BENCH lsp_false_errors_real_programs ours=<errors> baseline=0 ratio=<1 when 0 else 0> (...)
// Exit 0 when it measured (whatever the counts), 1 when it could not, 2 on bad usage.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'bpf-ide.js');

const args = process.argv.slice(2);
const opt = { load: true, clang: true, json: undefined, files: undefined, dir: undefined };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--no-load') opt.load = false;
  else if (a === '--no-clang') opt.clang = false;
  else if (a === '--json') opt.json = args[++i];
  else if (a === '--files') opt.files = new Set((args[++i] ?? '').split(',').filter(Boolean));
  else if (a.startsWith('-')) usage(`unknown option ${a}`);
  else if (opt.dir) usage('one directory only');
  else opt.dir = resolve(a);
}
if (!opt.dir) usage('give the directory of real programs');
if (!existsSync(opt.dir) || !statSync(opt.dir).isDirectory()) usage(`${opt.dir} is not a directory`);
if (!existsSync(cli)) fail(`${cli} is missing: run npm run build first`);

function usage(msg) {
  console.error(
    `measure-real-programs: ${msg}\nusage: node scripts/measure-real-programs.mjs DIR [--no-load] [--no-clang] [--json OUT] [--files a,b]`,
  );
  process.exit(2);
}
function fail(msg) {
  console.error(`measure-real-programs: ${msg}`);
  process.exit(1);
}

const programs = [];
const headerDirs = new Set();
const walk = (d) => {
  for (const e of readdirSync(d).sort()) {
    const p = join(d, e);
    const st = statSync(p);
    if (st.isDirectory()) {
      if (!e.startsWith('.') && e !== 'node_modules') walk(p);
    } else if (e.endsWith('.bpf.c') || (e.endsWith('.c') && isBpfSource(p))) {
      if (!opt.files || opt.files.has(e.replace(/(\.bpf)?\.c$/, ''))) programs.push(p);
    }
  }
};
walk(opt.dir);

/** A *.c file that is a BPF program rather than its loader: it puts something in an ELF section and has no main(). */
function isBpfSource(file) {
  const text = readFileSync(file, 'utf8');
  return /\bSEC\(\s*"/.test(text) && !/\bint\s+main\s*\(/.test(text);
}

/**
 * The -D flags of BPF_CFLAGS files in the program's directory or any directory above it, up to DIR:
 * what a project's configure step passes to its BPF build (only -DNAME[=VALUE] is taken).
 */
function treeDefines(file) {
  const out = [];
  for (let d = dirname(file); ; d = dirname(d)) {
    const f = join(d, 'BPF_CFLAGS');
    if (existsSync(f))
      for (const t of readFileSync(f, 'utf8').split(/\s+/)) if (/^-D\w+(=\S*)?$/.test(t)) out.push(t.slice(2));
    if (d === opt.dir || relative(opt.dir, d).startsWith('..') || dirname(d) === d) break;
  }
  return out;
}

/** headers/ and include/ directories beside the program's directory or any directory above it, up to DIR. */
function treeIncludeDirs(file) {
  const out = [];
  for (let d = dirname(file); ; d = dirname(d)) {
    for (const name of ['headers', 'include']) {
      const c = join(d, name);
      if (existsSync(c) && statSync(c).isDirectory()) out.push(c);
    }
    if (d === opt.dir || relative(opt.dir, d).startsWith('..') || dirname(d) === d) break;
  }
  return out;
}
if (programs.length === 0) fail(`no BPF program (*.bpf.c, or *.c with a SEC() and no main()) under ${opt.dir}`);

const work = mkdtempSync(join(tmpdir(), 'bpf-ide-real-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

// A vmlinux.h of this kernel, unless the directory brings one.
const hasVmlinux = existsSync(join(opt.dir, 'vmlinux.h'));
const vmlinuxDir = hasVmlinux ? opt.dir : join(work, 'vmlinux');
if (!hasVmlinux) {
  mkdirSync(vmlinuxDir, { recursive: true });
  const r = spawnSync(process.execPath, [cli, 'vmlinux', '-o', join(vmlinuxDir, 'vmlinux.h')], { encoding: 'utf8' });
  if (r.status !== 0) fail(`bpf-ide vmlinux failed: ${(r.stderr || r.stdout).trim()}`);
}
// The host's system include directories after everything else, as libbpf-bootstrap's Makefile does
// (CLANG_BPF_SYS_INCLUDES): with -target bpf clang does not search /usr/include/<triplet>, which
// <errno.h> and friends need.
const sysIncludes = (() => {
  const r = spawnSync('clang', ['-v', '-E', '-'], { input: '', encoding: 'utf8' });
  if (r.error) fail(`clang: ${r.error.message}`);
  const m = /<\.\.\.> search starts here:\n([\s\S]*?)End of search list/.exec(r.stderr ?? '');
  // glibc's <gnu/stubs.h> picks stubs-32.h when __x86_64__ is not defined (it is not for -target bpf);
  // without gcc-multilib that file is missing. It only lists unimplemented functions: an empty one does.
  const shim = join(work, 'shim');
  mkdirSync(join(shim, 'gnu'), { recursive: true });
  writeFileSync(join(shim, 'gnu', 'stubs-32.h'), '');
  const dirs = (m?.[1] ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return [...dirs, shim].flatMap((d) => ['-idirafter', d]);
})();
const arch =
  { x64: 'x86', arm64: 'arm64', s390x: 's390', ppc64: 'powerpc', riscv64: 'riscv', loong64: 'loongarch' }[
    process.arch
  ] ?? process.arch;

const results = [];
for (const file of programs) {
  const name = relative(opt.dir, file);
  const res = {
    file: name,
    compiled: false,
    loaded: undefined,
    reason: undefined,
    programs: [],
    defines: treeDefines(file),
  };
  results.push(res);
  const obj = join(work, `${basename(file).replace(/(\.bpf)?\.c$/, '')}-${results.length}.bpf.o`);
  const treeDirs = treeIncludeDirs(file);
  const includes = [dirname(file), ...treeDirs, opt.dir, vmlinuxDir].flatMap((d) => ['-I', d]);
  for (const d of [dirname(file), ...treeDirs]) headerDirs.add(d);
  const cc = spawnSync(
    'clang',
    // An undeclared function is an error (as clang >= 16 makes it): the object would not load anyway.
    [
      '-target',
      'bpf',
      `-D__TARGET_ARCH_${arch}`,
      '-g',
      '-O2',
      '-Werror=implicit-function-declaration',
      ...res.defines.map((d) => `-D${d}`),
      ...includes,
      ...sysIncludes,
      '-c',
      file,
      '-o',
      obj,
    ],
    {
      encoding: 'utf8',
    },
  );
  if (cc.error) fail(`clang: ${cc.error.message}`);
  if (cc.status !== 0) {
    res.reason = `compile: ${firstError(cc.stderr)}`;
    console.log(`# ${name}: does not compile: ${firstError(cc.stderr)}`);
    continue;
  }
  res.compiled = true;
  if (!opt.load) {
    res.loaded = true;
    continue;
  }
  const run = spawnSync(process.execPath, [cli, 'run', obj, '--json'], { encoding: 'utf8', timeout: 120_000 });
  let report;
  try {
    report = JSON.parse(run.stdout);
  } catch {
    res.loaded = false;
    res.reason = `load: bpf-ide run exited ${run.status}: ${firstError(run.stderr)}`;
    console.log(`# ${name}: ${res.reason}`);
    continue;
  }
  res.programs = (report.programs ?? []).map((p) => ({
    name: p.name,
    section: p.section,
    loaded: p.loaded,
    // A program libbpf could not type from its section name (SEC("xdp/pass") in libbpf 1.1: type
    // "unspec") never reached the verifier; nor did one refused with a bare errno ("Invalid argument"
    // is the errno's text, not the verifier's "invalid access ...").
    verified:
      p.loaded ||
      p.verifier?.stats?.processed_insns != null ||
      (p.type !== 'unspec' &&
        /\bR\d+ |invalid|unbounded|misaligned|expected|program too large|too many|unreleased|reference/i.test(
          (p.verifier?.error?.message ?? '').replace(
            /^(Invalid argument|Permission denied|Operation not permitted)\b/,
            '',
          ),
        )),
    error:
      p.type === 'unspec' ? `libbpf cannot tell the program type from SEC("${p.section}")` : p.verifier?.error?.message,
  }));
  // A program the kernel refused before verifying it (this kernel refuses BPF trampolines, an attach
  // target it does not have) says nothing about the code: the file passes when every program the
  // verifier looked at passed, and at least one did.
  const rejected = res.programs.filter((p) => !p.loaded && p.verified);
  const refused = res.programs.filter((p) => !p.loaded && !p.verified);
  res.refused = refused.map((p) => `${p.name} (${p.section}): ${oneLine(p.error)}`);
  res.loaded = rejected.length === 0 && res.programs.some((p) => p.loaded);
  if (!res.loaded) {
    res.reason = rejected.length
      ? `load: the verifier rejected ${rejected.length}/${res.programs.length} programs, first ${rejected[0].name} (${rejected[0].section}): ${oneLine(rejected[0].error)}`
      : report.error
        ? `load: ${oneLine(report.error)}`
        : refused.length
          ? `load: every program refused before verification, first ${refused[0].name} (${refused[0].section}): ${oneLine(refused[0].error)}`
          : 'load: no program in the object';
    console.log(`# ${name}: ${res.reason}`);
  } else
    console.log(
      `# ${name}: ${res.programs.length - refused.length} programs pass the verifier` +
        (refused.length ? ` (${refused.length} refused before verification: ${oneLine(refused[0].error)})` : ''),
    );
}

const passing = results.filter((r) => r.loaded);
const findings = [];
if (passing.length) {
  // check takes -I only: the system directories go last, as -idirafter does.
  const includeArgs = [
    ...[...headerDirs].flatMap((d) => ['-I', d]),
    ...['-I', opt.dir, '-I', vmlinuxDir],
    ...sysIncludes.filter((a) => a !== '-idirafter').flatMap((d) => ['-I', d]),
  ];
  // In slices of files compiled with the same defines, so one command line stays short and a rule that
  // throws on one file is seen per slice.
  const groups = new Map();
  for (const r of passing) {
    const key = r.defines.join(' ');
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const slices = [...groups.values()].flatMap((g) =>
    Array.from({ length: Math.ceil(g.length / 20) }, (_, i) => g.slice(i * 20, i * 20 + 20)),
  );
  for (const group of slices) {
    const slice = group.map((r) => join(opt.dir, r.file));
    const defines = group[0].defines.flatMap((d) => ['-D', d]);
    const chk = spawnSync(
      process.execPath,
      [cli, 'check', '--json', ...(opt.clang ? [] : ['--no-clang']), ...defines, ...includeArgs, ...slice],
      { encoding: 'utf8', maxBuffer: 64 << 20, cwd: opt.dir },
    );
    if (chk.status === 2 || chk.error) fail(`bpf-ide check failed: ${chk.error?.message ?? chk.stderr}`);
    if (chk.status === 3) console.log(`# a rule failed (threw) on some file: ${oneLine(chk.stderr)}`);
    for (const f of JSON.parse(chk.stdout)) findings.push({ ...f, file: relative(opt.dir, resolve(opt.dir, f.file)) });
  }
}

const by = (sev) => findings.filter((f) => f.severity === sev);
const errors = by('error');
const warnings = by('warning');
const infos = [...by('information'), ...by('hint')];
for (const f of [...errors, ...warnings, ...infos])
  console.log(
    `# ${f.severity} ${f.file}:${f.line}:${f.column} [${f.code}${f.source === 'clang' ? ', clang' : ''}] ${oneLine(f.message)}`,
  );
const codes = (list) => {
  const m = new Map();
  for (const f of list) m.set(f.code, (m.get(f.code) ?? 0) + 1);
  return (
    [...m]
      .sort((a, b) => b[1] - a[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ') || 'none'
  );
};
const compiled = results.filter((r) => r.compiled).length;
console.log(
  `# programs: ${results.length} found, ${compiled} compiled, ${passing.length} pass the verifier${opt.load ? '' : ' (not loaded: --no-load)'}`,
);
console.log(
  `# on the passing programs: ${errors.length} errors (${codes(errors)}), ${warnings.length} warnings (${codes(warnings)}), ${infos.length} information items (${codes(infos)})`,
);
console.log(
  `BENCH lsp_false_errors_real_programs ours=${errors.length} baseline=0 ratio=${errors.length ? 0 : 1}` +
    ` (${results.length} programs, ${compiled} compiled, ${passing.length} verifier-passing, ${warnings.length} warnings, ${infos.length} infos)`,
);
if (opt.json)
  writeFileSync(
    opt.json,
    JSON.stringify(
      { dir: opt.dir, found: results.length, compiled, passing: passing.length, results, findings },
      null,
      2,
    ) + '\n',
  );

function firstError(text) {
  const lines = (text ?? '').split('\n');
  return oneLine(lines.find((l) => /error/.test(l)) ?? lines.find((l) => l.trim()) ?? '');
}
function oneLine(s) {
  return (s ?? '').replace(/\s+/g, ' ').trim().slice(0, 300);
}
