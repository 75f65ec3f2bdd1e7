/**
 * Errors of the VM targets: each says what failed, for which kernel, and what to do. The guest's
 * serial console tail travels with the errors where the guest itself is the cause (a panic, an
 * oops, a hang), so a user sees the kernel's own words.
 *
 * No `vscode` import.
 */
import { TargetError } from '../targets/target-errors';

/** Base class: carries the spec (`vm:6.1`). */
export class VmError extends TargetError {
  override name = 'VmError';
}

/** A file given as a kernel is not an x86 bzImage. */
export class NotAKernelError extends VmError {
  override name = 'NotAKernelError';
  constructor(
    readonly path: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${path} is not a Linux kernel image (${detail}). Give an x86_64 bzImage (a vmlinuz, e.g. /boot/vmlinuz-*), or a kernel name such as vm:6.1 or vm:6.12.`,
      `vm:${path}`,
      options,
    );
  }
}

/** A kernel name that is neither cached nor one bpf-ide knows how to fetch. */
export class UnknownKernelError extends VmError {
  override name = 'UnknownKernelError';
  constructor(readonly kernel: string) {
    super(
      `unknown kernel "${kernel}": bpf-ide knows 6.1 and 6.12 (Debian cloud kernels), the releases in its cache (bpf-ide kernels), a Debian/Ubuntu linux-image-* package name, or a path to a vmlinuz.`,
      `vm:${kernel}`,
    );
  }
}

/** apt could not give the kernel package (unknown name, no network, ...). */
export class KernelFetchError extends VmError {
  override name = 'KernelFetchError';
  constructor(
    readonly kernel: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, `vm:${kernel}`, options);
  }
}

/** qemu-system-x86_64 is not installed (or not on PATH). */
export class QemuMissingError extends VmError {
  override name = 'QemuMissingError';
  constructor(spec: string, options?: { cause?: unknown }) {
    super(
      `qemu-system-x86_64 was not found on PATH: VM targets boot kernels with it. Install it (apt-get install qemu-system-x86, or bash scripts/setup.sh).`,
      spec,
      options,
    );
  }
}

/** A tool the initramfs needs (busybox-static) is missing. */
export class InitramfsError extends VmError {
  override name = 'InitramfsError';
}

/** The guest went down: a kernel panic or oops, a failed boot, an agent that died, a hang. */
export class GuestFailureError extends VmError {
  override name = 'GuestFailureError';
  constructor(
    message: string,
    spec: string,
    /** The last lines of the guest's serial console. */
    readonly consoleTail: string,
    /** `panic` (the kernel panicked or oopsed), `timeout` (no agent in time), `exit` (qemu stopped). */
    readonly kind: 'panic' | 'timeout' | 'exit',
    options?: { cause?: unknown },
  ) {
    super(`${message}${consoleTail ? `\n--- guest console (last lines) ---\n${consoleTail}` : ''}`, spec, options);
  }
}
