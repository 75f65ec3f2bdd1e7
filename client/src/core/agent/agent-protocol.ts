/**
 * The bpf-agent wire format (protocol 1), as zod schemas: every line the agent writes on
 * stdout is one of these. Mirrors remote-agent/src/protocol.h and remote-agent/PROTOCOL.md;
 * the golden corpus under test/fixtures/agent/golden keeps the three in step.
 *
 * No `vscode` import here: this module is shared by the extension, the CLI and the tests.
 */
import { z } from '../zod-setup';

/** Protocol version this client speaks (the agent's hello says which one it speaks). */
export const PROTOCOL_VERSION = 1;

/** Request ids: the client's, echoed back. `null` only when the agent could not read one. */
export const RequestId = z.union([z.number().int(), z.string()]);
export type RequestId = z.infer<typeof RequestId>;

/** Error codes, exactly as remote-agent/src/protocol.h spells them. */
export const ErrorCode = z.enum([
  'parse_error',
  'invalid_request',
  'request_too_large',
  'unknown_method',
  'invalid_params',
  'invalid_base64',
  'invalid_object',
  'not_found',
  'verifier_rejected',
  'verifier_timeout',
  'load_failed',
  'attach_failed',
  'map_error',
  'btf_error',
  'not_supported',
  'permission_denied',
  'busy',
  'io_error',
  'too_large',
  'internal_error',
  'cancelled',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Verifier statistics parsed from the log (null where the log did not say). */
export const VerifierStats = z.object({
  processed_insns: z.number().int().nullable(),
  total_states: z.number().int().nullable(),
  peak_states: z.number().int().nullable(),
  time_usec: z.number().int().nullable(),
  stack_depth: z.number().int().nullable(),
});

export const VerifierReport = z.object({
  log: z.string(),
  truncated: z.boolean(),
  stats: VerifierStats,
  log_buffer_bytes: z.number().int(),
  retries: z.number().int(),
  notes: z.array(z.string()),
});

export const LoadedProgram = z.object({
  name: z.string(),
  section: z.string(),
  type: z.string(),
  id: z.number().int(),
  tag: z.string(),
  verified_insns: z.number().int(),
  xlated_insns: z.number().int(),
  jited_bytes: z.number().int(),
  verifier: VerifierReport,
});
export type LoadedProgram = z.infer<typeof LoadedProgram>;

export const FailedProgram = z.object({
  name: z.string(),
  section: z.string(),
  type: z.string(),
  error: z.object({
    code: ErrorCode,
    message: z.string(),
    hint: z.string().nullable(),
    errno: z.number().int(),
    libbpf_log: z.string(),
  }),
  verifier: VerifierReport,
});

export const LoadedMap = z.object({
  name: z.string(),
  id: z.number().int(),
  type: z.string(),
  key_size: z.number().int(),
  value_size: z.number().int(),
  max_entries: z.number().int(),
  flags: z.number().int(),
  /** BTF type names ("u32", "struct event"); null when the map has no BTF for them */
  key_type: z.string().nullable(),
  value_type: z.string().nullable(),
});
export type LoadedMap = z.infer<typeof LoadedMap>;

/** A value decoded with BTF: numbers, strings (char arrays, big integers, enums, hex), arrays, objects. */
export const BtfValue: z.ZodType<unknown> = z.unknown();

export const MapEntry = z.object({
  key: BtfValue,
  value: BtfValue,
  key_hex: z.string().optional(),
  value_hex: z.string().optional(),
});
export type MapEntry = z.infer<typeof MapEntry>;

// ---- results, one per method ----
export const LoadResult = z.object({
  handle: z.number().int(),
  programs: z.array(LoadedProgram),
  maps: z.array(LoadedMap),
  failed: z.array(FailedProgram).optional(),
});
export const UnloadResult = z.object({
  handle: z.number().int(),
  programs_released: z.number().int(),
  links_released: z.number().int(),
});
export const AttachedLink = z.object({
  link: z.number().int(),
  program: z.string(),
  kind: z.enum(['bpf_link', 'tcx', 'tc', 'socket', 'perf_event']),
  link_id: z.number().int().nullable(),
  ifname: z.string().optional(),
  direction: z.enum(['ingress', 'egress']).optional(),
  mechanism: z.enum(['tcx', 'tc-netlink']).optional(),
  binary: z.string().optional(),
  function: z.string().optional(),
  pid: z.number().int().optional(),
  cgroup: z.string().optional(),
  /** perf_event: the event's name and how many perf events (one per CPU) were opened */
  event: z.string().optional(),
  perf_events: z.number().int().optional(),
});
export const AttachResult = z.object({ links: z.array(AttachedLink) });
export const DetachResult = z.object({
  link: z.number().int(),
  detached: z.literal(true),
  packets: z.number().int().optional(),
});

const MapMeta = {
  map_id: z.number().int(),
  name: z.string(),
  type: z.string(),
  key_size: z.number().int(),
  value_size: z.number().int(),
  max_entries: z.number().int(),
  percpu: z.boolean(),
  key_type: z.string().nullable(),
  value_type: z.string().nullable(),
};
/** A JSON array of decoded values (checked as an array; its elements are any JSON). */
const ValueColumn = z.custom<unknown[]>((v) => Array.isArray(v), 'expected an array');

/** One page of a map (layout "entries", the default): `entries: [{key, value}]`. */
export const MapDumpResult = z.object({
  ...MapMeta,
  count: z.number().int(),
  done: z.boolean(),
  cursor: z.string().nullable(),
  entries: z.array(MapEntry),
});
/**
 * One page of a map in layout "columns" (bulk reads: about half the bytes and a quarter of the
 * parse time of entries): `keys[i]` goes with `values[i]`; with raw: true also keys_hex/values_hex.
 */
export const MapDumpColumnsResult = z.object({
  ...MapMeta,
  count: z.number().int(),
  done: z.boolean(),
  cursor: z.string().nullable(),
  keys: ValueColumn,
  values: ValueColumn,
  keys_hex: z.array(z.string()).optional(),
  values_hex: z.array(z.string()).optional(),
});
export type MapDumpColumnsResult = z.infer<typeof MapDumpColumnsResult>;
export type MapDumpResult = z.infer<typeof MapDumpResult>;
export const MapUpdateResult = z.object({
  map_id: z.number().int(),
  updated: z.literal(true),
  /** with `entries`: how many were written */
  count: z.number().int().optional(),
});
export const MapDeleteResult = z.object({ map_id: z.number().int(), deleted: z.literal(true) });
export const MapWatchResult = z.object({
  subscription: z.number().int(),
  map_id: z.number().int(),
  interval_ms: z.number().int(),
});
export const SubscribeResult = z.object({
  subscription: z.number().int(),
  map_id: z.number().int(),
  source: z.enum(['ringbuf', 'perfbuf']),
  type: z.string().nullable(),
  /** events forwarded per second at most (0: no limit); the rest are consumed and counted as skipped */
  max_rate: z.number().int().optional(),
});
export const TraceSubscribeResult = z.object({
  subscription: z.number().int(),
  path: z.string(),
  /** tracing_on was 0 (bpf_printk output discarded): the agent set it to 1 until unsubscribe */
  tracing_switched_on: z.boolean(),
  /** lines forwarded per second at most (0: no limit); the rest are counted as skipped */
  max_rate: z.number().int().optional(),
});
export const UnsubscribeResult = z.object({
  subscription: z.number().int(),
  kind: z.enum(['map_watch', 'ringbuf', 'perfbuf', 'trace']),
  delivered: z.number().int().optional(),
  dropped: z.number().int().optional(),
  lost: z.number().int().optional(),
  /** consumed but not forwarded (max_rate) */
  skipped: z.number().int().optional(),
});
export const ProgStat = z.object({
  id: z.number().int(),
  /** the whole name (from BTF func_info, as bpftool shows it) */
  name: z.string(),
  /** the kernel's name: at most 15 characters */
  kernel_name: z.string().optional(),
  run_cnt: z.number().int(),
  run_time_ns: z.number().int(),
  recursion_misses: z.number().int(),
  avg_ns: z.number().nullable(),
  handle: z.number().int().optional(),
});
export const ProgStatsResult = z.object({
  enabled: z.boolean(),
  enabled_for_ms: z.number().optional(),
  programs: z.array(ProgStat),
});
/** `list`: every program and map on the box, the agent's own with their handle. */
export const ListedProgram = z.object({
  id: z.number().int(),
  /** the whole name (from BTF func_info, as bpftool shows it) */
  name: z.string(),
  /** the kernel's name: at most 15 characters */
  kernel_name: z.string().optional(),
  type: z.string(),
  tag: z.string(),
  uid: z.number().int(),
  loaded_at_ns: z.number(),
  verified_insns: z.number().int(),
  map_ids: z.array(z.number().int()),
  run_cnt: z.number(),
  run_time_ns: z.number(),
  btf_id: z.number().int().optional(),
  handle: z.number().int().optional(),
});
export const ListedMap = z.object({
  id: z.number().int(),
  name: z.string(),
  type: z.string(),
  key_size: z.number().int(),
  value_size: z.number().int(),
  max_entries: z.number().int(),
  flags: z.number().int(),
  btf_id: z.number().int().optional(),
  handle: z.number().int().optional(),
});
export const ListResult = z.object({ programs: z.array(ListedProgram), maps: z.array(ListedMap) });
export type ListedProgram = z.infer<typeof ListedProgram>;
export type ListedMap = z.infer<typeof ListedMap>;

export const FeaturesResult = z.object({
  kernel_release: z.string(),
  program_types: z.array(z.string()).optional(),
  map_types: z.array(z.string()).optional(),
  helpers: z.record(z.string(), z.array(z.string())).optional(),
  kfuncs: z.array(z.string()).optional(),
  btf_functions: z.array(z.string()).optional(),
  lsm_hooks: z.array(z.string()).optional(),
  tracepoints: z.array(z.string()).nullable().optional(),
  fs: z.object({ bpffs: z.boolean(), tracefs: z.boolean(), tracefs_path: z.string().nullable() }),
  btf: z.boolean(),
});
export const BtfDumpResult = z.object({
  offset: z.number().int(),
  length: z.number().int(),
  total_bytes: z.number().int(),
  done: z.boolean(),
  fnv1a64: z.string(),
  data: z.string(),
});
export const PinResult = z.object({ path: z.string(), pinned: z.literal(true) });
export const UnpinResult = z.object({ path: z.string(), unpinned: z.literal(true) });
export const CancelResult = z.object({ request: RequestId, cancelled: z.boolean() });
export const PingResult = z.object({ pong: z.literal(true) });
export const ShutdownResult = z.object({ ok: z.literal(true) });
/** exec (agents started with --allow-exec only: bpf-ide's VM guests): the command's outcome. */
export const ExecResult = z.object({
  exit_code: z.number().int().nullable(),
  signal: z.string().nullable(),
  timed_out: z.boolean(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  duration_ms: z.number().int(),
});

/** Each method's params (as the client sends them) and its result schema. */
export interface MethodParams {
  load: {
    path?: string;
    object?: string;
    /** with `object`: the object file's name (libbpf names the object and its .rodata/.bss maps after it) */
    file_name?: string;
    log_level?: number;
    log_size?: number;
    timeout_ms?: number;
    programs?: string[];
    map_sizes?: Record<string, number>;
    partial?: boolean;
    /** load `programs` into this loaded object (its maps), instead of a new one from path/object */
    handle?: number;
  };
  unload: { handle: number };
  attach: {
    handle: number;
    program?: string;
    target?: string;
    ifname?: string;
    direction?: 'ingress' | 'egress';
    pid?: number;
    cgroup?: string;
    /** perf_event programs: samples per second (default 49) or a sample period */
    frequency?: number;
    period?: number;
  };
  detach: { link: number };
  map_dump: { map_id: number; cursor?: string; limit?: number; raw?: boolean; layout?: 'entries' | 'columns' };
  map_update: {
    map_id: number;
    key?: unknown;
    value?: unknown;
    key_hex?: string;
    value_hex?: string;
    /** many entries at once (batch update) instead of key/value */
    entries?: { key: unknown; value: unknown }[];
    flags?: 'any' | 'noexist' | 'exist' | number;
  };
  map_delete: { map_id: number; key?: unknown; key_hex?: string };
  map_watch: { map_id: number; interval_ms?: number };
  ringbuf_subscribe: { map_id: number; type?: string; btf_id?: number; max_rate?: number };
  perfbuf_subscribe: { map_id: number; type?: string; btf_id?: number; pages?: number; max_rate?: number };
  trace_subscribe: { filter?: string; max_rate?: number };
  unsubscribe: { subscription: number };
  prog_stats: { handle?: number; ids?: number[]; enable?: boolean };
  list: Record<string, never>;
  features: { include?: string[] };
  btf_dump: { offset?: number; length?: number };
  /** exactly one of map_id, prog_id, link_id; path on bpffs */
  pin: { map_id?: number; prog_id?: number; link_id?: number; path: string };
  unpin: { path: string };
  /** stop a running request (a load, between two programs); answered after it */
  cancel: { request: number | string };
  ping: Record<string, never>;
  shutdown: Record<string, never>;
  /** Runs argv on the agent's machine (only agents started with --allow-exec: VM guests). */
  exec: { argv: string[]; timeout_ms?: number };
}

export const MethodResults = {
  load: LoadResult,
  unload: UnloadResult,
  attach: AttachResult,
  detach: DetachResult,
  map_dump: MapDumpResult,
  map_update: MapUpdateResult,
  map_delete: MapDeleteResult,
  map_watch: MapWatchResult,
  ringbuf_subscribe: SubscribeResult,
  perfbuf_subscribe: SubscribeResult,
  trace_subscribe: TraceSubscribeResult,
  unsubscribe: UnsubscribeResult,
  prog_stats: ProgStatsResult,
  list: ListResult,
  features: FeaturesResult,
  btf_dump: BtfDumpResult,
  pin: PinResult,
  unpin: UnpinResult,
  cancel: CancelResult,
  ping: PingResult,
  shutdown: ShutdownResult,
  exec: ExecResult,
} as const;
export type Method = keyof typeof MethodResults;
export type MethodResult<M extends Method> = z.infer<(typeof MethodResults)[M]>;
/** The result type of a request, where it depends on params (map_dump's layout). */
export type ResultFor<M extends Method, P> = M extends 'map_dump'
  ? P extends { layout: 'columns' }
    ? MapDumpColumnsResult
    : MapDumpResult
  : MethodResult<M>;

/** The schema a reply to (method, params) must match. */
export function resultSchema(method: Method, params: unknown): z.ZodType {
  if (method === 'map_dump' && (params as { layout?: string } | undefined)?.layout === 'columns') {
    return MapDumpColumnsResult;
  }
  return MethodResults[method];
}
export const METHODS = Object.keys(MethodResults) as Method[];

// ---- lines ----
/** The error object of an error reply; load failures carry the verifier's verdict too. */
export const AgentErrorBody = z.looseObject({
  code: ErrorCode,
  message: z.string(),
  hint: z.string().optional(),
  program: z.string().optional(),
  section: z.string().optional(),
  type: z.string().optional(),
  errno: z.number().int().optional(),
  errno_text: z.string().optional(),
  log: z.string().optional(),
  truncated: z.boolean().optional(),
  stats: VerifierStats.optional(),
  libbpf_log: z.string().optional(),
  failed: z.array(FailedProgram).optional(),
  loaded: z.array(LoadedProgram).optional(),
  available: z.array(z.string()).optional(),
  map_id: z.number().int().optional(),
  updated: z.number().int().optional(),
  path: z.string().optional(),
  ifname: z.string().optional(),
  cgroup: z.string().optional(),
});
export type AgentErrorBody = z.infer<typeof AgentErrorBody>;

export const ReplyOk = z.object({ id: RequestId, result: z.record(z.string(), z.unknown()) });
export const ReplyError = z.object({ id: RequestId.nullable(), error: AgentErrorBody });

export const HelloEvent = z.object({
  event: z.literal('hello'),
  protocol: z.number().int(),
  agent_version: z.string(),
  kernel: z.object({ release: z.string(), machine: z.string(), btf: z.boolean(), ncpus: z.number().int() }),
  privileges: z.object({
    uid: z.number().int(),
    privileged: z.boolean(),
    cap_bpf: z.boolean(),
    cap_sys_admin: z.boolean(),
    cap_perfmon: z.boolean(),
    cap_net_admin: z.boolean(),
  }),
  fs: z.object({
    bpffs: z.object({ path: z.string(), mounted: z.boolean(), mountable: z.boolean() }),
    tracefs: z.object({ path: z.string().nullable(), mounted: z.boolean(), mountable: z.boolean() }),
  }),
  capabilities: z.array(z.string()),
  warnings: z.array(z.string()),
  libbpf: z.object({ major: z.number().int(), minor: z.number().int() }),
  pid: z.number().int(),
  /** Seconds without a line on stdin after which the agent releases everything and exits (0: never). Absent from older agents. */
  idle_timeout_s: z.number().int().optional(),
});
export type HelloEvent = z.infer<typeof HelloEvent>;

export const MapSnapshotEvent = z.object({
  event: z.literal('map_snapshot'),
  subscription: z.number().int(),
  map_id: z.number().int(),
  seq: z.number().int(),
  count: z.number().int(),
  full: z.boolean(),
  entries: z.array(MapEntry),
  removed: z.array(BtfValue),
  dropped: z.number().int(),
});
export type MapSnapshotEvent = z.infer<typeof MapSnapshotEvent>;

export const RingbufEvent = z.object({
  event: z.literal('ringbuf_event'),
  subscription: z.number().int(),
  map_id: z.number().int(),
  source: z.enum(['ringbuf', 'perfbuf']),
  cpu: z.number().int().optional(),
  size: z.number().int(),
  data: BtfValue,
});
export type RingbufEvent = z.infer<typeof RingbufEvent>;

export const EventsDroppedEvent = z.object({
  event: z.literal('events_dropped'),
  subscription: z.number().int(),
  /** absent for trace_subscribe */
  map_id: z.number().int().optional(),
  dropped: z.number().int(),
  lost: z.number().int(),
  delivered: z.number().int(),
  /** consumed but not forwarded because of the subscription's max_rate */
  skipped: z.number().int().optional(),
});

export const TraceLineEvent = z.object({
  event: z.literal('trace_line'),
  subscription: z.number().int(),
  line: z.string(),
  task: z.string().optional(),
  pid: z.number().int().optional(),
  cpu: z.number().int().optional(),
  flags: z.string().optional(),
  timestamp: z.number().optional(),
  function: z.string().nullable().optional(),
  message: z.string().optional(),
});
export type TraceLineEvent = z.infer<typeof TraceLineEvent>;

export const LogEvent = z.object({
  event: z.literal('log'),
  level: z.string(),
  message: z.string(),
});
export const ByeEvent = z.object({ event: z.literal('bye'), reason: z.string() });

/** During a load, after each program: its verdict and how far the load is. */
export const LoadProgressEvent = z.object({
  event: z.literal('load_progress'),
  request: RequestId,
  program: z.string(),
  index: z.number().int(),
  total: z.number().int(),
  verdict: z.enum(['loaded', 'rejected', 'refused']),
});
export type LoadProgressEvent = z.infer<typeof LoadProgressEvent>;

/** Every event the agent writes, told apart by `event`. */
export const AgentEvent = z.discriminatedUnion('event', [
  HelloEvent,
  MapSnapshotEvent,
  RingbufEvent,
  EventsDroppedEvent,
  TraceLineEvent,
  LogEvent,
  ByeEvent,
  LoadProgressEvent,
]);
export type AgentEvent = z.infer<typeof AgentEvent>;
export type AgentEventName = AgentEvent['event'];

/** Any line the agent writes: a reply (result or error) or an event. */
export const AgentLine = z.union([ReplyOk, ReplyError, AgentEvent]);
export type AgentLine = z.infer<typeof AgentLine>;
