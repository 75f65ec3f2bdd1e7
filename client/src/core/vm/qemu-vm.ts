/**
 * One qemu-system-x86_64 guest: boots a kernel with bpf-ide's initramfs, exposes the agent's
 * virtio-serial port as a unix socket in a private temp dir, keeps the tail of the serial
 * console, and tells a panic or an oops from a plain exit. stop() kills qemu and removes the temp
 * dir; a process-exit hook kills any guest still running, so nothing outlives this process.
 *
 * No `vscode` import.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { AGENT_PORT_NAME } from './initramfs';
import { QemuMissingError } from './vm-errors';

export interface QemuVmOptions {
  vmlinuz: string;
  initrd: string;
  /** Guest memory in MiB (at most 1024). Default 512. */
  memoryMb?: number;
  /** Extra kernel command line words (tests: `rdinit=/nonexistent` makes a guest panic). */
  extraKernelArgs?: string[];
  /** The spec, for messages (`vm:6.1`). */
  spec: string;
  /** `auto` (default): KVM when /dev/kvm is usable, TCG otherwise. */
  accel?: 'auto' | 'kvm' | 'tcg';
  log?: (line: string) => void;
}

const CONSOLE_TAIL = 16 * 1024;
/** Kernel command line: serial console, reboot (so qemu exits) on panic, oops = panic, BPF LSM on. */
export const KERNEL_ARGS = ['console=ttyS0', 'panic=-1', 'oops=panic', 'quiet', 'lsm=lockdown,capability,yama,bpf'];

/** Running guests and their temp dirs: the exit hook kills and removes what is left. */
const live = new Map<ChildProcess, string>();
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // the last chance: a guest must never outlive the process that started it
  process.on('exit', () => {
    for (const [c, dir] of live) {
      c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** qemu-system-x86_64's path on PATH, or undefined. */
export function findQemu(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'qemu-system-x86_64');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * True when /dev/kvm is read-write AND the CPU shows hardware virtualisation (vmx/svm). Measured
 * here: a /dev/kvm without vmx/svm in /proc/cpuinfo opens, and qemu -accel kvm then hangs in the
 * guest's real-mode setup without a word, so /dev/kvm alone is not proof.
 */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return /^flags\s*:.*\b(vmx|svm)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** What the console says about a crash: the panic or oops line, if any. */
const CRASH = /Kernel panic - not syncing|BUG: |Oops:|general protection fault|kernel BUG at|Unable to handle kernel/;

export function crashLine(consoleText: string): string | undefined {
  const lines = consoleText.split(/\r?\n/);
  const i = lines.findIndex((l) => CRASH.test(l));
  return i >= 0 ? lines[i].replace(/^\[[\s\d.]+\]\s*/, '').trim() : undefined;
}

export class QemuVm {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly socketPath: string;
  /** `kvm` or `tcg`: what qemu runs on (kvm may still fall back; see accelUsed). */
  readonly accel: 'kvm' | 'tcg';
  private console = '';
  private stderr = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private exitInfo: { code: number | null; signal: string | null } | undefined;
  readonly startedAt = Date.now();

  constructor(readonly options: QemuVmOptions) {
    const qemu = findQemu();
    if (!qemu) throw new QemuMissingError(options.spec);
    const mem = Math.min(options.memoryMb ?? 512, 1024);
    const want = options.accel ?? 'auto';
    this.accel = want === 'tcg' || (want === 'auto' && !kvmUsable()) ? 'tcg' : 'kvm';
    this.dir = mkdtempSync(join(tmpdir(), 'bpf-ide-vm-'));
    this.socketPath = join(this.dir, 'agent.sock');
    const args = [
      // KVM when it works, else TCG (qemu tries the accelerators in order)
      ...(this.accel === 'kvm' ? ['-accel', 'kvm', '-accel', 'tcg'] : ['-accel', 'tcg']),
      '-cpu',
      'max',
      '-m',
      `${mem}M`,
      '-smp',
      '1',
      '-nodefaults',
      '-display',
      'none',
      '-no-reboot',
      '-serial',
      'stdio',
      '-kernel',
      options.vmlinuz,
      '-initrd',
      options.initrd,
      '-append',
      [...KERNEL_ARGS, ...(options.extraKernelArgs ?? [])].join(' '),
      '-chardev',
      `socket,id=agent,path=${this.socketPath},server=on,wait=off`,
      '-device',
      'virtio-serial-pci',
      '-device',
      `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`,
    ];
    options.log?.(`qemu-system-x86_64 ${args.join(' ')}`);
    // stdin stays an open pipe that nobody writes: the serial console never sees EOF
    this.child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.set(this.child, this.dir);
    hookExit();
    this.child.stdout!.on('data', (d: Buffer) => {
      this.console = (this.console + d.toString('utf8')).slice(-CONSOLE_TAIL);
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-CONSOLE_TAIL);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.stderr += `\n${err.message}`;
      });
      this.child.on('close', (code, signal) => {
        live.delete(this.child);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The accelerator qemu really uses: `tcg` when it fell back from KVM. */
  get accelUsed(): 'kvm' | 'tcg' {
    return this.accel === 'kvm' && /failed to initialize kvm|Could not access KVM/i.test(this.stderr)
      ? 'tcg'
      : this.accel;
  }

  /**
   * The serial console's last lines (and qemu's own stderr, when it said something). After a crash: from
   * just before the panic/oops line on (its stack trace can be longer than the tail).
   */
  consoleTail(lines = 30): string {
    const all = this.console.split(/\r?\n/);
    const at = all.findIndex((l) => CRASH.test(l));
    const shown = at >= 0 ? all.slice(Math.max(0, at - 3), at + 40) : all.slice(-lines);
    const text = shown.join('\n').trimEnd();
    const err = this.stderr.trim() ? `\n[qemu] ${this.stderr.trim().split('\n').slice(-5).join('\n[qemu] ')}` : '';
    return (text + err).trim();
  }

  /** The panic/oops line on the console, if the guest crashed. */
  crash(): string | undefined {
    return crashLine(this.console);
  }

  /** Connects to the agent's port (qemu creates the socket right after it starts). */
  async connectAgent(timeoutMs: number): Promise<Socket> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.running) throw new Error('qemu exited before its agent socket appeared');
      if (existsSync(this.socketPath)) {
        try {
          return await new Promise<Socket>((resolve, reject) => {
            const s = connect(this.socketPath);
            s.once('connect', () => {
              s.off('error', reject);
              resolve(s);
            });
            s.once('error', reject);
          });
        } catch (err) {
          if (Date.now() > deadline) throw err;
        }
      }
      if (Date.now() > deadline) throw new Error(`qemu did not create ${this.socketPath} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Kills qemu (SIGTERM, then SIGKILL) and removes the temp dir; resolves once qemu is gone. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** qemu's version line, for `bpf-ide kernels`. */
export function qemuVersion(): string | undefined {
  const q = findQemu();
  if (!q) return undefined;
  const r = spawnSync(q, ['--version'], { encoding: 'utf8', timeout: 5000 });
  return r.stdout?.split('\n')[0]?.trim();
}
