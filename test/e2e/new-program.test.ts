/** e2e: bpf-ide: New BPF Program in a real VS Code (extension host suite host-suites/new-program.ts). */
import { test } from 'node:test';
import { runExtensionTests } from './harness/extension-tests';
import { assertPrerequisites, skipUnlessReady } from './harness/preconditions';

test(
  'extension host: New BPF Program creates a template program that gets no diagnostic',
  { skip: skipUnlessReady(), timeout: 180_000 },
  async (t) => {
    assertPrerequisites();
    const r = await runExtensionTests({
      name: 'new-program',
      suite: 'new-program.ts',
      fixture: 'xdp-workspace',
      timeoutMs: 120_000,
      deadlineMs: 170_000,
      signal: t.signal,
    });
    for (const line of r.log.split('\n').filter((l) => l.includes('[host-test]'))) t.diagnostic(line);
  },
);
