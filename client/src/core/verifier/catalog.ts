/**
 * What the verifier's messages mean and how to fix them: one entry per error, matched by a regular
 * expression on the kernel's message. Each entry names the fixture (test/fixtures/verifier/<name>.log,
 * made by loading <name>.bpf.c on a real kernel) that its test reads.
 *
 * Order matters: the first entry that matches wins, so specific messages come before general ones.
 * Messages these entries do not know are explained by the families of catalog-families.ts, built from the
 * kernel's own format strings.
 */

import { familyText, matchFamily } from './catalog-families';

export interface CatalogEntry {
  /** stable id, kebab-case; shown as the diagnostic's code */
  id: string;
  title: string;
  /** matched against each line of the error block */
  pattern: RegExp;
  /** plain language: what the verifier proved impossible to rule out, given the match */
  explain: (m: RegExpExecArray) => string;
  fix: string;
  /** which capture group names the register to follow backwards (for related information) */
  registerGroup?: number;
  /** which capture group names an instruction index the message points at (e.g. alloc_insn) */
  insnGroup?: number;
  /** fixtures that produce this error (names under test/fixtures/verifier, without .log) */
  fixtures: string[];
}

const reg = (m: RegExpExecArray, g = 1) => `R${m[g]}`;

export const CATALOG: readonly CatalogEntry[] = [
  {
    id: 'null-map-value',
    title: 'Map value used without a NULL check',
    pattern: /^R(\d+) invalid mem access 'map_value_or_null'/,
    explain: (m) =>
      `${reg(m)} holds the result of a map lookup, which is NULL when the key is not in the map. The program reads or writes through it before checking, so the verifier cannot rule out a NULL dereference.`,
    fix: 'Check the pointer right after bpf_map_lookup_elem: `if (!val) return 0;` and only then use it.',
    registerGroup: 1,
    fixtures: ['null_map_value', 'null_in_header', 'line_zero', 'old_5x_null'],
  },
  {
    id: 'null-pointer',
    title: 'Pointer that may be NULL used without a check',
    pattern: /^R(\d+) invalid mem access '(\w+_or_null)'/,
    explain: (m) =>
      `${reg(m)} is a '${m[2]}': the helper or kfunc that produced it returns NULL on failure (a full ring buffer, a missing object). The program uses it before checking.`,
    fix: 'Test the pointer against NULL before the first use, e.g. `if (!e) return 0;` after bpf_ringbuf_reserve.',
    registerGroup: 1,
    fixtures: ['ringbuf_null'],
  },
  {
    id: 'scalar-deref',
    title: 'A number used as a pointer',
    pattern: /^R(\d+) invalid mem access '(scalar|inv)'/,
    explain: (m) =>
      `${reg(m)} holds a plain number (${m[2] === 'inv' ? "'inv', the pre-5.19 name for" : ''} a scalar), not a pointer the verifier knows. BPF programs may only dereference pointers whose origin the verifier tracked: the context, the stack, map values, packet data, BTF objects.`,
    fix: 'Read kernel or user memory with bpf_probe_read_kernel/bpf_probe_read_user (or BPF_CORE_READ), or make sure the pointer comes from a helper, the context or a map, without casting it through an integer.',
    registerGroup: 1,
    fixtures: ['scalar_deref', 'old_5x_inv'],
  },
  {
    id: 'packet-bounds',
    title: 'Packet read or written without a bounds check',
    pattern: /^(?:invalid access to packet, off=(-?\d+) size=(\d+), R(\d+)|R(\d+) offset is outside of the packet)/,
    explain: (m) =>
      m[1] !== undefined
        ? `The program accesses ${m[2]} bytes at offset ${m[1]} of the packet through R${m[3]}, but has not proven that those bytes are before data_end.`
        : `R${m[4]} points into the packet at an offset the program has not checked against data_end.`,
    fix: 'Compare the end of what you access with data_end first: `if ((void *)(hdr + 1) > data_end) return XDP_PASS;` and access only after that check, through the same pointer.',
    registerGroup: 3,
    fixtures: ['pkt_bounds', 'old_5x_pkt'],
  },
  {
    id: 'packet-unbounded-math',
    title: 'Unbounded offset added to a packet pointer',
    pattern: /^math between pkt pointer and register with unbounded min value is not allowed/,
    explain: () =>
      'A value whose lower bound the verifier does not know (it may be negative or huge) is added to a packet pointer. The verifier cannot tell where the result points.',
    fix: 'Bound the offset first with an unsigned type and an upper limit, e.g. `off &= 0xff;` or `if (off > 64) return ...;`, then add it.',
    fixtures: ['pkt_unbounded_math'],
  },
  {
    id: 'packet-write-denied',
    title: 'This program type may not write to the packet',
    pattern: /^cannot write into packet/,
    explain: () =>
      'Direct packet writes are allowed only for some program types (XDP, tc, lwt_xmit ...). cgroup_skb and socket filters can read the packet but not change it.',
    fix: 'Move the rewrite to an XDP or tc program, or use a helper this type may call (bpf_skb_store_bytes is also tc-only).',
    fixtures: ['cannot_write_pkt'],
  },
  {
    id: 'map-value-bounds',
    title: 'Access past the end of a map value',
    pattern: /^invalid access to map value, value_size=(\d+) off=(-?\d+) size=(\d+)/,
    explain: (m) =>
      `The map value is ${m[1]} bytes, and the program accesses ${m[3]} bytes at offset ${m[2]}, which is outside it.`,
    fix: 'Check the index against the value size before indexing (`if (i >= ARRAY_SIZE(v->buf)) return 0;`), or fix the struct/offset used.',
    fixtures: ['map_value_oob'],
  },
  {
    id: 'map-value-negative',
    title: 'Index into a map value may be negative',
    pattern:
      /^(?:value (-?\d+) makes map_value pointer be out of bounds|R(\d+) min value is negative, either use unsigned index)/,
    explain: (m) =>
      m[1] !== undefined
        ? `The index added to the map value pointer can be as low as ${m[1]}: a signed index that the program bounded only from above.`
        : `R${m[2]} is a signed index with no lower bound.`,
    fix: 'Use an unsigned index type, or check both bounds: `if (i < 0 || i >= N) return 0;`.',
    fixtures: ['map_value_negative'],
  },
  {
    id: 'unbounded-mem-access',
    title: 'Index with no upper bound',
    pattern: /^R(\d+) unbounded memory access, make sure to bounds check any such access/,
    explain: (m) =>
      `${reg(m)} is used as an offset into memory, but nothing in the program limits how large it can be.`,
    fix: 'Add an upper-bound check right before the access (`if (i >= N) return 0;`) or mask it (`i &= N - 1` for a power-of-two N).',
    registerGroup: 1,
    fixtures: ['map_value_unbounded'],
  },
  {
    id: 'mem-bounds',
    title: 'Access past the end of a memory region',
    pattern: /^invalid access to memory, mem_size=(\d+) off=(-?\d+) size=(\d+)/,
    explain: (m) =>
      `The region (for example a ring buffer record) is ${m[1]} bytes; the program accesses ${m[3]} bytes at offset ${m[2]}.`,
    fix: 'Reserve enough bytes (sizeof the whole struct) or keep the access inside the reserved size.',
    fixtures: ['ringbuf_oob'],
  },
  {
    id: 'stack-variable-offset',
    title: 'Stack accessed at an offset that can leave the buffer',
    pattern: /^invalid (?:unbounded )?variable-offset (?:indirect )?(?:read from|write to|access to) stack R(\d+)/,
    explain: (m) =>
      `${reg(m)} points into the stack at a variable offset whose range reaches outside the stack buffer (or into bytes never written).`,
    fix: 'Bound the index to the buffer size (`i &= sizeof(buf) - 1` or `if (i >= sizeof(buf)) return 0;`) before indexing a stack array.',
    registerGroup: 1,
    fixtures: ['stack_var_offset'],
  },
  {
    id: 'stack-out-of-range',
    title: 'Stack access outside the stack frame',
    pattern: /^invalid(?: indirect access to| read from| write to)? stack R(\d+) off=(-?\d+) size=(\d+)/,
    explain: (m) => {
      const off = Number(m[2]);
      const size = Number(m[3]);
      if (off >= 0)
        return `R${m[1]} points at fp+${off}, at or above the frame pointer, where this function has no stack (stack objects sit at negative offsets, down to fp-512). Usually an index or loop counter that is not bounded by the array's size walked past the end of a stack array (the verifier follows a loop iteration by iteration until it does), or a pointer to the stack was moved the wrong way.`;
      if (off < 0 && off + size > 0)
        return `R${m[1]} points ${-off} bytes below the frame pointer, and ${size} bytes are accessed from there: the access runs ${off + size} bytes past the top of the stack frame. At most ${-off} bytes of stack lie above fp${off}, so the object there is smaller than what is read or written: typically a pointer to a smaller struct (or variable) passed to a function or helper that takes a bigger one (an 8-byte struct where a global function declares a 16-byte one), or a size argument larger than the buffer.`;
      if (off < -512 || off + size < -512)
        return `The access of ${size} bytes at fp${off} is below the 512 bytes of stack a BPF function may use.`;
      return `The access of ${size} bytes at fp${off} is outside the stack frame (R${m[1]} does not point to the start of a stack object of that size).`;
    },
    fix: 'Bound indexes and loops by the array size (`i < ARRAY_SIZE(arr)`, also when a run-time limit exists); pass a pointer to an object of the type the callee declares (same struct, same size), and sizes no larger than the buffer; keep stack buffers small (big ones go in a per-CPU array map).',
    registerGroup: 1,
    fixtures: ['stack_out_of_range', 'global_struct_size', 'kfunc_mem_size'],
  },
  {
    id: 'uninit-register',
    title: 'Register read before it was written',
    pattern: /^R(\d+) !read_ok/,
    explain: (m) =>
      `${reg(m)} is read, but nothing on this path has written it. After a helper call R1-R5 are clobbered, so values must be kept in R6-R9 or on the stack.`,
    fix: 'Initialise the variable on every path; in assembly, keep values across calls in R6-R9.',
    registerGroup: 1,
    fixtures: ['uninit_register'],
  },
  {
    id: 'frame-pointer-write',
    title: 'R10 is read-only',
    pattern: /^frame pointer is read only/,
    explain: () => 'R10 is the frame pointer; programs may read it but never write it.',
    fix: 'Copy R10 to another register (`r2 = r10; r2 += -8`) and change the copy.',
    fixtures: ['frame_pointer_write'],
  },
  {
    id: 'infinite-loop',
    title: 'Loop that never ends',
    pattern: /^infinite loop detected at insn (\d+)/,
    explain: (m) =>
      `The verifier came back to instruction ${m[1]} in a state identical to an earlier one: nothing changes between iterations, so the loop can spin forever.`,
    fix: 'Make the loop bounded: a counter with a constant limit (`for (int i = 0; i < 64 && cond; i++)`), bpf_loop(), or bpf_for().',
    insnGroup: 1,
    fixtures: ['infinite_loop'],
  },
  {
    id: 'too-many-insns',
    title: 'Program too large to verify',
    pattern: /^BPF program is too large\. Processed (\d+) insn/,
    explain: (m) =>
      `The verifier walked ${m[1]} instructions (paths times loop iterations) and stopped at its limit of 1,000,000. Usually a loop with many iterations, or many branches whose paths do not merge.`,
    fix: 'Use bpf_loop() or bpf_for() for long loops, lower loop bounds, and move work into global (non-static) functions, which are verified once.',
    fixtures: ['too_large'],
  },
  {
    id: 'helper-not-allowed',
    title: 'Helper not available to this program type',
    pattern: /^program of this type cannot use helper (\w+)#(\d+)/,
    explain: (m) => `${m[1]} (helper ${m[2]}) exists, but the kernel does not offer it to this program type.`,
    fix: 'Pick another program type (SEC) that may call it, or an equivalent helper allowed here; `bpf-ide` completions list the helpers this type may use.',
    fixtures: ['helper_not_allowed'],
  },
  {
    id: 'unknown-helper',
    title: 'Unknown helper',
    pattern: /^(?:invalid func unknown#(\d+)|unknown func (\w+)#(\d+))/,
    explain: (m) =>
      m[1] !== undefined
        ? `Helper number ${m[1]} does not exist on this kernel.`
        : `${m[2]} is not known to this kernel (it may be newer than the kernel).`,
    fix: 'Check the helper against the target kernel version, or use a kfunc / CO-RE fallback that the kernel has.',
    fixtures: ['unknown_helper'],
  },
  {
    id: 'sleepable-helper',
    title: 'Helper that may sleep, in a program that may not',
    pattern: /^helper call might sleep in a non-sleepable prog/,
    explain: () =>
      'The helper can sleep (it may fault in user memory), which only sleepable programs (SEC("fentry.s/..."), "lsm.s/", "uprobe.s/", "iter.s/") may do.',
    fix: 'Use a sleepable section, or a non-sleeping variant (bpf_probe_read_user instead of bpf_copy_from_user).',
    fixtures: ['sleepable_helper'],
  },
  {
    id: 'reference-leak',
    title: 'Reference acquired and not released',
    pattern:
      /^(?:Unreleased reference id=(\d+) alloc_insn=(\d+)|BPF_EXIT instruction in main prog would lead to reference leak)/,
    explain: (m) =>
      m[2] !== undefined
        ? `The object acquired at instruction ${m[2]} (a ring buffer reservation, a socket, a task, ...) is still held when the program returns on this path.`
        : 'On this path the program returns while still holding a reference (ring buffer record, socket, task, ...).',
    fix: 'Release it on every path: bpf_ringbuf_submit/discard, bpf_sk_release, bpf_task_release, ... including early returns.',
    insnGroup: 2,
    fixtures: ['ref_leak', 'kfunc_leak'],
  },
  {
    id: 'ringbuf-not-reserved',
    title: 'Ring buffer record used after it was submitted',
    pattern: /^R(\d+) type=scalar expected=ringbuf_mem/,
    explain: (m) =>
      `${reg(m)} is passed to a ring buffer submit/discard, but it no longer holds a reservation: it was already submitted or discarded (which invalidates every copy of the pointer), or it never came from bpf_ringbuf_reserve.`,
    fix: 'Submit or discard each reservation exactly once, and do not touch the record afterwards.',
    registerGroup: 1,
    fixtures: ['ringbuf_double_submit'],
  },
  {
    id: 'arg-not-map',
    title: 'Something other than a map passed as the map argument',
    pattern: /^R(\d+) type=(\w+) expected=map_ptr/,
    explain: (m) => `The helper wants a map in ${reg(m)}, but it holds a '${m[2]}'.`,
    fix: 'Pass the map itself: `bpf_map_lookup_elem(&my_map, &key)`.',
    registerGroup: 1,
    fixtures: ['arg_not_map'],
  },
  {
    id: 'arg-type-mismatch',
    title: 'Helper argument of the wrong kind',
    pattern: /^R(\d+) type=(\w+) expected=(.+)$/,
    explain: (m) =>
      /or_null_?$/.test(m[2]!)
        ? `${reg(m)} holds a '${m[2]}': a pointer that is NULL when the lookup or call that produced it failed, and the helper wants one of: ${m[3]}, which may not be NULL.`
        : m[2] === 'scalar'
          ? `${reg(m)} holds a number ('scalar'), but the helper wants one of: ${m[3]}. Keys and values are passed by pointer (usually to the stack), not by value.`
          : `${reg(m)} holds a '${m[2]}', but the helper wants one of: ${m[3]}.`,
    fix: 'Check pointers for NULL before passing them (`if (!v) return 0;`); pass keys and values by address (`&key`), not by value.',
    registerGroup: 1,
    fixtures: ['arg_type_scalar', 'spin_lock_unchecked'],
  },
  {
    id: 'map-type-helper',
    title: 'Helper not usable with this map type',
    pattern: /^cannot pass map_type (\d+) into func (\w+)#(\d+)/,
    explain: (m) =>
      `Map type ${m[1]} cannot be used with ${m[2]}. For example perf event arrays are written with bpf_perf_event_output, not looked up; ring buffers use bpf_ringbuf_*.`,
    fix: "Use the helpers that belong to the map's type, or change the map type.",
    fixtures: ['map_type_helper'],
  },
  {
    id: 'zero-sized-access',
    title: 'Zero-sized memory argument',
    pattern: /^invalid zero-sized read/,
    explain: () =>
      'A helper is given a memory argument of size 0 (for example a key for a map whose key size is 0, like a ring buffer) where it needs at least one byte.',
    fix: 'Check the map type (ring buffers have no keys) and the size argument you pass.',
    fixtures: ['zero_size_key'],
  },
  {
    id: 'return-range',
    title: 'Return value outside what this program type allows',
    pattern: /^At program exit the register R0 has (.+) should have been in (\[.+\])/,
    explain: (m) => `The program can return ${m[1]}, but this program type must return a value in ${m[2]}.`,
    fix: 'Return only the allowed verdicts (e.g. 1 allow / 0 deny for cgroup programs, XDP_* for XDP).',
    fixtures: ['return_range'],
  },
  {
    id: 'return-not-scalar',
    title: 'Program returns a pointer',
    pattern: /^At program exit the register R0 is not a known value \((\w+)\)/,
    explain: (m) => `R0 holds a '${m[1]}' pointer when the program exits; this program type must return a number.`,
    fix: 'Return a verdict constant, not a pointer: test the pointer and return 0 or 1.',
    fixtures: ['pointer_return'],
  },
  {
    id: 'callback-return',
    title: 'Callback returns a value out of range',
    pattern: /^At callback return the register R0 has (.+) should have been in (\[.+\])/,
    explain: (m) =>
      `A callback (bpf_loop, bpf_for_each_map_elem, timer ...) returns ${m[1]}; it must return a value in ${m[2]} (for bpf_loop: 0 continue, 1 stop).`,
    fix: 'Return 0 or 1 from the callback.',
    fixtures: ['callback_return'],
  },
  {
    id: 'ctx-access',
    title: 'Invalid access to the context',
    pattern: /^invalid bpf_context access off=(\d+) size=(\d+)/,
    explain: (m) =>
      `The program reads ${m[2]} bytes at offset ${m[1]} of its context, which is not a field this program type may access (or not with that size).`,
    fix: 'Access only documented fields of the context struct for this program type, with their own sizes; for tracepoints use the generated struct (vmlinux.h trace_event_raw_*).',
    fixtures: ['ctx_access'],
  },
  {
    id: 'ctx-variable-offset',
    title: 'Context read at a variable offset',
    pattern: /^variable ctx access var_off=(.+) disallowed/,
    explain: () => 'Context fields are rewritten by the verifier, so every access must be at a constant offset.',
    fix: 'Read each field with a constant offset (a switch over the index), or copy the fields to the stack first.',
    fixtures: ['ctx_var_offset'],
  },
  {
    id: 'modified-ctx',
    title: 'Context pointer moved before use',
    pattern: /^dereference of modified ctx ptr R(\d+) off=(-?\d+) disallowed/,
    explain: (m) =>
      `${reg(m)} is the context pointer plus ${m[2]}. Context accesses must use the unmodified pointer with a constant offset in the load itself.`,
    fix: 'Access fields as `ctx->field` directly; do not keep a pointer into the context.',
    registerGroup: 1,
    fixtures: ['modified_ctx'],
  },
  {
    id: 'pointer-arithmetic',
    title: 'Arithmetic on a pointer that does not allow it',
    pattern: /^R(\d+) pointer arithmetic on (\w+) prohibited$/,
    explain: (m) => `${reg(m)} is a '${m[2]}', which the program may pass around but not offset.`,
    fix: 'Use the pointer as given (e.g. pass &map to helpers); offset only map values, packet and stack pointers.',
    registerGroup: 1,
    fixtures: ['map_ptr_arith'],
  },
  {
    id: 'register-fill-size',
    title: 'Spilled pointer read back with a different size',
    pattern: /^invalid size of register fill/,
    explain: () =>
      'A pointer saved on the stack (spilled) is read back with a smaller load. Pointers must be filled with the same 8-byte load that spilled them.',
    fix: 'Keep pointer variables as pointers; avoid unions or casts that read part of a saved pointer.',
    fixtures: ['register_fill_size'],
  },
  {
    id: 'call-stack-depth',
    title: 'Too many nested function calls',
    pattern: /^the call stack of (\d+) frames is too deep/,
    explain: (m) => `The calls nest ${m[1]} frames deep; the verifier allows 8 (including the main program).`,
    fix: 'Flatten the call chain: mark small helpers __always_inline, or restructure so fewer functions call each other.',
    fixtures: ['call_stack_deep'],
  },
  {
    id: 'combined-stack-size',
    title: 'Functions on one call chain use more than 512 bytes of stack',
    pattern: /^combined stack size of (\d+) calls is (\d+)\. Too large/,
    explain: (m) =>
      `Along one chain of ${m[1]} calls, the stack frames add up to ${m[2]} bytes; the limit is 512 for the whole chain.`,
    fix: 'Shrink the buffers, or move them to a per-CPU array map used as scratch space.',
    fixtures: ['combined_stack'],
  },
  {
    id: 'spin-lock-call',
    title: 'Call while holding a bpf_spin_lock',
    pattern: /^function calls are not allowed while holding a lock/,
    explain: () => 'Between bpf_spin_lock and bpf_spin_unlock, the program may not call helpers or functions.',
    fix: 'Compute values (bpf_get_prandom_u32, bpf_ktime_get_ns ...) before taking the lock; inside it, only read and write the map value.',
    fixtures: ['spin_lock_call'],
  },
  {
    id: 'spin-lock-exit',
    title: 'Return while holding a bpf_spin_lock',
    pattern:
      /^BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region|^bpf_spin_lock-ed region/,
    explain: () => 'On some path the program returns while the lock is still held.',
    fix: 'Call bpf_spin_unlock on every path before returning, including early returns inside the locked region.',
    fixtures: ['spin_lock_exit'],
  },
  {
    id: 'spin-unlock-unlocked',
    title: 'bpf_spin_unlock without bpf_spin_lock',
    pattern: /^bpf_spin_unlock without taking a lock/,
    explain: () => 'The program unlocks a lock it did not take on this path.',
    fix: 'Pair each bpf_spin_unlock with a bpf_spin_lock of the same lock on the same path.',
    fixtures: ['spin_unlock_unlocked'],
  },
  {
    id: 'kfunc-null-arg',
    title: 'Possibly NULL pointer passed to a kfunc',
    pattern: /^Possibly NULL pointer passed to trusted arg(\d+)/,
    explain: (m) =>
      `Argument ${m[1]} of the kfunc must be a valid (trusted, non-NULL) pointer; the value passed may be NULL, e.g. the result of bpf_task_from_pid not checked.`,
    fix: 'Check the pointer for NULL before passing it to the kfunc.',
    fixtures: ['kfunc_null_arg'],
  },
  {
    id: 'unreachable-insn',
    title: 'Unreachable instruction',
    pattern: /^unreachable insn (\d+)/,
    explain: (m) => `No path reaches instruction ${m[1]}; the verifier rejects dead code.`,
    fix: 'Remove the dead code (in hand-written assembly), or check the jump offsets.',
    insnGroup: 1,
    fixtures: ['unreachable_insn'],
  },
  {
    id: 'no-exit',
    title: 'Program falls off its end',
    pattern: /^last insn is not an exit or jmp/,
    explain: () => 'The last instruction is neither an exit nor a jump, so execution could run past the end.',
    fix: 'End every function with `exit` (in C, with a return statement).',
    fixtures: ['no_exit'],
  },
  {
    id: 'jump-out-of-range',
    title: 'Jump outside the program',
    pattern: /^jump out of range from insn (\d+) to (-?\d+)/,
    explain: (m) => `Instruction ${m[1]} jumps to ${m[2]}, which is not inside the program.`,
    fix: 'Fix the jump offset (hand-written assembly) or the linker step that produced it.',
    insnGroup: 1,
    fixtures: ['jump_out_of_range'],
  },
  {
    id: 'div-by-zero',
    title: 'Division by a constant zero',
    pattern: /^div by zero/,
    explain: () => 'The program divides by the constant 0.',
    fix: 'Check the divisor; BPF defines x/0 = 0 at run time only for a register divisor, not a constant.',
    fixtures: ['bad_div'],
  },
  {
    id: 'mem-range',
    title: 'Access outside the allowed memory range',
    pattern: /^R(\d+) (min|max) value is outside of the allowed memory range/,
    explain: (m) =>
      `The ${m[2] === 'min' ? 'lowest' : 'highest'} offset ${reg(m)} can have puts the access outside the object it points into.`,
    fix: 'Bound the offset so that offset + access size stays inside the object.',
    registerGroup: 1,
    // the second line of the error in these logs; tested on that line
    fixtures: ['map_value_oob', 'ringbuf_oob'],
  },
];

/** The catalog entry that explains one line of a verifier error, with its match. */
export interface CatalogMatch {
  entry: CatalogEntry;
  match: RegExpExecArray;
  /** the line the entry matched */
  message: string;
}

const handById = new Map(CATALOG.map((e) => [e.id, e]));
const familyEntries = new Map<string, CatalogEntry>();

/** A family of catalog-families.ts as a catalog entry, for the line it matched (one entry per format). */
function familyEntry(line: string): CatalogMatch | undefined {
  const found = matchFamily(line);
  if (!found) return undefined;
  const { matcher, match } = found;
  const f = matcher.family;
  const key = `${f.id}\0${matcher.fmt}`;
  let entry = familyEntries.get(key);
  if (!entry) {
    const hand = f.entry ? handById.get(f.entry) : undefined;
    entry = {
      id: hand?.id ?? f.id,
      title: hand?.title ?? f.title,
      pattern: matcher.re,
      // for an entry family, the hand entry's pattern did not match this wording (another kernel's): the
      // family's own, shorter explanation (every family has one; test/unit/verifier-families.test.ts)
      explain: (m) => f.generic ?? familyText(f.explain ?? f.title, m),
      fix:
        f.fix ??
        hand?.fix ??
        'No fix can be given for the program itself: see the explanation, and report the message to the kernel BPF list if it persists.',
      fixtures: [],
    };
    familyEntries.set(key, entry);
  }
  return { entry, match, message: line };
}

/**
 * The entry explaining an error block: lines are tried in order; on each line the hand-written entries first
 * (in order), then the message families built from the kernel's format strings (the most specific format wins).
 */
export function matchCatalog(lines: readonly string[]): CatalogMatch | undefined {
  for (const message of lines) {
    const t = message.trim();
    for (const entry of CATALOG) {
      const m = entry.pattern.exec(t);
      if (m) return { entry, match: m, message: t };
    }
    const fam = t ? familyEntry(t) : undefined;
    if (fam) return fam;
  }
  return undefined;
}
