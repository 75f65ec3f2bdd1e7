/** Which program a CodeLens acts on: the programs of a source, by the names libbpf gives them. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { programsInSource } from '../../client/src/core/run/source-programs';

const ROOT = join(__dirname, '..', '..');

test('programs of a multi-program object: names, sections, SEC("?...") marked, data sections skipped', () => {
  const text = readFileSync(join(ROOT, 'test', 'fixtures', 'load', 'multi.bpf.c'), 'utf8');
  const ps = programsInSource(text);
  assert.deepEqual(
    ps.map((p) => [p.name, p.section, p.optional]),
    [
      ['count_getppid', 'tracepoint/syscalls/sys_enter_getppid', false],
      ['count_raw', 'raw_tp/sys_enter', false],
      ['blocked_fentry', 'fentry/do_nanosleep', false],
      ['kp_nanosleep', 'kprobe/do_nanosleep', false],
      ['optional_getpid', 'tracepoint/syscalls/sys_enter_getpid', true],
    ],
  );
  const lines = text.split('\n');
  for (const p of ps) assert.match(lines[p.line], /SEC\(/);
});

test("macro-declared programs take the macro's first argument (BPF_PROG, BPF_KPROBE...), comments are ignored", () => {
  const ps = programsInSource(`
SEC("tp_btf/sched_wakeup")
int BPF_PROG(handle_sched_wakeup, struct task_struct *p)
{ return 0; }
// SEC("kprobe/commented_out") int nope(void *ctx)
SEC("kprobe/do_unlinkat") int BPF_KPROBE(do_unlinkat, int dfd) { return 0; }
SEC("raw_tp/sched_switch")
static __always_inline int
handle_switch(struct bpf_raw_tracepoint_args *ctx) { return 0; }
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); } rb SEC(".maps");
char LICENSE[] SEC("license") = "GPL";
`);
  assert.deepEqual(
    ps.map((p) => p.name),
    ['handle_sched_wakeup', 'do_unlinkat', 'handle_switch'],
  );
});
