/** The analysis cache stays bounded under long editing (issue 15.12), and keeps what every analysis reads. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DocumentStore } from '../../server/src/document-store';
import { runRules } from '../../server/src/diagnostics/engine';
import {
  analysisCounters,
  CACHE_GENERATION,
  cacheSize,
  memo,
  withIsolatedCache,
} from '../../server/src/diagnostics/function-cache';
import { loadCLanguage } from '../../server/src/parser';

test('100,000 distinct keys: the cache holds at most two generations, and a key read all along stays', () =>
  withIsolatedCache(() => {
    let computed = 0;
    const hot = () =>
      memo('hot', () => {
        computed++;
        return 1;
      });
    hot();
    let peak = 0;
    for (let i = 0; i < 100000; i++) {
      memo(`edit ${i}`, () => i);
      if (i % 100 === 0) hot(); // an unchanged function's findings, read on every analysis
      peak = Math.max(peak, cacheSize());
    }
    assert.ok(peak <= 2 * CACHE_GENERATION, `peak ${peak} entries`);
    assert.equal(computed, 1, 'the hot entry was never dropped');
  }));

const PROGRAM = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
\t__uint(type, BPF_MAP_TYPE_HASH);
\t__uint(max_entries, 64);
\t__type(key, u32);
\t__type(value, u64);
} counts SEC(".maps");

static __always_inline u64 *lookup(u32 key)
{
\treturn bpf_map_lookup_elem(&counts, &key);
}

static __always_inline void bump(u32 key)
{
\tu64 *v = lookup(key);
\tif (v)
\t\t__sync_fetch_and_add(v, 1);
}

SEC("kprobe/do_unlinkat")
int on_unlink(void *ctx)
{
\tbump(1);
\treturn 0;
}

SEC("kprobe/do_sys_openat2")
int on_open(void *ctx)
{
\tu32 zero = 0;
\tbpf_map_lookup_elem(&counts, &zero);
\treturn 0;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** Applies `insert` at the first `at` in the text through the store, and returns the analysis counters' deltas. */
function editCounters(
  store: DocumentStore,
  text: string,
  version: number,
  at: string,
  insert: string,
): { text: string; hashed: number; depKeys: number; ruleRuns: number } {
  const before = { ...analysisCounters };
  const k = text.indexOf(at) + at.length;
  const next = text.slice(0, k) + insert + text.slice(k);
  runRules(store.update('file:///c.bpf.c', version, next));
  return {
    text: next,
    hashed: analysisCounters.hashedFunctions - before.hashedFunctions,
    depKeys: analysisCounters.dependencyKeys - before.dependencyKeys,
    ruleRuns: analysisCounters.ruleRuns - before.ruleRuns,
  };
}

test('an edit inside one function body re-hashes only that function and re-keys only it and its callers', async () => {
  const language = await loadCLanguage();
  withIsolatedCache(() => {
    const store = new DocumentStore(language);
    runRules(store.update('file:///c.bpf.c', 1, PROGRAM));
    // on_open calls no function of the file and nothing calls it: it alone is re-keyed.
    let r = editCounters(store, PROGRAM, 2, 'u32 zero = 0;', '\n\tu32 one = 1;');
    assert.equal(r.hashed, 1);
    assert.equal(r.depKeys, 1);
    assert.ok(r.ruleRuns > 0, 'the rules ran on the changed function');
    // lookup() is called by bump(), which on_unlink() calls: the three get new keys, on_open keeps its own.
    r = editCounters(store, r.text, 3, 'return bpf_map_lookup_elem(&counts, &key);', '\n\t/* note */');
    assert.equal(r.hashed, 1);
    assert.equal(r.depKeys, 3);
    // Typing back a text seen before: everything comes from the cache, no rule runs.
    const undo = r.text.replace('\n\t/* note */', '');
    const before = analysisCounters.ruleRuns;
    runRules(store.update('file:///c.bpf.c', 4, undo));
    assert.equal(analysisCounters.ruleRuns, before);
    store.close('file:///c.bpf.c');
  });
});

test('an edit outside function bodies re-keys every function', async () => {
  const language = await loadCLanguage();
  withIsolatedCache(() => {
    const store = new DocumentStore(language);
    runRules(store.update('file:///c.bpf.c', 1, PROGRAM));
    const r = editCounters(store, PROGRAM, 2, '__uint(max_entries, 64', '0');
    assert.equal(r.depKeys, 4);
    store.close('file:///c.bpf.c');
  });
});

test('one analysis of a 2,570-line file fits in a cache generation: the same text again runs no rule', async () => {
  // When a generation is smaller than what one analysis reads, the cache turns over in the middle of
  // the analysis and drops entries it (and every later edit) needs again: the first analysis of
  // fs_agent took ~60 ms longer with 4,000 entries per generation.
  const language = await loadCLanguage();
  const text = readFileSync(join(__dirname, '..', 'fixtures', 'bench', 'fs_agent.bpf.c'), 'utf8');
  withIsolatedCache(() => {
    const store = new DocumentStore(language);
    const uri = 'file:///fs_agent.bpf.c';
    const before = analysisCounters.ruleRuns;
    runRules(store.update(uri, 1, text));
    const firstRuns = analysisCounters.ruleRuns - before;
    assert.ok(firstRuns > 100, `the rules ran on the file's functions (${firstRuns} runs)`);
    assert.ok(cacheSize() < CACHE_GENERATION, `${cacheSize()} entries after one analysis`);
    const again = analysisCounters.ruleRuns;
    runRules(store.update(uri, 2, text));
    assert.equal(analysisCounters.ruleRuns - again, 0, 'every finding came from the cache');
    store.close(uri);
  });
});
