#!/usr/bin/env node
// Runs the test tiers with node's built-in test runner (TypeScript through tsx).
// Usage: node scripts/run-tests.mjs [tier...]   tiers: unit lsp agent ssh vm e2e (default: all present)
// Each tier is a folder under test/ holding *.test.ts files. Tiers run one after the other so that
// tests needing the kernel, sshd or a VS Code don't compete for the machine's two cores.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const order = ['unit', 'lsp', 'agent', 'ssh', 'vm', 'e2e'];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const tiers = (wanted.length ? wanted : order).filter((t) => existsSync(join(root, 'test', t)));

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const files = tiers.flatMap((t) => findTests(join(root, 'test', t)));
if (files.length === 0) {
  console.error(`no test files found for tiers: ${tiers.join(' ') || '(none)'}`);
  process.exit(2);
}
// One node --test run over every file gives one summary (tests/pass/fail) for CI to read.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env },
});
process.exit(r.status ?? 1);
