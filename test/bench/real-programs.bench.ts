/**
 * False errors on real public BPF programs (not part of this repository: their code cannot be committed).
 * With BPF_IDE_REAL_PROGRAMS=<dir> (e.g. a clone's iovisor/bcc/libbpf-tools), runs
 * scripts/measure-real-programs.mjs on it: which programs compile and pass this kernel's verifier, and
 * the errors, warnings and information items `bpf-ide check` reports on the passing ones. Without the
 * variable it prints a `#` line saying so.
 *   BPF_IDE_REAL_PROGRAMS=~/bcc/libbpf-tools node --import tsx test/bench/real-programs.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const dir = process.env.BPF_IDE_REAL_PROGRAMS;
if (!dir) {
  console.log(
    '# lsp_false_errors_real_programs skipped: set BPF_IDE_REAL_PROGRAMS to a directory of real *.bpf.c programs ' +
      '(e.g. git clone https://github.com/iovisor/bcc; BPF_IDE_REAL_PROGRAMS=bcc/libbpf-tools)',
  );
} else {
  const script = join(__dirname, '..', '..', 'scripts', 'measure-real-programs.mjs');
  const r = spawnSync(process.execPath, [script, dir], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}
