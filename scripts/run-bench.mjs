#!/usr/bin/env node
// Runs every benchmark (test/bench/*.bench.ts) one after the other; each prints
// `BENCH <name> ours=<value><unit> baseline=<value><unit> ratio=<x>` lines.
// Usage: node scripts/run-bench.mjs [name-filter]
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2] ?? '';
const dir = join(root, 'test', 'bench');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && f.includes(filter))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`# ${f}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    failed++;
    console.log(`# ${f} failed (exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
