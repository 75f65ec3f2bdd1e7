/**
 * Runs inside the extension host of a real VS Code (extensionTestsPath), for test/e2e/panels.test.ts: loads real
 * programs through the extension's own target manager (the local agent), opens each live data panel on them, and
 * waits after each one until the outer test has checked and photographed the webview (it writes
 * `<workspace>/.panels-e2e/<step>.done`). Programs: the tracepoint and ringbuf templates (vmlinux.h made here with
 * bpftool) and the agent tests' events fixture for bpf_printk.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { BpfIdeContext } from '../../../client/src/ctx';
import { openEventsPanel } from '../../../client/src/features/panels/events-panel';
import { openMapPanel } from '../../../client/src/features/panels/map-panel';
import { PanelHost } from '../../../client/src/features/panels/panel-host';
import { PanelState } from '../../../client/src/features/panels/panel-state';
import { openStatsPanel } from '../../../client/src/features/panels/stats-panel';
import { openTracePanel } from '../../../client/src/features/panels/trace-panel';
import { runHostTests } from './host-test';

const EXTENSION_ID = 'bpf-ide.bpf-ide';

/** Resolves when the outer test writes <workspace>/.panels-e2e/<step>.done (a file watcher, no polling). */
function stepDone(dir: string, step: string, timeoutMs = 90_000): Promise<void> {
  const file = join(dir, `${step}.done`);
  return new Promise((resolve, reject) => {
    if (existsSync(file)) return resolve();
    const w = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(dir), `${step}.done`),
    );
    const timer = setTimeout(() => {
      w.dispose();
      reject(new Error(`the outer test did not finish step ${step} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      w.dispose();
      resolve();
    };
    w.onDidCreate(done);
    // the watcher may start after the file appeared
    if (existsSync(file)) done();
  });
}

/** Tells the outer test a step's panel is open (with what it should look for). */
function stepReady(dir: string, step: string, info: Record<string, unknown> = {}): void {
  // written whole, then renamed: the outer test's watcher never sees a half-written file
  writeFileSync(join(dir, `${step}.ready.tmp`), JSON.stringify(info));
  renameSync(join(dir, `${step}.ready.tmp`), join(dir, `${step}.ready`));
}

/** Runs a command under a chosen name (its comm), to trigger exec tracepoints; resolves with its pid. */
function execAs(dir: string, name: string): Promise<number> {
  const link = join(dir, name);
  if (!existsSync(link)) symlinkSync('/bin/true', link);
  return new Promise((resolve) => {
    const p = spawn(link, [], { stdio: 'ignore' });
    p.on('exit', () => resolve(p.pid!));
  });
}

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension<BpfIdeContext>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const ctx = await ext.activate();
  const root = ext.extensionUri.fsPath;
  // the bundled suite's own agent lookup: the extension's
  process.env.BPF_IDE_AGENT ??= join(root, 'dist', 'bpf-agent');
  const ws = vscode.workspace.workspaceFolders![0].uri.fsPath;
  const steps = join(ws, '.panels-e2e');
  mkdirSync(steps, { recursive: true });
  const state = new PanelState(ctx.extension.workspaceState);
  const session = await ctx.targets.ensureConnected();
  const vmlinux = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
    maxBuffer: 64 << 20,
  });
  const template = (name: string) => {
    const dir = join(ws, 'templates', name);
    cpSync(join(root, 'bpf-templates', name), dir, { recursive: true });
    writeFileSync(join(dir, 'vmlinux.h'), vmlinux);
    return join(dir, `${name}.bpf.c`);
  };
  const handles: number[] = [];
  try {
    await runHostTests('panels', [
      {
        name: 'map panel: the tracepoint template counting openat() per process',
        timeoutMs: 120_000,
        fn: async () => {
          const out = await session.load(template('tracepoint'), { attach: true });
          assert.ok(out.loaded, `the tracepoint template did not load: ${out.error}`);
          handles.push(out.loaded.handle);
          const opens = out.loaded.maps.find((m) => m.name === 'opens');
          assert.ok(opens);
          const pid = await execAs(steps, 'bpfide_e2e');
          const host = await openMapPanel(ctx, state, { kind: 'map', obj: out.loaded, id: opens.id });
          assert.ok(host && PanelHost.find(`map:${opens.id}`));
          stepReady(steps, 'map', { pid });
          await stepDone(steps, 'map');
        },
      },
      {
        name: 'map panel: a per-CPU array (the raw_tp template counting context switches per CPU)',
        timeoutMs: 120_000,
        fn: async () => {
          const out = await session.load(template('raw_tp'), { attach: true });
          assert.ok(out.loaded, `the raw_tp template did not load: ${out.error}`);
          handles.push(out.loaded.handle);
          const sw = out.loaded.maps.find((m) => m.name === 'switches');
          assert.ok(sw);
          await openMapPanel(ctx, state, sw.id);
          stepReady(steps, 'percpu');
          await stepDone(steps, 'percpu');
        },
      },
      {
        name: 'events panel: the ringbuf template streaming exec and exit events',
        timeoutMs: 120_000,
        fn: async () => {
          const out = await session.load(template('ringbuf'), { attach: true });
          assert.ok(out.loaded, `the ringbuf template did not load: ${out.error}`);
          handles.push(out.loaded.handle);
          const rb = out.loaded.maps.find((m) => m.type === 'ringbuf');
          assert.ok(rb);
          await openEventsPanel(ctx, state, rb.id);
          stepReady(steps, 'events');
          // execs until the outer test has seen and photographed events
          let stop = false;
          const pump = (async () => {
            for (let i = 0; !stop; i++) await execAs(steps, `bpfide_ev${i % 5}`);
          })();
          await stepDone(steps, 'events').finally(() => (stop = true));
          await pump;
        },
      },
      {
        name: 'trace panel: bpf_printk lines from the events fixture',
        timeoutMs: 120_000,
        fn: async () => {
          const out = await session.load(join(root, 'test', 'fixtures', 'agent', 'events.bpf.c'), { attach: true });
          assert.ok(out.loaded, `the events fixture did not load: ${out.error}`);
          handles.push(out.loaded.handle);
          const config = out.loaded.maps.find((m) => m.name === 'config')!;
          await session.target.client.request('map_update', {
            map_id: config.id,
            key: 0,
            value: { ring_burst: 0, perf_burst: 0, comm: 'bpfide_printk' },
          });
          await openTracePanel(ctx, state);
          stepReady(steps, 'trace');
          let stop = false;
          const pump = (async () => {
            while (!stop) await execAs(steps, 'bpfide_printk');
          })();
          await stepDone(steps, 'trace').finally(() => (stop = true));
          await pump;
        },
      },
      {
        name: 'events panel at 50,000 events/s: the agent thins the stream, the editor stays responsive, counts add up',
        timeoutMs: 150_000,
        fn: async () => {
          const out = await session.load(join(root, 'test', 'fixtures', 'agent', 'events.bpf.c'), { attach: true });
          assert.ok(out.loaded, `the events fixture did not load: ${out.error}`);
          handles.push(out.loaded.handle);
          const map = (name: string) => out.loaded!.maps.find((m) => m.name === name)!;
          // every exec of "bpfide_flood" writes BURST records in one bpf_loop; about 10 execs a second
          const BURST = 6000;
          await session.target.client.request('map_update', {
            map_id: map('config').id,
            key: 0,
            value: { ring_burst: BURST, perf_burst: 0, comm: 'bpfide_flood' },
          });
          const dropsOf = async () =>
            (
              (await session.target.client.request('map_dump', { map_id: map('drops').id })) as {
                entries: { value: number }[];
              }
            ).entries[0].value;
          const drops0 = await dropsOf();
          const host = await openEventsPanel(ctx, state, map('rb').id);
          assert.ok(host);
          // the producer is its own process (a shell loop), so a busy extension host cannot slow it down
          const flood = join(steps, 'bpfide_flood');
          if (!existsSync(flood)) symlinkSync('/bin/true', flood);
          const stop = join(steps, 'flood.stop');
          const count = join(steps, 'flood.count');
          const producer = spawn(
            'sh',
            [
              '-c',
              `n=0; while [ ! -e "$1" ]; do "$2"; n=$((n+1)); sleep 0.1; done; echo $n > "$3"`,
              'sh',
              stop,
              flood,
              count,
            ],
            { stdio: 'ignore' },
          );
          const ended = new Promise((r) => producer.on('exit', r));
          try {
            stepReady(steps, 'flood');
            await stepDone(steps, 'flood');
          } finally {
            writeFileSync(stop, '');
            await ended;
          }
          const execs = Number(readFileSync(count, 'utf8').trim());
          const failed = (await dropsOf()) - drops0;
          // unsubscribes (the agent drains the ring first) and leaves the panel with its final counts
          await host.detach('stream stopped by the test');
          host.panel.reveal();
          stepReady(steps, 'flood-counts', { execs, written: execs * BURST - failed, failed });
          await stepDone(steps, 'flood-counts');
          await host.dispose();
        },
      },
      {
        name: 'hostile text: a U+202E in a map key and text after a NUL, in the map panel and the hover',
        timeoutMs: 120_000,
        fn: async () => {
          // loaded from the workspace, so that the hover over the map's name in that file shows its live entries
          const dir = join(ws, 'hostile');
          mkdirSync(dir, { recursive: true });
          const src = join(dir, 'hostile.bpf.c');
          cpSync(join(root, 'test', 'fixtures', 'agent', 'hostile.bpf.c'), src);
          const out = await session.load(src, { attach: true });
          assert.ok(out.loaded, `the hostile fixture did not load: ${out.error}`);
          handles.push(out.loaded.handle);
          const map = (name: string) => out.loaded!.maps.find((m) => m.name === name)!;
          const comm = 'h\u202eostile';
          await session.target.client.request('map_update', {
            map_id: map('hostile_config').id,
            key: 0,
            value: { comm },
          });
          await execAs(steps, comm);
          await openMapPanel(ctx, state, map('hostile').id);
          stepReady(steps, 'hostile', { source: 'hostile/hostile.bpf.c' });
          await stepDone(steps, 'hostile');
        },
      },
      {
        name: 'map panel: the log2 latency histogram of the uprobe template on libc close(), as bars',
        timeoutMs: 120_000,
        fn: async () => {
          const out = await session.load(template('uprobe'));
          assert.ok(out.loaded, `the uprobe template did not load: ${out.error}`);
          handles.push(out.loaded.handle);
          const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
          const libc = [`/lib/${arch}-linux-gnu/libc.so.6`, '/lib64/libc.so.6', '/usr/lib/libc.so.6'].find((p) =>
            existsSync(p),
          );
          assert.ok(libc, 'no libc.so.6 found');
          for (const program of ['func_entry', 'func_exit'])
            await session.target.client.request('attach', {
              handle: out.loaded.handle,
              program,
              target: `${libc}:close`,
            });
          // cat closes its input through libc's close()
          for (let i = 0; i < 20; i++)
            await new Promise((r) => spawn('cat', ['/etc/hostname'], { stdio: 'ignore' }).on('exit', r));
          const hist = out.loaded.maps.find((m) => m.name === 'hist')!;
          await openMapPanel(ctx, state, hist.id);
          stepReady(steps, 'histogram');
          await stepDone(steps, 'histogram');
        },
      },
      {
        name: 'stats panel: run counts of everything loaded',
        timeoutMs: 120_000,
        fn: async () => {
          // program names past the kernel's 15 characters: the panel shows them whole (from BTF)
          const named = await session.load(join(root, 'test', 'fixtures', 'agent', 'names.bpf.c'), { attach: true });
          assert.ok(named.loaded, `the names fixture did not load: ${named.error}`);
          handles.push(named.loaded.handle);
          await openStatsPanel(ctx);
          stepReady(steps, 'stats');
          let stop = false;
          const pump = (async () => {
            for (let i = 0; !stop; i++) await execAs(steps, `bpfide_st${i % 3}`);
          })();
          await stepDone(steps, 'stats').finally(() => (stop = true));
          await pump;
        },
      },
    ]);
  } finally {
    await Promise.all(PanelHost.all().map((p) => p.dispose()));
    for (const h of handles) await session.unload(h).catch(() => undefined);
  }
}
