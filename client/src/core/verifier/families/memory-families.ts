/**
 * Families of memory-access messages: loads and stores through pointers (NULL, scalar, packet, map value,
 * stack, context, BTF objects), pointer arithmetic and the bounds it needs.
 */
import type { Family } from './family';

export const MEMORY_FAMILIES: Family[] = [
  // hand-written catalog entries (catalog.ts) keep their own patterns; these lines only account for their formats
  {
    id: 'invalid-mem-access',
    title: 'Dereference of a pointer that may be NULL, or of something that is not a pointer',
    formats: ["R%d invalid mem access '%s'", "%s invalid mem access '%s'"],
    explain:
      "$r1 has the type '$2' here. A type ending in 'or_null' (map_value_or_null, ptr_or_null_, trusted_ptr_or_null_, mem_or_null, sock_or_null ...) is a pointer that is NULL when the helper or kfunc that produced it failed (a missing map key, a task or cgroup that was not found, a full ring buffer), and the program reads or writes through it before checking it. 'scalar' is a plain number, not a pointer the verifier tracked.",
    fix: 'Check the pointer right after the call that returns it (`if (!p) return 0;`) and use it only inside the checked branch; for kernel memory that is not a tracked pointer, read it with bpf_probe_read_kernel() / BPF_CORE_READ().',
    fixtures: ['kfunc_null_deref', 'kfunc_null_deref_6.12_l2'],
  },
  {
    id: 'packet-bounds',
    title: 'Packet read or written without a bounds check',
    formats: [/^invalid access to packet, off=/, /offset is outside of the packet$/],
    explain: 'The program reads or writes packet bytes it has not proven to be before data_end.',
    entry: 'packet-bounds',
  },
  {
    id: 'packet-unbounded-math',
    title: 'Unbounded offset added to a pointer',
    formats: [/^math between %s pointer and register with unbounded min value/],
    explain:
      'A value with no known lower bound (it may be negative or huge) is added to a pointer, so the verifier cannot tell where the result points.',
    entry: 'packet-unbounded-math',
  },
  {
    id: 'pointer-math-constant',
    title: 'Pointer moved by a constant that is too large',
    formats: [
      'math between %s pointer and %lld is not allowed',
      /^%s pointer offset %(lld|d) is not allowed$/,
      'value %lld makes %s pointer be out of bounds',
    ],
    explain:
      'The program adds a constant offset to a pointer that the verifier will not accept (larger than 2^29 in either direction, or out of the object). Large offsets would let the pointer wrap around or leave its object.',
    fix: 'Keep offsets small and inside the object; compute indexes as scalars, bound them, then add them to the pointer.',
    fixtures: ['ptr_huge_offset', 'ptr_huge_offset_6.12_l2', 'ptr_huge_offset_6.1_l2'],
  },
  {
    id: 'packet-write-denied',
    title: 'This program type may not write to the packet',
    formats: ['cannot write into packet', 'the prog does not allow writes to packet data'],
    explain: 'The program (or a kfunc it calls) would write to the packet, which this program type may not do.',
    entry: 'packet-write-denied',
  },
  {
    id: 'map-value-bounds',
    title: 'Access past the end of a map value',
    formats: [/^invalid access to map value, value_size=/],
    explain: 'The access falls outside the map value (offset plus size past value_size, or before its start).',
    entry: 'map-value-bounds',
  },
  {
    id: 'map-key-bounds',
    title: 'Access past the end of a map key',
    formats: [/^invalid access to map key, key_size=/],
    explain:
      'The map key is $1 bytes, and the program accesses $3 bytes at offset $2 of it (in a bpf_for_each_map_elem callback, the key pointer).',
    fix: 'Access only the key type’s own fields, with its size.',
    fixtures: ['map_key_oob', 'map_key_oob_6.12_l2', 'map_key_oob_6.1_l2'],
  },
  {
    id: 'map-value-direct-bounds',
    title: 'Global variable or map value address outside the value',
    formats: [
      /^invalid access to map value pointer, value_size=/,
      /^direct value offset of %u is not allowed/,
      'no direct value access support for this map type',
    ],
    explain:
      'An instruction takes the address of a map value directly (global variables, .rodata/.data/.bss sections) at an offset outside the value, or on a map type that has no such direct access.',
    fix: 'Rebuild the object (the loader patches these addresses); direct value access works only on array maps with one element, as libbpf creates for global data.',
  },
  {
    id: 'map-value-negative',
    title: 'Index into a map value may be negative',
    formats: [/min value is negative, either use unsigned index/],
    explain: 'The index into the object may be negative: it is signed and bounded only from above.',
    entry: 'map-value-negative',
  },
  {
    id: 'unbounded-mem-access',
    title: 'Index with no upper bound',
    formats: [/unbounded memory access, make sure to bounds check any such access$/],
    explain: 'The offset into memory has no upper bound the verifier knows.',
    entry: 'unbounded-mem-access',
  },
  {
    id: 'unbounded-size-arg',
    title: 'Size argument with no upper bound',
    formats: [
      /unbounded memory access, use 'var &= const' or 'if \(var < const\)'$/,
      /min value is negative, either use unsigned or 'var &= const'$/,
    ],
    explain:
      "$r1 is passed as the size of a memory argument (bpf_probe_read_*'s size, bpf_ringbuf_output's size, a kfunc's __sz argument ...) and the verifier does not know an upper bound for it (or it may be negative), so it cannot check that the buffer is that large.",
    fix: 'Bound the size right before the call: `if (len > sizeof(buf)) len = sizeof(buf);` or `len &= sizeof(buf) - 1;` with an unsigned type; compilers may drop a check they prove redundant, so check the same variable you pass.',
    fixtures: [
      'size_negative',
      'size_unbounded',
      'size_negative_6.12_l2',
      'size_negative_6.1_l2',
      'size_unbounded_6.12_l2',
      'size_unbounded_6.1_l2',
    ],
  },
  {
    id: 'zero-sized-arg',
    title: 'Size argument that may be zero',
    formats: [/^(R%d|%s) invalid zero-sized read: u64=/],
    explain: '$r1 is a size argument whose range includes 0, and this helper or kfunc needs at least one byte.',
    fix: 'Check that the size is not 0 (`if (len == 0) return 0;`) or use a helper argument that accepts zero sizes.',
    fixtures: ['zero_size_arg', 'zero_size_arg_6.12_l2'],
  },
  {
    id: 'zero-sized-access',
    title: 'Zero-sized memory argument',
    formats: ['invalid zero-sized read'],
    explain: 'A memory argument of size 0 is passed where at least one byte is needed.',
    entry: 'zero-sized-access',
    fixtures: ['zero_size_arg_6.1_l2'],
  },
  {
    id: 'mem-bounds',
    title: 'Access past the end of a memory region',
    formats: [/^invalid access to memory, mem_size=/],
    explain: 'The access falls outside the memory region (e.g. a ring buffer record) the pointer refers to.',
    entry: 'mem-bounds',
  },
  {
    id: 'mem-range',
    title: 'Access outside the allowed memory range',
    formats: [/(min|max) value is outside of the allowed memory range$/],
    explain: 'The lowest or highest offset the register can have puts the access outside the object it points into.',
    entry: 'mem-range',
  },
  {
    id: 'mem-size-too-large',
    title: 'Memory argument too large',
    formats: ['%s memory size %u is too large'],
    explain: 'The memory passed as $1 is declared $2 bytes, more than the verifier accepts for one argument.',
    fix: 'Pass a smaller buffer, or split the work.',
  },
  {
    id: 'buffer-access',
    title: 'Access outside a tracing buffer',
    formats: [/invalid %s buffer access: off=/, /invalid (negative %s|variable) buffer offset/],
    explain:
      'The program accesses a read-only or read-write buffer (an iterator or tracing argument) outside its known size, or at an offset the verifier cannot bound.',
    fix: 'Use constant offsets inside the buffer, or bound the index before the access.',
  },
  {
    id: 'stack-variable-offset',
    title: 'Stack accessed at an offset that can leave the buffer',
    formats: [
      /^invalid (unbounded )?variable-offset%s stack/,
      /^invalid%s read from stack (R%d|%s) var_off /,
      /^invalid read from stack %s var_off /,
    ],
    explain:
      'The stack is accessed through a pointer whose offset varies, and its range reaches outside the stack buffer or into bytes never written.',
    entry: 'stack-variable-offset',
  },
  {
    id: 'stack-out-of-range',
    title: 'Stack access outside the stack frame',
    formats: [/^invalid%s stack (R%d|%s) off=/],
    explain:
      "The stack access falls outside the function's stack frame (above the frame pointer, or below its 512 bytes).",
    entry: 'stack-out-of-range',
    fixtures: ['global_struct_size_6.12_l2', 'global_struct_size_6.1_l2', 'kfunc_mem_size_6.12_l2'],
  },
  {
    id: 'stack-read-uninit',
    title: 'Stack bytes read before they were written',
    formats: [
      /^invalid%s read from stack R%d off %d\+%d size %d$/,
      /^invalid read from stack (%s )?off %d\+%d size %d$/,
    ],
    explain:
      'The program (or a helper it passes a stack buffer to) reads stack bytes that were never written on this path: an uninitialised local variable, struct padding, or a buffer only partly filled.',
    fix: 'Initialise the variable or buffer before use (`struct x v = {};` or __builtin_memset(&v, 0, sizeof(v))), including struct padding when the whole struct is passed to a helper or map.',
  },
  {
    id: 'stack-slot-poisoned',
    title: 'Stack slot read on a path that dead-code elimination removed',
    formats: [/slot poisoned by dead code elimination$/],
    explain:
      'The stack bytes read here were written only by code the verifier proved dead and removed, so on every live path they are uninitialised.',
    fix: 'Initialise the variable on every path before reading it.',
  },
  {
    id: 'stack-var-offset-unpriv',
    title: 'Variable stack offset (unprivileged)',
    formats: [
      /variable (offset )?stack access prohibited for !root/,
      /^R%d stack pointer arithmetic goes out of range, prohibited for !root/,
      /^uninit stack in range of var-offset write prohibited for !root/,
      /^variable offset stack pointer cannot be passed into helper function/,
    ],
    explain:
      'Without CAP_BPF / CAP_PERFMON the verifier accepts only constant offsets into the stack (a speculative-execution hardening), and a variable one is used here.',
    fix: 'Load the program with CAP_BPF and CAP_PERFMON (or as root), or index stack arrays with constants (e.g. an unrolled switch).',
  },
  {
    id: 'stack-spill-corrupt',
    title: 'Spilled pointer partly overwritten or leaked',
    formats: [
      'attempt to corrupt spilled pointer on stack',
      'leaking pointer from stack off %d',
      /^spilled ptr in range of var-offset stack write/,
      'cannot spill pointers to stack into stack frame of the caller',
    ],
    explain:
      'A pointer saved on the stack is overwritten in part, read back as a number by an unprivileged program, or stored into the stack of a calling function: each would let the program forge or leak a kernel pointer.',
    fix: 'Keep pointers and numbers in separate variables (no unions of pointers and integers), and do not store pointers through a pointer to the caller’s stack.',
  },
  {
    id: 'register-fill-size',
    title: 'Spilled pointer read back with a different size',
    formats: ['invalid size of register fill', 'invalid size of register spill'],
    explain:
      'A register saved on the stack (spilled) is written or read back with a different size than a whole register.',
    entry: 'register-fill-size',
  },
  {
    id: 'ctx-access',
    title: 'Invalid access to the context',
    formats: [/^invalid bpf_context access off=%d size=%d$/, /^invalid access to context, ctx_size=/],
    explain: 'The program accesses the context at an offset or size that is not a field this program type may access.',
    entry: 'ctx-access',
  },
  {
    id: 'ctx-access-released',
    title: 'Context field read after the object it refers to was released',
    formats: [/^invalid bpf_context access off=%d\. Reference may already be released/],
    explain: 'This context field points to an object (e.g. a socket) whose reference the program already released.',
    fix: 'Read the field before releasing the reference, or do not release it.',
  },
  {
    id: 'ctx-variable-offset',
    title: 'Context read at a variable offset',
    formats: [/^variable %s access var_off=%s disallowed$/],
    explain:
      'A context (or similar special pointer) is accessed at a variable offset; such accesses must use a constant offset.',
    entry: 'ctx-variable-offset',
  },
  {
    id: 'modified-ctx',
    title: 'Pointer moved before use',
    formats: [/^dereference of modified %s ptr/, /^negative offset %s ptr/],
    explain:
      'A special pointer (the context, a socket, flow keys ...) was moved by an offset, or by a negative offset, before being dereferenced; it must be used unmodified, with the offset in the load itself.',
    entry: 'modified-ctx',
    fixtures: ['release_offset_6.1_l2'],
  },
  {
    id: 'flow-keys-access',
    title: 'Invalid access to flow keys',
    formats: [/^invalid access to flow keys off=/, /invalid variable offset to flow keys/],
    explain: 'A flow dissector program accesses struct bpf_flow_keys outside its fields, or at a variable offset.',
    fix: 'Access flow_keys fields by name, with constant offsets.',
  },
  {
    id: 'sock-access',
    title: 'Invalid access to a socket',
    formats: [/invalid %s access off=%d size=%d$/],
    explain:
      'The program reads a field of a socket-type pointer ($2) that this pointer type does not expose, or with the wrong size.',
    fix: 'Access only the fields of struct bpf_sock / bpf_tcp_sock / bpf_xdp_sock with their declared sizes, or cast to the kernel type with bpf_skc_to_*() helpers.',
  },
  {
    id: 'leaks-addr',
    title: 'Pointer stored where it could leak to user space',
    formats: [/^R%d leaks addr into (ctx|flow keys|map|packet|mem|helper function)$/, /leaks addr as return value$/],
    explain:
      'The program writes a kernel pointer into memory user space can read (a map value, the packet, the context, a helper argument) or returns it. Unprivileged programs may not leak kernel addresses, and some destinations never accept them.',
    fix: 'Store the data the pointer points to (or an id), not the pointer itself; load privileged programs with CAP_BPF + CAP_PERFMON.',
  },
  {
    id: 'map-access-forbidden',
    title: 'Read or write of a map the program may not access that way',
    formats: [/^(read from|write into) map forbidden/],
    explain:
      'The map was created with BPF_F_RDONLY_PROG or BPF_F_WRONLY_PROG (e.g. .rodata is read-only for programs), and the program accesses it the other way.',
    fix: 'Do not write to const globals (.rodata) or read write-only maps; drop `const` from the variable or the map flag.',
    fixtures: ['rodata_write', 'rodata_write_6.12_l2', 'rodata_write_6.1_l2'],
  },
  {
    id: 'btf-struct-access',
    title: 'Access outside a field of a kernel struct',
    formats: [
      /^access beyond (the end of member|struct) /,
      /^struct %s doesn't have field at offset/,
      /^cannot access ptr member %s/,
      /^field %s doesn't have size/,
      /^Type '%s' is not a struct$/,
      /^type '%s' has multiple type tags$/,
    ],
    explain:
      'The program reads a kernel struct through a BTF pointer (ptr_task_struct ...) at an offset and size that do not fall inside one field: for an array member such as task->comm, the read runs past its end (for example reading 8 bytes at an offset near the end of the 16-byte comm), or the offset lies in padding.',
    fix: 'Read whole fields with their own size; copy arrays with bpf_probe_read_kernel_str(buf, sizeof(buf), task->comm) or bpf_get_current_comm(), and keep indexes inside the array.',
    fixtures: ['btf_member_end'],
  },
  {
    id: 'btf-ptr-bad-offset',
    title: 'Kernel pointer accessed at a negative, variable or special offset',
    formats: [
      /is ptr_%s (invalid negative access|invalid variable offset|access user memory|access percpu memory)/,
      /^(R%d|%s) is %s invalid negative access: off=/,
    ],
    explain:
      'The program accesses a kernel object through a BTF pointer at a negative or non-constant offset, or the field is __user or __percpu memory that must not be dereferenced directly.',
    fix: 'Use constant field accesses; read __user memory with bpf_probe_read_user() and __percpu memory with bpf_per_cpu_ptr()/bpf_this_cpu_ptr().',
    fixtures: ['btf_negative_offset', 'btf_negative_offset_6.12_l2', 'btf_negative_offset_6.1_l2'],
  },
  {
    id: 'btf-ptr-write',
    title: 'Write through a read-only kernel pointer',
    formats: [
      /cannot write into ptr_%s at off=/,
      'only read is supported',
      'only read from %s is supported',
      /^direct access to %s is disallowed$/,
    ],
    explain:
      'Kernel objects reached through BTF pointers (and map pointers) are read-only for this program type; only some struct_ops and kfunc-returned objects may be written.',
    fix: 'Use a helper or kfunc that changes the object, or write to your own map instead.',
    fixtures: ['btf_ptr_write', 'btf_ptr_write_6.12_l2', 'btf_ptr_write_6.1_l2'],
  },
  {
    id: 'btf-ptr-capability',
    title: 'Kernel struct access needs more privilege or a GPL license',
    formats: [
      /access is allowed only to CAP_PERFMON and CAP_SYS_ADMIN$/,
      /^Cannot access kernel 'struct %s' from non-GPL compatible program$/,
    ],
    explain:
      'Reading kernel structs through BTF pointers needs CAP_PERFMON (or CAP_SYS_ADMIN), and for some types a GPL-compatible license.',
    fix: 'Load with the needed capabilities, and declare `char LICENSE[] SEC("license") = "GPL";` (or "Dual BSD/GPL").',
    fixtures: ['btf_license', 'btf_license_6.12_l2'],
  },
  {
    id: 'map-ptr-access',
    title: 'Field read through a map pointer not supported',
    formats: [/^map_ptr access not supported/],
    explain:
      'The program reads a field of `struct bpf_map` through &map, which this map type (or a kernel without BTF) does not support.',
    fix: 'Keep the value you need in a global variable instead of reading it from the map struct.',
  },
  {
    id: 'pointer-arithmetic',
    title: 'Arithmetic on a pointer that does not allow it',
    formats: [/^R%d pointer arithmetic on %s prohibited$/],
    explain: 'Arithmetic on this kind of pointer is not allowed.',
    entry: 'pointer-arithmetic',
  },
  {
    id: 'pointer-arithmetic-null',
    title: 'Arithmetic on a pointer that may be NULL',
    formats: ['R%d pointer arithmetic on %s prohibited, null-check it first'],
    explain: '$r1 is a $2: it may be NULL, so moving it (p + n, &p->field) is not allowed before the NULL check.',
    fix: 'Check the pointer for NULL first, then compute addresses from it.',
    fixtures: ['null_ptr_arith', 'null_ptr_arith_6.12_l2', 'null_ptr_arith_6.1_l2'],
  },
  {
    id: 'pointer-alu',
    title: 'Operation not allowed on a pointer',
    formats: [
      /^R%d (32-bit pointer arithmetic|bitwise operator %s on pointer|pointer arithmetic with %s operator|subtraction from stack pointer|tried to subtract pointer from scalar|pointer %s pointer|pointer arithmetic) prohibited$/,
      /^R%d tried to subtract pointer from scalar$/,
      'R%d partial copy of pointer',
      'R%d sign-extension part of pointer',
      'R%d pointer comparison prohibited',
    ],
    explain:
      'A pointer goes through an operation the verifier only allows on numbers: 32-bit arithmetic, multiplication, bitwise and/or/shift, subtracting it from a number, combining two pointers, copying part of it, or (unprivileged) comparing it.',
    fix: 'Compute offsets as scalars and add them to the pointer with + or -; for alignment or hashing use the value the pointer points to (or an id), not the pointer bits.',
    fixtures: ['ptr_bitwise', 'ptr_bitwise_6.12_l2', 'ptr_bitwise_6.1_l2'],
  },
  {
    id: 'speculative-sanitize',
    title: 'Pointer arithmetic rejected by Spectre hardening',
    formats: [
      /^R%d (could not be pushed for speculative verification|has pointer with unsupported alu operation|has unknown scalar with mixed signed bounds|tried to %s beyond pointer bounds|tried to %s from different maps, paths or scalars), %s$/,
      'R%d pointer arithmetic of map value goes out of range, prohibited for !root',
    ],
    explain:
      'For programs loaded without CAP_PERFMON the verifier masks pointer arithmetic against speculative out-of-bounds access, and cannot do it here: the offset may be negative and positive, differs between paths or maps, or leaves the object.',
    fix: 'Load with CAP_BPF + CAP_PERFMON, or make the offset non-negative and bounded (unsigned type and an upper-bound check) and the same kind of pointer on every path.',
  },
  {
    id: 'same-insn-different-pointers',
    title: 'One instruction used with different kinds of pointer',
    formats: ['same insn cannot be used with different pointers'],
    explain:
      'The same load or store runs with a context pointer on one path and another kind of pointer (stack, map value ...) on another. Context accesses are rewritten per instruction, so one instruction cannot serve both.',
    fix: 'Do not merge pointers of different kinds into one variable (e.g. `p = cond ? ctx : &local`); access each through its own code, or copy the context field to the stack first.',
  },
  {
    id: 'misaligned-access',
    title: 'Misaligned access',
    formats: [/^misaligned (packet )?%?s?access off /, /^misaligned packet access off /],
    explain:
      'The access is not aligned to its size, and the verifier enforces alignment here (strict alignment, or pointers that must be aligned).',
    fix: 'Access fields at offsets that are multiples of their size; copy unaligned data with __builtin_memcpy into an aligned local.',
  },
  {
    id: 'atomic-bad-target',
    title: 'Atomic operation on memory that does not allow it',
    formats: [
      /^BPF_ATOMIC (stores into|loads from) R%d %s is not allowed$/,
      /^BPF_ST stores into R%d %s is not allowed$/,
      'invalid atomic operand size',
      /^BPF_ATOMIC uses invalid atomic opcode/,
      /^64-bit (load-acquires|store-releases) are only supported on 64-bit arches$/,
    ],
    explain:
      'An atomic instruction (__sync_fetch_and_add, __atomic_*) targets memory that does not support it (the context, packet, a BTF pointer), or uses a size or operation this kernel does not support.',
    fix: 'Use atomics only on map values, the stack or arena memory, with 4- or 8-byte operands.',
    fixtures: ['atomic_ctx', 'atomic_ctx_6.12_l2', 'atomic_ctx_6.1_l2'],
  },
  {
    id: 'write-map-key',
    title: 'Write to a map key',
    formats: [/^write to change key (R%d|%s) not allowed$/],
    explain: 'The key pointer a map callback receives (bpf_for_each_map_elem) is read-only.',
    fix: 'Copy the key to a local variable if you need to change it.',
    fixtures: ['map_cb_key_write', 'map_cb_key_write_6.12_l2', 'map_cb_key_write_6.1_l2'],
  },
  {
    id: 'insn-array-read',
    title: 'Invalid read from an instruction array map',
    formats: [/^Invalid read of %d bytes from insn_array$/],
    explain: 'Instruction-array maps (jump tables) can only be read 8 bytes at a time.',
    fix: 'Read 8-byte entries.',
  },
  {
    id: 'kptr-access',
    title: 'Invalid access to a kptr field',
    formats: [
      /^(kptr|%s) access (cannot have variable offset|misaligned expected=|size must be BPF_DW)/,
      /^kptr in map can only be accessed using /,
      /^BPF_ST imm must be 0 when storing to kptr/,
      'store to referenced kptr disallowed',
      'store to uptr disallowed',
      /^invalid kptr access, R%d type=%s%s $/,
      /^R%d must point to kernel BTF$/,
      /^(kptr|%s) cannot be accessed indirectly by helper$/,
    ],
    explain:
      'A field declared __kptr / __kptr_untrusted / __uptr in a map value is accessed with the wrong size, offset or instruction, or a referenced kptr is stored directly. Referenced kptrs may only be exchanged with bpf_kptr_xchg().',
    fix: 'Read or write kptr fields as whole 8-byte pointers at their declared offset, and store referenced objects with `old = bpf_kptr_xchg(&v->field, new);` (releasing `old`).',
    fixtures: ['kptr_direct_store', 'kptr_direct_store_6.12_l2'],
  },
  {
    id: 'special-field-direct',
    title: 'Special map-value field accessed directly',
    formats: [/cannot be accessed directly by load\/store$/, /^%s cannot be accessed indirectly by helper$/],
    explain:
      'bpf_spin_lock, bpf_timer, bpf_wq, bpf_list_head, bpf_rb_root and similar fields of a map value may only be used through their helpers/kfuncs, never read or written directly (nor passed as part of a buffer to a helper).',
    fix: 'Use bpf_spin_lock()/bpf_timer_*()/... on the field, and copy only the other fields when you copy the value.',
    fixtures: ['spin_lock_direct', 'spin_lock_direct_6.12_l2', 'spin_lock_direct_6.1_l2'],
  },
];
