import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskBpfSource } from '../../server/src/bpf-masking';
import { CParser, diffEdit, loadCLanguage } from '../../server/src/parser';

const SRC = `struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_HASH);
		__uint(max_entries, 8);
	});
} outer SEC(".maps");

/* SEC("not-a-section") in a comment */
static __always_inline int helper(void) { return 1; }

SEC("tp/syscalls/sys_enter_openat")
int handle(void *ctx)
{
	int i;
	const char *s = "SEC(\\"x\\")";
	bpf_for(i, 0, 16) {
		helper();
	}
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

test('masking keeps every offset and line, and records what it masked', () => {
  const m = maskBpfSource(SRC);
  assert.equal(m.masked.length, SRC.length);
  assert.deepEqual(
    m.masked.split('\n').map((l) => l.length),
    SRC.split('\n').map((l) => l.length),
  );
  assert.deepEqual(
    m.secs.map((s) => s.name),
    ['.maps', 'tp/syscalls/sys_enter_openat', 'license'],
  );
  for (const s of m.secs) assert.equal(SRC.slice(s.nameStart, s.nameStart + s.name.length), s.name);
  assert.deepEqual(
    m.mapFields.map((f) => `${f.macro}:${f.field}`),
    ['__uint:type', '__uint:max_entries', '__type:key', '__array:values'],
  );
  assert.equal(m.mapFields[0].value, 'BPF_MAP_TYPE_ARRAY_OF_MAPS');
  assert.equal(SRC.slice(m.mapFields[2].valueStart, m.mapFields[2].valueStart + 3), 'u32');
  assert.deepEqual(
    m.attributes.map((a) => a.name),
    ['__always_inline'],
  );
  assert.deepEqual(
    m.loopMacros.map((a) => a.name),
    ['bpf_for'],
  );
  assert.match(m.masked, /while  \(i, 0, 16\)/);
  assert.match(m.masked, /"SEC\(\\"x\\"\)"/, 'strings are left alone');
  assert.match(m.masked, /SEC\("not-a-section"\) in a comment/, 'comments are left alone');
});

test('masked BPF parses without ERROR nodes', async () => {
  const p = new CParser(await loadCLanguage());
  const tree = p.parse(maskBpfSource(SRC).masked)!;
  assert.equal(tree.rootNode.hasError, false, tree.rootNode.toString());
  const unmasked = p.parse(SRC)!;
  assert.equal(unmasked.rootNode.hasError, true, 'the raw text does have errors: masking is what fixes them');
  tree.delete();
  unmasked.delete();
});

test('an unclosed SEC( being typed does not swallow the rest of the file', () => {
  const text = 'SEC("xd\nint f(void) { return 0; }\nSEC("xdp")\nint g(void) { return 0; }\n';
  const m = maskBpfSource(text);
  assert.deepEqual(
    m.secs.map((s) => s.name),
    ['xdp'],
  );
});

test('incremental re-parse equals a fresh parse after random edits', async () => {
  const p = new CParser(await loadCLanguage());
  let text = SRC;
  let masked = maskBpfSource(text).masked;
  let tree = p.parse(masked)!;
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pieces = ['SEC("xdp")', ')', '(', ';', '{', '}', '__uint(type, 1);', 'x', '\n', '', 'bpf_for(i,0,3)'];
  for (let i = 0; i < 200; i++) {
    const at = rand(text.length + 1);
    const del = rand(4);
    text = text.slice(0, at) + pieces[rand(pieces.length)] + text.slice(at + del);
    const newMasked = maskBpfSource(text).masked;
    const next = p.parse(newMasked, { tree, text: masked })!;
    const fresh = p.parse(newMasked)!;
    assert.equal(next.rootNode.toString(), fresh.rootNode.toString(), `edit ${i}`);
    tree.delete();
    fresh.delete();
    tree = next;
    masked = newMasked;
  }
  tree.delete();
});

test('diffEdit finds the smallest changed span', () => {
  const e = diffEdit('abc\ndef\nghi', 'abc\ndXf\nghi')!;
  assert.equal(e.startIndex, 5);
  assert.equal(e.oldEndIndex, 6);
  assert.equal(e.newEndIndex, 6);
  assert.deepEqual(e.startPosition, { row: 1, column: 1 });
  assert.equal(diffEdit('same', 'same'), undefined);
});
