/**
 * The extensionTestsPath mode (what @vscode/test-electron does, here against the real VS Code server): a module
 * exporting `run(): Promise<void>` is bundled with esbuild and run inside the extension host, next to the
 * extension under development. The workbench reports the end through `window.codeAutomationExit(code, logs)`:
 * 0 when run() resolved, 1 when it threw. The host's console output comes back through
 * `window.codeAutomationLog(level, message)`; the workbench's log files come with the exit call and are kept.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { trackTempDir, untrackTempDir } from './cleanup';
import { ExtensionTestsError } from './errors';
import { HOST_SUITES_DIR } from './paths';
import { type Session, withVsCode } from './session';

export interface ExtensionTestsOptions {
  /** Test name (artifacts dir). */
  name: string;
  /** The suite: a file under test/e2e/host-suites/ exporting run(). */
  suite: string;
  /** Workspace fixture under test/e2e/fixtures/. */
  fixture: string;
  /** How long the suite may run once the workbench is up. */
  timeoutMs?: number;
  deadlineMs?: number;
  signal?: AbortSignal;
}

export interface ExtensionTestsResult {
  exitCode: number;
  /** What the extension host printed (through codeAutomationLog), one message per line. */
  log: string;
}

/** Runs a host suite in a real VS Code; throws ExtensionTestsError unless it exits with code 0. */
export async function runExtensionTests(opts: ExtensionTestsOptions): Promise<ExtensionTestsResult> {
  const lines: string[] = [];
  let exited: (code: number) => void = () => {};
  const exit = new Promise<number>((resolve) => (exited = resolve));
  const bundleDir = mkdtempSync(join(tmpdir(), 'bpf-ide-e2e-suite-'));
  trackTempDir(bundleDir);
  try {
    return await withVsCode(
      {
        name: opts.name,
        fixture: opts.fixture,
        deadlineMs: opts.deadlineMs,
        signal: opts.signal,
        extensionTestsPath: await bundleSuite(opts.suite, bundleDir),
        beforeOpen: async (wb) => {
          await wb.page.exposeFunction('codeAutomationLog', (level: string, message: string) =>
            lines.push(`[${level}] ${message}`),
          );
          await wb.page.exposeFunction(
            'codeAutomationExit',
            (code: number, logs?: { relativePath: string; contents: string }[]) => {
              for (const l of logs ?? []) {
                const file = join(wb.artifactsDir, 'workbench-logs', l.relativePath);
                mkdirSync(join(file, '..'), { recursive: true });
                writeFileSync(file, l.contents);
              }
              exited(code);
            },
          );
        },
      },
      async (s: Session) => {
        const timeoutMs = opts.timeoutMs ?? 60_000;
        let timer: NodeJS.Timeout | undefined;
        const exitCode = await Promise.race([
          exit,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () =>
                reject(
                  new ExtensionTestsError(
                    `the host suite ${opts.suite} did not finish within ${timeoutMs} ms`,
                    undefined,
                    lines.join('\n'),
                  ),
                ),
              timeoutMs,
            );
          }),
        ]).finally(() => clearTimeout(timer));
        const log = lines.join('\n');
        writeFileSync(join(s.artifactsDir, 'host-suite.log'), log);
        if (exitCode !== 0)
          throw new ExtensionTestsError(`the host suite ${opts.suite} failed (exit code ${exitCode})`, exitCode, log);
        return { exitCode, log };
      },
    );
  } finally {
    rmSync(bundleDir, { recursive: true, force: true });
    untrackTempDir(bundleDir);
  }
}

/** Bundles a host suite into one CommonJS file (vscode stays external: the extension host provides it). */
async function bundleSuite(suite: string, outDir: string): Promise<string> {
  const outfile = join(outDir, 'host-suite', `${basename(suite).replace(/\.ts$/, '')}.cjs`);
  await build({
    entryPoints: [join(HOST_SUITES_DIR, suite)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  return outfile;
}
