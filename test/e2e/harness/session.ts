/**
 * One real VS Code for one test: a temp dir, a copy of a fixture workspace, the VS Code server, Chromium with the
 * workbench open on the workspace and this checkout loaded as the extension under development. Everything is
 * torn down at the end (browser closed, the server's process group killed, temp dir removed), also when the test
 * fails or its deadline passes; logs and screenshots stay in test-artifacts/e2e/<test>/.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { trackTempDir, untrackTempDir } from './cleanup';
import { assertPrerequisites } from './preconditions';
import { ARTIFACTS_DIR, EXTENSION_ID, FIXTURES_DIR, REPO_ROOT } from './paths';
import { VsCodeServer } from './vscode-server';
import { Workbench } from './workbench';

/** User settings for a quiet, deterministic workbench: no trust prompt, no welcome page, no AI, no network. */
export const DEFAULT_USER_SETTINGS: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'git.enabled': false,
  'files.autoSave': 'off',
};

export interface SessionOptions {
  /** Test name: the artifacts go to test-artifacts/e2e/<name>/. */
  name: string;
  /** Folder under test/e2e/fixtures/ copied as the workspace. */
  fixture: string;
  /** Extra user settings (merged over DEFAULT_USER_SETTINGS). */
  userSettings?: Record<string, unknown>;
  /** A module run inside the extension host (extensionTestsPath); absolute path to a JS file. */
  extensionTestsPath?: string;
  /** Runs before the workbench opens the folder (e.g. page.exposeFunction for codeAutomationExit). */
  beforeOpen?: (wb: Workbench) => Promise<void>;
  /**
   * Install this .vsix into the server's (empty) extensions dir and run it as a user would, instead of loading
   * the checkout as the extension under development.
   */
  installVsix?: string;
  /** Extra environment for the VS Code server and its extension hosts. */
  env?: Record<string, string>;
  /** Runs before the server starts, with the session's HOME (e.g. to write ~/.ssh/config there). */
  prepareHome?: (home: string) => void;
  /** Whole-session deadline in ms, teardown included; keep it below the node:test timeout. */
  deadlineMs?: number;
  /** Aborts the session (pass node:test's `t.signal`). */
  signal?: AbortSignal;
}

export interface Session {
  server: VsCodeServer;
  workbench: Workbench;
  /** Absolute path of the temp copy of the fixture workspace. */
  workspace: string;
  /** test-artifacts/e2e/<name>/ */
  artifactsDir: string;
  /** The temp dir holding everything of this session. */
  root: string;
  /** The extension host's log files, concatenated (activation errors show up here). */
  extensionHostLog(): string;
  /** The bpf-ide output channel's log (the language client's and server's messages). */
  outputChannelLog(): string;
}

/**
 * Runs `body` against a fresh real VS Code, then tears everything down. Throws what `body` threw, or a deadline
 * error; the artifacts dir then holds a `failure.png` screenshot and the server's logs.
 */
export async function withVsCode<T>(opts: SessionOptions, body: (s: Session) => Promise<T>): Promise<T> {
  assertPrerequisites();
  const artifactsDir = join(ARTIFACTS_DIR, opts.name);
  rmSync(artifactsDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  const root = mkdtempSync(join(tmpdir(), 'bpf-ide-e2e-'));
  trackTempDir(root);

  let server: VsCodeServer | undefined;
  let workbench: Workbench | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failed = false;
  try {
    const workspace = join(root, 'workspace');
    cpSync(join(FIXTURES_DIR, opts.fixture), workspace, { recursive: true });
    const dirs = VsCodeServer.dirsUnder(root);
    mkdirSync(join(dirs.userData, 'User'), { recursive: true });
    writeFileSync(
      join(dirs.userData, 'User', 'settings.json'),
      JSON.stringify({ ...DEFAULT_USER_SETTINGS, ...opts.userSettings }, null, 2),
    );

    mkdirSync(dirs.home, { recursive: true });
    opts.prepareHome?.(dirs.home);

    const run = async (): Promise<T> => {
      server = await VsCodeServer.start({
        env: opts.env,
        root,
        logFile: join(artifactsDir, 'server.log'),
        args: opts.installVsix ? ['--install-extension', opts.installVsix, '--start-server'] : undefined,
      });
      workbench = await Workbench.launch({
        profileDir: join(root, 'chromium'),
        env: {
          HOME: dirs.home,
          TMPDIR: join(dirs.home, 'tmp'),
          XDG_CONFIG_HOME: join(dirs.home, '.config'),
          XDG_CACHE_HOME: join(dirs.home, '.cache'),
        },
        artifactsDir,
      });
      if (opts.beforeOpen) await opts.beforeOpen(workbench);
      const payload: [string, string][] = opts.installVsix
        ? []
        : [['extensionDevelopmentPath', server.remoteUri(REPO_ROOT)]];
      if (opts.extensionTestsPath) payload.push(['extensionTestsPath', server.remoteUri(opts.extensionTestsPath)]);
      await workbench.open(server.origin, workspace, payload);
      const s = server;
      const logsDir = join(dirs.userData, 'logs');
      return body({
        server: s,
        workbench,
        workspace,
        artifactsDir,
        root,
        extensionHostLog: () => readLogs(logsDir, (p) => /exthost\d*[/\\]remoteexthost\.log$/.test(p)),
        outputChannelLog: () => readLogs(logsDir, (p) => /bpf-ide\.bpf-ide[/\\]bpf-ide\.log$/.test(p)),
      });
    };
    const deadlineMs = opts.deadlineMs ?? 150_000;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`e2e session '${opts.name}' passed its deadline of ${deadlineMs} ms`)),
        deadlineMs,
      );
      opts.signal?.addEventListener(
        'abort',
        () => reject(new Error(`e2e session '${opts.name}' aborted: ${String(opts.signal?.reason)}`)),
        { once: true },
      );
    });
    return await Promise.race([run(), deadline]);
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    clearTimeout(timer);
    if (failed && workbench) await withTimeout(workbench.screenshot('failure'), 10_000).catch(() => undefined);
    copyServerLogs(root, artifactsDir);
    if (workbench) await withTimeout(workbench.close(), 15_000).catch(() => undefined);
    if (server) await server.stop();
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
    untrackTempDir(root);
  }
}

/** True when the extension host log says bpf-ide failed to activate; returns the lines that say so. */
export function activationErrors(extensionHostLog: string): string[] {
  const lines = extensionHostLog.split('\n');
  return lines.filter(
    (l, i) =>
      l.includes(EXTENSION_ID) &&
      /\b(error|failed|cannot|exception)\b/i.test(l) &&
      // VS Code's own race, not the extension's: a completion item resolved after the workbench disposed its
      // list ("provider FAILED" + "DisposableStore is missing" from _convertCompletionItem), seen under load.
      !(/provider FAILED/.test(l) && /DisposableStore is missing/.test(lines[i + 1] ?? '')),
  );
}

function readLogs(dir: string, match: (path: string) => boolean): string {
  if (!existsSync(dir)) return '';
  return walk(dir)
    .filter((p) => match(relative(dir, p)))
    .map((p) => readFileSync(p, 'utf8'))
    .join('\n');
}

/** The server's, the extension hosts' and the output channels' logs: under the user data dir in server mode. */
function copyServerLogs(root: string, artifactsDir: string): void {
  const logs = join(VsCodeServer.dirsUnder(root).userData, 'logs');
  if (existsSync(logs)) cpSync(logs, join(artifactsDir, 'logs'), { recursive: true });
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(t));
}
