#!/usr/bin/env node
// Generates client/src/core/verifier/data/kernel-messages.json: the verifier's own message format strings
// (the string literals passed to verbose(), bpf_log(), btf_verifier_log*(), verbose_linfo() ...) per kernel
// version, from the kernel sources. The verifier catalog (client/src/core/verifier/catalog-families.ts) groups
// them into families and `npm run catalog:coverage` reports how many families it explains.
//
// Usage: node server/scripts/gen-verifier-messages.mjs [<version>[=<linux source dir>] ...] [--out file]
//   default versions: 6.1 and 6.12 (Debian 12's linux-source-6.1 / linux-source-6.12) and 7.2 (Debian
//   trixie-backports' linux-source-7.2: the nearest source after this host's 6.18 that apt can fetch; Debian 12 has
//   no 6.18 source). A missing default tree is fetched with `apt-get download` and only kernel/bpf/,
//   net/core/filter.c and kernel/trace/bpf_trace.c are unpacked into ~/.cache/bpf-ide/kernel-src/<version>/.
//   7.2 needs trixie-backports in apt's sources: the script uses a private sources list in its cache dir.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cache = join(homedir(), '.cache', 'bpf-ide', 'kernel-src');
const argv = process.argv.slice(2);
const outIdx = argv.indexOf('--out');
const outPath =
  outIdx >= 0
    ? argv[outIdx + 1]
    : join(here, '..', '..', 'client', 'src', 'core', 'verifier', 'data', 'kernel-messages.json');
// `6.12` (fetched into the cache) or `6.12=/path/to/linux` (a source tree you have)
const given = argv.filter((a, i) => !a.startsWith('--') && (outIdx < 0 || i !== outIdx + 1));
const DEFAULTS = { 6.1: 'bookworm', 6.12: 'bookworm', 7.2: 'trixie-backports' };

/** Files whose log calls are the verifier's messages (BTF checks, program checks, attach checks). */
const FILES = [
  'kernel/bpf/verifier.c',
  'kernel/bpf/btf.c',
  'kernel/bpf/log.c',
  'kernel/bpf/bpf_lsm.c',
  'kernel/bpf/offload.c',
];
/** Later kernels split verifier.c: every kernel/bpf/*.c that calls verbose() is read too. */
const EXTRA_DIR = 'kernel/bpf';

/** Log functions and the index of their format argument. */
const LOGGERS = {
  verbose: 1,
  bpf_log: 1,
  bpf_verifier_log_write: 1,
  verbose_linfo: 2,
  btf_verifier_log: 1,
  __btf_verifier_log: 1,
  btf_verifier_log_type: 2,
  btf_verifier_log_member: 3,
  btf_verifier_log_vsi: 3,
  verbose_a: 0,
};

function sourceDir(version) {
  const arg = given.find((a) => a.startsWith(`${version}=`));
  if (arg) {
    const dir = arg.slice(version.length + 1);
    if (!existsSync(join(dir, 'kernel', 'bpf', 'verifier.c')) || !existsSync(join(dir, 'Makefile'))) {
      console.error(`${dir}: not a Linux source tree (no kernel/bpf/verifier.c or Makefile); give the top directory`);
      process.exit(2);
    }
    return dir;
  }
  if (!DEFAULTS[version]) {
    console.error(
      `${version}: no Debian source package known for it; give its source tree as ${version}=/path/to/linux`,
    );
    process.exit(2);
  }
  const dir = join(cache, version, `linux-source-${version}`);
  if (existsSync(join(dir, 'kernel', 'bpf', 'verifier.c'))) return dir;
  fetchSource(version);
  return dir;
}

function fetchSource(version) {
  const suite = DEFAULTS[version];
  mkdirSync(join(cache, version), { recursive: true });
  const apt = [];
  if (suite !== 'bookworm') {
    // a private sources list and state: the machine's apt configuration is left alone
    const priv = join(cache, 'apt');
    mkdirSync(join(priv, 'lists', 'partial'), { recursive: true });
    writeFileSync(
      join(priv, 'sources.list'),
      `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${suite} main\n`,
    );
    apt.push(
      '-o',
      `Dir::Etc::SourceList=${join(priv, 'sources.list')}`,
      '-o',
      'Dir::Etc::SourceParts=/dev/null',
      '-o',
      `Dir::State::Lists=${join(priv, 'lists')}`,
      '-o',
      `Dir::Cache=${join(priv, 'cache')}`,
    );
    execFileSync('apt-get', [...apt, 'update'], { stdio: 'inherit' });
  }
  const tmp = join(cache, `deb-${version}`);
  mkdirSync(tmp, { recursive: true });
  execFileSync('apt-get', [...apt, 'download', `linux-source-${version}`], { cwd: tmp, stdio: 'inherit' });
  const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
  execFileSync('sh', ['-c', `dpkg-deb --fsys-tarfile '${deb}' | tar -x --wildcards '*.tar.xz'`], { cwd: tmp });
  const tarball = join(tmp, 'usr', 'src', `linux-source-${version}.tar.xz`);
  const members = ['kernel/bpf/*', 'net/core/filter.c', 'kernel/trace/bpf_trace.c', 'Makefile'].map(
    (m) => `linux-source-${version}/${m}`,
  );
  execFileSync('tar', ['-xJf', tarball, '-C', join(cache, version), '--wildcards', ...members]);
  rmSync(tmp, { recursive: true, force: true });
}

/** The C string literal starting at s[i] (a '"'): its value and the index after it. */
function readString(s, i) {
  let out = '';
  i++;
  while (i < s.length && s[i] !== '"') {
    if (s[i] === '\\') {
      const c = s[i + 1];
      out += c === 'n' ? '\n' : c === 't' ? '\t' : c === '"' ? '"' : c === '\\' ? '\\' : c === "'" ? "'" : '\\' + c;
      i += 2;
    } else out += s[i++];
  }
  return [out, i + 1];
}

/** The arguments of the call whose '(' is at s[i], as raw text. */
function readArgs(s, i) {
  const args = [];
  let depth = 0;
  let cur = '';
  for (i++; i < s.length; i++) {
    const c = s[i];
    if (c === '"') {
      const start = i;
      const [, end] = readString(s, i);
      cur += s.slice(start, end);
      i = end - 1;
      continue;
    }
    if (c === "'") {
      const end = s.indexOf("'", i + (s[i + 1] === '\\' ? 3 : 2));
      cur += s.slice(i, end + 1);
      i = end;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) {
        args.push(cur.trim());
        return args;
      }
      depth--;
    }
    if (c === ',' && depth === 0) {
      args.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  return args;
}

/** The formats an argument can be: adjacent literals, or each branch of `cond ? "a" : "b"`. */
function literalFormats(arg) {
  const alternatives = arg.includes('?') ? arg.slice(arg.indexOf('?') + 1).split(/(?<=")\s*:\s*(?=")/) : [arg];
  const out = [];
  for (const alt of alternatives) {
    const t = alt.trim();
    if (!t.startsWith('"')) return [];
    let text = '';
    let i = 0;
    while (i < t.length) {
      while (i < t.length && /\s/.test(t[i])) i++;
      if (i >= t.length) break;
      if (t[i] !== '"') break; // a macro joined to the literal (e.g. "..." fmt): keep what is literal
      const [v, end] = readString(t, i);
      text += v;
      i = end;
    }
    out.push(text);
  }
  return out;
}

function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
}

/** Every log format in one file, with the function it is in. */
function formatsIn(path, rel) {
  const src = stripComments(readFileSync(path, 'utf8'));
  const found = [];
  const fnStarts = [];
  const fnRe = /^[a-zA-Z_][^\n;=]*?\b(\w+)\s*\([^;]*?\)\s*\n?\{/gm;
  for (let m; (m = fnRe.exec(src));) fnStarts.push([m.index, m[1]]);
  const callRe = new RegExp(`\\b(${Object.keys(LOGGERS).join('|')})\\s*\\(`, 'g');
  for (let m; (m = callRe.exec(src));) {
    const before = src.slice(Math.max(0, m.index - 30), m.index);
    if (/#define\s+$|void\s+\**$|\bint\s+$/.test(before)) continue; // the logger's own definition
    const args = readArgs(src, m.index + m[0].length - 1);
    const arg = args[LOGGERS[m[1]]];
    if (!arg) continue;
    let fn = '';
    for (const [at, name] of fnStarts) if (at < m.index) fn = name;
    // a format with a newline inside prints several lines: each is a format of its own
    for (const f of literalFormats(arg).flatMap((x) => x.replace(/\n(?=.)/g, '\n\0').split('\0'))) {
      const fmt = f.replace(/\n+$/, '');
      // btf_verifier_log*() end the line themselves, and the _type/_member/_vsi ones start it with the BTF
      // type they are about ("[3] STRUCT foo size=8 vlen=1 Invalid member"): the format is not the line's start
      const btf = m[1].startsWith('btf_verifier_log') || m[1] === '__btf_verifier_log';
      const prefixed = /^btf_verifier_log_(type|member|vsi)$/.test(m[1]);
      // no trailing newline: the line goes on with what the next call prints (a part of a line)
      const part = !btf && !f.endsWith('\n');
      if (fmt.trim()) found.push({ fmt, part, prefixed, where: `${rel.replace(/^.*\//, '')}:${fn}` });
    }
  }
  return found;
}

const versions = given.length
  ? given.map((a) => (a.includes('=') ? a.slice(0, a.indexOf('=')) : a))
  : Object.keys(DEFAULTS);
/** fmt -> { kernels: Set, where: Set } */
const all = new Map();
const kernels = {};
for (const v of versions) {
  const dir = sourceDir(v);
  const mk = readFileSync(join(dir, 'Makefile'), 'utf8');
  const ver = ['VERSION', 'PATCHLEVEL', 'SUBLEVEL'].map((k) => new RegExp(`^${k} = (\\d+)`, 'm').exec(mk)?.[1]);
  const files = new Set(FILES);
  for (const f of readdirSync(join(dir, EXTRA_DIR)))
    if (f.endsWith('.c') && /\bverbose\(env/.test(readFileSync(join(dir, EXTRA_DIR, f), 'utf8')))
      files.add(`${EXTRA_DIR}/${f}`);
  let n = 0;
  for (const rel of [...files].sort()) {
    if (!existsSync(join(dir, rel)) || rel.endsWith('/disasm.c')) continue; // disasm.c prints instructions
    for (const { fmt, part, prefixed, where } of formatsIn(join(dir, rel), rel)) {
      const e = all.get(fmt) ?? { kernels: new Set(), where: new Set(), part: true, prefixed: false };
      e.part &&= part;
      e.prefixed ||= prefixed;
      e.kernels.add(v);
      e.where.add(where);
      all.set(fmt, e);
      n++;
    }
  }
  kernels[v] = { release: ver.join('.'), source: `Debian linux-source-${v} (${ver.join('.')})`, calls: n };
  console.log(`${v} (${ver.join('.')}): ${n} log calls`);
}
const messages = [...all.entries()]
  .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  .map(([fmt, e]) => ({
    fmt,
    ...(e.part ? { part: true } : {}),
    ...(e.prefixed ? { prefixed: true } : {}),
    kernels: versions.filter((v) => e.kernels.has(v)),
    where: [...e.where].sort().slice(0, 3),
  }));
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(
  outPath,
  JSON.stringify({ generator: 'server/scripts/gen-verifier-messages.mjs', kernels, messages }, null, 0)
    .replace(/\},\{"fmt"/g, '},\n{"fmt"')
    .replace('"messages":[', '"messages":[\n') + '\n',
);
for (const v of versions) console.log(`${v}: ${messages.filter((m) => m.kernels.includes(v)).length} distinct formats`);
console.log(`wrote ${outPath}: ${messages.length} formats`);
