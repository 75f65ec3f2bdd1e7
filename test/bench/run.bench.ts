/**
 * The loop users came for, next to the manual way, on a loopback SSH target (a real sshd with
 * throwaway keys): save -> built -> loaded and attached, with the connection open and the agent deployed,
 * against `clang` + `scp` + `ssh ... bpftool prog loadall` (which does not even attach).
 *   node --import tsx test/bench/run.bench.ts
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectTarget } from '../../client/src/core/run/connect';
import { LoadSession } from '../../client/src/core/run/load-session';
import { Sshd } from '../ssh/sshd-fixture';
import { ROOT } from '../support/lsp-session';

const N = Number(process.env.BENCH_RUNS ?? 10);
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (loads BPF programs, runs sshd)');
  const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-bench-run-'));
  const sshd = await Sshd.start();
  try {
    const t = join(ROOT, 'bpf-templates', 'tracepoint');
    for (const f of readdirSync(t)) if (/\.(c|h)$/.test(f)) copyFileSync(join(t, f), join(dir, f));
    writeFileSync(
      join(dir, 'vmlinux.h'),
      execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
        maxBuffer: 64 << 20,
      }),
    );
    const kh = join(dir, 'known_hosts');
    writeFileSync(kh, sshd.knownHostsLine());
    const src = join(dir, 'tracepoint.bpf.c');
    process.env.BPF_IDE_REMOTE_CACHE_DIR = join(dir, 'remote-cache');

    // Ours: connect once (deploys the agent), then each "save" is build + load + attach + release the old one.
    const t0 = performance.now();
    const target = await connectTarget(`ssh://root@127.0.0.1:${sshd.port}`, {
      identity: sshd.clientKey,
      knownHosts: kh,
    });
    const connectMs = performance.now() - t0;
    const session = new LoadSession(target);
    // Warm up as an editing session does: the first save also makes the precompiled vmlinux.h.
    for (let w = 0; w < 60; w++) {
      appendFileSync(src, `/* warm-up ${w} */\n`);
      const r = await session.load(src, { attach: true, replace: true, logLevel: 0 });
      if (r.build?.usedPch) break;
      await new Promise((res) => setTimeout(res, 500));
    }
    const ours: number[] = [];
    const builds: number[] = [];
    for (let i = 0; i < N; i++) {
      appendFileSync(src, `/* save ${i} */\n`);
      const s = performance.now();
      const r = await session.load(src, { attach: true, replace: true, logLevel: 0 });
      ours.push(performance.now() - s);
      builds.push(r.build?.durationMs ?? 0);
      if (process.env.BENCH_DEBUG)
        console.log(`# save ${i}: build ${r.build?.durationMs.toFixed(0)} ms, pch ${r.build?.usedPch}`);
      if (!r.loaded || r.error) throw new Error(`load failed: ${r.error}`);
    }
    await session.dispose();
    await target.dispose();

    // The manual way: clang, scp, ssh bpftool prog loadall (no attach); the pin is removed untimed.
    const ssh = [
      '-i',
      sshd.clientKey,
      '-o',
      `UserKnownHostsFile=${kh}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'IdentitiesOnly=yes',
    ];
    const remote = join(dir, 'remote');
    mkdirSync(remote);
    const manual: number[] = [];
    for (let i = 0; i < N; i++) {
      appendFileSync(src, `/* manual ${i} */\n`);
      const pin = `/sys/fs/bpf/bpf_ide_bench_${process.pid}_${i}`;
      const s = performance.now();
      execFileSync('clang', [
        '-O2',
        '-g',
        '-target',
        'bpf',
        '-D__TARGET_ARCH_x86',
        `-I${dir}`,
        '-I/usr/include/x86_64-linux-gnu',
        '-c',
        src,
        '-o',
        join(dir, 'manual.o'),
      ]);
      execFileSync('scp', [
        '-q',
        '-P',
        String(sshd.port),
        ...ssh,
        join(dir, 'manual.o'),
        `root@127.0.0.1:${remote}/manual.o`,
      ]);
      execFileSync('ssh', [
        '-p',
        String(sshd.port),
        ...ssh,
        'root@127.0.0.1',
        `bpftool prog loadall ${remote}/manual.o ${pin}`,
      ]);
      manual.push(performance.now() - s);
      spawnSync('rm', ['-rf', pin]);
    }
    const o = p50(ours);
    const m = p50(manual);
    console.log(
      `# ${N} saves each; first connect with agent upload ${connectMs.toFixed(0)} ms (not in the round trip); of ours, clang p50 ${p50(builds).toFixed(0)} ms`,
    );
    console.log(
      `BENCH run_roundtrip_ssh_p50 ours=${o.toFixed(0)}ms baseline=${m.toFixed(0)}ms ratio=${(m / o).toFixed(2)}`,
    );
  } finally {
    await sshd.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
