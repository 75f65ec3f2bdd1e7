/**
 * What the tier needs, checked up front. A test that can't run says why; under CI=true it fails instead of
 * skipping, so a broken CI setup never turns into a green run with nothing tested.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { E2EPreconditionError } from './errors';
import { CHROMIUM_BIN, EXTENSION_MAIN, NODE24_BIN, REPO_ROOT, VSCODE_PKG_DIR, VSCODE_SERVER_MAIN } from './paths';

/** The missing prerequisites, each with what is missing and where it was looked for. Empty when all are there. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  const executable = (p: string) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (!executable(CHROMIUM_BIN)) missing.push(`Chromium not found at ${CHROMIUM_BIN} (apt-get install chromium)`);
  if (!executable(NODE24_BIN)) missing.push(`Node 24 not found at ${NODE24_BIN}`);
  if (!existsSync(VSCODE_SERVER_MAIN))
    missing.push(`the VS Code server (code-server) not found at ${VSCODE_SERVER_MAIN}`);
  if (!existsSync(join(VSCODE_PKG_DIR, 'node_modules', 'playwright-core', 'package.json')))
    missing.push(`playwright-core not installed in ${VSCODE_PKG_DIR}`);
  for (const f of [EXTENSION_MAIN, join(REPO_ROOT, 'dist', 'server.js')])
    if (!existsSync(f)) missing.push(`the extension is not built (${f} missing; run npm run build)`);
  return missing;
}

export const isCI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * The `skip` option for an e2e test: a reason to skip when prerequisites are missing on a developer's machine,
 * `false` when they are all there or under CI (where `assertPrerequisites` then fails the test).
 */
export function skipUnlessReady(): string | false {
  const missing = missingPrerequisites();
  if (missing.length === 0 || isCI) return false;
  return `real-VS-Code tier not set up: ${missing.join('; ')} (run bash test/e2e/setup.sh and npm run build)`;
}

/** Throws a clear E2EPreconditionError when something is missing. Call at the start of each e2e test. */
export function assertPrerequisites(): void {
  const missing = missingPrerequisites();
  if (missing.length) throw new E2EPreconditionError(missing);
}
