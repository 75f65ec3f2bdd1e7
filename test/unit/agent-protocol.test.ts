/**
 * The agent's wire schema against the golden corpus of real agent output
 * (test/fixtures/agent/golden, recorded by test/agent/golden-session.ts): every line parses,
 * every result matches its method's schema, and the schema knows every field the agent
 * writes (parsing drops nothing). Pure: no agent, no kernel.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AgentErrorBody,
  AgentEvent,
  AgentLine,
  METHODS,
  resultSchema,
  type Method,
} from '../../client/src/core/agent/agent-protocol';

const GOLDEN = join(__dirname, '..', 'fixtures', 'agent', 'golden');
const files = readdirSync(GOLDEN).filter((f) => f.endsWith('.jsonl'));

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(join(GOLDEN, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('agent protocol schema vs golden corpus', () => {
  test('the corpus covers every method and the main events', () => {
    for (const m of METHODS) assert.ok(files.includes(`${m}.jsonl`), `golden corpus lacks ${m}.jsonl`);
    for (const e of ['hello', 'map_snapshot', 'ringbuf_event', 'trace_line', 'bye'])
      assert.ok(files.includes(`event-${e}.jsonl`), `golden corpus lacks event-${e}.jsonl`);
  });

  for (const file of files) {
    test(`${file}: every line is a valid agent line and nothing is lost in parsing`, () => {
      // <method>.jsonl, or <method>-columns.jsonl for map_dump's columns layout
      const [method, variant] = file.replace(/\.jsonl$/, '').split('-') as [Method, string | undefined];
      for (const line of lines(file)) {
        const parsed = AgentLine.safeParse(line);
        assert.ok(parsed.success, `${file}: ${JSON.stringify(line).slice(0, 200)}: ${parsed.error?.message}`);
        if ('event' in line) {
          assert.deepEqual(AgentEvent.parse(line), line, `${file}: the schema drops a field`);
        } else if ('result' in line) {
          assert.ok(METHODS.includes(method), `${file}: a result for an unknown method`);
          const schema = resultSchema(method, variant === 'columns' ? { layout: 'columns' } : {});
          assert.deepEqual(schema.parse(line.result), line.result, `${file}: the ${method} schema drops a field`);
        } else {
          const body = line.error as Record<string, unknown>;
          const known = Object.keys(AgentErrorBody.shape);
          for (const k of Object.keys(body))
            assert.ok(known.includes(k), `${file}: error field ${k} is not in the schema`);
          AgentErrorBody.parse(body);
        }
      }
    });
  }

  test('lines that break the protocol are refused', () => {
    const bad: unknown[] = [
      {},
      { event: 'nope' },
      { event: 'hello', protocol: '1' },
      { id: 1 },
      { id: 1.5, result: {} },
      { id: 1, error: { code: 'no_such_code', message: 'x' } },
      { id: 1, error: { message: 'x' } },
      { event: 'ringbuf_event', subscription: 1, map_id: 2, source: 'pipe', size: 1, data: 'aa' },
      { event: 'map_snapshot', subscription: 1 },
    ];
    for (const b of bad) assert.equal(AgentLine.safeParse(b).success, false, JSON.stringify(b));
    const badLoad = { handle: 1, programs: [{ name: 'x' }], maps: [] };
    assert.equal(resultSchema('load', {}).safeParse(badLoad).success, false);
  });
});
