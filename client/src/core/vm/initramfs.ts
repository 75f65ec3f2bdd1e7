/**
 * The guest's initramfs, built on the fly and cached (per agent binary, busybox, init script and
 * module set): busybox-static, the static bpf-agent, the boot modules, and an init that mounts
 * proc, sys, devtmpfs, bpffs, tracefs, debugfs and securityfs, loads the modules, finds the
 * virtio-serial port named AGENT_PORT_NAME and runs the agent on it; when the agent exits (the
 * host closed the port) the guest powers off, so qemu exits.
 *
 * No `vscode` import.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeCpio, type CpioEntry } from './cpio-writer';
import { cacheRoot } from './kernel-cache';
import { InitramfsError } from './vm-errors';

/** The name of the virtio-serial port the agent speaks on (host: virtserialport name=...). */
export const AGENT_PORT_NAME = 'org.bpf-ide.agent';

/** Where busybox-static installs its binary. */
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];

/** Lines the init writes on the console: the host reads them to tell boot stages apart. */
export const INIT_MARK = 'bpf-ide-init:';

const INIT_SCRIPT = `#!/bin/busybox sh
# bpf-ide guest init: mount, load modules, run bpf-agent on the virtio-serial port, power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
for m in $(cat /etc/bpf-ide-modules); do
  case $m in
    *.xz) unxz -c /lib/modules/$m > /tmp/m.ko && insmod /tmp/m.ko; rm -f /tmp/m.ko ;;
    *) insmod /lib/modules/$m ;;
  esac || echo "${INIT_MARK} insmod $m failed"
done
port=
i=0
while [ $i -lt 200 ]; do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat $p/name 2>/dev/null)" = "${AGENT_PORT_NAME}" ] && [ -e /dev/\${p##*/} ] && port=/dev/\${p##*/}
  done
  [ -n "$port" ] && break
  i=$((i+1))
  sleep 0.05
done
if [ -z "$port" ]; then
  echo "${INIT_MARK} no virtio-serial port named ${AGENT_PORT_NAME} (virtio_console missing?)"
  poweroff -f
fi
echo "${INIT_MARK} starting the agent on $port"
/bin/bpf-agent --allow-exec <>"$port" >&0 2>/dev/console
echo "${INIT_MARK} the agent exited ($?)"
poweroff -f
`;

export function busyboxPath(): string | undefined {
  return BUSYBOX_CANDIDATES.find((p) => existsSync(p));
}

/**
 * The initramfs for this agent and these modules: built once, then served from
 * ~/.cache/bpf-ide/initramfs/<hash>.cpio. Returns its path.
 */
export function ensureInitramfs(agentPath: string, modules: string[]): string {
  const busybox = busyboxPath();
  if (!busybox) {
    throw new InitramfsError(
      'busybox was not found (/bin/busybox): VM guests run on a busybox-static initramfs. Install it: apt-get install busybox-static (or bash scripts/setup.sh).',
      'vm',
    );
  }
  const agent = readFileSync(agentPath);
  const bb = readFileSync(busybox);
  const mods = modules.map((m) => ({ name: basename(m), data: readFileSync(m) }));
  const h = createHash('sha256').update(INIT_SCRIPT).update(agent).update(bb);
  for (const m of mods) h.update(m.name).update(m.data);
  const key = h.digest('hex').slice(0, 16);
  const dir = join(cacheRoot(), 'initramfs');
  const path = join(dir, `${key}.cpio`);
  if (existsSync(path)) return path;
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'etc', 'lib', 'lib/modules', 'proc', 'root', 'run', 'sys', 'tmp'].map((p): CpioEntry => ({
      type: 'dir',
      path: p,
    })),
    // the kernel opens /dev/console for init before devtmpfs is mounted
    { type: 'char', path: 'dev/console', major: 5, minor: 1 },
    { type: 'file', path: 'init', data: Buffer.from(INIT_SCRIPT), mode: 0o755 },
    { type: 'file', path: 'bin/busybox', data: bb, mode: 0o755 },
    { type: 'file', path: 'bin/bpf-agent', data: agent, mode: 0o755 },
    { type: 'file', path: 'etc/bpf-ide-modules', data: Buffer.from(mods.map((m) => m.name).join('\n') + '\n') },
    ...mods.map((m): CpioEntry => ({ type: 'file', path: `lib/modules/${m.name}`, data: m.data })),
  ];
  mkdirSync(dir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, writeCpio(entries));
  renameSync(tmp, path);
  pruneOld(dir, path);
  return path;
}

/** Keeps the 8 newest initramfs images (one per agent build and kernel module set). */
function pruneOld(dir: string, keep: string): void {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpio'))
    .map((f) => ({ p: join(dir, f), t: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const f of files.slice(8)) if (f.p !== keep) rmSync(f.p, { force: true });
}
