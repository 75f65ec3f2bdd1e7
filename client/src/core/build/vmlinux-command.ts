/**
 * `bpf-ide vmlinux [--target T] [-o FILE]`: the target's vmlinux.h (from its kernel BTF, through the agent),
 * written to FILE (or stdout). And the step `build` and `run` take when a file includes vmlinux.h and none is
 * on its include path: the target's cached one is put on the include path, said once on stderr.
 */
import { writeFileSync } from 'node:fs';
import { connectTarget, type ConnectedTarget } from '../run/connect';
import { type TargetArgs, targetOption, UsageError } from '../run/run-command';
import { cachedVmlinux, dumpVmlinux, needsTargetVmlinux, vmlinuxBanner, vmlinuxNote } from './vmlinux-cache';

export const VMLINUX_USAGE = `usage: bpf-ide vmlinux [--target local|ssh://user@host[:port]] [--identity KEY] [--known-hosts FILE]
                      [--accept-new-host-key] [-o FILE]
  Writes the target's vmlinux.h (its kernel's BTF as C, as bpftool btf dump ... format c does) to FILE
  (default: stdout). build and run use a cached one by themselves when a file includes vmlinux.h and none
  is on its include path.`;

/**
 * When `file` includes vmlinux.h and none is on its include path: the target's, from the cache (generated
 * when missing). Returns the folder to add to the include path, or undefined when nothing is needed.
 * `target`: a connection to reuse (run has one); otherwise one is made to `o.target` and closed.
 */
export async function targetVmlinuxDir(
  file: string,
  includeDirs: string[],
  o: TargetArgs,
  log: (line: string) => void,
  target?: ConnectedTarget,
): Promise<string | undefined> {
  if (!needsTargetVmlinux(file, includeDirs)) return undefined;
  const t = target ?? (await connectTarget(o.target, o));
  try {
    const v = await cachedVmlinux(t.client, t.description);
    log(vmlinuxNote(v, t.description));
    return v.dir;
  } finally {
    if (!target) await t.dispose();
  }
}

export async function runVmlinuxCommand(argv: string[]): Promise<number> {
  const o: TargetArgs & { out?: string } = { target: 'local' };
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const v = () => {
        const x = argv[++i];
        if (x === undefined) throw new UsageError(`${a} needs a value`);
        return x;
      };
      if (a === '-h' || a === '--help') {
        process.stdout.write(VMLINUX_USAGE + '\n');
        return 0;
      }
      if (targetOption(a, v, o)) continue;
      if (a === '-o') o.out = v();
      else throw new UsageError(`unknown argument ${a}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bpf-ide vmlinux: ${e.message}\n${VMLINUX_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  let t: ConnectedTarget;
  try {
    t = await connectTarget(o.target, o);
  } catch (e) {
    process.stderr.write(`bpf-ide vmlinux: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const hello = await t.client.hello;
    const { text } = await dumpVmlinux(t.client);
    const body = vmlinuxBanner(hello.kernel.release, hello.kernel.machine, t.description) + text;
    if (o.out) {
      writeFileSync(o.out, body);
      process.stderr.write(`wrote ${o.out}: vmlinux.h of Linux ${hello.kernel.release} on ${t.description}\n`);
    } else process.stdout.write(body);
    return 0;
  } catch (e) {
    process.stderr.write(`bpf-ide vmlinux: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await t.dispose();
  }
}
