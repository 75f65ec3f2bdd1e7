/**
 * Fuzz: thousands of mutated BPF files through the analysis every request uses (parse, structure,
 * every rule, completion, hover, signature help, symbols). Nothing may throw, and every file must be
 * handled in bounded time. Deterministic (seeded) so a failure reproduces.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BpfDocument } from '../../server/src/bpf-document';
import { defaultServerSettings } from '../../server/src/config';
import { runRules } from '../../server/src/diagnostics/engine';
import { completion } from '../../server/src/features/completion';
import { hover } from '../../server/src/features/hover';
import { signatureHelp } from '../../server/src/features/signature-help';
import { documentSymbols } from '../../server/src/features/symbols';
import { HeaderIndex } from '../../server/src/header-index';
import { CParser, loadCLanguage } from '../../server/src/parser';
import type { ServerContext } from '../../server/src/server';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 3000);

function corpus(): string[] {
  const files: string[] = [];
  for (const dir of ['test/fixtures/bench', 'test/fixtures/realistic', 'bpf-templates']) {
    const abs = join(__dirname, '..', '..', dir);
    if (!existsSync(abs)) continue;
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (e.name.endsWith('.bpf.c')) files.push(readFileSync(join(d, e.name), 'utf8'));
      }
    };
    walk(abs);
  }
  return files;
}

const TOKENS = [
  'SEC("',
  'SEC("xdp")',
  '__uint(',
  '__type(key, u32);',
  '{',
  '}',
  '(',
  ')',
  ';',
  '->',
  '*',
  '"',
  "'",
  '/*',
  '*/',
  '//',
  '\n',
  '#if 0\n',
  '#endif\n',
  'bpf_for(',
  'while (1)',
  'return',
  '\\',
  '\u0000',
  '\uFFFD',
  '\uD800',
  'é',
  'ctx->',
  'bpf_map_lookup_elem(',
  'struct {',
  '} m SEC(".maps");',
];

test(`${ITERATIONS} mutated BPF files: no throw, bounded time`, async () => {
  const parser = new CParser(await loadCLanguage());
  const ctx: ServerContext = {
    store: undefined as never,
    headers: new HeaderIndex(),
    settings: defaultServerSettings(),
    target: null,
    log: () => undefined,
  };
  const base = corpus();
  let seed = 1234567;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % Math.max(1, n);
  };
  const ruleErrors: string[] = [];
  let worst = 0;
  let prev: BpfDocument | undefined;
  for (let i = 0; i < ITERATIONS; i++) {
    let text = base[rand(base.length)];
    const mutations = 1 + rand(8);
    for (let m = 0; m < mutations; m++) {
      const at = rand(text.length + 1);
      switch (rand(4)) {
        case 0:
          text = text.slice(0, at) + TOKENS[rand(TOKENS.length)] + text.slice(at);
          break;
        case 1:
          text = text.slice(0, at) + text.slice(at + 1 + rand(40));
          break;
        case 2:
          text = text.slice(0, at) + String.fromCharCode(rand(0x10000)) + text.slice(at + 1);
          break;
        default:
          text = text.slice(0, at); // truncated
      }
    }
    const t0 = performance.now();
    const doc = new BpfDocument(`file:///fuzz/${i}.bpf.c`, i, text, parser, prev && rand(2) ? prev : undefined);
    runRules(doc, { log: (msg) => ruleErrors.push(msg) });
    const offset = rand(text.length + 1);
    const pos = doc.positionAt(offset);
    completion(ctx, doc, pos);
    hover(ctx, doc, pos);
    signatureHelp(ctx, doc, pos);
    documentSymbols(doc);
    worst = Math.max(worst, performance.now() - t0);
    prev?.dispose();
    prev = doc;
  }
  prev?.dispose();
  assert.deepEqual(ruleErrors.slice(0, 5), [], `rules threw on mutated input (${ruleErrors.length} times)`);
  assert.ok(worst < 2000, `worst file took ${worst.toFixed(0)} ms`);
});
