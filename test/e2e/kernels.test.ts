/**
 * e2e: Test on Kernels... in a real VS Code (host suite host-suites/kernels.ts): this machine and a 6.1
 * guest in qemu, a program 6.1's verifier rejects. Needs the VM tier's preconditions (qemu,
 * busybox-static, the cached 6.1 kernel) and root besides the e2e tier's tools.
 */
import { test } from 'node:test';
import { agentUnavailableReason } from '../agent/preconditions';
import { vmUnavailableReason } from '../vm/vm-fixture';
import { runExtensionTests } from './harness/extension-tests';
import { assertPrerequisites, isCI, skipUnlessReady } from './harness/preconditions';

const missing = vmUnavailableReason() ?? agentUnavailableReason();
const skip = skipUnlessReady() || (missing && !isCI ? missing : false);

test(
  'extension host: Test on Kernels shows 6.1 rejecting bpf_for, on its line, with its log in the stepper',
  { skip, timeout: 360_000 },
  async (t) => {
    assertPrerequisites();
    if (missing) throw new Error(`precondition failed under CI: ${missing}`);
    const r = await runExtensionTests({
      name: 'kernels',
      suite: 'kernels.ts',
      fixture: 'xdp-workspace',
      timeoutMs: 300_000,
      deadlineMs: 340_000,
      signal: t.signal,
    });
    for (const line of r.log.split('\n').filter((l) => l.includes('[host-test]'))) t.diagnostic(line);
  },
);
