#!/usr/bin/env node
// Writes server/data/usage-frequency.json: how often real BPF programs call each helper, kfunc and
// libbpf macro, which completion uses to rank them (the ones people use most first).
//
// Usage: node server/scripts/gen-usage-frequency.mjs [out.json]
//
// Counted over the realistic BPF C sources of this repository (written in the style of libbpf-tools and
// libbpf-bootstrap: the templates, the realistic and mistake-corpus programs, the benchmark corpus, the
// rules' good fixtures) and their .bpf.h headers: every `name(` of a known helper, kfunc or macro.
// Only counts are committed, never the sources' code.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outPath = process.argv[2] ?? join(here, '..', 'data', 'usage-frequency.json');
const data = (f) => JSON.parse(readFileSync(join(here, '..', 'data', f), 'utf8'));

const known = new Set([
  ...data('helpers.json').map((h) => h.name),
  ...data('kfuncs.json').kfuncs.map((k) => k.name),
  ...data('macros.json').map((m) => m.name),
]);

const DIRS = [
  'bpf-templates',
  'test/fixtures/realistic',
  'test/fixtures/mistakes/programs',
  'test/fixtures/bench',
  'test/fixtures/rules',
];
const files = [];
const walk = (d) => {
  for (const e of readdirSync(d)) {
    const p = join(d, e);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.bpf\.[ch]$/.test(e) && !/\/rules\/[^/]+\/bad-/.test(p)) files.push(p);
  }
};
for (const d of DIRS) {
  try {
    walk(join(root, d));
  } catch {
    // a folder that does not exist (yet) counts nothing
  }
}
files.sort();

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
writeFileSync(
  outPath,
  JSON.stringify(
    {
      source: `calls counted by server/scripts/gen-usage-frequency.mjs over ${files.length} BPF C files of this repository: ${DIRS.join(', ')} (rules' bad fixtures excluded)`,
      files: files.length,
      counts: sorted,
    },
    null,
    2,
  ) + '\n',
);
console.log(`${outPath}: ${counts.size} names from ${files.length} files (${relative(root, outPath)})`);
