/**
 * What is loaded on a connected target, and the operations on it: build + load a source file, attach,
 * detach, unload, read run counts. The editor's CodeLens and Programs view sit on top of this; it has no
 * `vscode` import. Everything it loaded is released by dispose() (and by the agent itself when the
 * connection drops).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { AgentRequestError } from '../agent/agent-client';
import type { LoadedMap, LoadedProgram, LoadProgressEvent, MethodParams, MethodResult } from '../agent/agent-protocol';
import { type BuildResult, buildBpf } from '../build/bpf-build';
import type { ConnectedTarget } from './connect';
import { verdictFromLog, type VerdictError } from './verdict';

/** A program of the object that did not load: the verifier rejected it, or the kernel refused it. */
export interface ProgramFailure {
  name: string;
  section: string;
  type: string;
  /** verifier_rejected (a verifier reason), verifier_timeout, load_failed (refused without one: EPERM, ...) */
  code: string;
  error: VerdictError;
  /** the agent's advice (the alternative: "use tp_btf or a tracepoint") */
  hint?: string;
  log: string;
}

export type LoadedProgramState = LoadedProgram & {
  links: number[];
  /** why the last attach failed (kprobes off, no such function...) */
  attachError?: string;
  runCount?: number;
  runTimeNs?: number;
};

export interface LoadedObject {
  handle: number;
  source: string;
  object: string;
  loadedAt: number;
  programs: LoadedProgramState[];
  failed: ProgramFailure[];
  maps: LoadedMap[];
}

export interface LoadOutcome {
  build?: BuildResult;
  loaded?: LoadedObject;
  /** The program the user acted on (a CodeLens), when there is one. */
  clicked?: string;
  /** Programs the verifier rejected (the object may still hold others that loaded). */
  rejected: ProgramFailure[];
  /** Programs the kernel refused without a verifier reason (fentry with trampolines blocked...). */
  refused: ProgramFailure[];
  /** Programs this load attached, and the attaches that failed. */
  attached: string[];
  attachFailed: { name: string; message: string }[];
  /** The user cancelled: what the load had loaded was released. */
  cancelled?: boolean;
  error?: string;
}

export interface LoadProgress {
  program: string;
  index: number;
  total: number;
  verdict: 'loaded' | 'rejected' | 'refused';
}

export interface LoadOptions {
  includeDirs?: string[];
  defines?: string[];
  clang?: string;
  logLevel?: number;
  /**
   * Attach after loading: the `clicked` program only (the others stay loaded, unattached); without
   * `clicked`, every program that loaded (Attach All).
   */
  attach?: boolean;
  /** The program the user acted on: loaded even when libbpf would not autoload it (`SEC("?...")`). */
  clicked?: string;
  /** `object` (default): every program libbpf autoloads, plus `clicked`; `clicked`: only the clicked program. */
  programs?: 'object' | 'clicked';
  /** Exactly these programs (a reload loads what was loaded before); overrides `programs`. */
  names?: string[];
  /** Release the objects previously loaded from the same source (reload). */
  replace?: boolean;
  /** Each program's verdict as the agent reaches it. */
  onProgress?: (p: LoadProgress) => void;
  /** Cancels the load between two programs (the agent releases what it loaded). */
  signal?: AbortSignal;
}

/** What an attachment needs besides the SEC() name, by program type (the agent's attach table). */
export function attachTargetNeeded(type: string, section: string): { what: string; example: string } | undefined {
  if (type === 'xdp') return { what: 'a network interface', example: 'eth0' };
  if (/^(sched_cls|sched_act|tc)$/.test(type) || /^tcx?\//.test(section))
    return { what: 'a network interface', example: 'eth0' };
  if (/^cgroup_|^sock_ops$|^cgroup/.test(type)) return { what: 'a cgroup path', example: '/sys/fs/cgroup' };
  if (/^u(ret)?probe/.test(section) && !/:/.test(section))
    return { what: 'a binary:function to probe', example: '/usr/lib/x86_64-linux-gnu/libc.so.6:close' };
  return undefined;
}

export interface AttachTargetRequest {
  program: string;
  section: string;
  type: string;
  need: { what: string; example: string };
}

/** An attach failure in words: the kernel's reason and the agent's advice. */
export function attachFailureText(e: AgentRequestError): string {
  return `${e.body.message}${e.hint ? ` (${e.hint})` : ''}`;
}

export class LoadSession extends EventEmitter<{ changed: [] }> {
  private readonly objects = new Map<number, LoadedObject>();
  /** Asked for what an attachment needs (an interface for XDP/tc, a cgroup...): the editor prompts the user. */
  attachTarget: ((req: AttachTargetRequest) => Promise<string | undefined>) | undefined;

  constructor(readonly target: ConnectedTarget) {
    super();
  }

  get loaded(): LoadedObject[] {
    return [...this.objects.values()];
  }

  /** The object loaded from `source` (the newest), if any. */
  objectFrom(source: string): LoadedObject | undefined {
    return this.loaded.filter((x) => x.source === source).at(-1);
  }

  /** Builds `source` (a .c file) or takes an object, loads it, and optionally attaches (see LoadOptions). */
  async load(source: string, o: LoadOptions = {}): Promise<LoadOutcome> {
    const outcome: LoadOutcome = { rejected: [], refused: [], attached: [], attachFailed: [], clicked: o.clicked };
    let object = source;
    if (/\.c$/.test(source)) {
      outcome.build = await buildBpf({ file: source, includeDirs: o.includeDirs, defines: o.defines, clang: o.clang });
      if (!outcome.build.ok) {
        outcome.error = `${basename(source)} did not compile`;
        return outcome;
      }
      object = outcome.build.object;
    }
    const params = this.target.remote
      ? { object: readFileSync(object).toString('base64'), file_name: basename(object) }
      : { path: object };
    const r = await this.request(
      { ...params, programs: o.names ?? (o.programs === 'clicked' && o.clicked ? [o.clicked] : undefined) },
      o,
      outcome,
    );
    if (!r) return outcome;
    if (o.replace) {
      for (const old of this.loaded.filter((x) => x.source === source)) await this.unload(old.handle, false);
    }
    const loaded: LoadedObject = {
      handle: r.handle,
      source,
      object,
      loadedAt: Date.now(),
      programs: [],
      failed: [],
      maps: r.maps,
    };
    this.objects.set(r.handle, loaded);
    outcome.loaded = loaded;
    this.take(loaded, r, outcome);
    // A clicked program libbpf does not autoload (SEC("?...")): loaded into the same object, by name.
    if (o.clicked && !this.has(loaded, o.clicked) && !outcome.cancelled) {
      const more = await this.request({ handle: r.handle, programs: [o.clicked] }, o, outcome);
      if (more) this.take(loaded, more, outcome);
    }
    await this.attachAfterLoad(loaded, o, outcome);
    this.emit('changed');
    return outcome;
  }

  /**
   * Loads programs of an object already loaded from `source` into it (its maps; nothing reloaded), and
   * attaches the clicked one when asked: a lens on a program the object did not load yet.
   */
  async loadInto(handle: number, o: LoadOptions & { clicked: string }): Promise<LoadOutcome> {
    const outcome: LoadOutcome = { rejected: [], refused: [], attached: [], attachFailed: [], clicked: o.clicked };
    const obj = this.objects.get(handle);
    if (!obj) {
      outcome.error = `handle ${handle} is not loaded`;
      return outcome;
    }
    outcome.loaded = obj;
    if (!obj.programs.some((p) => p.name === o.clicked)) {
      obj.failed = obj.failed.filter((f) => f.name !== o.clicked);
      const r = await this.request({ handle, programs: [o.clicked] }, o, outcome);
      if (r) this.take(obj, r, outcome);
    }
    await this.attachAfterLoad(obj, o, outcome);
    this.emit('changed');
    return outcome;
  }

  private has(obj: LoadedObject, name: string): boolean {
    return obj.programs.some((p) => p.name === name) || obj.failed.some((f) => f.name === name);
  }

  private async attachAfterLoad(obj: LoadedObject, o: LoadOptions, outcome: LoadOutcome): Promise<void> {
    if (!o.attach || outcome.cancelled) return;
    const which = o.clicked ? obj.programs.filter((p) => p.name === o.clicked) : obj.programs;
    for (const p of which) {
      if (p.links.length) continue;
      try {
        await this.attach(obj.handle, p.name, false);
        outcome.attached.push(p.name);
      } catch (e) {
        outcome.attachFailed.push({ name: p.name, message: p.attachError ?? (e as Error).message });
      }
    }
  }

  /** One load request (new object or into a handle), with progress and cancel; failures go to `outcome`. */
  private async request(
    params: MethodParams['load'],
    o: LoadOptions,
    outcome: LoadOutcome,
  ): Promise<MethodResult<'load'> | undefined> {
    const client = this.target.client;
    let id = -1;
    const onProgress = (ev: LoadProgressEvent) => {
      if (ev.request === id) o.onProgress?.(ev);
    };
    const onAbort = () => {
      if (id >= 0) void client.request('cancel', { request: id }).catch(() => undefined);
    };
    client.on('load_progress', onProgress);
    o.signal?.addEventListener('abort', onAbort);
    try {
      return await client.request(
        'load',
        { ...params, log_level: o.logLevel ?? 1, partial: true },
        { onId: (x) => (id = x) },
      );
    } catch (e) {
      if (e instanceof AgentRequestError && e.code === 'cancelled') {
        outcome.cancelled = true;
        outcome.error = 'the load was cancelled: what it had loaded was released';
        return undefined;
      }
      if (e instanceof AgentRequestError && e.code === 'verifier_rejected') {
        const body = e.body as { program?: string; section?: string; type?: string; log?: string };
        outcome.rejected.push({
          name: body.program ?? '?',
          section: body.section ?? '',
          type: body.type ?? '',
          code: e.code,
          error: verdictFromLog(body.log ?? '', e.body.message),
          log: body.log ?? '',
        });
        outcome.error = `the verifier rejected ${body.program ?? 'a program'}`;
        return undefined;
      }
      outcome.error = (e as Error).message;
      return undefined;
    } finally {
      client.off('load_progress', onProgress);
      o.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Records a load reply's programs and failures in `obj` and `outcome`. */
  private take(obj: LoadedObject, r: MethodResult<'load'>, outcome: LoadOutcome): void {
    obj.programs.push(...r.programs.map((p) => ({ ...p, links: [] })));
    obj.maps = r.maps;
    for (const f of r.failed ?? []) {
      const failure: ProgramFailure = {
        name: f.name,
        section: f.section,
        type: f.type,
        code: f.error.code,
        error:
          f.error.code === 'verifier_rejected'
            ? verdictFromLog(f.verifier.log, f.error.message)
            : { message: f.error.message },
        hint: f.error.hint ?? undefined,
        log: f.verifier.log,
      };
      obj.failed = [...obj.failed.filter((x) => x.name !== f.name), failure];
      (f.error.code === 'verifier_rejected' ? outcome.rejected : outcome.refused).push(failure);
    }
  }

  async attach(handle: number, program: string, notify = true, target?: string): Promise<void> {
    const obj = this.objects.get(handle);
    const p = obj?.programs.find((x) => x.name === program);
    if (!obj || !p) throw new Error(`program ${program} is not loaded`);
    let t = target;
    if (t === undefined && this.attachTarget) {
      const need = attachTargetNeeded(p.type, p.section);
      if (need) {
        t = await this.attachTarget({ program: p.name, section: p.section, type: p.type, need });
        if (t === undefined) throw new Error(`attaching ${p.name} needs ${need.what}: none given`);
      }
    }
    let r: MethodResult<'attach'>;
    try {
      r = await this.target.client.request('attach', {
        handle,
        program,
        ...(t !== undefined ? { target: t } : {}),
      });
    } catch (e) {
      p.attachError = e instanceof AgentRequestError ? attachFailureText(e) : (e as Error).message;
      if (notify) this.emit('changed');
      throw e;
    }
    p.attachError = undefined;
    p.links.push(...r.links.map((l) => l.link));
    if (notify) this.emit('changed');
  }

  async detach(handle: number, program: string): Promise<void> {
    const p = this.objects.get(handle)?.programs.find((x) => x.name === program);
    if (!p) return;
    for (const link of p.links.splice(0)) await this.target.client.request('detach', { link });
    this.emit('changed');
  }

  async unload(handle: number, notify = true): Promise<void> {
    if (!this.objects.has(handle)) return;
    this.objects.delete(handle);
    try {
      await this.target.client.request('unload', { handle });
    } finally {
      if (notify) this.emit('changed');
    }
  }

  /** Reads run counts for every loaded program (bpf_enable_stats on the target). */
  async refreshStats(): Promise<void> {
    if (this.objects.size === 0 || this.target.client.isClosed) return;
    const r = await this.target.client.request('prog_stats', { enable: true });
    const byId = new Map(r.programs.map((p) => [p.id, p]));
    for (const obj of this.objects.values()) {
      for (const p of obj.programs) {
        const s = byId.get(p.id);
        if (s) {
          p.runCount = s.run_cnt;
          p.runTimeNs = s.run_time_ns;
        }
      }
    }
    this.emit('changed');
  }

  /** Forgets what was loaded without asking the agent (it is gone, and released everything itself). */
  forget(): void {
    this.objects.clear();
    this.emit('changed');
  }

  /** Releases everything loaded (then the connection can go). */
  async dispose(): Promise<void> {
    for (const h of [...this.objects.keys()]) await this.unload(h, false).catch(() => undefined);
    this.emit('changed');
  }
}
