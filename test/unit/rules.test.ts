// The restricted-C rules over their fixtures: test/fixtures/rules/<rule-id>/{good,bad}-*.bpf.c and
// test/fixtures/realistic/*.bpf.c. A bad fixture marks each expected finding with a trailing
// `// expect: <rule-id>` (or `// expect: <rule-id> warning`) on the line where the diagnostic starts,
// and `// related: <rule-id>` on a line a finding's related information points at.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BpfDocument } from '../../server/src/bpf-document';
import { runRules, type EngineDiagnostic } from '../../server/src/diagnostics/engine';
import { ALL_RULES } from '../../server/src/diagnostics/rules';
import type { OffsetEdit } from '../../server/src/diagnostics/rule';
import { CParser, loadCLanguage } from '../../server/src/parser';
import { withVmlinuxHeader } from '../support/mistakes-detection';
import { IN_CI } from '../support/preconditions';

const FIXTURES = join(__dirname, '..', 'fixtures');
const RULES_DIR = join(FIXTURES, 'rules');
const REALISTIC_DIR = join(FIXTURES, 'realistic');

let parser: CParser | undefined;
async function analyse(
  file: string,
  text = readFileSync(file, 'utf8'),
): Promise<{ doc: BpfDocument; diags: EngineDiagnostic[] }> {
  parser ??= new CParser(await loadCLanguage());
  const doc = new BpfDocument(`file://${file}`, 0, text, parser);
  const errors: string[] = [];
  const diags = runRules(doc, { log: (m) => errors.push(m) });
  assert.deepEqual(errors, [], `a rule threw on ${file}`);
  return { doc, diags };
}

interface Expectation {
  line: number; // 0-based
  rule: string;
  severity: string;
}

function expectations(text: string): Expectation[] {
  const out: Expectation[] = [];
  text.split('\n').forEach((l, line) => {
    for (const m of l.matchAll(/\/\/\s*expect:\s*([a-z-]+)(?:\s+(error|warning|information|hint))?/g)) {
      out.push({ line, rule: m[1], severity: m[2] ?? 'error' });
    }
  });
  return out;
}

function show(doc: BpfDocument, d: EngineDiagnostic): string {
  const p = doc.positionAt(d.start);
  return `${p.line + 1}:${p.character + 1} ${d.severity} [${d.code}] ${d.message}`;
}

function applyEdits(text: string, edits: OffsetEdit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.newText + out.slice(e.end);
  return out;
}

// A vmlinux.h of this kernel on the include path, as a project has one (tp-btf-args reads it).
const dropVmlinux = withVmlinuxHeader();
after(() => dropVmlinux?.());
/** Rules that need a vmlinux.h to report anything. */
const NEEDS_VMLINUX = new Set(['tp-btf-args', 'ctx-array-index', 'core-field']);

const ruleIds = ALL_RULES.map((r) => r.id);
const ruleDirs = existsSync(RULES_DIR) ? readdirSync(RULES_DIR).sort() : [];

test('every rule has good and bad fixtures, and every fixture folder is a rule', () => {
  for (const dir of ruleDirs) assert.ok(ruleIds.includes(dir), `fixture folder ${dir} is not a rule id`);
  for (const id of ruleIds) {
    const files = existsSync(join(RULES_DIR, id)) ? readdirSync(join(RULES_DIR, id)) : [];
    assert.ok(
      files.some((f) => f.startsWith('good-')),
      `rule ${id} has no good fixture`,
    );
    assert.ok(
      files.some((f) => f.startsWith('bad-')),
      `rule ${id} has no bad fixture`,
    );
  }
});

for (const dir of ruleDirs) {
  for (const name of readdirSync(join(RULES_DIR, dir))
    .filter((f) => f.endsWith('.bpf.c'))
    .sort()) {
    const file = join(RULES_DIR, dir, name);
    test(`${dir}/${name}`, async (t) => {
      if (NEEDS_VMLINUX.has(dir) && !dropVmlinux) {
        if (IN_CI) assert.fail('needs bpftool and /sys/kernel/btf/vmlinux for a vmlinux.h');
        t.skip('needs bpftool and /sys/kernel/btf/vmlinux for a vmlinux.h');
        return;
      }
      const text = readFileSync(file, 'utf8');
      const { doc, diags } = await analyse(file, text);
      const expected = expectations(text);
      if (name.startsWith('good-')) {
        const errors = diags.filter((d) => d.severity === 'error');
        assert.deepEqual(
          errors.map((d) => show(doc, d)),
          [],
          'a good fixture gets no error',
        );
        assert.deepEqual(
          diags.filter((d) => d.code === dir).map((d) => show(doc, d)),
          [],
          `a good fixture gets nothing from ${dir}`,
        );
        return;
      }
      assert.ok(expected.length > 0, 'a bad fixture marks what it expects');
      const found = diags.filter((d) => d.code === dir || expected.some((e) => e.rule === d.code));
      const unmatched = [...found];
      for (const e of expected) {
        const i = unmatched.findIndex((d) => d.code === e.rule && doc.positionAt(d.start).line === e.line);
        assert.ok(
          i >= 0,
          `expected ${e.rule} on line ${e.line + 1}; found:\n${found.map((d) => show(doc, d)).join('\n')}`,
        );
        assert.equal(unmatched[i].severity, e.severity, `severity on line ${e.line + 1}: ${show(doc, unmatched[i])}`);
        unmatched.splice(i, 1);
      }
      assert.deepEqual(
        unmatched.map((d) => show(doc, d)),
        [],
        'unexpected findings',
      );
      // `// related: <rule-id>`: a finding of that rule points at this line in its related information.
      text.split('\n').forEach((l, line) => {
        for (const m of l.matchAll(/\/\/\s*related:\s*([a-z-]+)/g))
          assert.ok(
            found.some((d) => d.code === m[1] && (d.related ?? []).some((r) => doc.positionAt(r.start).line === line)),
            `expected a ${m[1]} finding pointing at line ${line + 1}; found:\n${found.map((d) => show(doc, d)).join('\n')}`,
          );
      });
    });
  }
}

test('quick fixes remove the finding they fix', async () => {
  let tried = 0;
  for (const dir of ruleDirs) {
    for (const name of readdirSync(join(RULES_DIR, dir)).filter((f) => f.startsWith('bad-') && f.endsWith('.bpf.c'))) {
      const file = join(RULES_DIR, dir, name);
      const { doc, diags } = await analyse(file);
      for (const d of diags.filter((x) => x.code === dir && x.fixes?.length)) {
        const fix = d.fixes!.find((f) => f.preferred) ?? d.fixes![0];
        const fixed = applyEdits(doc.text, fix.edits);
        const after = await analyse(file, fixed);
        const line = doc.positionAt(d.start).line;
        const same = after.diags.filter((x) => x.code === dir && x.message === d.message);
        assert.ok(
          same.length < diags.filter((x) => x.code === dir && x.message === d.message).length,
          `${dir}/${name}:${line + 1}: "${fix.title}" did not remove the finding; after:\n${after.diags.map((x) => show(after.doc, x)).join('\n')}`,
        );
        const newErrors = after.diags.filter((x) => x.severity === 'error' && x.code !== dir).length;
        assert.ok(
          newErrors <= diags.filter((x) => x.severity === 'error' && x.code !== dir).length,
          `${dir}/${name}: the fix added errors of other rules`,
        );
        tried++;
      }
    }
  }
  assert.ok(tried > 0, 'no quick fix was tried');
});

const realistic = existsSync(REALISTIC_DIR)
  ? readdirSync(REALISTIC_DIR)
      .filter((f) => f.endsWith('.bpf.c'))
      .sort()
  : [];
test('there are at least 8 realistic programs', () =>
  assert.ok(realistic.length >= 8, `${realistic.length} realistic programs`));
for (const name of realistic) {
  test(`realistic/${name} gets no error`, async () => {
    const { doc, diags } = await analyse(join(REALISTIC_DIR, name));
    assert.deepEqual(
      diags.filter((d) => d.severity === 'error').map((d) => show(doc, d)),
      [],
    );
  });
}

test('cached findings follow edits: a new bug is found, and findings move with the text above them', async () => {
  const file = join(RULES_DIR, 'null-check', 'bad-unchecked.bpf.c');
  const text = readFileSync(file, 'utf8');
  const before = (await analyse(file, text)).diags.filter((d) => d.code === 'null-check');
  // Lines added above every function: the same findings, shifted by the inserted text.
  const shifted = (await analyse(file, `// one\n// two\n${text}`)).diags.filter((d) => d.code === 'null-check');
  assert.deepEqual(
    shifted.map((d) => d.start - 14),
    before.map((d) => d.start),
  );
  // A new unchecked dereference in a clean function is found; fixing it makes it go away.
  const goodFile = join(RULES_DIR, 'null-check', 'good-patterns.bpf.c');
  const good = readFileSync(goodFile, 'utf8');
  const broken = good.replace('\tif (!v)\n\t\treturn 0;\n\t*v += 1;', '\t*v += 1;');
  assert.notEqual(broken, good);
  const found = (await analyse(goodFile, broken)).diags.filter((d) => d.code === 'null-check');
  assert.equal(found.length, 1);
  assert.equal((await analyse(goodFile, good)).diags.filter((d) => d.code === 'null-check').length, 0);
});

test('map-value-index: a bounded index one past the array is a warning that says the verifier checks the value, not the array', async () => {
  // Real code (a stack of ips walked from the top: `for (i = DEPTH; i > 0; i--) v->ips[i]`) loads on the
  // kernel because fields follow the array in the map value; the finding must not claim a rejection.
  const file = join(RULES_DIR, 'map-value-index', 'good-offset-plus-room.bpf.c');
  const good = readFileSync(file, 'utf8');
  const walked = good.replace(
    '\tlog->mark_at[log->marks] = log->used;',
    '\tfor (u32 i = MAX_MARKS; i > 0; i--)\n\t\tzero += log->mark_at[i];\n\tlog->mark_at[log->marks] = log->used;',
  );
  assert.notEqual(walked, good);
  const found = (await analyse(file, walked)).diags.filter((d) => d.code === 'map-value-index');
  assert.equal(found.length, 1, found.map((d) => d.message).join('\n'));
  assert.equal(found[0].severity, 'warning');
  assert.match(found[0].message, /'i' may be 8 here, past the end of mark_at\[\] \(8 elements\)/);
  assert.match(found[0].message, /checks the value's size, not the array's/);
});
