/**
 * The `vm` target: a real Linux kernel (Debian's 6.1 or 6.12, or any x86_64 bzImage) booted in
 * qemu, with bpf-agent speaking its usual JSON lines over a virtio-serial port (a unix socket on
 * this side): no SSH, no shared folder; objects travel in the `load` request. The guest lives while
 * the target is connected; disconnect() closes the port (the agent releases everything and the
 * guest powers off), then kills qemu and removes its temp dir. A panic, an oops or a hang is
 * reported as such, with the tail of the serial console; every wait is bounded.
 *
 * No `vscode` import.
 */
import type { Socket } from 'node:net';
import { AgentClient, type AgentClientOptions } from '../agent/agent-client';
import { ensureInitramfs } from '../vm/initramfs';
import { fetchKernel, isKernelPath, resolveBootKernel, type BootKernel } from '../vm/kernel-cache';
import { QemuVm, findQemu } from '../vm/qemu-vm';
import { GuestFailureError, QemuMissingError } from '../vm/vm-errors';
import { BaseTarget, type ReconnectPolicy } from './target';

export interface VmTargetOptions extends AgentClientOptions {
  /** What follows `vm:`: `6.1`, `6.12`, a cached release, or a path to a vmlinuz. */
  kernel: string;
  /** The static bpf-agent binary that goes into the initramfs. */
  agentPath: string;
  /** Time from qemu's start to the agent's hello (ms). Default 90000 (TCG on a busy machine). */
  bootTimeoutMs?: number;
  memoryMb?: number;
  accel?: 'auto' | 'kvm' | 'tcg';
  /** Extra kernel command-line words. */
  extraKernelArgs?: string[];
  /** An initramfs to boot instead of bpf-ide's (tests of a broken one). */
  initrd?: string;
  /** Fetch a known kernel (6.1, 6.12) that is not cached yet. Default true. */
  fetch?: boolean;
  /** Reboot after the guest went down (default: no). */
  reconnect?: ReconnectPolicy | false;
}

/** Boot statistics of the last connect, for benchmarks and logs. */
export interface VmBootStats {
  release: string;
  accel: 'kvm' | 'tcg';
  /** qemu start to the agent's hello. */
  bootMs: number;
  qemuPid: number | undefined;
  socketDir: string;
}

export class VmTarget extends BaseTarget {
  readonly kind = 'vm' as const;
  private vm: QemuVm | undefined;
  private socket: Socket | undefined;
  /** Set when the guest went down by itself (panic, oops, agent death). */
  private failure: GuestFailureError | undefined;
  private release = '';
  lastBoot: VmBootStats | undefined;

  constructor(private readonly options: VmTargetOptions) {
    super(options.reconnect ?? false);
  }

  describe(): string {
    return `vm:${this.options.kernel}`;
  }

  /** The guest's qemu process (while it runs). */
  get qemuPid(): number | undefined {
    return this.vm?.running ? this.vm.pid : undefined;
  }

  /** Why the guest went down by itself, if it did (a panic, an oops, the agent died). */
  get guestFailure(): GuestFailureError | undefined {
    return this.failure;
  }

  private async kernel(): Promise<BootKernel> {
    const k = resolveBootKernel(this.options.kernel);
    if (k) return k;
    if (isKernelPath(this.options.kernel) || this.options.fetch === false) {
      throw new GuestFailureError(
        `kernel ${this.options.kernel} is not in the cache: run \`bpf-ide kernels fetch ${this.options.kernel}\``,
        this.describe(),
        '',
        'exit',
      );
    }
    this.setState('deploying', `fetching kernel ${this.options.kernel}`);
    const c = await fetchKernel(this.options.kernel, (l) => this.log(l));
    return { release: c.release, vmlinuz: c.vmlinuz, modules: c.modules, label: this.options.kernel };
  }

  protected async open(): Promise<AgentClient> {
    if (!findQemu()) throw new QemuMissingError(this.describe());
    this.failure = undefined;
    const k = await this.kernel();
    this.release = k.release;
    const initrd = this.options.initrd ?? ensureInitramfs(this.options.agentPath, k.modules);
    this.setState('deploying', `booting ${k.release}`);
    const vm = new QemuVm({
      vmlinuz: k.vmlinuz,
      initrd,
      spec: this.describe(),
      memoryMb: this.options.memoryMb,
      accel: this.options.accel,
      extraKernelArgs: this.options.extraKernelArgs,
      log: (l) => this.log(l),
    });
    this.vm = vm;
    const bootTimeoutMs = this.options.bootTimeoutMs ?? 90_000;
    const deadline = vm.startedAt + bootTimeoutMs;
    let client: AgentClient | undefined;
    try {
      const socket = await vm.connectAgent(10_000);
      this.socket = socket;
      client = new AgentClient(
        { input: socket, output: socket },
        { requestTimeoutMs: this.options.requestTimeoutMs, helloTimeoutMs: Math.max(1000, deadline - Date.now()) },
      );
      // a guest that goes down before its hello: say why (panic, bad initramfs), not "no hello"
      const down = vm.exited.then(() => {
        throw this.guestDown(k.release, 'before the agent started');
      });
      down.catch(() => undefined);
      const hello = await Promise.race([client.hello, down]);
      this.lastBoot = {
        release: hello.kernel.release,
        accel: vm.accelUsed,
        bootMs: Date.now() - vm.startedAt,
        qemuPid: vm.pid,
        socketDir: vm.dir,
      };
      this.log(`guest ${hello.kernel.release} up in ${this.lastBoot.bootMs} ms (${this.lastBoot.accel})`);
      // the guest going down while connected: keep the reason for lostError()
      void vm.exited.then(() => {
        if (this.vm === vm) this.failure = this.guestDown(k.release, 'while connected');
      });
      return client;
    } catch (err) {
      client?.endInput();
      let e = err as Error;
      if (e instanceof GuestFailureError) throw e;
      if (e.name === 'AgentTimeoutError') {
        e = new GuestFailureError(
          `the ${k.release} guest did not start its agent within ${Math.round(bootTimeoutMs / 1000)} s (a hang in the kernel or the init)`,
          this.describe(),
          vm.consoleTail(),
          'timeout',
          { cause: err },
        );
      } else {
        // the port closes as qemu goes down: give its exit (and the console's last words) a moment
        await Promise.race([vm.exited, new Promise((r) => setTimeout(r, 2000))]);
        if (!vm.running) e = this.guestDown(k.release, 'before the agent started', err);
      }
      throw e;
    }
  }

  /** The error for a guest that stopped: a panic/oops when the console says so, else an exit. */
  private guestDown(release: string, when: string, cause?: unknown): GuestFailureError {
    const vm = this.vm!;
    const crash = vm.crash();
    if (crash) {
      return new GuestFailureError(
        `the ${release} guest kernel crashed ${when}: ${crash}`,
        this.describe(),
        vm.consoleTail(),
        'panic',
        { cause },
      );
    }
    return new GuestFailureError(
      `the ${release} guest stopped ${when} without a kernel panic on its console (see its last lines)`,
      this.describe(),
      vm.consoleTail(),
      'exit',
      { cause },
    );
  }

  protected async close(): Promise<void> {
    const vm = this.vm;
    this.socket?.destroy();
    this.socket = undefined;
    if (!vm) return;
    // the port closed: the guest's agent saw EOF and released everything; nothing in the guest
    // outlives it, so qemu may go at once
    await vm.stop();
    if (this.vm === vm) this.vm = undefined;
  }

  protected async lostError(): Promise<Error> {
    const vm = this.vm;
    if (vm) {
      // qemu exits right after the port closes when the guest crashed: give it a moment
      await Promise.race([vm.exited, new Promise((r) => setTimeout(r, 2000))]);
      if (!vm.running) return this.failure ?? this.guestDown(this.release, 'while connected');
    }
    return new GuestFailureError(
      `the agent in ${this.describe()} closed its port`,
      this.describe(),
      vm?.consoleTail() ?? '',
      'exit',
    );
  }
}
