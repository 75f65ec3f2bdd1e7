#!/usr/bin/env node
// Writes server/data/usage-frequency.json: how often real BPF programs call each helper, kfunc and
// libbpf macro, which completion uses to rank them (the ones people use most first).
//
// Usage: node server/scripts/gen-usage-frequency.mjs [--out FILE] [--with-repo] DIR...
//   DIR        directories of real BPF C code (searched recursively): *.bpf.c, *.bpf.h and the *.h next to
//              them, e.g. a clone's bcc/libbpf-tools and libbpf-bootstrap/examples/c. Public code is not
//              committed here: only the counts are. A SOURCES.txt in a DIR (lines `repo<TAB>path<TAB>commit`)
//              names where its files come from, for the JSON's "source" field.
//   --with-repo  also count this repository's own realistic BPF sources (templates, realistic,
//              mistake-corpus and benchmark programs, the rules' good fixtures)
//   --out FILE where to write (default server/data/usage-frequency.json)
// Without a DIR it counts this repository's own sources only (the fallback when no real code is at hand).
//
// Every `name(` of a known helper, kfunc or macro is counted, comments left out.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const data = (f) => JSON.parse(readFileSync(join(here, '..', 'data', f), 'utf8'));

const args = process.argv.slice(2);
let outPath = join(here, '..', 'data', 'usage-frequency.json');
let withRepo = false;
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--out') outPath = resolve(args[++i]);
  else if (args[i] === '--with-repo') withRepo = true;
  else if (args[i].startsWith('-')) {
    console.error(`gen-usage-frequency: unknown option ${args[i]}`);
    process.exit(2);
  } else {
    const d = resolve(args[i]);
    if (!existsSync(d) || !statSync(d).isDirectory()) {
      console.error(`gen-usage-frequency: ${args[i]} is not a directory`);
      process.exit(2);
    }
    dirs.push(d);
  }
}
if (dirs.length === 0) withRepo = true;

const known = new Set([
  ...data('helpers.json').map((h) => h.name),
  ...data('kfuncs.json').kfuncs.map((k) => k.name),
  ...data('macros.json').map((m) => m.name),
]);

// This repository's own realistic sources (rules' bad fixtures excluded: they are mistakes).
const REPO_DIRS = [
  'bpf-templates',
  'test/fixtures/realistic',
  'test/fixtures/mistakes/programs',
  'test/fixtures/bench',
  'test/fixtures/rules',
];

/** BPF C files under a directory: *.bpf.c, *.bpf.h, and the plain *.h of a directory that has *.bpf.c. */
function bpfFiles(dir, skip = () => false) {
  const out = [];
  const walk = (d) => {
    const entries = readdirSync(d).sort();
    const hasPrograms = entries.some((e) => e.endsWith('.bpf.c'));
    for (const e of entries) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) {
        // Architecture folders of libbpf-tools hold generated vmlinux.h files only.
        if (!e.startsWith('.') && e !== 'node_modules') walk(p);
      } else if (skip(p)) continue;
      else if (/\.bpf\.[ch]$/.test(e) || (hasPrograms && e.endsWith('.h') && !/^vmlinux/.test(e))) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const files = [];
const sources = [];
for (const d of dirs) {
  const found = bpfFiles(d);
  files.push(...found);
  // Where the files come from, when the directory says so.
  const byRepo = new Map();
  const listing = join(d, 'SOURCES.txt');
  const named = new Map();
  if (existsSync(listing))
    for (const line of readFileSync(listing, 'utf8').split('\n')) {
      const [repo, path, commit] = line.split('\t');
      if (repo && path && commit) named.set(basename(path), { repo, commit });
    }
  for (const f of found) {
    const n = named.get(basename(f));
    const key = n?.repo ?? relative(root, d);
    const e = byRepo.get(key) ?? { repo: key, files: 0, commits: new Set() };
    e.files++;
    if (n) e.commits.add(n.commit);
    byRepo.set(key, e);
  }
  for (const e of byRepo.values()) sources.push({ repo: e.repo, files: e.files, commits: [...e.commits].sort() });
}
if (withRepo) {
  let n = 0;
  for (const d of REPO_DIRS) {
    const abs = join(root, d);
    if (!existsSync(abs)) continue;
    const found = bpfFiles(abs, (p) => /\/rules\/[^/]+\/bad-/.test(p));
    n += found.length;
    files.push(...found);
  }
  sources.push({ repo: 'this repository', files: n, commits: [], dirs: REPO_DIRS });
}
if (files.length === 0) {
  console.error('gen-usage-frequency: no BPF C files found');
  process.exit(1);
}

const counts = new Map();
for (const f of files) {
  // Comments out, so prose does not count.
  const text = readFileSync(f, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/[^\n]*/g, ' ');
  for (const m of text.matchAll(/\b([A-Za-z_]\w*)\s*\(/g))
    if (known.has(m[1])) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
}
const sorted = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
const describe = (s) =>
  s.repo === 'this repository'
    ? `this repository's own realistic sources (${s.files} files: ${s.dirs.join(', ')}; rules' bad fixtures excluded)`
    : s.commits.length === 1
      ? `${s.repo} (${s.files} files at commit ${s.commits[0]})`
      : `${s.repo} (${s.files} files${s.commits.length ? ` taken at ${s.commits.length} commits, listed in "sources"` : ''})`;
writeFileSync(
  outPath,
  JSON.stringify(
    {
      source: `calls counted by server/scripts/gen-usage-frequency.mjs over ${files.length} BPF C files: ${sources.map(describe).join('; ')}`,
      files: files.length,
      sources,
      counts: sorted,
    },
    null,
    2,
  ) + '\n',
);
console.log(`${relative(process.cwd(), outPath) || outPath}: ${counts.size} names from ${files.length} files`);
