/**
 * Keeps the C side honest: a live session with the agent is recorded, every line must pass
 * the TypeScript schema, and each file's shape (its field paths) must match the committed
 * golden corpus. Regenerate the corpus with `node --import tsx test/agent/golden-session.ts`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentLine, resultSchema, type Method } from '../../client/src/core/agent/agent-protocol';
import { agentUnavailableReason, precondition } from './preconditions';
import { GOLDEN_DIR, recordSession } from './golden-session';

const reason = agentUnavailableReason();
// below these, the content is data (decoded values, per-type helper lists), not protocol
const DATA = new Set(['key', 'value', 'data', 'helpers', 'removed', 'entries', 'failed', 'loaded', 'stats']);

function shape(v: unknown, path: string, out: Set<string>): void {
  if (Array.isArray(v)) {
    for (const x of v) shape(x, `${path}[]`, out);
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(`${path}.${k}`);
      if (!DATA.has(k)) shape(x, `${path}.${k}`, out);
    }
  }
}

describe('agent output vs golden corpus', () => {
  test('a live session validates and has the corpus shape', async (t) => {
    if (!precondition(t, reason)) return;
    const live = await recordSession();
    for (const [file, lines] of live) {
      const [method, variant] = file.replace(/\.jsonl$/, '').split('-') as [Method, string | undefined];
      const schema = resultSchema(method, variant === 'columns' ? { layout: 'columns' } : {});
      const liveShape = new Set<string>();
      for (const text of lines) {
        const line = JSON.parse(text) as Record<string, unknown>;
        const r = AgentLine.safeParse(line);
        assert.ok(r.success, `${file}: ${text.slice(0, 200)}`);
        if ('result' in line) assert.ok(schema.safeParse(line.result).success, `${file}: ${text.slice(0, 200)}`);
        shape(line, '', liveShape);
      }
      const golden = join(GOLDEN_DIR, file);
      assert.ok(existsSync(golden), `${file} is missing from the golden corpus: regenerate it`);
      const goldenShape = new Set<string>();
      for (const text of readFileSync(golden, 'utf8').split('\n').filter(Boolean))
        shape(JSON.parse(text), '', goldenShape);
      assert.deepEqual(
        [...liveShape].sort(),
        [...goldenShape].sort(),
        `${file}: the agent's output drifted from the corpus`,
      );
    }
  });
});
