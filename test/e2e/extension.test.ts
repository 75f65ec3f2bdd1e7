/**
 * e2e: the extension inside a real VS Code, checked through the vscode API from within the extension host
 * (host-suites/activation.ts): activation, the language client, diagnostics and completions.
 */
import { test } from 'node:test';
import { runExtensionTests } from './harness/extension-tests';
import { assertPrerequisites, skipUnlessReady } from './harness/preconditions';

test(
  'extension host: bpf-ide activates, its language client runs, diagnostics and completions arrive',
  { skip: skipUnlessReady(), timeout: 180_000 },
  async (t) => {
    assertPrerequisites();
    const r = await runExtensionTests({
      name: 'extension-host',
      suite: 'activation.ts',
      fixture: 'xdp-workspace',
      timeoutMs: 120_000,
      deadlineMs: 170_000,
      signal: t.signal,
    });
    for (const line of r.log.split('\n').filter((l) => l.includes('[host-test]'))) t.diagnostic(line);
  },
);
