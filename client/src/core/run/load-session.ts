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
import type { LoadedMap, LoadedProgram, MethodResult } from '../agent/agent-protocol';
import { type BuildResult, buildBpf } from '../build/bpf-build';
import type { ConnectedTarget } from './connect';
import { verdictFromLog, type VerdictError } from './verdict';

export interface LoadedObject {
  handle: number;
  source: string;
  object: string;
  loadedAt: number;
  programs: (LoadedProgram & { links: number[]; runCount?: number; runTimeNs?: number })[];
  failed: { name: string; section: string; type: string; error: VerdictError; log: string }[];
  maps: LoadedMap[];
}

export interface LoadOutcome {
  build?: BuildResult;
  loaded?: LoadedObject;
  /** Programs the verifier rejected (the object may still hold others that loaded). */
  rejected: { name: string; section: string; error: VerdictError; log: string }[];
  error?: string;
}

export interface LoadOptions {
  includeDirs?: string[];
  defines?: string[];
  clang?: string;
  logLevel?: number;
  attach?: boolean;
  /** Load only these programs of the object. */
  programs?: string[];
  /** Release the objects previously loaded from the same source (reload). */
  replace?: boolean;
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

  /** Builds `source` (a .c file) or takes an object, loads it, and optionally attaches. */
  async load(source: string, o: LoadOptions = {}): Promise<LoadOutcome> {
    const outcome: LoadOutcome = { rejected: [] };
    let object = source;
    if (/\.c$/.test(source)) {
      outcome.build = await buildBpf({ file: source, includeDirs: o.includeDirs, defines: o.defines, clang: o.clang });
      if (!outcome.build.ok) {
        outcome.error = `${basename(source)} did not compile`;
        return outcome;
      }
      object = outcome.build.object;
    }
    const client = this.target.client;
    const params = this.target.remote ? { object: readFileSync(object).toString('base64') } : { path: object };
    let r: MethodResult<'load'>;
    try {
      r = await client.request('load', { ...params, log_level: o.logLevel ?? 1, partial: true, programs: o.programs });
    } catch (e) {
      if (e instanceof AgentRequestError && e.code === 'verifier_rejected') {
        const body = e.body as { program?: string; section?: string; log?: string };
        outcome.rejected.push({
          name: body.program ?? '?',
          section: body.section ?? '',
          error: verdictFromLog(body.log ?? '', e.body.message),
          log: body.log ?? '',
        });
        outcome.error = `the verifier rejected ${body.program ?? 'a program'}`;
        return outcome;
      }
      outcome.error = (e as Error).message;
      return outcome;
    }
    if (o.replace) {
      for (const old of this.loaded.filter((x) => x.source === source)) await this.unload(old.handle, false);
    }
    const loaded: LoadedObject = {
      handle: r.handle,
      source,
      object,
      loadedAt: Date.now(),
      programs: r.programs.map((p) => ({ ...p, links: [] })),
      failed: (r.failed ?? []).map((f) => ({
        name: f.name,
        section: f.section,
        type: f.type,
        error:
          f.error.code === 'verifier_rejected'
            ? verdictFromLog(f.verifier.log, f.error.message)
            : { message: f.error.message + (f.error.hint ? ` (${f.error.hint})` : '') },
        log: f.verifier.log,
      })),
      maps: r.maps,
    };
    for (const f of r.failed ?? []) {
      if (f.error.code === 'verifier_rejected') outcome.rejected.push(loaded.failed.find((x) => x.name === f.name)!);
    }
    this.objects.set(r.handle, loaded);
    outcome.loaded = loaded;
    if (o.attach) {
      for (const p of loaded.programs) {
        try {
          await this.attach(r.handle, p.name, false);
        } catch (e) {
          outcome.error = `${p.name}: ${(e as Error).message}`;
        }
      }
    }
    this.emit('changed');
    return outcome;
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
    const r = await this.target.client.request('attach', {
      handle,
      program,
      ...(t !== undefined ? { target: t } : {}),
    });
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
