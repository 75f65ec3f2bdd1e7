/**
 * `bpf-ide kernels [--json]`: the kernels VM targets can boot (6.1 and 6.12 by name, whatever the
 * cache holds), where each comes from and whether it is cached, plus this machine's kernel and
 * whether qemu (and KVM) is there.
 * `bpf-ide kernels fetch NAME`: downloads and unpacks one (6.1, 6.12, or a linux-image-* package).
 * Exit: 0 ok, 1 a fetch failed, 2 bad usage.
 */
import { release as osRelease } from 'node:os';
import { cachedKernels, fetchKernel, KNOWN_KERNELS, findCached } from '../vm/kernel-cache';
import { busyboxPath } from '../vm/initramfs';
import { findQemu, kvmUsable, qemuVersion } from '../vm/qemu-vm';

export const KERNELS_USAGE = `usage: bpf-ide kernels [--json]        list the kernels (vm:NAME targets) and whether each is cached
       bpf-ide kernels fetch NAME      download and unpack one: 6.1, 6.12, or a linux-image-* apt package
  Kernels are cached in ~/.cache/bpf-ide/kernels/<release>/ (never installed as this machine's kernel).`;

export interface KernelRow {
  /** The target spec: `local`, `vm:6.1`, `vm:<release>`. */
  target: string;
  name: string;
  source: string;
  cached: boolean;
  release?: string;
  dir?: string;
  package?: string;
}

export interface KernelsReport {
  kernels: KernelRow[];
  qemu: { path?: string; version?: string; accel: 'kvm' | 'tcg' };
  busybox?: string;
}

export function kernelsReport(): KernelsReport {
  const rows: KernelRow[] = [
    { target: 'local', name: 'local', source: 'this machine', cached: true, release: osRelease() },
  ];
  const shown = new Set<string>();
  for (const k of KNOWN_KERNELS) {
    const c = findCached(k.name);
    if (c) shown.add(c.release);
    rows.push({
      target: `vm:${k.name}`,
      name: k.name,
      source: k.source,
      cached: !!c,
      ...(c ? { release: c.release, dir: c.dir, package: c.package } : {}),
    });
  }
  for (const c of cachedKernels()) {
    if (shown.has(c.release)) continue;
    rows.push({
      target: `vm:${c.release}`,
      name: c.release,
      source: c.source,
      cached: true,
      release: c.release,
      dir: c.dir,
      package: c.package,
    });
  }
  const q = findQemu();
  return {
    kernels: rows,
    qemu: { ...(q ? { path: q, version: qemuVersion() } : {}), accel: kvmUsable() ? 'kvm' : 'tcg' },
    busybox: busyboxPath(),
  };
}

export async function runKernelsCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(KERNELS_USAGE + '\n');
    return 0;
  }
  if (argv[0] === 'fetch') {
    const names = argv.slice(1).filter((a) => !a.startsWith('-'));
    if (!names.length) {
      process.stderr.write(`bpf-ide kernels fetch: give a kernel name\n${KERNELS_USAGE}\n`);
      return 2;
    }
    let code = 0;
    for (const n of names) {
      try {
        const k = await fetchKernel(n, (l) => process.stderr.write(l + '\n'));
        process.stdout.write(`${n}: ${k.release} in ${k.dir}\n`);
      } catch (e) {
        process.stderr.write(`bpf-ide kernels fetch: ${(e as Error).message}\n`);
        code = 1;
      }
    }
    return code;
  }
  const unknown = argv.find((a) => a !== '--json');
  if (unknown) {
    process.stderr.write(`bpf-ide kernels: unknown argument ${unknown}\n${KERNELS_USAGE}\n`);
    return 2;
  }
  const r = kernelsReport();
  if (argv.includes('--json')) {
    process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    return 0;
  }
  for (const k of r.kernels) {
    process.stdout.write(
      `${k.target.padEnd(34)} ${(k.release ?? '-').padEnd(30)} ${k.cached ? 'cached    ' : 'not cached'}  ${k.source}\n`,
    );
  }
  process.stdout.write(
    `qemu: ${r.qemu.path ? `${r.qemu.version ?? r.qemu.path} (${r.qemu.accel === 'kvm' ? 'KVM' : 'TCG: no usable KVM'})` : 'not installed (apt-get install qemu-system-x86)'}; busybox: ${r.busybox ?? 'not installed (apt-get install busybox-static)'}\n`,
  );
  return 0;
}
