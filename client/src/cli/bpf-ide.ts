/**
 * The `bpf-ide` command line: subcommands over the same code the extension uses.
 *   bpf-ide lsp --stdio          the language server
 *   bpf-ide check [...] FILE...  the language server's diagnostics, headless
 */
import '../core/zod-setup'; // first: configures zod before any schema is built
import { runCheckCommand } from '../../../server/src/check';
import { runBuildCommand } from '../core/build/build-command';
import { runVmlinuxCommand } from '../core/build/vmlinux-command';
import { runDemoCommand } from '../core/run/demo-command';
import { runListCommand } from '../core/run/list-command';
import { runKernelsCommand } from '../core/run/kernels-command';
import { runMatrixCommand } from '../core/run/matrix-command';
import { runRunCommand } from '../core/run/run-command';
import { runLogCommand } from '../core/verifier/log-command';
import { runLspCommand } from './lsp-command';

const USAGE = `usage: bpf-ide <command> [options]
commands:
  lsp --stdio     run the BPF language server over stdio
  check FILE...   report BPF restricted-C problems (bpf-ide check --help)
  build FILE      compile a BPF C file with clang -target bpf (bpf-ide build --help)
  run FILE        build, load (and --attach) on a target through the agent (bpf-ide run --help)
  list            every BPF program and map on a target, through the agent (bpf-ide list --help)
  kernels         the kernels vm: targets boot, cached or not; kernels fetch NAME (bpf-ide kernels --help)
  matrix FILE     build once, load (and --attach) on several kernels, compare (bpf-ide matrix --help)
  demo            build a template, load and attach it here, show the verdict and live maps
  vmlinux         write the target's vmlinux.h (bpf-ide vmlinux --help)
  log FILE        explain a verifier log: verdict, error on its source line, statistics (bpf-ide log --help)
  help            this text`;

type Command = (argv: string[]) => Promise<number | undefined>;

/** One table: command name -> handler. */
const COMMANDS: Record<string, Command> = {
  lsp: (argv) => runLspCommand(argv),
  check: async (argv) => {
    if (argv.includes('--help') || argv.includes('-h')) {
      const { CHECK_USAGE } = await import('../../../server/src/check');
      process.stdout.write(CHECK_USAGE + '\n');
      return 0;
    }
    return runCheckCommand(argv);
  },
  build: (argv) => runBuildCommand(argv),
  run: async (argv) => {
    if (argv.includes('--help') || argv.includes('-h')) {
      const { RUN_USAGE } = await import('../core/run/run-command');
      process.stdout.write(RUN_USAGE + '\n');
      return 0;
    }
    return runRunCommand(argv);
  },
  list: async (argv) => {
    if (argv.includes('--help') || argv.includes('-h')) {
      const { LIST_USAGE } = await import('../core/run/list-command');
      process.stdout.write(LIST_USAGE + '\n');
      return 0;
    }
    return runListCommand(argv);
  },
  kernels: (argv) => runKernelsCommand(argv),
  matrix: (argv) => runMatrixCommand(argv),
  demo: (argv) => runDemoCommand(argv),
  vmlinux: (argv) => runVmlinuxCommand(argv),
  log: (argv) => runLogCommand(argv),
  help: async () => {
    process.stdout.write(USAGE + '\n');
    return 0;
  },
};

// `bpf-ide check ... | head`: a closed pipe ends the output quietly, as other CLI tools do.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

async function run(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  const handler = cmd ? COMMANDS[cmd] : undefined;
  if (!handler) {
    process.stderr.write(`${cmd ? `bpf-ide: unknown command '${cmd}'\n` : ''}${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const code = await handler(rest);
  if (code !== undefined) process.exitCode = code;
}

run().catch((err: unknown) => {
  process.stderr.write(`bpf-ide: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
