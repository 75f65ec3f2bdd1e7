/**
 * `bpf-ide build FILE [-o OUT] [-I DIR]... [-D NAME[=VALUE]]... [--clang PATH] [--json]`:
 * compile a BPF C file with clang -target bpf; compiler-style problems; exit 0 built, 1 errors, 2 usage.
 */
import { relative } from 'node:path';
import { type TargetArgs, targetOption } from '../run/run-command';
import { buildBpf, ClangNotFoundError } from './bpf-build';
import { targetVmlinuxDir } from './vmlinux-command';

export const BUILD_USAGE = `usage: bpf-ide build FILE [-o OUT] [-I DIR]... [-D NAME[=VALUE]]... [--clang PATH] [--json] [--target T]
  Compiles FILE with clang -O2 -g -target bpf (include paths also from compile_commands.json).
  Default output: .output/<name>.bpf.o next to FILE. When FILE includes vmlinux.h and none is on its
  include path, the --target's (default local) is used, from the cache (bpf-ide vmlinux).`;

export async function runBuildCommand(argv: string[]): Promise<number> {
  let file: string | undefined;
  let out: string | undefined;
  let clang: string | undefined;
  let json = false;
  const includeDirs: string[] = [];
  const defines: string[] = [];
  const target: TargetArgs = { target: 'local' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    try {
      if (targetOption(a, v, target)) continue;
      if (a === '-o') out = v();
      else if (a === '-I') includeDirs.push(v());
      else if (a.startsWith('-I')) includeDirs.push(a.slice(2));
      else if (a === '-D') defines.push(v());
      else if (a.startsWith('-D')) defines.push(a.slice(2));
      else if (a === '--clang') clang = v();
      else if (a === '--json') json = true;
      else if (a === '-h' || a === '--help') {
        process.stdout.write(BUILD_USAGE + '\n');
        return 0;
      } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
      else if (file) throw new Error('give one FILE');
      else file = a;
    } catch (e) {
      process.stderr.write(`bpf-ide build: ${(e as Error).message}\n${BUILD_USAGE}\n`);
      return 2;
    }
  }
  if (!file) {
    process.stderr.write(`bpf-ide build: no FILE given\n${BUILD_USAGE}\n`);
    return 2;
  }
  try {
    let vmlinuxDir: string | undefined;
    try {
      vmlinuxDir = await targetVmlinuxDir(file, includeDirs, target, (l) => process.stderr.write(`${l}\n`));
    } catch (e) {
      process.stderr.write(
        `bpf-ide build: ${file} includes vmlinux.h, none is on its include path, and the target's could not be had: ${(e as Error).message}\n`,
      );
      return 1;
    }
    const r = await buildBpf({
      file,
      out,
      includeDirs: vmlinuxDir ? [...includeDirs, vmlinuxDir] : includeDirs,
      defines,
      clang,
      pch: 'reuse',
    });
    if (json)
      process.stdout.write(
        JSON.stringify(
          { ok: r.ok, object: r.object, durationMs: Math.round(r.durationMs), problems: r.problems },
          null,
          2,
        ) + '\n',
      );
    else {
      for (const p of r.problems)
        process.stderr.write(
          `${p.file ? `${relative(process.cwd(), p.file) || p.file}:${p.line}:${p.column}: ` : ''}${p.severity}: ${p.message}\n`,
        );
      if (r.ok) process.stderr.write(`built ${relative(process.cwd(), r.object)} in ${r.durationMs.toFixed(0)} ms\n`);
    }
    return r.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof ClangNotFoundError) {
      process.stderr.write(`bpf-ide build: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
