#!/usr/bin/env node
// Writes docs/verifier-catalog-coverage.md and prints, per kernel version, how many verifier message families the
// catalog explains. Run with `npm run catalog:coverage` (node --import tsx: the catalog is TypeScript).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coverageLines, coverageMarkdown } from '../client/src/core/verifier/catalog-coverage-report.ts';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'verifier-catalog-coverage.md');
writeFileSync(out, coverageMarkdown());
for (const l of coverageLines()) console.log(l);
console.log(`wrote ${out}`);
