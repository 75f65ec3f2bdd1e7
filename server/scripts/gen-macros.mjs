#!/usr/bin/env node
// Writes server/data/macros.json: libbpf's macros, attributes and inline helpers for BPF C.
//
// Usage: node server/scripts/gen-macros.mjs [libbpf include dir] [out.json]
//   defaults: /usr/include/bpf and server/data/macros.json
//
// Curated from libbpf's bpf_helpers.h, bpf_core_read.h, bpf_tracing.h, bpf_endian.h and
// usdt.bpf.h. Entries without `since` must exist in the installed headers (libbpf 1.1 on Debian 12):
// the generator checks that and fails otherwise. Entries with `since` come from newer libbpf; a
// program using them needs that libbpf's headers (e.g. vendored with libbpf-bootstrap).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const includeDir = process.argv[2] ?? '/usr/include/bpf';
const outPath = process.argv[3] ?? join(here, '..', 'data', 'macros.json');

const H = 'bpf/bpf_helpers.h';
const CORE = 'bpf/bpf_core_read.h';
const TR = 'bpf/bpf_tracing.h';
const EN = 'bpf/bpf_endian.h';
const USDT = 'bpf/usdt.bpf.h';
const F = 'function-like';
const A = 'attribute';
const O = 'object-like';

// [name, kind, signature, header, description, extra?] ; extra: { snippet, since }
/** @type {Array<[string, string, string, string, string, {snippet?: string, since?: string}?]>} */
const M = [
  // --- bpf_helpers.h: sections, maps, attributes ---
  [
    'SEC',
    F,
    'SEC(name)',
    H,
    'Puts the function or variable in ELF section `name`. For a program, the name tells libbpf its type and attach point (SEC("xdp"), SEC("tp/syscalls/sys_enter_openat")); for maps it is SEC(".maps"); for the license SEC("license").',
    { snippet: 'SEC("${1:xdp}")' },
  ],
  [
    '__uint',
    F,
    '__uint(name, val)',
    H,
    'Declares an integer field of a `.maps` definition (type, max_entries, map_flags, pinning...): expands to `int (*name)[val]` so the value is recorded in BTF.',
    { snippet: '__uint(${1:max_entries}, ${2:1024});' },
  ],
  [
    '__type',
    F,
    '__type(name, val)',
    H,
    "Declares a type field of a `.maps` definition (key or value): expands to `typeof(val) *name`, so the map gets the type's size and BTF.",
    { snippet: '__type(${1:key}, ${2:u32});' },
  ],
  [
    '__array',
    F,
    '__array(name, val)',
    H,
    'Declares an array field of a `.maps` definition: the inner map template of a map-in-map, or the programs of a PROG_ARRAY (`__array(values, int (void *))`).',
    { snippet: '__array(${1:values}, ${2:struct inner_map});' },
  ],
  [
    '__ulong',
    F,
    '__ulong(name, val)',
    H,
    'Like __uint, for 64-bit values of a `.maps` definition (map_extra of an ARENA).',
    { snippet: '__ulong(${1:map_extra}, ${2:value});', since: '1.3' },
  ],
  [
    '__always_inline',
    A,
    '__always_inline',
    H,
    'Forces inlining of a function (`inline __attribute__((always_inline))`). BPF-to-BPF calls work since kernel 4.16, but inlining helps the verifier track pointer types across the call.',
  ],
  [
    '__noinline',
    A,
    '__noinline',
    H,
    'Keeps a function out of line (`__attribute__((noinline))`): a global (non-static) noinline function is verified once, on its own, which can shorten verification.',
  ],
  [
    '__weak',
    A,
    '__weak',
    H,
    'Weak symbol (`__attribute__((weak))`): another definition in a linked BPF object takes precedence; also used for extern variables that may be missing (__kconfig, __ksym).',
  ],
  [
    '__hidden',
    A,
    '__hidden',
    H,
    'Hidden visibility: the global function or variable is not exported from the BPF object (static-like linkage for the BPF static linker), so it can be verified as a static subprogram.',
  ],
  [
    '__ksym',
    A,
    '__ksym',
    H,
    'Marks an extern as a kernel symbol resolved by libbpf at load time: a kernel variable (`extern const int bpf_prog_active __ksym;`) or a kfunc declaration.',
  ],
  [
    '__kconfig',
    A,
    '__kconfig',
    H,
    'Marks an extern variable whose value libbpf fills from the kernel config or the kernel version: `extern int LINUX_KERNEL_VERSION __kconfig;`, `extern bool CONFIG_BPF_SYSCALL __kconfig;`.',
  ],
  [
    '__kptr',
    A,
    '__kptr',
    H,
    'Marks a pointer field of a map value as a referenced kernel pointer (libbpf 1.2+ meaning; in libbpf 1.1 headers __kptr means an untrusted pointer and __kptr_ref the referenced one). Stored and taken with bpf_kptr_xchg.',
  ],
  [
    '__kptr_ref',
    A,
    '__kptr_ref',
    H,
    'libbpf 1.1 name of the referenced kernel pointer tag; newer libbpf calls it __kptr.',
  ],
  [
    '__kptr_untrusted',
    A,
    '__kptr_untrusted',
    H,
    'Marks a pointer field of a map value as an untrusted kernel pointer: may be read (as a PTR_UNTRUSTED, with probe reads) and stored directly without holding a reference.',
    { since: '1.2' },
  ],
  [
    '__percpu_kptr',
    A,
    '__percpu_kptr',
    H,
    'Marks a map value field holding a per-CPU object allocated with bpf_percpu_obj_new (kernel 6.6+).',
    { since: '1.3' },
  ],
  [
    '__arg_ctx',
    A,
    '__arg_ctx',
    H,
    'On an argument of a global function: the argument is the program context, whatever its C type (kernel 6.7+).',
    { since: '1.4' },
  ],
  [
    '__arg_nonnull',
    A,
    '__arg_nonnull',
    H,
    'On a pointer argument of a global function: callers never pass NULL, so the function need not check it.',
    { since: '1.4' },
  ],
  [
    '__arg_nullable',
    A,
    '__arg_nullable',
    H,
    'On a pointer argument of a global function: it may be NULL and must be checked.',
    { since: '1.4' },
  ],
  [
    '__arg_trusted',
    A,
    '__arg_trusted',
    H,
    'On a kernel-pointer argument of a global function: the caller passes a trusted pointer (may be passed to kfuncs).',
    { since: '1.4' },
  ],
  [
    '__arg_arena',
    A,
    '__arg_arena',
    H,
    'On a pointer argument of a global function: the pointer points into a BPF arena.',
    { since: '1.4' },
  ],
  [
    'barrier',
    F,
    'barrier()',
    H,
    'Compiler barrier (`asm volatile("" ::: "memory")`): stops clang from moving memory accesses across it.',
  ],
  [
    'barrier_var',
    F,
    'barrier_var(var)',
    H,
    'Makes clang forget what it knows about `var`, so it cannot fold or reorder checks on it; the usual fix when clang rewrites a bounds check into a form the verifier cannot follow.',
  ],
  ['offsetof', F, 'offsetof(TYPE, MEMBER)', H, "Byte offset of MEMBER in TYPE (clang's __builtin_offsetof)."],
  [
    'container_of',
    F,
    'container_of(ptr, type, member)',
    H,
    'The address of the `type` that contains `member` at `ptr`: used with linked lists and rbtree nodes embedded in objects.',
  ],
  [
    'KERNEL_VERSION',
    F,
    'KERNEL_VERSION(a, b, c)',
    H,
    'Encodes a kernel version as (a << 16) + (b << 8) + c, to compare with LINUX_KERNEL_VERSION (a __kconfig extern).',
  ],
  [
    'bpf_printk',
    F,
    'bpf_printk(fmt, args...)',
    H,
    'printf-style debug output to /sys/kernel/tracing/trace_pipe. The format string is put on the stack or in .rodata by the macro. With 3 or fewer arguments it calls bpf_trace_printk (any kernel); with 4 to 12 arguments libbpf routes it to bpf_trace_vprintk, which needs kernel 5.16+. At most 12 arguments; %s reads a string, %pI4/%pI6 print addresses. The helper is GPL-only.',
    { snippet: 'bpf_printk("${1:fmt}"${2});' },
  ],
  [
    'BPF_SEQ_PRINTF',
    F,
    'BPF_SEQ_PRINTF(seq, fmt, args...)',
    H,
    'printf-style output of a BPF iterator into its seq_file (bpf_seq_printf with the arguments packed in an array).',
    { snippet: 'BPF_SEQ_PRINTF(${1:seq}, "${2:fmt}"${3});' },
  ],
  [
    'BPF_SNPRINTF',
    F,
    'BPF_SNPRINTF(out, out_size, fmt, args...)',
    H,
    'snprintf into a buffer (bpf_snprintf, kernel 5.13+), with the arguments packed in an array.',
    { snippet: 'BPF_SNPRINTF(${1:out}, ${2:sizeof(out)}, "${3:fmt}"${4});' },
  ],
  [
    'bpf_tail_call_static',
    F,
    'bpf_tail_call_static(ctx, map, slot)',
    H,
    'bpf_tail_call with a constant slot, emitted so the JIT can patch a direct jump (cheaper than a normal tail call).',
    { snippet: 'bpf_tail_call_static(${1:ctx}, ${2:&jmp_table}, ${3:0});' },
  ],
  [
    'bpf_ksym_exists',
    F,
    'bpf_ksym_exists(sym)',
    H,
    'True when the weak __ksym extern `sym` (kfunc or kernel variable) was found in the running kernel: guard optional kfunc calls with it.',
    { since: '1.2' },
  ],
  [
    'bpf_for',
    F,
    'bpf_for(i, start, end)',
    H,
    'Loop for i from start to end-1 using the open-coded numeric iterator (bpf_iter_num): the verifier needs no bound on the loop (kernel 6.4+).',
    { snippet: 'bpf_for(${1:i}, ${2:0}, ${3:n}) {\n\t$0\n}', since: '1.2' },
  ],
  [
    'bpf_for_each',
    F,
    'bpf_for_each(type, cur, args...)',
    H,
    'Loop over an open-coded iterator bpf_iter_<type> (task, css, task_vma, num...): cur points to each element (kernel 6.4+).',
    {
      snippet: 'bpf_for_each(${1:num}, ${2:v}, ${3:0}, ${4:10}) {\n\t$0\n}',
      since: '1.2',
    },
  ],
  [
    'bpf_repeat',
    F,
    'bpf_repeat(N)',
    H,
    'Run the body N times using the numeric iterator, without a loop counter the verifier must bound (kernel 6.4+).',
    { snippet: 'bpf_repeat(${1:N}) {\n\t$0\n}', since: '1.2' },
  ],
  [
    'likely',
    F,
    'likely(x)',
    'none: kernel-style, not in libbpf',
    'Branch hint: `#define likely(x) __builtin_expect(!!(x), 1)`. Define it yourself (vmlinux.h and libbpf do not).',
  ],
  [
    'unlikely',
    F,
    'unlikely(x)',
    'none: kernel-style, not in libbpf',
    'Branch hint: `#define unlikely(x) __builtin_expect(!!(x), 0)`. Define it yourself (vmlinux.h and libbpf do not).',
  ],
  // --- bpf_core_read.h ---
  [
    'BPF_CORE_READ',
    F,
    'BPF_CORE_READ(src, a, ...)',
    CORE,
    "Reads a chain of pointer fields with CO-RE relocations: BPF_CORE_READ(task, mm, exe_file) is task->mm->exe_file, each step a bpf_core_read. Returns the last field's value.",
    { snippet: 'BPF_CORE_READ(${1:src}, ${2:field})' },
  ],
  [
    'BPF_CORE_READ_INTO',
    F,
    'BPF_CORE_READ_INTO(dst, src, a, ...)',
    CORE,
    'Like BPF_CORE_READ, storing the result into *dst; returns 0 or a negative error.',
    { snippet: 'BPF_CORE_READ_INTO(${1:&dst}, ${2:src}, ${3:field})' },
  ],
  [
    'BPF_CORE_READ_STR_INTO',
    F,
    'BPF_CORE_READ_STR_INTO(dst, src, a, ...)',
    CORE,
    'Like BPF_CORE_READ_INTO for a string field: copies up to sizeof(*dst) bytes with bpf_probe_read_kernel_str.',
    { snippet: 'BPF_CORE_READ_STR_INTO(${1:&dst}, ${2:src}, ${3:field})' },
  ],
  [
    'BPF_CORE_READ_USER',
    F,
    'BPF_CORE_READ_USER(src, a, ...)',
    CORE,
    'BPF_CORE_READ for user-space memory (bpf_probe_read_user).',
    { snippet: 'BPF_CORE_READ_USER(${1:src}, ${2:field})' },
  ],
  [
    'BPF_CORE_READ_USER_INTO',
    F,
    'BPF_CORE_READ_USER_INTO(dst, src, a, ...)',
    CORE,
    'BPF_CORE_READ_INTO for user-space memory.',
    { snippet: 'BPF_CORE_READ_USER_INTO(${1:&dst}, ${2:src}, ${3:field})' },
  ],
  [
    'BPF_CORE_READ_USER_STR_INTO',
    F,
    'BPF_CORE_READ_USER_STR_INTO(dst, src, a, ...)',
    CORE,
    'BPF_CORE_READ_STR_INTO for user-space memory.',
    { snippet: 'BPF_CORE_READ_USER_STR_INTO(${1:&dst}, ${2:src}, ${3:field})' },
  ],
  [
    'BPF_CORE_READ_BITFIELD',
    F,
    'BPF_CORE_READ_BITFIELD(s, field)',
    CORE,
    'Reads a bitfield of a struct the program may access directly (e.g. a BTF-typed pointer), with CO-RE relocations.',
    { snippet: 'BPF_CORE_READ_BITFIELD(${1:s}, ${2:field})' },
  ],
  [
    'BPF_CORE_READ_BITFIELD_PROBED',
    F,
    'BPF_CORE_READ_BITFIELD_PROBED(s, field)',
    CORE,
    'Reads a bitfield through bpf_probe_read_kernel, with CO-RE relocations.',
    { snippet: 'BPF_CORE_READ_BITFIELD_PROBED(${1:s}, ${2:field})' },
  ],
  [
    'BPF_PROBE_READ',
    F,
    'BPF_PROBE_READ(src, a, ...)',
    CORE,
    'Like BPF_CORE_READ without CO-RE relocations (offsets fixed at compile time).',
    { snippet: 'BPF_PROBE_READ(${1:src}, ${2:field})' },
  ],
  [
    'bpf_core_read',
    F,
    'bpf_core_read(dst, sz, src)',
    CORE,
    'bpf_probe_read_kernel(dst, sz, src) with a CO-RE relocation on the field address src.',
    { snippet: 'bpf_core_read(${1:&dst}, ${2:sizeof(dst)}, ${3:&src->field})' },
  ],
  [
    'bpf_core_read_str',
    F,
    'bpf_core_read_str(dst, sz, src)',
    CORE,
    'bpf_probe_read_kernel_str with a CO-RE relocation.',
    {
      snippet: 'bpf_core_read_str(${1:dst}, ${2:sizeof(dst)}, ${3:&src->field})',
    },
  ],
  [
    'bpf_core_read_user',
    F,
    'bpf_core_read_user(dst, sz, src)',
    CORE,
    'bpf_probe_read_user with a CO-RE relocation.',
    {
      snippet: 'bpf_core_read_user(${1:&dst}, ${2:sizeof(dst)}, ${3:&src->field})',
    },
  ],
  [
    'bpf_core_read_user_str',
    F,
    'bpf_core_read_user_str(dst, sz, src)',
    CORE,
    'bpf_probe_read_user_str with a CO-RE relocation.',
    {
      snippet: 'bpf_core_read_user_str(${1:dst}, ${2:sizeof(dst)}, ${3:&src->field})',
    },
  ],
  [
    'bpf_core_field_exists',
    F,
    'bpf_core_field_exists(field...)',
    CORE,
    "True (1) when the field exists in the running kernel's type; resolved at load time, so the dead branch is removed. bpf_core_field_exists(task->field) or (struct type, field).",
    { snippet: 'bpf_core_field_exists(${1:s->field})' },
  ],
  [
    'bpf_core_field_size',
    F,
    'bpf_core_field_size(field...)',
    CORE,
    "Size in bytes of the field in the running kernel's type.",
    { snippet: 'bpf_core_field_size(${1:s->field})' },
  ],
  [
    'bpf_core_field_offset',
    F,
    'bpf_core_field_offset(field...)',
    CORE,
    "Byte offset of the field in the running kernel's type.",
    { snippet: 'bpf_core_field_offset(${1:s->field})' },
  ],
  [
    'bpf_core_type_exists',
    F,
    'bpf_core_type_exists(type)',
    CORE,
    'True when the running kernel has a type of that name (e.g. struct bpf_iter_task).',
    { snippet: 'bpf_core_type_exists(${1:struct type})' },
  ],
  [
    'bpf_core_type_matches',
    F,
    'bpf_core_type_matches(type)',
    CORE,
    "True when the running kernel's type of that name matches the local definition (same fields by name and compatible types).",
    { snippet: 'bpf_core_type_matches(${1:struct type})' },
  ],
  [
    'bpf_core_type_size',
    F,
    'bpf_core_type_size(type)',
    CORE,
    'Size in bytes of the type in the running kernel.',
    { snippet: 'bpf_core_type_size(${1:struct type})' },
  ],
  [
    'bpf_core_type_id_local',
    F,
    'bpf_core_type_id_local(type)',
    CORE,
    "BTF id of the type in the program's own BTF (e.g. for bpf_obj_new).",
    { snippet: 'bpf_core_type_id_local(${1:struct type})' },
  ],
  [
    'bpf_core_type_id_kernel',
    F,
    'bpf_core_type_id_kernel(type)',
    CORE,
    "BTF id of the type in the running kernel's BTF (e.g. for bpf_snprintf_btf or bpf_rdonly_cast).",
    { snippet: 'bpf_core_type_id_kernel(${1:struct type})' },
  ],
  [
    'bpf_core_enum_value_exists',
    F,
    'bpf_core_enum_value_exists(enum_type, enum_value)',
    CORE,
    "True when the running kernel's enum has that enumerator.",
    { snippet: 'bpf_core_enum_value_exists(${1:enum type}, ${2:VALUE})' },
  ],
  [
    'bpf_core_enum_value',
    F,
    'bpf_core_enum_value(enum_type, enum_value)',
    CORE,
    'Value of the enumerator in the running kernel (enum values change between kernels).',
    { snippet: 'bpf_core_enum_value(${1:enum type}, ${2:VALUE})' },
  ],
  [
    'bpf_core_cast',
    F,
    'bpf_core_cast(ptr, type)',
    CORE,
    'Casts a kernel pointer to `type *` that the program may read directly (bpf_rdonly_cast kfunc, kernel 6.2+); reads are checked, faults read as 0.',
    { snippet: 'bpf_core_cast(${1:ptr}, ${2:struct type})', since: '1.3' },
  ],
  // --- bpf_tracing.h ---
  [
    'BPF_PROG',
    F,
    'BPF_PROG(name, args...)',
    TR,
    'Defines a BTF-typed program (tp_btf, fentry, fexit, fmod_ret, lsm, struct_ops, iter) with typed arguments: the macro unpacks them from the u64 *ctx. fexit gets the return value as the last argument.',
    { snippet: 'int BPF_PROG(${1:name}, ${2:args})\n{\n\t$0\n\treturn 0;\n}' },
  ],
  [
    'BPF_PROG2',
    F,
    'BPF_PROG2(name, args...)',
    TR,
    'Like BPF_PROG with each argument written as a type, name pair; needed when an argument is a struct passed by value (kernel 6.1+).',
    {
      snippet: 'int BPF_PROG2(${1:name}, ${2:type}, ${3:arg})\n{\n\t$0\n\treturn 0;\n}',
    },
  ],
  [
    'BPF_KPROBE',
    F,
    'BPF_KPROBE(name, args...)',
    TR,
    'Defines a kprobe or uprobe program with named arguments read from pt_regs (PT_REGS_PARM1, ...).',
    {
      snippet: 'int BPF_KPROBE(${1:name}, ${2:args})\n{\n\t$0\n\treturn 0;\n}',
    },
  ],
  [
    'BPF_KRETPROBE',
    F,
    'BPF_KRETPROBE(name, args...)',
    TR,
    'Defines a kretprobe or uretprobe program; its one optional argument is the return value (PT_REGS_RC).',
    {
      snippet: 'int BPF_KRETPROBE(${1:name}, ${2:long ret})\n{\n\t$0\n\treturn 0;\n}',
    },
  ],
  [
    'BPF_KSYSCALL',
    F,
    'BPF_KSYSCALL(name, args...)',
    TR,
    "Defines a ksyscall/kretsyscall program with the system call's arguments, hiding how the architecture passes them (pt_regs wrappers).",
    {
      snippet: 'int BPF_KSYSCALL(${1:name}, ${2:args})\n{\n\t$0\n\treturn 0;\n}',
    },
  ],
  [
    'BPF_KPROBE_SYSCALL',
    F,
    'BPF_KPROBE_SYSCALL(name, args...)',
    TR,
    'Older name of BPF_KSYSCALL.',
    {
      snippet: 'int BPF_KPROBE_SYSCALL(${1:name}, ${2:args})\n{\n\t$0\n\treturn 0;\n}',
    },
  ],
  [
    'BPF_UPROBE',
    F,
    'BPF_UPROBE(name, args...)',
    TR,
    'Defines a uprobe program with named arguments (same as BPF_KPROBE, clearer for user-space probes).',
    {
      snippet: 'int BPF_UPROBE(${1:name}, ${2:args})\n{\n\t$0\n\treturn 0;\n}',
      since: '1.2',
    },
  ],
  [
    'BPF_URETPROBE',
    F,
    'BPF_URETPROBE(name, args...)',
    TR,
    'Defines a uretprobe program; its one optional argument is the return value.',
    {
      snippet: 'int BPF_URETPROBE(${1:name}, ${2:long ret})\n{\n\t$0\n\treturn 0;\n}',
      since: '1.2',
    },
  ],
  [
    'BPF_KPROBE_READ_RET_IP',
    F,
    'BPF_KPROBE_READ_RET_IP(ip, ctx)',
    TR,
    'Reads the return address of the probed function in a kprobe.',
    { snippet: 'BPF_KPROBE_READ_RET_IP(${1:ip}, ${2:ctx})' },
  ],
  [
    'BPF_KRETPROBE_READ_RET_IP',
    F,
    'BPF_KRETPROBE_READ_RET_IP(ip, ctx)',
    TR,
    'Reads the return address in a kretprobe.',
    { snippet: 'BPF_KRETPROBE_READ_RET_IP(${1:ip}, ${2:ctx})' },
  ],
  ...[1, 2, 3, 4, 5].map((n) => [
    `PT_REGS_PARM${n}`,
    F,
    `PT_REGS_PARM${n}(x)`,
    TR,
    `Argument ${n} of the probed function, from struct pt_regs *x (needs -D__TARGET_ARCH_<arch>, e.g. x86).`,
  ]),
  ...[1, 2, 3, 4, 5].map((n) => [
    `PT_REGS_PARM${n}_CORE`,
    F,
    `PT_REGS_PARM${n}_CORE(x)`,
    TR,
    `PT_REGS_PARM${n} read with a CO-RE probe read, for a pt_regs pointer the program may not dereference directly.`,
  ]),
  ...[1, 2, 3, 4, 5].map((n) => [
    `PT_REGS_PARM${n}_SYSCALL`,
    F,
    `PT_REGS_PARM${n}_SYSCALL(x)`,
    TR,
    `Argument ${n} of a system call, from the syscall's own pt_regs (see PT_REGS_SYSCALL_REGS).`,
  ]),
  [
    'PT_REGS_SYSCALL_REGS',
    F,
    'PT_REGS_SYSCALL_REGS(ctx)',
    TR,
    "The pt_regs of the system call, from the kprobe's ctx on a syscall wrapper (__x64_sys_*).",
  ],
  ['PT_REGS_RC', F, 'PT_REGS_RC(x)', TR, 'Return value of the probed function, in a kretprobe/uretprobe.'],
  ['PT_REGS_RC_CORE', F, 'PT_REGS_RC_CORE(x)', TR, 'PT_REGS_RC read with a CO-RE probe read.'],
  ['PT_REGS_RET', F, 'PT_REGS_RET(x)', TR, 'Return address register (link register on arm64; stack-based on x86).'],
  ['PT_REGS_FP', F, 'PT_REGS_FP(x)', TR, 'Frame pointer register.'],
  ['PT_REGS_SP', F, 'PT_REGS_SP(x)', TR, 'Stack pointer register.'],
  ['PT_REGS_IP', F, 'PT_REGS_IP(x)', TR, 'Instruction pointer register.'],
  // --- bpf_endian.h ---
  [
    'bpf_htons',
    F,
    'bpf_htons(x)',
    EN,
    'Host to network byte order, 16 bits (constant-folded for constants). Use for ports and ethertypes: eth->h_proto == bpf_htons(ETH_P_IP).',
  ],
  ['bpf_ntohs', F, 'bpf_ntohs(x)', EN, 'Network to host byte order, 16 bits.'],
  ['bpf_htonl', F, 'bpf_htonl(x)', EN, 'Host to network byte order, 32 bits (IPv4 addresses).'],
  ['bpf_ntohl', F, 'bpf_ntohl(x)', EN, 'Network to host byte order, 32 bits.'],
  ['bpf_cpu_to_be64', F, 'bpf_cpu_to_be64(x)', EN, 'Host to big-endian byte order, 64 bits.'],
  ['bpf_be64_to_cpu', F, 'bpf_be64_to_cpu(x)', EN, 'Big-endian to host byte order, 64 bits.'],
  // --- usdt.bpf.h ---
  [
    'BPF_USDT',
    F,
    'BPF_USDT(name, args...)',
    USDT,
    'Defines a USDT program (SEC("usdt/...")) with named arguments fetched with bpf_usdt_arg.',
    { snippet: 'int BPF_USDT(${1:name}, ${2:args})\n{\n\t$0\n\treturn 0;\n}' },
  ],
  [
    'bpf_usdt_arg',
    F,
    'int bpf_usdt_arg(struct pt_regs *ctx, __u64 arg_num, long *res)',
    USDT,
    'Fetches USDT argument arg_num (0-based) into *res; returns 0 or a negative error.',
    { snippet: 'bpf_usdt_arg(${1:ctx}, ${2:0}, ${3:&val})' },
  ],
  [
    'bpf_usdt_arg_cnt',
    F,
    'int bpf_usdt_arg_cnt(struct pt_regs *ctx)',
    USDT,
    'Number of arguments of the USDT probe being traced.',
    { snippet: 'bpf_usdt_arg_cnt(${1:ctx})' },
  ],
  [
    'bpf_usdt_cookie',
    F,
    'long bpf_usdt_cookie(struct pt_regs *ctx)',
    USDT,
    'The cookie given when the USDT probe was attached (bpf_program__attach_usdt opts).',
    { snippet: 'bpf_usdt_cookie(${1:ctx})' },
  ],
  ['BPF_USDT_MAX_ARG_CNT', O, 'BPF_USDT_MAX_ARG_CNT', USDT, 'Maximum number of USDT arguments libbpf supports (12).'],
];

/** `NAME(a, b, args...)` -> `NAME(${1:a}, ${2:b}, ${3:args})`; variadic `...` is dropped. */
function snippetFor(kind, name, signature) {
  if (kind !== F) return name;
  const m = /\(([^)]*)\)\s*$/.exec(signature);
  const params = (m?.[1] ?? '')
    .split(',')
    .map((p) => p.trim().replace(/\.\.\.$/, ''))
    .filter(Boolean);
  return `${name}(${params.map((p, i) => `\${${i + 1}:${p}}`).join(', ')})`;
}

const headerText = new Map();
function defines(header, name) {
  const path = join(includeDir, header.replace(/^bpf\//, ''));
  if (!existsSync(path)) return true; // no headers here: nothing to check against
  if (!headerText.has(path)) headerText.set(path, readFileSync(path, 'utf8'));
  const text = headerText.get(path);
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`#\\s*define\\s+${esc}\\b|\\b${esc}\\s*\\(`).test(text);
}

const problems = [];
const macros = M.map(([name, kind, signature, header, description, extra = {}]) => {
  if (!extra.since && header.startsWith('bpf/') && !defines(header, name)) {
    problems.push(`${name} is not in ${includeDir}/${header.replace(/^bpf\//, '')}: add its libbpf version as since`);
  }
  const m = {
    name,
    kind,
    signature,
    snippet: extra.snippet ?? snippetFor(kind, name, signature),
    description,
    header,
  };
  if (extra.since) m.since = extra.since;
  return m;
});
const names = new Set();
for (const m of macros) {
  if (names.has(m.name)) problems.push(`duplicate ${m.name}`);
  names.add(m.name);
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
writeFileSync(outPath, JSON.stringify(macros, null, 1) + '\n');
console.log(`${macros.length} macros -> ${outPath}`);
