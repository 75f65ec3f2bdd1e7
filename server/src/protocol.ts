/**
 * Custom LSP methods between the extension and the language server, declared once and imported by
 * both sides (never a bare method string elsewhere).
 */

/**
 * A typed method declaration. (The client and the server libraries pin different copies of
 * vscode-jsonrpc, whose NotificationType classes do not mix; a plain typed descriptor does.)
 */
export interface NotificationDecl<P> {
  readonly method: string;
  readonly params?: P; // type carrier only
}
export interface RequestDecl<P, R> {
  readonly method: string;
  readonly params?: P; // type carrier only
  readonly result?: R; // type carrier only
}
export type ParamsOf<T> = T extends NotificationDecl<infer P> ? P : T extends RequestDecl<infer P, unknown> ? P : never;
export type ResultOf<T> = T extends RequestDecl<unknown, infer R> ? R : never;

/** What a connected target can do, sent by the client when a target connects (or disconnects: null). */
export interface TargetFeaturesParams {
  target: string | null;
  kernelRelease?: string;
  /** Helper names allowed per program type (kernel enum name without BPF_PROG_TYPE_, lowercase). */
  helpersByProgramType?: Record<string, string[]>;
  kfuncs?: string[];
  tracepoints?: string[];
  /** Kernel functions with BTF: what kprobe/fentry/fexit programs can attach to. */
  functions?: string[];
}
export const targetFeaturesNotification = { method: 'bpf/targetFeatures' } as NotificationDecl<TargetFeaturesParams>;

/** The server tells the client about a problem the user should see once (e.g. clang not found). */
export interface ServerStatusParams {
  kind: 'clang-missing' | 'clang-found' | 'info';
  message: string;
}
export const serverStatusNotification = { method: 'bpf/serverStatus' } as NotificationDecl<ServerStatusParams>;

/** The programs and maps of a document, for CodeLens-like UI on the client side. */
export interface DocumentProgramsParams {
  uri: string;
}
export interface DocumentProgram {
  name: string;
  section: string;
  programType: string | null;
  line: number;
}
export const documentProgramsRequest = {
  method: 'bpf/documentPrograms',
} as RequestDecl<DocumentProgramsParams, DocumentProgram[]>;

/**
 * Node flags the language server runs with. A small young generation (2 MB semi-spaces instead of 16)
 * keeps the heap, and so RSS, small under long editing (issue 15.12: 5,000 edits took RSS past 200 MB),
 * for a few more, shorter scavenges. The old generation may grow to 1.75 times what the last full GC left
 * (V8 otherwise lets it reach up to 4 times when GC is cheap): the live heap after 5,000 edits is ~30 MB,
 * the rest was garbage V8 had not collected yet (RSS 211-220 MB -> 154 MB after 5,000 edits of block_io,
 * VmHWM 161 MB, for ~10% more main-thread CPU in edits). TurboFan does not inline: the optimizing
 * compiler's background threads took more CPU than the analyses themselves (over the bench's 80 fs_agent
 * edits ~420 ms next to ~260 ms on the main thread), and on a 2-core machine they took the main thread's
 * core: without inlining they take ~35% less, the main thread ~3% more (bench p90 of fs_agent, runs
 * interleaved at load 3-4: median ~25 -> ~14 ms). WebAssembly (tree-sitter's parser) is compiled by Liftoff,
 * V8's baseline compiler, only: by default the hot parser functions are also recompiled by TurboFan, which
 * on the first analysis of a file costs more than it saves (tree-sitter's first parse of the 2,570-line
 * fs_agent 70-75 ms -> 29 ms; first analysis, runs interleaved at load < 1: fs_agent 331-377 -> 281-312 ms,
 * block_io 190-210 -> 124-138 ms); a full re-parse is slower (13 -> 22 ms) but an edit re-parses
 * incrementally, and edit -> diagnostics p50/p90 stayed the same or better in the bench. The extension
 * forks the server with them; `bpf-ide lsp --stdio` starts its server with them too
 * (client/src/cli/lsp-command.ts).
 */
export const SERVER_NODE_FLAGS: readonly string[] = [
  '--max-semi-space-size=2',
  '--heap-growing-percent=75',
  '--no-turbo-inlining',
  '--liftoff-only',
];
