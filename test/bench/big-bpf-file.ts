/**
 * A real-sized BPF C file for benchmarks: many programs of several types in the style of
 * libbpf-tools, including vmlinux.h, about `programs * 40` lines.
 */
export function bigBpfFile(programs = 60): string {
  const out: string[] = [
    '// SPDX-License-Identifier: GPL-2.0',
    '#include "vmlinux.h"',
    '#include <bpf/bpf_helpers.h>',
    '#include <bpf/bpf_tracing.h>',
    '#include <bpf/bpf_core_read.h>',
    '',
    '#define MAX_ENTRIES 10240',
    '#define TASK_COMM_LEN 16',
    '',
    'struct event {',
    '\tu32 pid;',
    '\tu32 ppid;',
    '\tu64 ts;',
    '\tint retval;',
    '\tchar comm[TASK_COMM_LEN];',
    '};',
    '',
    'const volatile pid_t target_pid = 0;',
    '',
    'struct {',
    '\t__uint(type, BPF_MAP_TYPE_RINGBUF);',
    '\t__uint(max_entries, 256 * 1024);',
    '} events SEC(".maps");',
    '',
  ];
  for (let i = 0; i < programs; i++) {
    out.push(
      'struct {',
      '\t__uint(type, BPF_MAP_TYPE_HASH);',
      '\t__uint(max_entries, MAX_ENTRIES);',
      '\t__type(key, u32);',
      '\t__type(value, u64);',
      `} counts_${i} SEC(".maps");`,
      '',
    );
    switch (i % 3) {
      case 0:
        out.push(
          `SEC("tp/syscalls/sys_enter_openat")`,
          `int handle_openat_${i}(struct trace_event_raw_sys_enter *ctx)`,
          '{',
          '\tu64 id = bpf_get_current_pid_tgid();',
          '\tu32 pid = id >> 32;',
          '\tu64 one = 1, *val;',
          '',
          '\tif (target_pid && target_pid != pid)',
          '\t\treturn 0;',
          `\tval = bpf_map_lookup_elem(&counts_${i}, &pid);`,
          '\tif (!val) {',
          `\t\tbpf_map_update_elem(&counts_${i}, &pid, &one, BPF_ANY);`,
          '\t\treturn 0;',
          '\t}',
          '\t__sync_fetch_and_add(val, 1);',
          '\treturn 0;',
          '}',
          '',
        );
        break;
      case 1:
        out.push(
          `SEC("tp_btf/sched_process_exec")`,
          `int BPF_PROG(handle_exec_${i}, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)`,
          '{',
          '\tstruct event *e;',
          '\tstruct task_struct *task = (struct task_struct *)bpf_get_current_task();',
          '',
          '\te = bpf_ringbuf_reserve(&events, sizeof(*e), 0);',
          '\tif (!e)',
          '\t\treturn 0;',
          '\te->pid = bpf_get_current_pid_tgid() >> 32;',
          '\te->ppid = BPF_CORE_READ(task, real_parent, tgid);',
          '\te->ts = bpf_ktime_get_ns();',
          '\tbpf_get_current_comm(&e->comm, sizeof(e->comm));',
          '\tbpf_ringbuf_submit(e, 0);',
          '\treturn 0;',
          '}',
          '',
        );
        break;
      default:
        out.push(
          'SEC("xdp")',
          `int xdp_parse_${i}(struct xdp_md *ctx)`,
          '{',
          '\tvoid *data = (void *)(long)ctx->data;',
          '\tvoid *data_end = (void *)(long)ctx->data_end;',
          '\tstruct ethhdr *eth = data;',
          '\tu32 key;',
          '\tu64 *val;',
          '',
          '\tif ((void *)(eth + 1) > data_end)',
          '\t\treturn XDP_PASS;',
          '\tkey = eth->h_proto;',
          `\tval = bpf_map_lookup_elem(&counts_${i}, &key);`,
          '\tif (val)',
          '\t\t__sync_fetch_and_add(val, 1);',
          '\treturn XDP_PASS;',
          '}',
          '',
        );
    }
  }
  out.push('char LICENSE[] SEC("license") = "Dual BSD/GPL";', '');
  return out.join('\n');
}
