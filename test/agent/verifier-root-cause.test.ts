/**
 * The committed level-1 logs of the realistic mistake corpus (test/fixtures/verifier/mistakes/, read by the
 * root-cause rate in the verifier bench and test/unit/verifier-root-cause.test.ts) are still what this
 * kernel says: a sample of cases, one per kind of root cause, compiled and loaded through the agent, their
 * logs compared with the committed ones (map addresses and timings aside). Regenerate them all with
 * `node test/fixtures/verifier/mistakes/make-logs.mjs`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import { AgentRequestError } from '../../client/src/core/agent/agent-errors';
import { compileMistakeFile, mistakeCases } from '../support/mistakes-corpus';
import { HELDOUT_DIR, heldOutCases, MISTAKE_LOGS_DIR } from '../support/root-cause-rate';
import { startAgent, tempDir } from './agent-harness';
import { agentUnavailableReason, precondition } from './preconditions';
import { comparableLog as norm } from '../support/verifier-log-compare';

const SAMPLE = [
  'execsnoop-license-bsd',
  'bashreadline-copy-fail-leak',
  'biolatency-slot-off-by-one',
  'xdp-iph-bounds',
  'biolatency-hist-unchecked',
  'tc-drop-under-lock',
  'ho-tc-unlock-missing', // held out
  'ho-bashreadline-discard-missing',
];
const reason = agentUnavailableReason();

describe('the mistake corpus logs are still what the kernel says', { concurrency: false }, () => {
  let agent: AgentClient;
  let dir: string;
  before(async () => {
    if (reason) return;
    dir = tempDir();
    writeFileSync(
      join(dir, 'vmlinux.h'),
      execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
        maxBuffer: 256 << 20,
      }),
    );
    agent = await startAgent();
  });
  after(async () => {
    await agent?.shutdown();
  });
  for (const id of SAMPLE) {
    test(`${id}: the kernel's level-1 log is the committed one`, async (t) => {
      if (!precondition(t, reason)) return;
      const c = [...mistakeCases(), ...heldOutCases()].find((x) => x.id === id)!;
      const obj = await compileMistakeFile(c.file, dir, join(dir, `${id}.o`));
      let log = '';
      try {
        const r = await agent.request('load', { path: obj, log_level: 1 });
        await agent.request('unload', { handle: r.handle });
        assert.fail(`${id} loaded, but the corpus says the kernel rejects it`);
      } catch (e) {
        if (!(e instanceof AgentRequestError)) throw e;
        log = (e.body as { log?: string }).log ?? '';
      }
      const committed = id.startsWith('ho-')
        ? join(HELDOUT_DIR, 'logs', `${id}.log`)
        : join(MISTAKE_LOGS_DIR, `${id}.log`);
      assert.equal(norm(log), norm(readFileSync(committed, 'utf8')));
    });
  }
});
