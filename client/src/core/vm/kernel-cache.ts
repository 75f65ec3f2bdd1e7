/**
 * The kernels VM targets boot: the ones bpf-ide knows by name (Debian 12's 6.1 and 6.12 cloud
 * kernels), and a cache of unpacked kernel packages in ~/.cache/bpf-ide/kernels/<release>/
 * (vmlinuz, config, modules.builtin, the few modules the boot needs, kernel.json). Packages
 * come from apt (`apt-get download`, unpacked with `dpkg-deb -x`): never installed as the host's
 * kernel.
 *
 * No `vscode` import.
 */
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readBzImage } from './bzimage';
import { KernelFetchError, UnknownKernelError } from './vm-errors';

/** A kernel bpf-ide can fetch by a short name. */
export interface KnownKernel {
  name: string;
  /** apt package names, as a regular expression; the newest match is fetched. */
  packagePattern: RegExp;
  /** What the user reads: where it comes from. */
  source: string;
  /** Release directories in the cache that belong to this name. */
  releasePattern: RegExp;
}

export const KNOWN_KERNELS: KnownKernel[] = [
  {
    name: '6.1',
    packagePattern: /^linux-image-6\.1\.0-\d+-cloud-amd64$/,
    source: 'Debian 12 package linux-image-6.1.0-*-cloud-amd64',
    releasePattern: /^6\.1\.0-\d+-cloud-amd64$/,
  },
  {
    name: '6.12',
    packagePattern: /^linux-image-6\.12\.\d+\+deb12-cloud-amd64$/,
    source: 'Debian 12 package linux-image-6.12.*+deb12-cloud-amd64',
    releasePattern: /^6\.12\.\d+\+deb12-cloud-amd64$/,
  },
];

/** Modules a guest needs for its console and the agent's virtio-serial port, when not built in. */
export const BOOT_MODULES = ['virtio_pci', 'virtio_console'];

/** What the cache holds for one kernel (its kernel.json). */
export interface CachedKernel {
  release: string;
  /** The short name it was fetched as (`6.1`), or the package name. */
  name: string;
  package?: string;
  version?: string;
  source: string;
  fetchedAt: string;
  dir: string;
  vmlinuz: string;
  /** Module files to insmod at boot, in order (dependencies first). */
  modules: string[];
}

/** A kernel ready to boot: the image, its release, and the modules its boot needs. */
export interface BootKernel {
  release: string;
  vmlinuz: string;
  modules: string[];
  /** `6.1`, a release, or the path given. */
  label: string;
}

/** ~/.cache/bpf-ide (or $XDG_CACHE_HOME/bpf-ide, or $BPF_IDE_CACHE_DIR). */
export function cacheRoot(): string {
  if (process.env.BPF_IDE_CACHE_DIR) return process.env.BPF_IDE_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'bpf-ide');
}

export function kernelsDir(): string {
  return join(cacheRoot(), 'kernels');
}

/** Compares dotted/dashed version strings numerically (6.1.0-57 > 6.1.0-9). */
export function compareVersions(a: string, b: string): number {
  const pa = a
    .split(/[^0-9]+/)
    .filter(Boolean)
    .map(Number);
  const pb = b
    .split(/[^0-9]+/)
    .filter(Boolean)
    .map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/** Every kernel in the cache. */
export function cachedKernels(): CachedKernel[] {
  const dir = kernelsDir();
  if (!existsSync(dir)) return [];
  const out: CachedKernel[] = [];
  for (const name of readdirSync(dir)) {
    const meta = join(dir, name, 'kernel.json');
    if (!existsSync(meta)) continue; // a fetch in progress or a broken one
    try {
      const k = JSON.parse(readFileSync(meta, 'utf8')) as Omit<CachedKernel, 'dir' | 'vmlinuz' | 'modules'> & {
        modules: string[];
      };
      out.push({
        ...k,
        dir: join(dir, name),
        vmlinuz: join(dir, name, 'vmlinuz'),
        modules: k.modules.map((m) => join(dir, name, 'modules', m)),
      });
    } catch {
      // an unreadable kernel.json: not a usable cache entry
    }
  }
  return out.sort((a, b) => compareVersions(a.release, b.release));
}

/** The newest cached kernel for a short name (`6.1`) or an exact release. */
export function findCached(name: string): CachedKernel | undefined {
  const known = KNOWN_KERNELS.find((k) => k.name === name);
  const all = cachedKernels();
  const hits = known
    ? all.filter((k) => known.releasePattern.test(k.release))
    : all.filter((k) => k.release === name || k.package === name || k.name === name);
  return hits[hits.length - 1];
}

/** True for `vm:` kernels given as a file (a path), not a name. */
export function isKernelPath(kernel: string): boolean {
  return kernel.startsWith('/') || kernel.startsWith('./') || kernel.startsWith('../') || kernel.startsWith('~/');
}

/**
 * The kernel to boot for the part after `vm:`: a path to a vmlinuz (its modules, if a
 * lib/modules/<release> tree sits next to it, are used), or a name resolved in the cache.
 * Returns undefined for a name that is not cached yet (fetchKernel() gets it).
 */
export function resolveBootKernel(kernel: string): BootKernel | undefined {
  if (isKernelPath(kernel)) {
    const path = kernel.startsWith('~/') ? join(homedir(), kernel.slice(2)) : kernel;
    const info = readBzImage(path);
    return { release: info.release, vmlinuz: path, modules: modulesNextTo(path, info.release), label: kernel };
  }
  const c = findCached(kernel);
  return c ? { release: c.release, vmlinuz: c.vmlinuz, modules: c.modules, label: kernel } : undefined;
}

/** For a vmlinuz in an unpacked package (boot/vmlinuz-R next to lib/modules/R): the boot modules. */
function modulesNextTo(vmlinuz: string, release: string): string[] {
  for (const root of [join(dirname(vmlinuz), '..'), dirname(vmlinuz)]) {
    const mdir = join(root, 'lib', 'modules', release);
    if (existsSync(mdir)) return bootModules(mdir).map((m) => m.path);
  }
  return [];
}

/** A module file: its name and the modules it depends on (from its .modinfo `depends=`). */
function moduleInfo(path: string): string[] {
  const data = readFileSync(path);
  const at = data.indexOf('depends=');
  if (at < 0) return [];
  const end = data.indexOf(0, at);
  return data
    .toString('latin1', at + 8, end)
    .split(',')
    .filter(Boolean);
}

/**
 * The modules (with their dependencies, dependencies first) that BOOT_MODULES need in a
 * lib/modules/<release> tree, skipping those built in (modules.builtin).
 */
export function bootModules(modulesDir: string): { name: string; path: string }[] {
  const builtin = new Set(
    existsSync(join(modulesDir, 'modules.builtin'))
      ? readFileSync(join(modulesDir, 'modules.builtin'), 'utf8')
          .split('\n')
          .map((l) =>
            basename(l)
              .replace(/\.ko.*$/, '')
              .replace(/-/g, '_'),
          )
      : [],
  );
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/\.ko(\.xz|\.zst|\.gz)?$/.test(e.name))
        files.set(e.name.replace(/\.ko.*$/, '').replace(/-/g, '_'), join(d, e.name));
    }
  };
  if (existsSync(join(modulesDir, 'kernel'))) walk(join(modulesDir, 'kernel'));
  const order: { name: string; path: string }[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    const n = name.replace(/-/g, '_');
    if (seen.has(n) || builtin.has(n)) return;
    seen.add(n);
    const path = files.get(n);
    if (!path) return; // neither built in nor a module: the kernel may not need it
    // compressed modules carry their depends= compressed: the guest loads them in name order then
    if (/\.ko$/.test(path)) for (const d of moduleInfo(path)) visit(d);
    order.push({ name: n, path });
  };
  for (const m of BOOT_MODULES) visit(m);
  return order;
}

/** Runs a command, resolving with stdout; rejects with its stderr in the message. */
function run(cmd: string, args: string[], opts: { cwd?: string; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { cwd: opts.cwd, timeout: opts.timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean };
          const detail =
            e.code === 'ENOENT'
              ? `${cmd} is not installed`
              : e.killed
                ? `timed out after ${opts.timeoutMs} ms`
                : stderr.trim() || e.message;
          reject(Object.assign(new Error(detail), { cause: err, stderr }));
        } else resolve(stdout);
      },
    );
  });
}

/** The exact apt package for a name: `6.1` -> the newest linux-image-6.1.0-N-cloud-amd64 apt knows. */
export async function resolvePackage(name: string): Promise<{ package: string; known?: KnownKernel }> {
  const known = KNOWN_KERNELS.find((k) => k.name === name);
  if (!known) {
    if (!/^linux-image-[a-z0-9.+~-]+$/i.test(name)) throw new UnknownKernelError(name);
    return { package: name };
  }
  let out: string;
  try {
    out = await run('apt-cache', ['search', '--names-only', '^linux-image-'], { timeoutMs: 60_000 });
  } catch (err) {
    throw new KernelFetchError(
      name,
      `could not list kernel packages with apt-cache: ${(err as Error).message}. bpf-ide fetches kernels with apt (Debian/Ubuntu).`,
      { cause: err },
    );
  }
  const names = out
    .split('\n')
    .map((l) => l.split(' - ')[0].trim())
    .filter((p) => known.packagePattern.test(p))
    .sort(compareVersions);
  if (!names.length) {
    throw new KernelFetchError(
      name,
      `apt knows no package matching ${known.packagePattern.source} for kernel ${name}. Run apt-get update (Debian 12 bookworm has them in main), or give a package name: bpf-ide kernels fetch linux-image-...`,
    );
  }
  return { package: names[names.length - 1], known };
}

/**
 * Downloads and unpacks a kernel package into the cache (kernels/<release>/) and returns it.
 * Already cached: returned as it is. `log` gets progress lines.
 */
export async function fetchKernel(name: string, log: (line: string) => void = () => undefined): Promise<CachedKernel> {
  const cached = findCached(name);
  if (cached) return cached;
  const { package: pkg, known } = await resolvePackage(name);
  const tmp = mkdtempSync(join(tmpdir(), 'bpf-ide-kernel-'));
  try {
    log(`downloading ${pkg} with apt-get download`);
    try {
      await run('apt-get', ['download', pkg], { cwd: tmp, timeoutMs: 600_000 });
    } catch (err) {
      const text = (err as Error).message;
      const unknown =
        /Unable to locate package|Couldn't find any package|has no installation candidate|No packages found/i.test(
          text,
        );
      throw new KernelFetchError(
        name,
        unknown
          ? `apt does not know the package ${pkg}. Check the name (apt-cache search linux-image), or run apt-get update.`
          : `apt-get download ${pkg} failed: ${text.split('\n').slice(-3).join(' ')}`,
        { cause: err },
      );
    }
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!deb) throw new KernelFetchError(name, `apt-get download ${pkg} produced no .deb file`);
    log(`unpacking ${deb} with dpkg-deb -x`);
    const root = join(tmp, 'root');
    await run('dpkg-deb', ['-x', join(tmp, deb), root], { timeoutMs: 300_000 }).catch((err: Error) => {
      throw new KernelFetchError(name, `dpkg-deb -x ${deb} failed: ${err.message}`, { cause: err });
    });
    const boot = join(root, 'boot');
    const image = existsSync(boot) ? readdirSync(boot).find((f) => /^vmlinu[xz]-/.test(f)) : undefined;
    if (!image) throw new KernelFetchError(name, `${pkg} holds no boot/vmlinuz-*: is it a kernel image package?`);
    const info = readBzImage(join(boot, image));
    const release = info.release;
    const mdir = join(root, 'lib', 'modules', release);
    const mods = existsSync(mdir) ? bootModules(mdir) : [];
    // stage in a sibling folder, then rename: a crash mid-way leaves no half kernel in the cache
    const dest = join(kernelsDir(), release);
    const stage = `${dest}.tmp-${process.pid}`;
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(join(stage, 'modules'), { recursive: true });
    copyFileSync(join(boot, image), join(stage, 'vmlinuz'));
    const config = readdirSync(boot).find((f) => f.startsWith('config-'));
    if (config) copyFileSync(join(boot, config), join(stage, 'config'));
    if (existsSync(join(mdir, 'modules.builtin')))
      copyFileSync(join(mdir, 'modules.builtin'), join(stage, 'modules.builtin'));
    for (const m of mods) copyFileSync(m.path, join(stage, 'modules', basename(m.path)));
    const version = deb.split('_')[1];
    const meta = {
      release,
      name: known?.name ?? pkg,
      package: pkg,
      version,
      source: known?.source ?? `apt package ${pkg}`,
      fetchedAt: new Date().toISOString(),
      modules: mods.map((m) => basename(m.path)),
    };
    writeFileSync(join(stage, 'kernel.json'), JSON.stringify(meta, null, 2) + '\n');
    rmSync(dest, { recursive: true, force: true });
    renameSync(stage, dest);
    log(
      `kernel ${release} cached in ${dest}${mods.length ? ` (boot modules: ${mods.map((m) => m.name).join(', ')})` : ''}`,
    );
    return findCached(release)!;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The `vm:` rows of the target picker: the known kernels (cached or not), then other cached ones. */
export function vmTargetRows(): { spec: string; description: string }[] {
  const rows = KNOWN_KERNELS.map((k) => {
    const c = findCached(k.name);
    return {
      spec: `vm:${k.name}`,
      description: `Linux ${k.name} in a VM (qemu), ${c ? `cached: ${c.release}` : 'fetched on first use'}`,
    };
  });
  const known = new Set(KNOWN_KERNELS.map((k) => findCached(k.name)?.release));
  for (const c of cachedKernels())
    if (!known.has(c.release))
      rows.push({ spec: `vm:${c.release}`, description: `Linux ${c.release} in a VM (qemu), cached` });
  return rows;
}
