// Shapes of the JSON files under server/data/, read by catalog.ts. The generators that write them
// live in server/scripts/ (one per file, named in each interface's comment).

/** One argument of a helper or kfunc prototype, as written in the header ("const void *", "key"). */
export interface FuncArg {
  type: string;
  name: string;
}

/** One documented prototype of a helper (a few helpers are documented once per context type). */
export interface HelperVariant {
  /** The prototype as written in linux/bpf.h, e.g. `void *bpf_map_lookup_elem(struct bpf_map *map, const void *key)`. */
  signature: string;
  returnType: string;
  args: FuncArg[];
  /** De-indented documentation text (RST-ish: `**bold**`, `*arg*`), paragraphs separated by blank lines. */
  description: string;
  returns: string;
}

/** A BPF helper (data/helpers.json, written by scripts/gen-helpers.mjs from the uapi linux/bpf.h). */
export interface Helper extends HelperVariant {
  /** `bpf_` + the FN() name of the __BPF_FUNC_MAPPER macro. */
  name: string;
  /** The BPF_FUNC_* id, the `imm` of the call instruction. */
  id: number;
  /** The verifier types the result as "..._or_null": it must be checked before use. */
  mayReturnNull?: boolean;
  /** The helper acquires a reference that must be released, on every path, by one of these. */
  releasedBy?: string[];
  /** The helper takes a lock that must be dropped, on every path, by one of these (bpf_spin_lock). */
  unlockedBy?: string[];
  /** Kernel release that added it, for helpers newer than the uapi header the data was generated from. */
  since?: string;
  /** Other documented prototypes of the same helper (e.g. bpf_get_socket_cookie per context). */
  overloads?: HelperVariant[];
}

/** A libbpf SEC() name (data/sections.json, written by scripts/gen-sections.mjs). */
export interface SectionDef {
  /** libbpf's name without its '+' marker: "xdp", "kprobe", "cgroup/connect4". */
  prefix: string;
  /** Kernel program type, lowercase, without BPF_PROG_TYPE_: "xdp", "sched_cls", "tracing". */
  programType: string;
  /** Expected attach type, lowercase, without BPF_: "xdp", "trace_fentry", "cgroup_inet4_connect". */
  attachType?: string;
  /** C type of the program's context argument, e.g. "struct xdp_md *". */
  contextType: string;
  /** How the context is really used when it is not a plain pointer (BTF-typed programs). */
  contextNote?: string;
  /** Any pointer type is accepted as the context (tracepoint records, syscall programs). */
  contextFlexible?: boolean;
  /** What may follow the prefix, e.g. "kprobe/<function>"; "" when nothing may follow. */
  argForm: string;
  /** SEC("prefix/...") is accepted as well as SEC("prefix") (libbpf's "+" entries). */
  acceptsSuffix: boolean;
  sleepable?: boolean;
  /** First libbpf release that knows the name ("1.0" means 1.0 or earlier). */
  since: string;
  description: string;
  /** Key into data/return-codes.json. */
  returnCodes: string;
}

/** One named return value of a program (data/return-codes.json). */
export interface ReturnCode {
  /** The constant's name, or the value itself ("1"), or a symbolic form ("skb->len", "-errno"). */
  name: string;
  /** Numeric value; null for a symbolic form. */
  value: number | null;
  description: string;
}

/** What a program of some kind may return (data/return-codes.json, curated). */
export interface ReturnCodeSet {
  /** Program types this set applies to; the first set naming a type is that type's default. */
  programTypes: string[];
  description: string;
  values: ReturnCode[];
  /** Inclusive range the verifier enforces at load time ("At program exit the register R0 has ..."). */
  verifierRange?: [number, number];
  /** Where the named values come from (a header, or a define the program must provide). */
  header?: string;
}

/** Helper availability per program type (data/helper-availability.json, written by scripts/probe-helpers.sh). */
export interface HelperAvailability {
  /** `uname -r` of the probed kernel. */
  kernel: string;
  /** How the table was made (the probe program and method). */
  probedWith: string;
  /** Program type -> helper names the verifier accepts. Includes derived entries for unprobed types. */
  programTypes: Record<string, string[]>;
  /** Helpers refused to programs with a non-GPL-compatible license. */
  gplOnly: string[];
  /** Program type -> helpers it knows but refuses outside sleepable programs ("helper call might sleep"). */
  sleepableOnly?: Record<string, string[]>;
  /** Program types that could not be loaded on the probing machine. */
  unprobed: string[];
  /** For unprobed types whose list was derived: from which probed types and why. */
  derived?: Record<string, { from: string[]; note: string }>;
}

/** A BPF_MAP_TYPE_* (data/maps.json). */
export interface MapType {
  /** Full enum name, e.g. "BPF_MAP_TYPE_HASH". */
  name: string;
  description: string;
  key: string;
  value: string;
  perCpu: boolean;
  /** bpf_map_lookup_batch and friends work on it. */
  batch: boolean;
  /** Linux version that introduced it. */
  since: string;
}

/** A map creation flag (BPF_F_*, data/maps.json). */
export interface MapFlag {
  name: string;
  value: number;
  description: string;
  /** Map types it applies to; absent means it is not tied to a type. */
  mapTypes?: string[];
}

/** A field usable in a `.maps` section struct definition (data/maps.json). */
export interface MapField {
  name: string;
  /** How it is written: `__uint`, `__type` or `__array`. */
  macro: '__uint' | '__type' | '__array';
  /** An example as written in a map definition. */
  example: string;
  /** VS Code snippet with ${n:placeholder} fields. */
  snippet: string;
  description: string;
}

/** The flags argument of bpf_map_update_elem (data/maps.json). */
export interface UpdateFlag {
  name: string;
  value: number;
  description: string;
}

export interface MapsData {
  types: MapType[];
  flags: MapFlag[];
  fields: MapField[];
  updateFlags: UpdateFlag[];
}

/** A libbpf macro or attribute (data/macros.json, curated from /usr/include/bpf/*.h and newer libbpf). */
export interface Macro {
  name: string;
  kind: 'function-like' | 'attribute' | 'object-like';
  signature: string;
  /** VS Code snippet syntax with ${1:arg} placeholders. */
  snippet: string;
  description: string;
  /** Header that defines it, e.g. "bpf/bpf_helpers.h". */
  header: string;
  /** libbpf release that added it when newer than the 1.1 headers installed on the build machines. */
  since?: string;
}

/** A kfunc of the probed kernel (data/kfuncs.json, written by scripts/gen-kfuncs.mjs from its BTF). */
export interface Kfunc {
  name: string;
  /** C prototype rendered from BTF, e.g. `struct task_struct *bpf_task_acquire(struct task_struct *p)`. */
  prototype: string;
  returnType: string;
  args: FuncArg[];
  /** KF_RET_NULL: the returned pointer must be checked for NULL. */
  mayReturnNull?: boolean;
  /** KF_ACQUIRE: returns a reference the program must release with one of these. */
  releasedBy?: string[];
  /** Opens a section (lock, RCU read side, preemption or irqs off) closed, on every path, by one of these. */
  unlockedBy?: string[];
  /** KF_RELEASE: releases a reference acquired by another kfunc. */
  releases?: boolean;
  /** KF_SLEEPABLE: only sleepable programs may call it. */
  sleepable?: boolean;
  /** KF_TRUSTED_ARGS: pointer arguments must be trusted or referenced, not walked from another struct. */
  trustedArgs?: boolean;
  /** KF_RCU: pointer arguments must be trusted, referenced or RCU-protected (`task->real_parent`). */
  rcuArgs?: boolean;
}

export interface KfuncsData {
  kernel: string;
  kfuncs: Kfunc[];
}
