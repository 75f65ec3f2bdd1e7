/**
 * Bad input: malformed JSON, unknown methods, wrong-typed params, unknown ids, invalid
 * base64, a huge line, and hundreds of mutated ELF objects. Each gets a coded error (or a
 * clean load), and the agent keeps serving: no crash, no hang, no runaway memory.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AgentClient, AgentRequestError } from '../../client/src/core/agent/agent-client';
import { ErrorCode, METHODS } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, startAgent } from './agent-harness';

const reason = agentUnavailableReason();

/** A small deterministic PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

describe('agent bad input', { concurrency: false }, () => {
  let agent: AgentClient;
  let pid: number;
  const protocolErrors: string[] = [];
  before(async () => {
    if (reason) return;
    agent = await startAgent();
    pid = (await agent.hello).pid;
    agent.on('protocol_error', (e) => protocolErrors.push(e.message));
  });
  after(async () => {
    await agent?.shutdown();
  });

  test('thousands of malformed lines: each answered with a coded error, agent keeps serving', async (t) => {
    if (!precondition(t, reason)) return;
    const rand = rng(1);
    const valid = [
      // string ids: they can never match the client's own numeric request ids
      '{"id":"f1","method":"ping","params":{}}',
      '{"id":"f2","method":"map_dump","params":{"map_id":1,"limit":5}}',
      '{"id":"f3","method":"load","params":{"path":"/nonexistent","log_level":1}}',
      '{"id":"f4","method":"features","params":{"include":["map_types"]}}',
    ];
    const errors: unknown[] = [];
    const nullReplies = { n: 0 };
    agent.on('protocol_error', () => nullReplies.n++);
    const rssBefore = rssKb(pid);
    for (let i = 0; i < 3000; i++) {
      let s = valid[Math.floor(rand() * valid.length)];
      const kind = Math.floor(rand() * 5);
      const pos = Math.floor(rand() * s.length);
      if (kind === 0) s = s.slice(0, pos);
      else if (kind === 1) s = s.slice(0, pos) + String.fromCharCode(Math.floor(rand() * 256)) + s.slice(pos + 1);
      else if (kind === 2) s = s.slice(0, pos) + '{[":,'.charAt(Math.floor(rand() * 5)) + s.slice(pos);
      else if (kind === 3) s = '['.repeat(Math.floor(rand() * 5000));
      else s = s.replace(/"id":[^,]+/, '"id":' + ['null', '{}', '[]', '1.5', 'true', '"s"'][Math.floor(rand() * 6)]);
      // mutated lines must not carry newlines of their own
      agent.writeRaw(s.replace(/\n/g, ' ') + '\n');
    }
    // a ping after all of them: its reply proves every earlier line was handled
    assert.deepEqual(await agent.request('ping', {}, { timeoutMs: 60_000 }), { pong: true });
    assert.ok(nullReplies.n > 100, 'errors without an id come back as error lines');
    // under AddressSanitizer (test/agent/sanitizers.test.ts) freed memory is quarantined, so RSS says nothing
    if (!process.env.BPF_IDE_SANITIZED)
      assert.ok(rssKb(pid) - rssBefore < 64 * 1024, `no runaway memory: ${rssBefore} -> ${rssKb(pid)} kB`);
    void errors;
  });

  test('every method with missing or wrong-typed params gets invalid_params (or not_found)', async (t) => {
    if (!precondition(t, reason)) return;
    const wrong: Record<string, unknown>[] = [
      {},
      { handle: 'x', map_id: 'x', link: [], subscription: {}, path: 5, object: 5, limit: -1, cursor: 5 },
      { handle: 1e12, map_id: -5, link: 0, subscription: 0, include: 'x', offset: -1, length: 0 },
    ];
    for (const method of METHODS.filter((m) => m !== 'shutdown')) {
      for (const params of wrong) {
        try {
          await agent.request(method, params as never);
        } catch (err) {
          assert.ok(err instanceof AgentRequestError, `${method}: ${String(err)}`);
          assert.ok(ErrorCode.options.includes(err.code));
        }
      }
    }
    await assert.rejects(agent.request('nope' as never, {} as never), { code: 'unknown_method' });
    assert.deepEqual(await agent.request('ping', {}), { pong: true });
  });

  test('a huge request line is refused with request_too_large and skipped', async (t) => {
    if (!precondition(t, reason)) return;
    const big = '{"id":"big","method":"load","params":{"object":"' + 'A'.repeat(65 << 20) + '"}}\n';
    const refused = new Promise<string>((resolve) => agent.once('protocol_error', (e) => resolve(e.message)));
    agent.writeRaw(big);
    assert.match(await refused, /longer than/);
    assert.deepEqual(await agent.request('ping', {}), { pong: true });
  });

  test('hundreds of mutated ELF objects: coded errors or clean loads, never a crash', async (t) => {
    if (!precondition(t, reason)) return;
    const rand = rng(7);
    const originals = [
      readFileSync(fixture('maps')),
      readFileSync(fixture('attach')),
      readFileSync(fixture('reject_null')),
    ];
    const codes = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const buf = Buffer.from(originals[i % originals.length]);
      const kind = i % 4;
      if (kind === 0) {
        // truncated
        const cut = Math.floor(rand() * buf.length);
        codes.set('truncated', (codes.get('truncated') ?? 0) + 1);
        await tryLoad(buf.subarray(0, cut));
        continue;
      }
      const flips = kind === 1 ? 1 : kind === 2 ? 8 : 64;
      for (let f = 0; f < flips; f++) {
        // bias toward the headers and tables at both ends of the file
        const r = rand();
        const at =
          r < 0.3
            ? Math.floor(rand() * 64)
            : r < 0.6
              ? buf.length - 1 - Math.floor(rand() * 512)
              : Math.floor(rand() * buf.length);
        buf[Math.max(0, Math.min(buf.length - 1, at))] = Math.floor(rand() * 256);
      }
      await tryLoad(buf);
    }
    async function tryLoad(bytes: Buffer): Promise<void> {
      try {
        const r = await agent.request(
          'load',
          { object: bytes.toString('base64'), log_level: 1, timeout_ms: 2000 },
          { timeoutMs: 30_000 },
        );
        codes.set('loaded', (codes.get('loaded') ?? 0) + 1);
        await agent.request('unload', { handle: r.handle });
      } catch (err) {
        assert.ok(err instanceof AgentRequestError, `not a coded error: ${String(err)}`);
        codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
      }
    }
    t.diagnostic(JSON.stringify(Object.fromEntries(codes)));
    assert.deepEqual(await agent.request('ping', {}), { pong: true });
    assert.ok((codes.get('invalid_object') ?? 0) > 10);
  });

  test('no reply was ever unparseable', (t) => {
    if (!precondition(t, reason)) return;
    assert.deepEqual(
      protocolErrors.filter((m) => !/without a pending request/.test(m)),
      [],
    );
  });
});
