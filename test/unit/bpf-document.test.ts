import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BpfDocument } from '../../server/src/bpf-document';
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
