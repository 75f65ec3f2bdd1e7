// Functions and macros of included headers (server/src/header-declarations.ts): read from the text of
// the corpus's own headers and libbpf's, summarised for the rules, and used by them on
// test/fixtures/headers (a bad fixture's `// expect:` lines, a good fixture with no finding).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BpfDocument } from '../../server/src/bpf-document';
import { runRules } from '../../server/src/diagnostics/engine';
import { tracepointArgs } from '../../server/src/diagnostics/rules/tp-btf-args';
import {
  documentHeaderDeclarations,
  HeaderDeclarationIndex,
  headerFunctionSummaries,
  parseHeader,
  RECHECK_MS,
} from '../../server/src/header-declarations';
import { CParser, loadCLanguage } from '../../server/src/parser';

const PROGRAMS = join(__dirname, '..', 'fixtures', 'mistakes', 'programs');
const HEADERS = join(__dirname, '..', 'fixtures', 'headers');

test('parseHeader finds function definitions with their parameters, macros and includes', () => {
  const file = join(PROGRAMS, 'maps.bpf.h');
  const h = parseHeader(file, readFileSync(file, 'utf8'));
  assert.deepEqual(
    h.functions.map((f) => [f.name, f.params, f.returnsPointer, f.line + 1]),
    [['bpf_map_lookup_or_try_init', ['map', 'key', 'init'], true, 9]],
  );
  assert.match(h.functions[0].text, /return bpf_map_lookup_elem\(map, key\);\n}$/);
  assert.deepEqual(
    h.macros.map((m) => m.name),
    ['__MAPS_BPF_H'],
  );
  assert.deepEqual(
    h.includes.map((i) => i.path),
    ['bpf/bpf_helpers.h', 'asm-generic/errno.h'],
  );
  const core = join(PROGRAMS, 'core_fixes.bpf.h');
  assert.deepEqual(
    parseHeader(core, readFileSync(core, 'utf8')).functions.map((f) => f.name),
    ['get_task_state', 'get_disk'],
  );
  const kf = join(PROGRAMS, 'kfuncs.bpf.h');
  const protos = parseHeader(kf, readFileSync(kf, 'utf8')).prototypes;
  for (const n of ['bpf_task_from_pid', 'bpf_task_release', 'bpf_iter_num_new']) assert.ok(protos.includes(n), n);
});

test('documents see the functions of their headers, and the summaries say what they return', async () => {
  const parser = new CParser(await loadCLanguage());
  const file = join(PROGRAMS, 'biolatency.bpf.c');
  const doc = new BpfDocument(`file://${file}`, 0, readFileSync(file, 'utf8'), parser);
  const d = documentHeaderDeclarations(doc);
  for (const n of ['bpf_map_lookup_or_try_init', 'log2l', 'get_disk', 'get_task_state'])
    assert.ok(d.functions.has(n), n);
  assert.ok(d.macros.has('BPF_CORE_READ'), "libbpf's macros too");
  const s = headerFunctionSummaries(
    d,
    (c) => c === 'bpf_map_lookup_elem',
    () => undefined,
  );
  assert.ok(s.nullable.has('bpf_map_lookup_or_try_init'));
  assert.ok(!s.nullable.has('log2l'));
  assert.deepEqual(
    runRules(doc).filter((x) => x.code === 'unsupported-call'),
    [],
    'no unknown-function item for header functions',
  );
  doc.dispose();
});

test('the rules follow header functions: fixtures in test/fixtures/headers', async () => {
  const parser = new CParser(await loadCLanguage());
  for (const name of ['bad-header-helpers.bpf.c', 'bad-header-license.bpf.c', 'good-header-helpers.bpf.c']) {
    const file = join(HEADERS, name);
    const text = readFileSync(file, 'utf8');
    const doc = new BpfDocument(`file://${file}`, 0, text, parser);
    const found = runRules(doc)
      .filter((x) => x.severity === 'error')
      .map((x) => `${doc.positionAt(x.start).line + 1} ${x.code}`);
    const expected = text
      .split('\n')
      .flatMap((l, i) => [...l.matchAll(/\/\/\s*expect:\s*([a-z-]+)/g)].map((m) => `${i + 1} ${m[1]}`));
    assert.deepEqual(found, expected, name);
    doc.dispose();
  }
});

test("tracepointArgs reads a tracepoint's arguments from vmlinux.h's btf_trace typedef", () => {
  const h =
    'typedef void (*btf_trace_sched_wakeup)(void *, struct task_struct *);\n' +
    'typedef void (*btf_trace_block_rq_complete)(void *, struct request *, blk_status_t, unsigned int);\n';
  assert.deepEqual(tracepointArgs(h, 'sched_wakeup'), ['struct task_struct *']);
  assert.deepEqual(tracepointArgs(h, 'block_rq_complete'), ['struct request *', 'blk_status_t', 'unsigned int']);
  assert.equal(tracepointArgs(h, 'nope'), undefined);
});

test('a header edited on disk is picked up within RECHECK_MS, at once when the include list changes or on invalidate()', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-hdr-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const header = join(dir, 'helpers.bpf.h');
  const other = join(dir, 'other.bpf.h');
  const write = (file: string, fn: string, mtimeS: number) => {
    writeFileSync(file, `static __always_inline int ${fn}(int x)\n{\n\treturn x + 1;\n}\n`);
    utimesSync(file, mtimeS, mtimeS); // a different modification time, whatever the file system's resolution
  };
  write(header, 'first_helper', 1_000_000);
  write(other, 'other_helper', 1_000_000);
  const uri = pathToFileURL(join(dir, 'prog.bpf.c')).href;
  let clock = 0;
  const index = new HeaderDeclarationIndex(undefined, () => clock);
  const inc = [{ path: 'helpers.bpf.h', system: false }];
  const before = index.forDocument(uri, inc);
  assert.ok(before.functions.has('first_helper'));

  write(header, 'second_helper', 1_000_100);
  clock += RECHECK_MS / 2;
  // Within the interval the edits of the document reuse what was read (no file system access).
  assert.equal(index.forDocument(uri, inc), before);
  clock += RECHECK_MS;
  const after = index.forDocument(uri, inc);
  assert.ok(after.functions.has('second_helper') && !after.functions.has('first_helper'));
  assert.notEqual(after.key, before.key, 'the rules cache under the key: it changes with the header');
  // Nothing changed on disk: the same object and key after the next look.
  clock += RECHECK_MS;
  assert.equal(index.forDocument(uri, inc), after);

  // A new #include line is read at once, without waiting.
  const both = index.forDocument(uri, [...inc, { path: 'other.bpf.h', system: false }]);
  assert.ok(both.functions.has('other_helper') && both.functions.has('second_helper'));
  // invalidate() (settings changed, a header saved) forgets what was read.
  write(header, 'third_helper', 1_000_200);
  index.invalidate();
  assert.ok(index.forDocument(uri, inc).functions.has('third_helper'));
});
