/**
 * The agent's wire names are spelled once in C (remote-agent/src/protocol.h) and mirrored by the zod
 * schema: every error code, event and method the header defines must be known to the client. A code
 * the client did not know made its request wait out the timeout (found with `too_large`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentEvent, ErrorCode, MethodResults } from '../../client/src/core/agent/agent-protocol';

const header = readFileSync(join(__dirname, '..', '..', 'remote-agent', 'src', 'protocol.h'), 'utf8');
const defined = (prefix: string) =>
  [...header.matchAll(new RegExp(`^#define ${prefix}_[A-Z0-9_]+ "([a-z0-9_]+)"`, 'gm'))].map((m) => m[1]).sort();

test('protocol.h error codes = the zod ErrorCode enum', () => {
  assert.deepEqual(defined('E'), [...ErrorCode.options].sort());
});

test('protocol.h events = the zod AgentEvent union', () => {
  const events = AgentEvent.options.map((o) => o.shape.event.value as string).sort();
  assert.deepEqual(defined('EV'), events);
});

test('protocol.h methods = the methods the client has result schemas for', () => {
  assert.deepEqual(defined('M'), Object.keys(MethodResults).sort());
});
