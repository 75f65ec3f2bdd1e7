// kfunc-trusted-args on inline sources: what the fixtures (test/fixtures/rules/kfunc-trusted-args, each
// loaded on 6.18) cannot show, because 6.18 accepts it: an untrusted walk handed to a kfunc without
// KF_TRUSTED_ARGS/KF_RCU is a warning (7.x kernels trust-check every kfunc pointer argument), and a
// variable is judged by the last store that surely reaches the call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfDocument } from '../../server/src/bpf-document';
import { runRules } from '../../server/src/diagnostics/engine';
import { CParser, loadCLanguage } from '../../server/src/parser';

const PRELUDE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern int bpf_copy_from_user_task_str(void *dst, u32 dst__sz, const void *unsafe_ptr__ign, struct task_struct *tsk, u64 flags) __ksym;
char buf[64];
`;

async function findings(body: string, sec = 'tp_btf/sched_process_fork'): Promise<string[]> {
  const parser = new CParser(await loadCLanguage());
  const text = `${PRELUDE}SEC("${sec}")\nint BPF_PROG(prog, struct task_struct *parent, struct task_struct *child)\n{\n${body}\n\treturn 0;\n}\nchar LICENSE[] SEC("license") = "GPL";\n`;
  const doc = new BpfDocument('file:///tmp/kfunc-trusted-args-inline.bpf.c', 0, text, parser);
  const out = runRules(doc)
    .filter((d) => d.code === 'kfunc-trusted-args')
    .map((d) => `${doc.positionAt(d.start).line - PRELUDE.split('\n').length - 1} ${d.severity}`);
  doc.dispose();
  return out;
}

test('an untrusted walk to a kfunc without trust flags is a warning (7.x), not an error', async () => {
  assert.deepEqual(await findings('\tbpf_copy_from_user_task_str(buf, sizeof(buf), 0, child->parent, 0);'), [
    '1 warning',
  ]);
  assert.deepEqual(await findings('\tbpf_copy_from_user_task_str(buf, sizeof(buf), 0, child, 0);'), []);
});

test('a variable is judged by the last store that surely reaches the call', async () => {
  // Reassigned from a trusted pointer before the call: nothing to report.
  const reassigned =
    '\tstruct task_struct *p = parent->parent, *q;\n\tp = parent;\n\tq = bpf_task_acquire(p);\n\tif (q)\n\t\tbpf_task_release(q);';
  assert.deepEqual(await findings(reassigned), []);
  // A store in one branch only: not known on the other path, so nothing is said.
  const branch =
    '\tstruct task_struct *p = parent, *q;\n\tif (child->pid & 1)\n\t\tp = parent->parent;\n\tq = bpf_task_acquire(p);\n\tif (q)\n\t\tbpf_task_release(q);';
  assert.deepEqual(await findings(branch), []);
  // The last store dominates the call: the walk is what it holds.
  const last =
    '\tstruct task_struct *p = parent, *q;\n\tp = parent->parent;\n\tq = bpf_task_acquire(p);\n\tif (q)\n\t\tbpf_task_release(q);';
  assert.deepEqual(await findings(last), ['3 error']);
});

test('fentry arguments are not taken as trusted roots (the kernel does not trust them)', async () => {
  assert.deepEqual(
    await findings(
      '\tstruct task_struct *q = bpf_task_acquire(parent->parent);\n\tif (q)\n\t\tbpf_task_release(q);',
      'fentry/wake_up_new_task',
    ),
    [],
  );
});
