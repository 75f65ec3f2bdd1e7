/**
 * A client process for the cleanup test: starts an agent, loads and attaches programs,
 * streams ring buffer events, prints what it created as one JSON line, and keeps streaming
 * until it is killed. (Not a test file: cleanup.test.ts runs it and SIGKILLs it.)
 */
import { AgentClient } from '../../client/src/core/agent/agent-client';
import { ensureAgent, fixture, runAs, tempDir } from './agent-harness';

async function main(): Promise<void> {
  const agent = AgentClient.spawn(ensureAgent());
  const hello = await agent.hello;
  const ev = await agent.request('load', { path: fixture('events') });
  const at = await agent.request('load', { path: fixture('attach') });
  const links = [
    ...(await agent.request('attach', { handle: ev.handle })).links,
    ...(await agent.request('attach', { handle: at.handle, program: 'on_tp' })).links,
    ...(await agent.request('attach', { handle: at.handle, program: 'on_raw_tp' })).links,
  ];
  const map = (n: string) => ev.maps.find((m) => m.name === n)!.id;
  const comm = `bpfide_h${process.pid % 10000}`;
  await agent.request('map_update', { map_id: map('config'), key: 0, value: { ring_burst: 200, perf_burst: 0, comm } });
  await agent.request('ringbuf_subscribe', { map_id: map('rb'), type: 'struct event' });
  await agent.request('map_watch', { map_id: at.maps.find((m) => m.name === 'tp_hits')!.id, interval_ms: 10 });
  let events = 0;
  agent.on('ringbuf_event', () => {
    events++;
    if (events === 1) {
      process.stdout.write(
        JSON.stringify({
          agentPid: hello.pid,
          // SIGKILL skips this process's exit handlers: the test removes its temp dir
          tempDir: tempDir(),
          progIds: [...ev.programs, ...at.programs].map((p) => p.id),
          mapIds: [...ev.maps, ...at.maps].map((m) => m.id),
          linkIds: links.map((l) => l.link_id).filter((x): x is number => x !== null),
        }) + '\n',
      );
    }
  });
  // keep the stream busy until killed
  for (;;) await runAs(comm);
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
