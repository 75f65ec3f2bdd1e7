/**
 * `bpf-ide lsp --stdio`: the language server with the Node flags the extension gives it
 * (SERVER_NODE_FLAGS: a small young generation, which keeps RSS small under long editing). V8 reads
 * heap flags only at start, so when this process lacks them it runs the server in a child process that
 * has them, on the same stdin/stdout, and ends with it. Run as `node --max-semi-space-size=2 bpf-ide.js
 * lsp --stdio` (the extension's way) and the server runs in this process.
 */
import { spawn } from 'node:child_process';
import { SERVER_NODE_FLAGS } from '../../../server/src/protocol';
import { main as lspMain } from '../../../server/src/main';

/** Set in the child, so it never starts another one. */
const CHILD_ENV = 'BPF_IDE_LSP_FLAGS_SET';

/** Whether this process runs with every one of the server's Node flags. */
export function hasServerFlags(execArgv: readonly string[] = process.execArgv): boolean {
  return SERVER_NODE_FLAGS.every((f) => execArgv.includes(f));
}

export async function runLspCommand(argv: string[]): Promise<number | undefined> {
  if (!argv.includes('--stdio') && !argv.includes('--node-ipc')) {
    process.stderr.write('bpf-ide lsp: give --stdio (the language server speaks LSP over stdin/stdout)\n');
    return 2;
  }
  // Over node IPC the parent is an editor that forked us with its own flags (the extension passes them).
  if (argv.includes('--stdio') && !hasServerFlags() && !process.env[CHILD_ENV]) return relaunch();
  if (!process.argv.includes('--stdio') && argv.includes('--stdio')) process.argv.push('--stdio');
  lspMain();
  return undefined; // keeps running until the client exits
}

/** Runs this command again in a child with the server's flags; resolves to its exit code. */
function relaunch(): Promise<number> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, ...SERVER_NODE_FLAGS, process.argv[1], ...process.argv.slice(2)],
    { stdio: 'inherit', env: { ...process.env, [CHILD_ENV]: '1' } },
  );
  const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, forward(s));
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(
        `bpf-ide lsp: could not start the language server with ${SERVER_NODE_FLAGS.join(' ')}: ${err.message}\n`,
      );
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + 15 : 0)));
  });
}
