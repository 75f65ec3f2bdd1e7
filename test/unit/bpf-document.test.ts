import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpfDocument, textChange } from '../../server/src/bpf-document';
import { CParser, loadCLanguage } from '../../server/src/parser';

const SRC = `#include "vmlinux.h"
struct event { u32 pid; char comm[16]; };
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

SEC("xdp") // the parser
int parse(struct xdp_md *ctx) { return 2; }

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child) { return 0; }

#ifdef WITH_TC
SEC("tc")
int classify(struct __sk_buff *skb) { return 0; }
#endif

static __always_inline int helper(void) { return 1; }
char LICENSE[] SEC("license") = "Dual BSD/GPL";
`;

test('document structure: programs (through comments, #ifdef, BPF_PROG), maps, license, structs', async () => {
  const doc = new BpfDocument('file:///x.bpf.c', 1, SRC, new CParser(await loadCLanguage()));
  assert.deepEqual(
    doc.programs.map((p) => [p.name, p.section, p.def?.programType]),
    [
      ['parse', 'xdp', 'xdp'],
      ['on_fork', 'tp_btf/sched_process_fork', 'tracing'],
      ['classify', 'tc', 'sched_cls'],
    ],
  );
  assert.equal(doc.programs[0].ctxParam?.type, 'struct xdp_md *');
  assert.deepEqual(
    doc.maps.map((m) => [m.name, m.type, m.maxEntries]),
    [['events', 'BPF_MAP_TYPE_RINGBUF', '1 << 20']],
  );
  assert.equal(doc.license?.value, 'Dual BSD/GPL');
  assert.deepEqual(
    doc.structs.get('event')?.fields.map((f) => `${f.type} ${f.name}`),
    ['u32 pid', 'char[16] comm'],
  );
  assert.ok(doc.functions.has('helper'));
  assert.equal(doc.programAt(SRC.indexOf('return 2'))?.name, 'parse');
  const p = doc.positionAt(SRC.indexOf('return 2'));
  assert.equal(doc.offsetAt(p), SRC.indexOf('return 2'));
  doc.dispose();
});

test('textChange finds the same smallest edit as a character-by-character scan', () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % Math.max(1, n);
  };
  const naive = (a: string, b: string) => {
    let start = 0;
    while (start < Math.min(a.length, b.length) && a[start] === b[start]) start++;
    let oldEnd = a.length;
    let newEnd = b.length;
    while (oldEnd > start && newEnd > start && a[oldEnd - 1] === b[newEnd - 1]) {
      oldEnd--;
      newEnd--;
    }
    return { start, oldEnd, newEnd };
  };
  for (let i = 0; i < 2000; i++) {
    const a = Array.from({ length: rand(60) }, () => 'ab\n{'[rand(4)]).join('');
    const at = rand(a.length + 1);
    const b = a.slice(0, at) + Array.from({ length: rand(4) }, () => 'ab\n{'[rand(4)]).join('') + a.slice(at + rand(4));
    assert.deepEqual(textChange(a, b), naive(a, b), JSON.stringify([a, b]));
  }
});
