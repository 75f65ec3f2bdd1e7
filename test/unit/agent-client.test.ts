/**
 * AgentClient over in-memory streams (no agent, no kernel): hello, id matching, validation of
 * every line, typed errors with fixed names and causes, events, timeouts, and the agent going
 * away. The same class runs over a child process or an SSH channel.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AgentClient,
  AgentExitedError,
  AgentProtocolError,
  AgentRequestError,
  AgentSpawnError,
  AgentTimeoutError,
} from '../../client/src/core/agent/agent-client';

const HELLO = readFileSync(join(__dirname, '..', 'fixtures', 'agent', 'golden', 'event-hello.jsonl'), 'utf8').trim();

/** A fake agent: what the client writes comes out of `requests`, lines we push go to the client. */
function fake(opts: { requestTimeoutMs?: number; helloTimeoutMs?: number } = {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const requests: { id: number; method: string; params: unknown }[] = [];
  let pending = '';
  input.on('data', (b: Buffer) => {
    pending += b.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      requests.push(JSON.parse(pending.slice(0, nl)));
      pending = pending.slice(nl + 1);
    }
  });
  const client = new AgentClient({ input, output }, opts);
  const send = (line: string | object) => output.write((typeof line === 'string' ? line : JSON.stringify(line)) + '\n');
  const nextRequest = async () => {
    while (!requests.length) await new Promise((r) => setImmediate(r));
    return requests.shift()!;
  };
  return { client, send, output, nextRequest };
}

describe('AgentClient', () => {
  test('hello resolves with the validated first line', async () => {
    const { client, send } = fake();
    send(HELLO);
    const h = await client.hello;
    assert.equal(h.protocol, 1);
    assert.ok(h.capabilities.includes('load'));
  });

  test('a hello of another protocol version is refused with AgentProtocolError', async () => {
    const { client, send } = fake();
    send({ ...JSON.parse(HELLO), protocol: 2 });
    await assert.rejects(client.hello, (e: Error) => e instanceof AgentProtocolError && /protocol 2/.test(e.message));
  });

  test('replies are matched to requests by id, in any order, and validated per method', async () => {
    const { client, send, nextRequest } = fake();
    send(HELLO);
    const a = client.request('ping', {});
    const b = client.request('map_delete', { map_id: 5, key: 1 });
    const ra = await nextRequest();
    const rb = await nextRequest();
    assert.equal(ra.method, 'ping');
    assert.deepEqual(rb.params, { map_id: 5, key: 1 });
    send({ id: rb.id, result: { map_id: 5, deleted: true } });
    send({ id: ra.id, result: { pong: true } });
    assert.deepEqual(await b, { map_id: 5, deleted: true });
    assert.deepEqual(await a, { pong: true });
  });

  test('an error reply becomes AgentRequestError with code, hint and the whole body', async () => {
    const { client, send, nextRequest } = fake();
    const p = client.request('load', { path: '/x.o' });
    const r = await nextRequest();
    send({
      id: r.id,
      error: {
        code: 'verifier_rejected',
        message: 'no',
        hint: 'read the log',
        program: 'p',
        log: 'R0 invalid mem access',
      },
    });
    const err = await p.catch((e: unknown) => e);
    assert.ok(err instanceof AgentRequestError);
    assert.equal(err.name, 'AgentRequestError');
    assert.equal(err.code, 'verifier_rejected');
    assert.equal(err.hint, 'read the log');
    assert.equal(err.body.log, 'R0 invalid mem access');
    assert.equal(err.method, 'load');
  });

  test('a result that does not match its method is AgentProtocolError with the zod error as cause', async () => {
    const { client, send, nextRequest } = fake();
    const p = client.request('unload', { handle: 1 });
    const r = await nextRequest();
    send({ id: r.id, result: { handle: 'one' } });
    const err = await p.catch((e: unknown) => e);
    assert.ok(err instanceof AgentProtocolError);
    assert.equal(err.name, 'AgentProtocolError');
    assert.ok(err.cause);
    assert.match(err.message, /invalid result for unload at handle/);
  });

  test('an error reply this client cannot read (an unknown code) still fails its request at once', async () => {
    // a fake agent: a newer agent's error code cannot be made by this repository's agent
    const { client, send, nextRequest } = fake({ requestTimeoutMs: 60_000 });
    const p = client.request('ping', {});
    const r = await nextRequest();
    send({ id: r.id, error: { code: 'a_code_from_the_future', message: 'new' } });
    const err = await p.catch((e: unknown) => e);
    assert.ok(err instanceof AgentProtocolError);
    assert.match(err.message, /invalid error reply/);
  });

  test('a quiet client pings the agent a third of its idle timeout after its last line', async () => {
    const { client, send, nextRequest } = fake();
    send({ ...JSON.parse(HELLO), idle_timeout_s: 1 });
    await client.hello;
    const t0 = Date.now();
    const ping = await nextRequest();
    assert.deepEqual(ping, { id: 'keepalive', method: 'ping', params: {} });
    assert.ok(Date.now() - t0 < 1000, 'within the idle timeout');
    send({ id: 'keepalive', result: { pong: true } }); // matched to no request: ignored
    const p = client.request('ping', {});
    send({ id: (await nextRequest()).id, result: { pong: true } });
    assert.deepEqual(await p, { pong: true });
  });

  test('events are validated and emitted by name; bad lines are protocol_error events', async () => {
    const { client, send } = fake();
    const errors: AgentProtocolError[] = [];
    client.on('protocol_error', (e) => errors.push(e));
    const got = new Promise((resolve) => client.once('trace_line', resolve));
    send('this is not json');
    send({ event: 'trace_line', subscription: 'x', line: 'l' });
    send({ event: 'trace_line', subscription: 1, line: 'hello', message: 'hello' });
    assert.deepEqual(await got, { event: 'trace_line', subscription: 1, line: 'hello', message: 'hello' });
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => e.name === 'AgentProtocolError'));
  });

  test('a line split across many chunks (a big map page) is reassembled', async () => {
    const { client, output, nextRequest } = fake();
    const p = client.request('map_dump', { map_id: 1, layout: 'columns' });
    const r = await nextRequest();
    const n = 50_000;
    const line =
      JSON.stringify({
        id: r.id,
        result: {
          map_id: 1,
          name: 'm',
          type: 'hash',
          key_size: 4,
          value_size: 8,
          max_entries: n,
          percpu: false,
          key_type: 'u32',
          value_type: 'u64',
          count: n,
          done: true,
          cursor: null,
          keys: Array.from({ length: n }, (_, i) => i),
          values: Array.from({ length: n }, (_, i) => i * 2),
        },
      }) + '\n';
    for (let i = 0; i < line.length; i += 777) output.write(line.slice(i, i + 777));
    const d = await p;
    assert.equal(d.keys.length, n);
    assert.equal(d.values[n - 1], (n - 1) * 2);
  });

  test('no reply in time: AgentTimeoutError; the late reply is ignored', async () => {
    const { client, send, nextRequest } = fake({ requestTimeoutMs: 30 });
    const p = client.request('ping', {});
    const r = await nextRequest();
    const err = await p.catch((e: unknown) => e);
    assert.ok(err instanceof AgentTimeoutError);
    assert.equal(err.name, 'AgentTimeoutError');
    send({ id: r.id, result: { pong: true } });
    send(HELLO); // the client still works
    await client.hello;
  });

  test('the agent going away rejects pending requests with AgentExitedError', async () => {
    const { client, output, nextRequest } = fake();
    const p = client.request('ping', {});
    await nextRequest();
    output.end();
    const err = await p.catch((e: unknown) => e);
    assert.ok(err instanceof AgentExitedError);
    assert.equal(err.name, 'AgentExitedError');
    assert.equal(client.isClosed, true);
    await assert.rejects(client.request('ping', {}), AgentExitedError);
  });

  test('a missing agent binary is AgentSpawnError with the cause and what to do', async () => {
    const client = AgentClient.spawn('/nonexistent/bpf-agent', { helloTimeoutMs: 5000 });
    const err = await client.hello.catch((e: unknown) => e);
    assert.ok(err instanceof AgentSpawnError, String(err));
    assert.equal(err.name, 'AgentSpawnError');
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOENT');
    assert.match(err.message, /make -C remote-agent/);
  });
});
