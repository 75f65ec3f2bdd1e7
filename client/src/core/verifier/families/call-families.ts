/**
 * Families of call messages: helper and kfunc arguments, references (acquire/release), dynptrs, iterators,
 * locks and other critical sections, callbacks, and calls to global (non-static) functions.
 */
import type { Family } from './family';

const GPL =
  'Declare a GPL-compatible license in the program: `char LICENSE[] SEC("license") = "GPL";` (or "Dual BSD/GPL", "Dual MIT/GPL").';

export const CALL_FAMILIES: Family[] = [
  {
    id: 'gpl-only-call',
    title: 'GPL-only helper or kfunc called from a non-GPL program',
    formats: [
      'cannot call GPL-restricted function from non-GPL compatible program',
      'cannot call kernel function from non-GPL compatible program',
      /must have a GPL compatible license$/,
    ],
    explain:
      'This helper (e.g. bpf_probe_read_kernel, bpf_trace_printk, bpf_get_current_task), every kfunc, and LSM/struct_ops programs are available only to programs whose license section is GPL-compatible. The call is only where the kernel noticed; the mistake is the LICENSE line (missing, or a proprietary string).',
    fix: GPL,
    fixtures: ['gpl_only_call', 'gpl_only_call_6.12_l2', 'gpl_only_call_6.1_l2'],
  },
  {
    id: 'helper-not-allowed',
    title: 'Helper not available to this program type',
    formats: [/^program of this type cannot use helper %s#%d$/],
    explain: 'The helper exists, but this program type may not call it (each program type has its own set of helpers).',
    entry: 'helper-not-allowed',
  },
  {
    id: 'unknown-helper',
    title: 'Unknown helper',
    formats: [/^(invalid func|unknown func) %s#%d$/],
    explain: 'The helper call names a helper this kernel does not have, or one that is not valid here.',
    entry: 'unknown-helper',
  },
  {
    id: 'sleepable-helper',
    title: 'Helper that may sleep, in a program that may not',
    formats: ['helper call might sleep in a non-sleepable prog'],
    explain: 'The helper may sleep, and this program is not sleepable.',
    entry: 'sleepable-helper',
  },
  {
    id: 'sleepable-in-atomic',
    title: 'Sleepable helper or kfunc inside a non-sleeping region',
    formats: [
      /^sleepable helper %s#%d in /,
      /^kernel func %s is sleepable within /,
      /^program must be sleepable to call sleepable kfunc/,
      /^sleepable global function %s\(\) called in /,
      /^kernel function %s is sleepable but the program is not$/,
    ],
    explain:
      'A call that may sleep is made where sleeping is not allowed: in a program that is not sleepable, or inside bpf_rcu_read_lock(), bpf_preempt_disable(), bpf_local_irq_save() or a spin-locked region.',
    fix: 'Use a sleepable section (SEC("lsm.s/..."), "fentry.s/...", "uprobe.s/...", "iter.s/...", "syscall"), and make the call outside RCU/preemption/IRQ/lock regions.',
    fixtures: ['sleepable_in_rcu', 'sleepable_in_rcu_6.12_l2'],
  },
  {
    id: 'helper-in-probe',
    title: 'Helper call not allowed here',
    formats: ['helper call is not allowed in probe'],
    explain: 'This program type may not call helpers at all.',
    fix: 'Move the logic to a program type that allows helper calls.',
  },
  {
    id: 'btf-type-mismatch',
    title: 'Pointer to the wrong kernel type passed to a helper or kfunc',
    formats: [/^(R%d|%s) is of type %s but %s is expected$/],
    explain:
      "$r1 points to a '$2', and the function takes a pointer to '$3' (BTF types must match exactly, e.g. a struct sock where a struct tcp_sock is wanted).",
    fix: 'Pass a pointer of the declared type; convert socket types with bpf_skc_to_*() helpers, and check the result for NULL.',
  },
  {
    id: 'arg-type-mismatch',
    title: 'Helper or kfunc argument of the wrong kind',
    formats: [/^(R%d|%s) type=%s expected=$/, 'expected=%s', /^(R%d|%s) type=%s $/, '%s, '],
    explain:
      'A helper or kfunc argument has the wrong kind of value ($r1 holds another type of pointer, or a number, or a pointer that may be NULL) for what the function declares.',
    entry: 'arg-type-mismatch',
    fixtures: [
      'helper_null_btf_arg',
      'snprintf_stack_fmt',
      'spin_lock_unchecked_6.12_l2',
      'spin_lock_unchecked_6.1_l2',
      'helper_null_btf_arg_6.12_l2',
      'snprintf_stack_fmt_6.12_l2',
      'snprintf_stack_fmt_6.1_l2',
      'dynptr_in_map',
      'dynptr_in_map_6.1_l2',
      'dynptr_in_map_6.12_l2',
    ],
  },
  {
    id: 'helper-null-arg',
    title: 'Possibly NULL pointer passed to a helper or kfunc',
    formats: [/^Possibly NULL pointer passed to (helper|trusted) /, /is expected to be non-NULL$/],
    explain:
      'The argument may be NULL (an unchecked lookup or kfunc result), and this helper or kfunc requires a valid pointer.',
    fix: 'Check the pointer for NULL before passing it: `if (!p) return 0;`.',
  },
  {
    id: 'helper-mem-readonly',
    title: 'Helper would write into read-only memory',
    formats: [/^(R%d|%s) cannot write into %s$/, /may write into memory pointed by /],
    explain:
      'The helper writes into the buffer it receives, and the buffer passed here is read-only (a .rodata global, a read-only map value, a const dynptr slice).',
    fix: 'Pass a writable buffer: a local variable, a writable map value, or a non-const global.',
  },
  {
    id: 'helper-packet-arg',
    title: 'Packet pointer passed to a helper that does not accept it',
    formats: ['helper access to the packet is not allowed'],
    explain: 'This helper may not read directly from the packet in this program type.',
    fix: 'Copy the bytes to the stack first (bpf_skb_load_bytes) and pass the copy.',
  },
  {
    id: 'helper-arg-constant',
    title: 'Helper argument must be a known constant',
    formats: [
      /^(R%d|%s) is not a known constant'?$/,
      /^(R%d|%s) must be a known constant$/,
      /^(R%d|%s) is not a const$/,
      /^(R%d|%s) (is not a constant address|does not point to a readonly map)'?$/,
      /^%s points to insn_array map which cannot be used as const string$/,
      'string is not zero-terminated',
      'direct value access on string failed',
      /doesn't point to a const string$/,
      /^local type ID argument must be in range/,
      'failed to retrieve map value address',
    ],
    explain:
      'This argument must be a constant the verifier can see at load time (a flags value, a string in .rodata, a type id); here it is computed, or points to writable memory.',
    fix: 'Pass a literal or a `const volatile` global / string literal (in .rodata), not a value computed at run time.',
    fixtures: ['snprintf_data_fmt', 'snprintf_data_fmt_6.1_l2', 'snprintf_data_fmt_6.12_l2'],
  },
  {
    id: 'helper-scalar-arg',
    title: 'Argument must be a number',
    formats: [/^(R%d|%s) is not a scalar$/, 'R1 is not a scalar', /^(R%d|%s) is not a pointer to arena or scalar\.$/],
    explain: 'The function expects a plain number (or an arena pointer) in this argument, and gets a pointer.',
    fix: 'Pass a number (for example the value the pointer points to), not the pointer.',
    fixtures: ['global_scalar_ptr', 'global_scalar_ptr_6.1_l2', 'global_scalar_ptr_6.12_l2'],
  },
  {
    id: 'arg-not-map',
    title: 'Something other than a map passed as the map argument',
    formats: [/^pointer in (R%d|%s) isn't map pointer$/, /^invalid map_ptr to access map->(key|value|type)$/],
    explain: 'The argument that must be a map (`&my_map`) is something else, or the map pointer was changed.',
    entry: 'arg-not-map',
  },
  {
    id: 'map-type-helper',
    title: 'Helper not usable with this map type',
    formats: [
      'cannot pass map_type %d into func %s#%d',
      'invalid arg_type for sockmap/sockhash',
      'cannot update sockmap in this context',
      'callback function not allowed for map',
      'expected prog array map for tail call',
    ],
    explain:
      'This helper cannot be used with this map type, or not in this context (e.g. updating a sockmap from a program type that may not).',
    entry: 'map-type-helper',
  },
  {
    id: 'unacquired-reference',
    title: 'Release of something that was not acquired',
    formats: [
      /^arg %d is an unacquired reference$/,
      /^(func|kfunc) %s#%d reference has not been acquired before$/,
      /must be referenced when passed to release function$/,
      /^release (kernel function|helper|kfunc) %s expects/,
      /^(R%d|%s) must be referenced or trusted$/,
      'allocated object must be referenced',
      /^R%d must be referenced$/,
    ],
    explain:
      'A release function (bpf_ringbuf_submit/discard, bpf_sk_release, bpf_task_release, bpf_obj_drop, bpf_cgroup_release ...) receives a pointer that does not hold a reference on this path: it was never acquired, was already released (which invalidates every copy), or is only borrowed (e.g. skb->sk, bpf_get_current_task_btf(), a ctx argument). For dynptrs: bpf_ringbuf_submit_dynptr/discard_dynptr got a dynptr that is not a ring buffer reservation (e.g. one from bpf_dynptr_from_mem).',
    fix: 'Release exactly what an acquire call (bpf_task_acquire, bpf_sk_lookup_*, bpf_ringbuf_reserve, bpf_obj_new ...) returned, once, on each path; do not release borrowed pointers.',
    fixtures: [
      'obj_drop_map_value',
      'unacquired_release',
      'dynptr_unacquired_submit',
      'dynptr_unacquired_submit_6.12_l2',
      'dynptr_unacquired_submit_6.1_l2',
      'unacquired_release_6.12_l2',
      'unacquired_release_6.1_l2',
      'obj_drop_map_value_6.12_l2',
    ],
  },
  {
    id: 'release-offset',
    title: 'Released pointer moved from where it was acquired',
    formats: [
      /must have zero offset when passed to release func/,
      'cannot pass in dynptr at an offset',
      /^cannot pass in %s at an offset=%d$/,
      /^%s has to be at a constant offset$/,
    ],
    explain:
      'The pointer given to a release function (or trusted kfunc argument, or dynptr/iterator argument) points into the middle of the object, not at its start.',
    fix: 'Pass the pointer exactly as the acquiring call returned it (keep a copy before doing arithmetic on it).',
    fixtures: ['release_offset', 'release_offset_6.12_l2'],
  },
  {
    id: 'reference-leak',
    title: 'Reference acquired and not released',
    formats: [
      /^Unreleased reference id=%d alloc_insn=%d$/,
      /^Leaking reference id=%d alloc_insn=%d\. Release it first\.$/,
      /would lead to reference leak$/,
    ],
    explain:
      'On this path the program ends (returns, tail-calls or throws) while still holding a reference it acquired (a ring buffer reservation, a socket, a task, a dynptr, an iterator ...).',
    entry: 'reference-leak',
    fixtures: ['tail_call_leak', 'tail_call_leak_6.12_l2', 'tail_call_leak_6.1_l2'],
  },
  {
    id: 'kfunc-arg-btf-type',
    title: 'kfunc argument of the wrong kernel type',
    formats: [
      /^kernel function %s (args#%d|%s) expected pointer to %s %s/,
      /^kernel function %s (args#%d|%s) pointer type %s %s is not supported$/,
      /pointer type %s %s must point to %sscalar, or struct with scalar$/,
      /^arg#%d pointer type %s %s (must be valid and initialized|not to stack|points to unsupported dynamic pointer type)$/,
      /^kernel function %s %s expected pointer to/,
      /^Unrecognized (arg#%d|%s) type %s$/,
      /^reg type unsupported for arg#%d /,
      /^(arg#%d|%s) reference type\('%s %s'\) /,
      /^(arg#%d|%s) is %s $/,
      /^(arg#%d|%s) is neither owning or non-owning ref$/,
      '%s and ',
      'expected %s or socket',
      '%s prog->aux cannot be a stack argument',
      'max struct nesting depth exceeded',
      /^(expected=%s%s| or %s%s)$/,
    ],
    explain:
      'The kfunc expects a pointer to a specific kernel type (e.g. struct task_struct *, struct cgroup *), or to memory of scalars, and the argument is another type or kind of pointer (a void *, an untrusted pointer read from a struct, a map value).',
    fix: 'Pass a pointer of the declared type that the verifier trusts: one returned by an acquire kfunc or a tracing argument; cast with bpf_core_cast()/bpf_rdonly_cast() only for reading.',
    fixtures: ['kfunc_wrong_struct', 'kfunc_wrong_struct_6.12_l2'],
  },
  {
    id: 'kfunc-trusted-arg',
    title: 'kfunc needs a trusted or RCU-protected pointer',
    formats: [
      /^(R%d|%s) must be a rcu pointer$/,
      /^expected an RCU CS when using %s$/,
      /^kernel func %s requires RCU critical section protection$/,
      /^css_task_iter is only allowed in /,
    ],
    explain:
      'The kfunc only accepts pointers the verifier knows are valid (trusted, or protected by an RCU read-side section), and this one was read from a struct field or outside bpf_rcu_read_lock().',
    fix: 'Acquire the object (bpf_task_acquire ...) or wrap the use in bpf_rcu_read_lock()/bpf_rcu_read_unlock().',
  },
  {
    id: 'kfunc-ctx-arg',
    title: 'kfunc or global function needs the program context',
    formats: [
      /^(arg#%d|%s) expects pointer to ctx$/,
      /^(arg#%d|%s) expected pointer to ctx, but got %s$/,
      /^arg%d in %s\(\) is not a pointer to context$/,
    ],
    explain:
      'The called function declares this argument as the program context (`struct __sk_buff *`, `struct xdp_md *`, `void *ctx` with the program type’s ctx, or an __arg_ctx tag) and receives something else: a stack pointer, a map value, or a ctx pointer moved by an offset.',
    fix: 'Pass the program’s own ctx argument unchanged, or change the function’s parameter type to what you pass.',
    fixtures: ['global_ctx_arg', 'global_ctx_arg_6.12_l2', 'global_ctx_arg_6.1_l2'],
  },
  {
    id: 'kfunc-mem-len',
    title: 'Memory and length arguments do not fit together',
    formats: [
      /memory, len pair leads to invalid memory access$/,
      /rdonly\/rdwr_buf_size (exceeds u32 max|parameters for kfunc)/,
    ],
    explain:
      'A (pointer, size) argument pair describes more memory than the pointer gives access to (e.g. the size is larger than the buffer).',
    fix: 'Pass the buffer’s real size (`sizeof(buf)`), bounded by a check if it is computed.',
  },
  {
    id: 'kfunc-not-allowed',
    title: 'kfunc not available to this program',
    formats: [
      /^calling kernel function %s is not allowed$/,
      /^destructive kfunc calls require CAP_SYS_BOOT/,
      /^metadata kfuncs (require device-bound program|can't be offloaded)$/,
      /^kfunc %s has inconsistent KF_IMPLICIT_ARGS$/,
      /cannot be used in tracing programs on types with NMI unsafe fields$/,
    ],
    explain:
      'The kfunc exists but is not registered for this program type (each kfunc set is enabled for some program types only), or needs a privilege, device binding or context the program lacks.',
    fix: 'Use a program type that may call it (see the kernel documentation of the kfunc), or an equivalent helper.',
    fixtures: ['kfunc_not_allowed', 'kfunc_not_allowed_6.12_l2'],
  },
  {
    id: 'kfunc-not-found',
    title: 'kfunc not found in the kernel',
    formats: [
      /^cannot find address for kernel function %s$/,
      'failed to find BTF for kernel function',
      /^(kernel btf_id %[ud] is not a function|kernel function btf_id %[ud] does not have a valid func_proto|invalid kernel function btf_id %d)$/,
      /^cannot find function %s in BTF$/,
      /^function name %s%s is too long$/,
      'BTF fd for kfunc is not a module BTF',
      'invalid module BTF fd specified',
      'kfunc offset > 0 without fd_array is invalid',
      'negative offset disallowed for kernel module function call',
      /^invalid module BTF object FD specified\.$/,
    ],
    explain:
      'The kfunc declared `__ksym` in the program does not exist on this kernel (or in the module named), so the loader could not resolve it.',
    fix: 'Check the kfunc against the target kernel (bpf-ide’s completions list this kernel’s kfuncs); declare it `__weak __ksym` and test `bpf_ksym_exists(fn)` to run on kernels without it.',
  },
  {
    id: 'kfunc-needs-jit',
    title: 'kfunc calls need the JIT and BTF',
    formats: [
      /^JIT (does not support calling kernel function|is required for calling kernel function|does not support calling kfunc %s#%d|does not support kfunc %s\(\) with %d args)$/,
      /^address of kernel (function %s|func_id %u) is out of range$/,
      'calling kernel function is not supported without CONFIG_DEBUG_INFO_BTF',
      'calling kernel functions are not allowed in non-JITed programs',
      'too many different kernel function calls',
      'too many different module BTFs',
    ],
    explain:
      'Calling kfuncs needs a JIT compiler that supports them and a kernel with BTF; this kernel or architecture lacks one of them, or the program calls too many different kfuncs.',
    fix: 'Enable the BPF JIT (net.core.bpf_jit_enable=1) and CONFIG_DEBUG_INFO_BTF, or use helpers instead.',
  },
  {
    id: 'kfunc-return-type',
    title: 'kfunc returns a type the verifier does not support',
    formats: [
      /^kernel function %s returns pointer type %s %s is not supported$/,
      'acquire kernel function does not return PTR_TO_BTF_ID',
      /^kernel function %s unhandled dynamic return type$/,
    ],
    explain: 'The kfunc’s declared return type is not one the verifier can track for this call.',
    fix: 'Check the kfunc’s prototype in your program against the kernel’s (regenerate vmlinux.h), or use another kfunc.',
  },
  {
    id: 'kfunc-callback-failed',
    title: 'Callback passed to a kfunc failed verification',
    formats: [/^kfunc %s#%d failed callback verification$/, /expected pointer to func$/],
    explain:
      'The callback given to this kfunc (e.g. bpf_rbtree_add’s less() or bpf_wq_set_callback) is missing, not a static function, or was rejected.',
    fix: 'Pass a static function with the expected prototype, and fix the error reported for it above.',
  },
  {
    id: 'obj-new-type',
    title: 'Invalid type for bpf_obj_new / bpf_percpu_obj_new / bpf_rdonly_cast',
    formats: [
      /^bpf_(percpu_)?obj_new/,
      /^kfunc bpf_rdonly_cast type ID argument must be/,
      /^Unknown type ID %lld passed to kfunc bpf_rdonly_cast$/,
    ],
    explain:
      'bpf_obj_new() needs a struct type defined in the program (with prog BTF); bpf_percpu_obj_new() a small struct of scalars only; bpf_rdonly_cast() a struct type.',
    fix: 'Allocate a struct defined in your program (`bpf_obj_new(struct node)`), built with -g so it has BTF.',
    fixtures: ['obj_new_int', 'obj_new_int_6.12_l2'],
  },
  {
    id: 'alloc-object-arg',
    title: 'Argument must be an allocated object',
    formats: [
      /expected pointer to allocated object$/,
      /expected pointer to map value or allocated object$/,
      /doesn't point to (map value or allocated object|a map value|a type with bpf_refcount field)$/,
      /expected for bpf_(percpu_)?obj_drop(_impl)?\(\)$/,
      /can only take non-owning or refcounted bpf_rb_node pointer$/,
    ],
    explain:
      'This kfunc works on objects from bpf_obj_new() (or map values with the right field), and gets another pointer, or an object of the other flavour (per-CPU vs plain).',
    fix: 'Pass the pointer bpf_obj_new()/bpf_percpu_obj_new() returned (or a map value containing the field), and drop it with the matching drop function.',
  },
  {
    id: 'graph-node-api',
    title: 'List or rbtree kfunc used without its lock or at the wrong field',
    formats: [
      /^bpf_spin_lock at off=%d must be held for %s$/,
      /^held lock and object are not in the same allocation$/,
      /^%s not found at offset=%u$/,
      /^(R%d|%s) doesn't have constant offset\. %s has to be at the constant offset$/,
      /^arg#1 offset=%d, but expected %s at offset=%d in struct %s$/,
      /^operation on %s expects arg#1 %s/,
      /^rbtree_remove (node input must be non-owning ref|not allowed in rbtree cb)$/,
      /not allowed in rbtree cb$/,
      /^can't (res_)?spin_\{lock,unlock\} in rbtree cb$/,
      'Calling bpf_rcu_read_{lock,unlock} in unnecessary rbtree callback',
      /^kfunc %s#%d conversion of owning ref to non-owning failed$/,
    ],
    explain:
      'bpf_list_*/bpf_rbtree_* kfuncs must run while the bpf_spin_lock that protects the list or tree (declared next to it, e.g. `private(A) struct bpf_spin_lock lock; private(A) struct bpf_rb_root root __contains(node, rb);`) is held, on the node field the root was declared to contain, and some may not be called from the rbtree less() callback.',
    fix: 'Take bpf_spin_lock(&lock) around every list/rbtree call, pass &obj->node for the field named in __contains(), and keep the less() callback free of calls.',
    fixtures: ['rbtree_no_lock', 'rbtree_no_lock_6.12_l2'],
  },
  {
    id: 'dynptr-uninit',
    title: 'Dynptr used before it was initialised',
    formats: [/^Expected an initialized dynptr as (arg #%d|%s)$/],
    explain:
      'The argument must be a struct bpf_dynptr that a constructor (bpf_dynptr_from_mem, bpf_ringbuf_reserve_dynptr, bpf_dynptr_from_skb/xdp ...) has initialised on every path to here, and on this path it was not (never initialised, or already released/submitted, or its stack slot was overwritten).',
    fix: 'Initialise the dynptr before the call on every path (check the constructor’s return value), and do not use it after bpf_ringbuf_submit_dynptr/discard_dynptr.',
    fixtures: ['dynptr_uninit', 'dynptr_overwrite_6.1_l2', 'dynptr_uninit_6.12_l2', 'dynptr_uninit_6.1_l2'],
  },
  {
    id: 'dynptr-wrong-type',
    title: 'Dynptr of the wrong type',
    formats: [/^Expected a dynptr of type %s as (arg #%d|%s)$/],
    explain: 'The function needs a dynptr of another kind (local, ringbuf, skb, xdp ...) than the one passed.',
    fix: 'Use the dynptr kind the function expects (e.g. bpf_ringbuf_submit_dynptr only for dynptrs from bpf_ringbuf_reserve_dynptr).',
  },
  {
    id: 'dynptr-from-mem',
    title: 'bpf_dynptr_from_mem over memory it cannot wrap',
    formats: [/^Unsupported reg type %s for bpf_dynptr_from_mem data$/],
    explain:
      "bpf_dynptr_from_mem() wraps map values (and, on some kernels, other helper-accessible memory); the data passed here is a '$1' (fp is the stack), which this kernel does not accept.",
    fix: 'Put the buffer in a map value (a per-CPU array with one entry works as scratch space) and pass that.',
    fixtures: ['dynptr_from_stack', 'dynptr_from_stack_6.12_l2', 'dynptr_from_stack_6.1_l2'],
  },
  {
    id: 'dynptr-init-twice',
    title: 'Dynptr initialised over a live dynptr',
    formats: [
      'Dynptr has to be an uninitialized dynptr',
      'cannot overwrite referenced dynptr',
      /^potential write to dynptr at off=%d disallowed$/,
    ],
    explain:
      'The stack slot already holds a dynptr, and it is initialised again or written over. For a referenced dynptr (from bpf_ringbuf_reserve_dynptr) this would lose the reservation.',
    fix: 'Submit or discard the ringbuf dynptr before reusing its variable, use a separate struct bpf_dynptr variable for each, and never write to the dynptr struct directly.',
    fixtures: ['dynptr_overwrite', 'dynptr_overwrite_6.12_l2'],
  },
  {
    id: 'dynptr-stack',
    title: 'Dynptr not on the stack',
    formats: [
      /expected pointer to stack or const struct bpf_dynptr$/,
      /^cannot pass pointer to const bpf_dynptr, the helper mutates it$/,
      /^(cannot release unowned const bpf_dynptr|CONST_PTR_TO_DYNPTR cannot be released)$/,
    ],
    explain:
      'Dynptrs must live in a stack variable of the calling function (or be the const dynptr a callback receives, which may not be changed or released).',
    fix: 'Declare `struct bpf_dynptr ptr;` as a local variable and pass &ptr.',
  },
  {
    id: 'iter-uninit',
    title: 'Iterator used before bpf_iter_*_new or after destroy',
    formats: [/^expected an initialized iter_%s as (arg #%d|%s)$/],
    explain:
      'bpf_iter_<type>_next/_destroy needs an iterator created by bpf_iter_<type>_new on every path to here; on this path it was not created or was already destroyed.',
    fix: 'Call bpf_iter_<type>_new before the loop and _destroy after it, on the same variable; bpf_for()/bpf_for_each() do this for you.',
    fixtures: ['iter_uninit', 'iter_uninit_6.12_l2'],
  },
  {
    id: 'iter-init-twice',
    title: 'Iterator created twice',
    formats: [/^expected uninitialized iter_%s as (arg #%d|%s)$/],
    explain: 'bpf_iter_<type>_new is called on an iterator that is still live (not destroyed).',
    fix: 'Destroy the iterator (bpf_iter_<type>_destroy) before creating it again, or use a second variable.',
    fixtures: ['iter_new_twice', 'iter_new_twice_6.12_l2'],
  },
  {
    id: 'iter-not-stack',
    title: 'Iterator not on the stack',
    formats: [/expected pointer to an iterator on stack$/, /^expected valid iter pointer as (arg #%d|%s)$/],
    explain:
      'Open-coded iterators must be local variables of the function that uses them, passed by address at a constant offset.',
    fix: 'Declare `struct bpf_iter_num it;` as a local and pass &it.',
    fixtures: ['iter_in_map', 'iter_in_map_6.12_l2'],
  },
  {
    id: 'irq-flag',
    title: 'bpf_local_irq_save/restore flag misused',
    formats: [
      /^expected (an initialized|uninitialized) irq flag as %s$/,
      /doesn't point to an irq flag on stack$/,
      /^cannot restore irq state out of order/,
      /^irq flag acquired by %s kfuncs cannot be restored with %s kfuncs$/,
    ],
    explain:
      'The IRQ flag passed to bpf_local_irq_restore() must be a stack variable filled by bpf_local_irq_save() on this path, restored in reverse order of saving.',
    fix: 'Save and restore with the same local variable, nested like brackets.',
    fixtures: ['irq_restore_unsaved'],
  },
  {
    id: 'spin-lock-call',
    title: 'Call while holding a bpf_spin_lock',
    formats: ['function calls are not allowed while holding a lock'],
    explain: 'Between bpf_spin_lock and bpf_spin_unlock the program may not call helpers or functions.',
    entry: 'spin-lock-call',
    fixtures: ['global_call_in_lock_6.1_l2'],
  },
  {
    id: 'global-call-in-lock',
    title: 'Call to a global function while holding a lock or with preemption off',
    formats: [
      /^global function calls are not allowed (while holding a lock|with preemption disabled),( use static function instead)?$/,
      'use static function instead',
    ],
    explain:
      'A global (non-static) function is verified once on its own, without knowing that a lock is held or preemption is off, so the verifier cannot check it inside the locked region. Static functions are verified in the caller’s context and may be called.',
    fix: 'Make the function `static` (or `static __always_inline`), or call it after bpf_spin_unlock()/bpf_preempt_enable().',
    fixtures: ['global_call_in_lock', 'global_call_in_lock_6.12_l2'],
  },
  {
    id: 'spin-lock-exit',
    title: 'Return while holding a bpf_spin_lock',
    formats: ['bpf_spin_unlock is missing'],
    explain: 'On some path the program returns while a bpf_spin_lock is still held.',
    entry: 'spin-lock-exit',
  },
  {
    id: 'region-not-closed',
    title: 'Exit, tail call or throw inside a lock, RCU, preemption or IRQ section',
    formats: [
      /^%d bpf_preempt_enable%s missing$/,
      'bpf_rcu_read_unlock is missing',
      /^(BPF_LD_\[ABS\|IND\]|tail_call|bpf_throw|%s) cannot be used inside bpf_(spin_lock|rcu_read_lock|preempt_disable|local_irq_save)-ed region$/,
    ],
    explain:
      'On this path the program returns, tail-calls, throws or uses a legacy packet load while a section it opened is still open: bpf_spin_lock without bpf_spin_unlock, bpf_rcu_read_lock without bpf_rcu_read_unlock, bpf_preempt_disable without bpf_preempt_enable, or bpf_local_irq_save without bpf_local_irq_restore.',
    fix: 'Close the section on every path before leaving it (including early returns), and make tail calls and bpf_throw() outside of it.',
    fixtures: ['preempt_not_enabled', 'tail_call_in_rcu', 'preempt_not_enabled_6.12_l2', 'tail_call_in_rcu_6.12_l2'],
  },
  {
    id: 'spin-unlock-unlocked',
    title: 'Unlock without lock',
    formats: [/^(bpf_spin|%s)_unlock without taking a lock$/],
    explain: 'The program unlocks a lock it does not hold on this path.',
    entry: 'spin-unlock-unlocked',
  },
  {
    id: 'spin-unlock-different',
    title: 'Unlock of a different lock than the one held',
    formats: [/^(bpf_spin|%s)_unlock of different lock$/, /^%s_unlock cannot be out of order$/],
    explain:
      'The lock passed to bpf_spin_unlock() is not the one bpf_spin_lock() took on this path: another map value (a different key or a second lookup of the same key counts as different), or another field.',
    fix: 'Unlock through the same pointer you locked: `bpf_spin_lock(&v->lock); ...; bpf_spin_unlock(&v->lock);` with the same `v`.',
    fixtures: ['spin_unlock_different', 'spin_unlock_different_6.12_l2', 'spin_unlock_different_6.1_l2'],
  },
  {
    id: 'spin-lock-twice',
    title: 'Second lock taken while one is held',
    formats: [
      'Locking two bpf_spin_locks are not allowed',
      'Acquiring the same lock again, AA deadlock detected',
      'Failed to acquire lock state',
    ],
    explain:
      'The program takes a bpf_spin_lock while it already holds one; only one bpf_spin_lock may be held at a time (res_spin_lock allows nesting of different locks only).',
    fix: 'Unlock the first lock before taking another, or restructure so one lock protects both values.',
  },
  {
    id: 'spin-lock-field',
    title: 'bpf_spin_lock / bpf_timer / bpf_wq / kptr field not found in the map value',
    formats: [
      /^map '%s' (has to have BTF in order to use|doesn't have 'struct bpf_|has more than one 'struct bpf_|is not a struct type or bpf_|has no valid |has more than %d kptr|has repeating kptr BTF tags)/,
      /^%s '%s' has no valid (bpf_spin_lock|%s_lock)$/,
      /^off %lld doesn't point to 'struct /,
      /^(R%d|%s) doesn't have constant offset\. (bpf_spin_lock|bpf_timer|kptr|%s_lock) has to be at the constant offset$/,
      'R%d has no valid kptr',
      /^off=%d (doesn't point to kptr|kptr isn't referenced kptr)$/,
    ],
    explain:
      'The pointer given to bpf_spin_lock/bpf_timer_*/bpf_wq_*/bpf_kptr_xchg does not point at that field of a map value: the map has no BTF (not declared with SEC(".maps") and -g), its value type has no such field, or the pointer is at another offset.',
    fix: 'Declare the field in the map’s value struct (`struct bpf_spin_lock lock;`), define the map in SEC(".maps") with BTF (build with -g), and pass &value->field.',
    fixtures: ['spin_lock_wrong_field', 'spin_lock_wrong_field_6.12_l2', 'spin_lock_wrong_field_6.1_l2'],
  },
  {
    id: 'map-special-fields-prog',
    title: 'Map with special fields not allowed in this program type',
    formats: [
      /^(tracing|sleepable|socket filter) progs cannot use /,
      /^Sleepable programs can only use /,
      'bpf_timer cannot be used for PREEMPT_RT.',
    ],
    explain:
      'Maps whose values hold a bpf_spin_lock, bpf_timer, bpf_wq or list/rbtree root cannot be used by tracing or socket-filter programs (and sleepable programs only with some map types).',
    fix: 'Use such maps from networking, LSM or struct_ops programs, or move the lock/timer to a separate map used only there.',
    fixtures: ['spin_lock_tracing', 'spin_lock_tracing_6.12_l2', 'spin_lock_tracing_6.1_l2'],
  },
  {
    id: 'timer-map-mismatch',
    title: 'Timer/workqueue initialised with a different map',
    formats: [/pointer in R\S+ map_uid=%d doesn't match map pointer in R\S+ map_uid=%d$/],
    explain: 'bpf_timer_init/bpf_wq_init must be given the map that contains the timer (or workqueue) value.',
    fix: 'Pass the same map you looked the value up in: `bpf_timer_init(&v->t, &my_map, CLOCK_MONOTONIC);`.',
    fixtures: ['timer_other_map', 'timer_other_map_6.12_l2', 'timer_other_map_6.1_l2'],
  },
  {
    id: 'rcu-unbalanced',
    title: 'Unbalanced RCU or preemption section',
    formats: [/^nested rcu read lock/, /^unmatched rcu read unlock/, /^unmatched attempt to enable preemption/],
    explain:
      'bpf_rcu_read_lock/unlock or bpf_preempt_disable/enable calls do not pair up on this path (an unlock without lock, or a nested lock).',
    fix: 'Pair each lock with exactly one unlock on every path, without nesting.',
    fixtures: ['rcu_unlock_unmatched', 'rcu_unlock_unmatched_6.12_l2'],
  },
  {
    id: 'tail-call-context',
    title: 'Tail call where it is not allowed',
    formats: [
      /^tail_call (cannot be used inside|would lead to reference leak)/,
      /^cannot tail call within (callback|exception cb)$/,
      /^tail_calls are not allowed (when call stack of previous frames is %d bytes\. Too large|in programs with stack args|in non-JITed programs with bpf-to-bpf calls)$/,
      'program with __ref argument cannot tail call',
      'mixing of tail_calls and bpf-to-bpf calls is not supported',
      'tail_call abusing map_ptr',
    ],
    explain:
      'bpf_tail_call() never returns, so it may not be made while holding references, locks or RCU/preemption sections, inside callbacks, or when the frames above it use more than 256 bytes of stack together.',
    fix: 'Release references and unlock before the tail call, call it from the main program or small subprograms, and keep stack usage of the calling chain small.',
  },
  {
    id: 'callback-not-static',
    title: 'Callback is not a static function of this program',
    formats: [
      'callback function not static',
      'callback function cannot be the main program',
      'missing btf func_info',
      'callbacks are not allowed in non-JITed programs',
    ],
    explain:
      'Callbacks (bpf_loop, bpf_for_each_map_elem, timers, rbtree less ...) must be static functions of this object with BTF (build with -g), and need the JIT.',
    fix: 'Declare the callback `static` in the same file, compile with -g, and keep the JIT enabled.',
    fixtures: ['loop_cb_global', 'loop_cb_global_6.12_l2'],
  },
  {
    id: 'bpf-loop-limit',
    title: 'bpf_loop callback nesting too deep',
    formats: [/^frame%d bpf_loop iteration limit reached$/],
    explain: 'The verifier explores bpf_loop callbacks iteration by iteration and stopped at its limit.',
    fix: 'Make the callback’s state converge (fewer values that change each iteration), or use bpf_for().',
  },
  {
    id: 'global-func-args',
    title: 'Arguments do not match the global function’s prototype',
    formats: [/^Caller passes invalid args into func#%d/],
    explain:
      'A global function is verified once for any arguments matching its prototype, and the call passes something that does not match: e.g. a pointer to a smaller object than the parameter type (an 8-byte struct where a 16-byte one is declared), a possibly NULL pointer, a pointer to uninitialised stack, or the wrong kind of pointer. The lines above name the argument.',
    fix: 'Pass exactly what the prototype declares (a pointer to a fully initialised object of the declared type), or make the function static so it is verified with the real arguments.',
  },
  {
    id: 'packet-ptr-to-global',
    title: 'Packet pointer passed to a function that may change the packet',
    formats: ['%s is a packet pointer, but func#%d may change packet data'],
    explain:
      'The called global function may change packet data (it calls bpf_skb_pull_data, bpf_xdp_adjust_head ...), which invalidates every packet pointer, so a packet pointer may not be passed to it.',
    fix: 'Pass offsets instead of packet pointers, and re-derive pointers from ctx->data after the call (with a new bounds check).',
  },
  {
    id: 'global-func-prototype',
    title: 'Global function with a prototype the verifier cannot check',
    formats: [
      /^Global function %s\(\) (doesn't return scalar|return value not void or scalar)/,
      /^Arg#%d type %s in %s\(\) is not supported yet\.$/,
      /^arg#%d has type %s '%s', but only struct or primitive types are allowed$/,
      /^(Global function %s\(\) with|global function %s has) %d > %d args/,
      /^kernel supports at most %d parameters, function %s has %d$/,
      /^JIT does not support function %s\(\) with %d args$/,
      /^arg#%d (arena cannot be combined|has invalid combination of tags|has pointer tag, but is not a pointer type|has unsupported set of tags|type tag fetching failure|type tag is not supported in static functions|untrusted cannot be combined)/,
      /^arg#%d (type doesn't have a name|type isn't a pointer|should be void pointer|should be `struct %s \*`|struct doesn't have a name)$/,
      'function signature member has multiple type tags',
    ],
    explain:
      'Global (non-static) functions are verified on their own from their BTF prototype, so each argument must be a scalar, a pointer to a struct/scalar, the ctx, or carry an __arg_* tag, and the return value a scalar; this one has an argument or return type the verifier cannot check, or too many arguments.',
    fix: 'Make the function `static` (verified inline with the real arguments), or change its prototype: at most 5 arguments, pointers to plain structs, `int`/`void` return.',
    fixtures: ['global_ret_ptr', 'global_ret_ptr_6.12_l2', 'global_ret_ptr_6.1_l2'],
  },
  {
    id: 'global-func-info',
    title: 'Function information (BTF) missing or inconsistent',
    formats: [
      'Global functions need valid BTF',
      /^BTF of func#%d doesn't point to KIND_FUNC$/,
      /^Invalid type of function %s\(\)$/,
      /^Function %s has %d > %d args$/,
      /^(BTF of func_id %u doesn't point to KIND_FUNC|Invalid BTF of func %s)$/,
    ],
    explain:
      'Programs with global functions need BTF describing every function (func_info), and here it is missing or does not match the code.',
    fix: 'Compile with -g and load through libbpf (which passes the BTF and func_info).',
  },
  {
    id: 'call-stack-depth',
    title: 'Too many nested function calls',
    formats: [/^the call stack of %d frames is too deep( !)?$/],
    explain: 'The calls nest deeper than the verifier allows (8 frames including the main program).',
    entry: 'call-stack-depth',
  },
  {
    id: 'combined-stack-size',
    title: 'Functions on one call chain use more than 512 bytes of stack',
    formats: [/^combined stack size of %d calls is %d\. Too large$/, /^stack size of subprog %d is %d\. Too large$/],
    explain: 'The stack frames of one call chain (or one subprogram) add up to more than 512 bytes.',
    entry: 'combined-stack-size',
  },
  {
    id: 'exception-cb',
    title: 'bpf_throw / exception callback misused',
    formats: [
      /^bpf_throw kfunc \(insn %d\) cannot be called from callback subprog/,
      /^insn %d cannot call exception cb directly$/,
      /^exception cb/,
      /^exception callback /,
      'invalid exception callback insn_off in func_info: 0',
      'multiple exception callback tags for main subprog',
      'exception callback type id not found in func_info',
      'invalid btf id for main subprog in func_info',
      'failed to push state for global subprog exception path',
    ],
    explain:
      'bpf_throw() may not be called from callbacks, the exception callback (__exception_cb) must be a global function taking one u64 and returning int, and it may not be called directly.',
    fix: 'Throw only from the main program or global subprograms, and declare the exception callback as documented (bpf_experimental.h).',
    fixtures: ['throw_in_callback', 'throw_in_callback_6.12_l2'],
  },
  {
    id: 'bpf-snprintf-format',
    title: 'Invalid format string for bpf_snprintf / bpf_seq_printf / bpf_trace_printk',
    formats: ['Invalid format string'],
    explain: 'The format string uses a conversion these helpers do not support, or has more arguments than allowed.',
    fix: 'Use only %d %i %u %x %ld %lld %llx %s %c %p(S|s|K|i4|i6|I4|I6) conversions, and pass arguments as an array of u64 (BPF_SNPRINTF / BPF_SEQ_PRINTF macros do it).',
    fixtures: ['snprintf_bad_format', 'snprintf_bad_format_6.12_l2', 'snprintf_bad_format_6.1_l2'],
  },
  {
    id: 'get-func-ip',
    title: 'bpf_get_func_ip / bpf_get_func_arg not supported here',
    formats: [/^func %s#%d (not supported for program type %d|supported only for fentry)/],
    explain: 'This helper works only in some tracing program types (fentry/fexit/fmod_ret, kprobes).',
    fix: 'Use it in one of those program types.',
  },
  {
    id: 'local-storage-flags',
    title: 'bpf_get_local_storage flags must be zero',
    formats: ["get_local_storage() doesn't support non-zero flags"],
    explain: 'bpf_get_local_storage() (cgroup storage) takes 0 as its flags argument; other values are reserved.',
    fix: 'Pass 0 as the flags: bpf_get_local_storage(&storage_map, 0).',
    fixtures: ['local_storage_flags', 'local_storage_flags_6.12_l2', 'local_storage_flags_6.1_l2'],
  },
  {
    id: 'lsm-cgroup-return',
    title: 'LSM cgroup program on a void hook changes the return value',
    formats: [/BPF_LSM_CGROUP that attach to void LSM hooks can't modify return value!$/],
    explain:
      'The LSM hook returns void, so a BPF_LSM_CGROUP program attached to it may not set a return value (bpf_set_retval).',
    fix: 'Do not call bpf_set_retval from programs on void hooks.',
  },
  {
    id: 'ld-abs',
    title: 'Legacy packet load (LD_ABS/LD_IND) not allowed here',
    formats: [
      /^BPF_LD_\[ABS\|IND\] (instructions not allowed for this program type|cannot be mixed with socket references)$/,
      'cannot use BPF_LD_[ABS|IND] within callback',
      'at the time of BPF_LD_ABS|IND R6 != pointer to skb',
      /^LD_ABS is (not allowed in subprogs without BTF|only allowed in functions that return 'int'\.)$/,
      /^tail_call is (not allowed in subprogs without BTF|only allowed in functions that return 'int'\.)$/,
    ],
    explain:
      'load_byte()/load_half()/load_word() (LD_ABS/LD_IND) are only for socket filters and tc programs, need the skb in R6, and may not be mixed with references or callbacks.',
    fix: 'Use direct packet access (data/data_end) or bpf_skb_load_bytes() instead.',
    fixtures: ['ld_abs_tracing', 'ld_abs_tracing_6.12_l2', 'ld_abs_tracing_6.1_l2'],
  },
];
