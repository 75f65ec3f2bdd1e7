/**
 * Incremental analysis equals a from-scratch analysis: random edits (mostly inside function bodies, as
 * people type; some anywhere) applied one after another through the DocumentStore, as the server does,
 * and after each the rules' findings compared with those of a fresh document analysed with an empty
 * cache. Deterministic (seeded) so a failure reproduces.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BpfDocument } from '../../server/src/bpf-document';
import { DocumentStore } from '../../server/src/document-store';
import { runRules, type EngineDiagnostic } from '../../server/src/diagnostics/engine';
import { analysisCounters, functionsOf, withIsolatedCache } from '../../server/src/diagnostics/function-cache';
import { CParser, loadCLanguage } from '../../server/src/parser';

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 400);
const ROOT = join(__dirname, '..', '..');

function corpus(): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const dir of ['test/fixtures/bench', 'test/fixtures/realistic', 'test/fixtures/mistakes/programs']) {
    const abs = join(ROOT, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs).sort())
      if (f.endsWith('.bpf.c')) out.push({ name: `${dir}/${f}`, text: readFileSync(join(abs, f), 'utf8') });
  }
  return out;
}

const TOKENS = [
  ' ',
  '\n',
  ';',
  '{',
  '}',
  '(',
  ')',
  'x',
  '0',
  '->',
  '*',
  '/*',
  '*/',
  '//',
  '"',
  'return 0;',
  'while (1) {}',
  'bpf_printk("%q\\n", 1);',
  'bpf_printk("\\033[0m %d %d\\n", 1);',
  'float f = 1.5;',
  'char big[600];',
  'struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);',
  'e->pid = 1;',
  'bpf_map_lookup_elem(&counts, &key);',
  'SEC("kprobe/foo")',
  'bpf_for(i, 0, 10)',
  'memcpy(dst, src, n);',
];

const show = (d: EngineDiagnostic) =>
  `${d.start}-${d.end} ${d.severity} [${d.code}] ${d.message}` +
  (d.related ?? []).map((r) => ` related ${r.start}-${r.end}`).join('') +
  (d.fixes ?? []).map((f) => ` fix ${f.edits.map((e) => `${e.start}-${e.end}:${JSON.stringify(e.newText)}`)}`).join('');

test(`${ITERATIONS} random edits: incremental findings equal a from-scratch analysis`, async () => {
  const language = await loadCLanguage();
  const parser = new CParser(language);
  const files = corpus();
  assert.ok(files.length >= 8, 'corpus found');
  let seed = 424242;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % Math.max(1, n);
  };
  let compared = 0;
  let treeDiffers = 0;
  const carried = analysisCounters.carriedOver;
  for (let f = 0; f < files.length; f++) {
    const store = new DocumentStore(language);
    const uri = `file:///fuzz/${f}.bpf.c`;
    let text = files[f].text;
    let doc = store.update(uri, 0, text);
    const history: string[] = [text];
    const edits = Math.ceil(ITERATIONS / files.length);
    for (let e = 1; e <= edits; e++) {
      // Mostly inside a function body; sometimes anywhere.
      const fns = functionsOf(doc);
      let at = rand(text.length + 1);
      if (fns.length && rand(10) < 8) {
        const fn = fns[rand(fns.length)];
        const open = text.indexOf('{', fn.startIndex);
        if (open >= 0 && open < fn.endIndex) at = open + 1 + rand(Math.max(1, fn.endIndex - open - 1));
      }
      switch (rand(3)) {
        case 0:
          text = text.slice(0, at) + TOKENS[rand(TOKENS.length)] + text.slice(at);
          break;
        case 1:
          text = text.slice(0, at) + text.slice(at + 1 + rand(12));
          break;
        default:
          text = text.slice(0, at) + String.fromCharCode(32 + rand(95)) + text.slice(at);
      }
      doc = store.update(uri, e, text);
      if (process.env.FUZZ_DUMP) history.push(text);
      const incremental = runRules(doc).map(show);
      const fresh = withIsolatedCache(() => {
        const d = new BpfDocument(uri, e, text, parser);
        try {
          assert.equal(doc.mask.masked, d.mask.masked, `${files[f].name} edit ${e}: masked text`);
          assert.deepEqual(doc.mask, d.mask, `${files[f].name} edit ${e}: masking`);
          // tree-sitter's incremental parse may recover from syntax errors differently than a fresh parse
          // (same text, another tree): the analysis can only be compared on the same tree.
          if (d.root?.toString() !== doc.root?.toString()) return undefined;
          return runRules(d).map(show);
        } finally {
          d.dispose();
        }
      });
      if (!fresh) {
        treeDiffers++;
        continue;
      }
      if (process.env.FUZZ_DUMP && JSON.stringify(incremental) !== JSON.stringify(fresh))
        writeFileSync(process.env.FUZZ_DUMP, JSON.stringify({ history }));
      assert.deepEqual(incremental, fresh, `${files[f].name} after edit ${e} at ${at}`);
      compared++;
    }
    store.close(uri);
  }
  // Most edits fall inside one function body: the path that takes over the previous version's analysis
  // (keys, call graph, findings) must be the one compared here, not only the from-scratch one.
  const tookOver = analysisCounters.carriedOver - carried;
  assert.ok(tookOver >= ITERATIONS * 0.2, `${tookOver} edits took over the previous version's analysis`);
  assert.ok(
    compared >= (compared + treeDiffers) * 0.8 && compared >= ITERATIONS * 0.7,
    `${compared} edits compared (${treeDiffers} skipped: tree-sitter recovered another tree)`,
  );
});

test("global-func-arg: an edit of a caller's argument re-judges the global function it calls (error <-> warning)", async () => {
  const language = await loadCLanguage();
  const parser = new CParser(language);
  const store = new DocumentStore(language);
  const uri = 'file:///incremental/global-func-arg.bpf.c';
  const fixture = join(ROOT, 'test/fixtures/rules/global-func-arg/bad-global-kernel-arg.bpf.c');
  const kernelArg = readFileSync(fixture, 'utf8');
  assert.ok(kernelArg.includes('last_tgid = task_tgid(p);'), 'the fixture passes the BTF pointer');
  // The caller passes a stack copy instead: memory the global function may take, so only a warning.
  const stackArg = kernelArg.replace(
    'last_tgid = task_tgid(p);',
    'struct task_struct t = {};\n\tlast_tgid = task_tgid(&t);',
  );
  const severityAt = (text: string, version: number) => {
    const doc = store.update(uri, version, text);
    const fresh = withIsolatedCache(() => {
      const d = new BpfDocument(uri, version, text, parser);
      try {
        return runRules(d).map(show);
      } finally {
        d.dispose();
      }
    });
    const incremental = runRules(doc).map(show);
    assert.deepEqual(incremental, fresh, `version ${version}: incremental equals from scratch`);
    return runRules(doc).find((d) => d.code === 'global-func-arg' && /'task_tgid'/.test(d.message))?.severity;
  };
  assert.equal(severityAt(kernelArg, 1), 'error');
  assert.equal(severityAt(stackArg, 2), 'warning');
  assert.equal(severityAt(kernelArg, 3), 'error');
  store.close(uri);
});
