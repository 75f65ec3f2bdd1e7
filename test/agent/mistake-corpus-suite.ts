/**
 * Loads a realistic mistake corpus (test/fixtures/mistakes, mistakes-heldout, -heldout2 or -heldout3) on the
 * real kernel through the agent: every program of <dir>/programs loads, and every case of
 * <dir>/manifest.json is rejected with its kernelMessage. Shared by mistakes.test.ts,
 * mistakes-heldout.test.ts, mistakes-heldout2.test.ts and mistakes-heldout3.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import { AgentRequestError } from '../../client/src/core/agent/agent-errors';
import { compileMistakeFile, mistakeCases, mistakePrograms, precompileVmlinux } from '../support/mistakes-corpus';
import { startAgent, tempDir } from './agent-harness';
import { agentUnavailableReason, precondition } from './preconditions';

export interface CorpusOptions {
  /** The corpus directory (MISTAKES_DIR or HELDOUT_MISTAKES_DIR). */
  dir: string;
  /** The describe() title. */
  title: string;
  /** Fewest cases the corpus must hold. */
  minCases: number;
}

/** Runs fn over items, two at a time (the machine has two cores). */
async function inPairs<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}

let objectsDirCounter = 0;

export function describeMistakeCorpus({ dir, title, minCases }: CorpusOptions): void {
  const reason = agentUnavailableReason();
  const programs = mistakePrograms(dir);
  const cases = mistakeCases(dir);

  describe(title, { concurrency: false }, () => {
    let agent: AgentClient;
    const objects = new Map<string, string>();

    before(async () => {
      if (reason) return;
      const out = join(tempDir(), `mistakes-${objectsDirCounter++}`);
      mkdirSync(out, { recursive: true });
      writeFileSync(
        join(out, 'vmlinux.h'),
        execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
          maxBuffer: 256 << 20,
        }),
      );
      await precompileVmlinux(out);
      const sources = [
        ...programs.map((p) => ({ key: `program:${p.name}`, file: p.file })),
        ...cases.map((c) => ({ key: `case:${c.id}`, file: c.file })),
      ];
      await inPairs(sources, async (s) => {
        objects.set(s.key, await compileMistakeFile(s.file, out, join(out, `${s.key.replace(/\W/g, '_')}.o`), dir));
      });
      agent = await startAgent();
    });
    after(async () => {
      await agent?.shutdown();
    });

    test(`the corpus is well formed: >= ${minCases} cases, each a copy of a corpus program`, () => {
      assert.ok(cases.length >= minCases, `${cases.length} cases`);
      const names = new Set(programs.map((p) => p.name));
      for (const c of cases) {
        assert.ok(names.has(c.program), `${c.id}: unknown program ${c.program}`);
        assert.ok(c.kernelMessage.length > 8, `${c.id}: kernelMessage`);
      }
      assert.equal(new Set(cases.map((c) => c.id)).size, cases.length, 'case ids are unique');
    });

    for (const p of programs) {
      test(`program ${p.name} loads`, async (t) => {
        if (!precondition(t, reason)) return;
        const r = await agent.request('load', { path: objects.get(`program:${p.name}`)!, log_level: 1 });
        assert.ok(r.programs.length > 0);
        await agent.request('unload', { handle: r.handle });
      });
    }

    for (const c of cases) {
      test(`case ${c.id} (${c.class}) is rejected: ${c.kernelMessage}`, async (t) => {
        if (!precondition(t, reason)) return;
        let err: unknown;
        try {
          const r = await agent.request('load', { path: objects.get(`case:${c.id}`)!, log_level: 1 });
          await agent.request('unload', { handle: r.handle });
        } catch (e) {
          err = e;
        }
        assert.ok(err instanceof AgentRequestError, `${c.id} loaded, but the kernel should reject it`);
        // The verifier's log, or libbpf's for a rejection before the verifier (a CO-RE relocation).
        const text = `${err.body.message}\n${err.body.log ?? ''}\n${err.body.libbpf_log ?? ''}`;
        assert.ok(
          text.includes(c.kernelMessage),
          `${c.id}: expected "${c.kernelMessage}" in the rejection, got ${err.body.code}: ${text.slice(-600)}`,
        );
      });
    }
  });
}
