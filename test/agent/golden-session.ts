/**
 * Records a scripted session with the real agent: every request the protocol has, and the
 * raw lines the agent writes back, grouped by method (replies) and by event name. The result
 * is the golden corpus under test/fixtures/agent/golden, which the unit tests check against
 * the TypeScript schema and golden.test.ts checks against the live agent's output.
 *
 * Regenerate (as root): node --import tsx test/agent/golden-session.ts
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureAgent, fixture, runAs, FIXTURES, UNIQUE } from './agent-harness';

export const GOLDEN_DIR = join(FIXTURES, 'golden');
const MAX_EVENTS_PER_KIND = 3;

/** Runs the session; returns file name -> lines (raw JSON text as the agent wrote it). */
export async function recordSession(): Promise<Map<string, string[]>> {
  const files = new Map<string, string[]>();
  const add = (file: string, line: string) => {
    const l = files.get(file) ?? [];
    l.push(line);
    files.set(file, l);
  };
  // --allow-exec: the flag bpf-ide's VM guests start the agent with, so `exec` is recorded too
  const agent = spawn(ensureAgent(), ['--allow-exec'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const rl = createInterface({ input: agent.stdout! });
  const waiting = new Map<number, (line: string, parsed: Record<string, unknown>) => void>();
  const eventCount = new Map<string, number>();
  let helloResolve!: () => void;
  const hello = new Promise<void>((r) => (helloResolve = r));
  const nullErrors: ((line: string) => void)[] = [];
  rl.on('line', (line) => {
    const d = JSON.parse(line) as Record<string, unknown>;
    if (typeof d.event === 'string') {
      const n = eventCount.get(d.event) ?? 0;
      if (n < MAX_EVENTS_PER_KIND) add(`event-${d.event}.jsonl`, line);
      eventCount.set(d.event, n + 1);
      if (d.event === 'hello') helloResolve();
      return;
    }
    if (d.id === null) {
      const cb = nullErrors.shift();
      cb?.(line);
      return;
    }
    waiting.get(d.id as number)?.(line, d);
  });
  await hello;
  let nextId = 1;
  let lastLine = '';
  const call = (method: string, params: Record<string, unknown> = {}, file: string | null = method) =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw replies of every method, read loosely
    new Promise<Record<string, any>>((resolve) => {
      const id = nextId++;
      waiting.set(id, (line, d) => {
        waiting.delete(id);
        lastLine = line;
        if (file) add(`${file}.jsonl`, line);
        resolve(d);
      });
      agent.stdin!.write(JSON.stringify({ id, method, params }) + '\n');
    });
  const raw = (text: string) =>
    new Promise<void>((resolve) => {
      nullErrors.push((line) => {
        add('error-noid.jsonl', line);
        resolve();
      });
      agent.stdin!.write(text);
    });
  const events = async (name: string, n: number) => {
    const deadline = Date.now() + 5000;
    while ((eventCount.get(name) ?? 0) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };

  await call('ping');
  await call('cancel', { request: 424242 });
  // load: success, partial, rejection, bad params
  const m = (await call('load', { path: fixture('maps'), log_level: 1 })).result;
  const mixed = (await call('load', { path: fixture('mixed'), partial: true })).result;
  await call('load', { path: fixture('reject_null'), log_level: 1 });
  await call('load', { path: fixture('mixed') });
  await call('load', {});
  const mapId = (name: string, r: { maps: { name: string; id: number }[] }) => r.maps.find((x) => x.name === name)!.id;
  // attach: auto, socket filter, uprobe
  await call('attach', { handle: m.handle });
  const at = (await call('load', { path: fixture('attach'), log_level: 0 })).result;
  await call('attach', { handle: at.handle, program: 'on_socket', target: 'lo' });
  const up = (
    await call('attach', { handle: at.handle, program: 'on_uprobe', target: '/lib/x86_64-linux-gnu/libc.so.6:close' })
  ).result;
  await call('attach', { handle: at.handle, program: 'on_xdp' });
  await call('attach', { handle: at.handle, program: 'on_perf', target: 'cpu-clock', frequency: 10 });
  await runAs(`bpfide_g${UNIQUE}`);
  // maps
  await call('map_dump', { map_id: mapId('counts', m), limit: 2 });
  await call('map_dump', { map_id: mapId('structs', m), limit: 2, raw: true });
  await call('map_dump', { map_id: mapId('pcpu', m) });
  await call('map_dump', { map_id: mapId('counts', m), layout: 'columns', raw: true }, 'map_dump-columns');
  await call('map_dump', { map_id: 0x7ffffff0 });
  await call('map_update', { map_id: mapId('counts', m), key: 1, value: '18446744073709551615' });
  await call('map_update', {
    map_id: mapId('big', m),
    entries: [
      { key: 1, value: 2 },
      { key: 3, value: 4 },
    ],
  });
  await call('map_update', { map_id: mapId('structs', m), key: 1, value: { nope: 1 } });
  await call('map_delete', { map_id: mapId('counts', m), key: 1 });
  await call('map_delete', { map_id: mapId('counts', m), key: 1 });
  const w = (await call('map_watch', { map_id: mapId('big', m), interval_ms: 20 })).result;
  await events('map_snapshot', 1);
  await call('map_update', { map_id: mapId('big', m), key: 5, value: 6 });
  await events('map_snapshot', 2);
  await call('unsubscribe', { subscription: w.subscription });
  // streams
  const ev = (await call('load', { path: fixture('events') })).result;
  await call('attach', { handle: ev.handle });
  const comm = `bpfide_g${UNIQUE}`.slice(0, 15);
  await call('map_update', { map_id: mapId('config', ev), key: 0, value: { ring_burst: 2, perf_burst: 1, comm } });
  const rs = (await call('ringbuf_subscribe', { map_id: mapId('rb', ev), type: 'struct event' })).result;
  const ps = (await call('perfbuf_subscribe', { map_id: mapId('pb', ev) }, 'perfbuf_subscribe')).result;
  await call('ringbuf_subscribe', { map_id: mapId('rb', ev), type: 'struct nope' });
  // the kernel allows one trace_pipe reader machine-wide: wait out another process's turn
  let ts = (await call('trace_subscribe', { filter: comm }, null)).result;
  for (let i = 0; !ts && i < 300; i++) {
    await new Promise((r) => setTimeout(r, 200));
    ts = (await call('trace_subscribe', { filter: comm }, null)).result;
  }
  if (!ts) throw new Error('trace_pipe stayed busy (another reader) for 60 s');
  add('trace_subscribe.jsonl', lastLine); // the successful reply, as the agent wrote it
  await call('trace_subscribe', {});
  for (let i = 0; i < 20 && (eventCount.get('trace_line') ?? 0) < 1; i++) {
    await runAs(comm);
    await events('trace_line', 1);
  }
  await events('ringbuf_event', 3);
  await call('unsubscribe', { subscription: rs.subscription });
  await call('unsubscribe', { subscription: ps.subscription });
  await call('unsubscribe', { subscription: ts.subscription });
  await call('unsubscribe', { subscription: 99999 });
  // stats, features, btf
  await call('prog_stats', { handle: at.handle });
  await call('list');
  await call('prog_stats', { enable: false });
  await call('features', { include: ['program_types', 'map_types', 'helpers'] });
  await call('btf_dump', { offset: 0, length: 400 });
  // pin, unpin
  const pinPath = `/sys/fs/bpf/bpfide_golden_${process.pid}`;
  await call('pin', { map_id: mapId('counts', m), path: pinPath });
  await call('pin', { map_id: mapId('counts', m), path: '/tmp/x' });
  await call('unpin', { path: pinPath });
  await call('unpin', { path: pinPath });
  rmSync(pinPath, { force: true }); // in case the unpin above failed
  // detach, unload, errors
  await call('detach', { link: up.links[0].link });
  await call('detach', { link: 99999 });
  await call('unload', { handle: mixed.handle });
  await call('unload', { handle: 99999 });
  await call('exec', { argv: ['sh', '-c', 'echo out; echo err >&2; exit 3'], timeout_ms: 5000 });
  await call('no_such_method', {}, 'error-unknown_method');
  await raw('{"id": 1, "method": \n');
  await raw('[1,2,3]\n');
  await call('shutdown');
  await new Promise((r) => agent.once('exit', r));
  return files;
}

/** Writes the corpus (one .jsonl per method or event). */
export function writeCorpus(dir: string, files: Map<string, string[]>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, lines] of files) writeFileSync(join(dir, name), lines.join('\n') + '\n');
}

if (require.main === module) {
  recordSession()
    .then((files) => {
      writeCorpus(GOLDEN_DIR, files);
      console.log(`wrote ${files.size} files to ${GOLDEN_DIR}`);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
