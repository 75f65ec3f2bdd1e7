/**
 * Reads an x86 bzImage's header (the Linux boot protocol, Documentation/arch/x86/boot.rst): proves
 * a file is a kernel before qemu is asked to boot it, and reads its release string without booting.
 *
 * No `vscode` import.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { NotAKernelError } from './vm-errors';

export interface BzImageInfo {
  /** `6.1.0-57-cloud-amd64` (the first word of the version string). */
  release: string;
  /** The whole version string: release, builder, date. */
  version: string;
  /** Boot protocol version, e.g. 0x020f. */
  protocol: number;
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const n = readSync(fd, b, 0, length, offset);
  return b.subarray(0, n);
}

/** The kernel's release and version from its bzImage header; NotAKernelError when it is not one. */
export function readBzImage(path: string): BzImageInfo {
  let fd: number;
  try {
    if (!statSync(path).isFile()) throw new NotAKernelError(path, 'not a regular file');
    fd = openSync(path, 'r');
  } catch (err) {
    if (err instanceof NotAKernelError) throw err;
    throw new NotAKernelError(
      path,
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message,
      {
        cause: err,
      },
    );
  }
  try {
    const hdr = readAt(fd, 0, 0x280);
    if (hdr.length < 0x280 || hdr.readUInt16LE(0x1fe) !== 0xaa55 || hdr.toString('latin1', 0x202, 0x206) !== 'HdrS') {
      throw new NotAKernelError(path, 'no bzImage boot header (HdrS)');
    }
    const protocol = hdr.readUInt16LE(0x206);
    const loadflags = hdr.readUInt8(0x211);
    if (protocol < 0x0200 || !(loadflags & 1)) throw new NotAKernelError(path, 'not a bzImage (an old zImage?)');
    // kernel_version: a pointer to a NUL-terminated string, relative to 0x200
    const ptr = hdr.readUInt16LE(0x20e);
    const version = readAt(fd, ptr + 0x200, 256)
      .toString('latin1')
      .split('\0')[0]
      .trim();
    const release = version.split(/\s+/)[0] ?? '';
    if (!/^\d+\.\d+/.test(release)) throw new NotAKernelError(path, 'no kernel version string in its header');
    return { release, version, protocol };
  } finally {
    closeSync(fd);
  }
}
