/**
 * Issue 15, item 7: paths the agent opens for the client. `load {path: <a FIFO>}` blocked in open()
 * before the path was checked to be a regular file: the agent stopped answering (ping too) and kept
 * what it had loaded. Every path is now opened without blocking and checked with fstat first; each
 * bad kind of path gets a coded error at once, and the agent keeps serving.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient, AgentRequestError } from '../../client/src/core/agent/agent-client';
import { agentUnavailableReason, precondition } from './preconditions';
import { fixture, startAgent, tempDir } from './agent-harness';

const reason = agentUnavailableReason();

describe('agent: paths that are not regular files', { concurrency: false }, () => {
  let agent: AgentClient;
  let fifo: string;
  before(async () => {
    if (reason) return;
    fifo = join(tempDir(), 'not-an-object.fifo');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(tempDir(), 'a-directory.bpf.o'));
    agent = await startAgent();
  });
  after(async () => {
    // an agent stuck in open() on the FIFO (the fault) is released by a writer, so it can exit
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // no reader: nothing is stuck
    }
    await agent?.shutdown();
  });

  const refused = async (p: Promise<unknown>, code: string, message: RegExp) => {
    await assert.rejects(p, (err: AgentRequestError) => {
      assert.equal(err.code, code, err.message);
      assert.match(err.message, message);
      return true;
    });
    assert.deepEqual(await agent.request('ping', {}, { timeoutMs: 2000 }), { pong: true }, 'the agent answers');
  };

  test('load of a FIFO: a coded error at once, the agent keeps answering', async (t) => {
    if (!precondition(t, reason)) return;
    await refused(agent.request('load', { path: fifo }, { timeoutMs: 3000 }), 'io_error', /not a regular file.*FIFO/);
  });

  test('load of a directory, a device and a missing file: coded errors', async (t) => {
    if (!precondition(t, reason)) return;
    const dir = join(tempDir(), 'a-directory.bpf.o');
    await refused(
      agent.request('load', { path: dir }, { timeoutMs: 3000 }),
      'io_error',
      /not a regular file.*directory/,
    );
    await refused(
      agent.request('load', { path: '/dev/zero' }, { timeoutMs: 3000 }),
      'io_error',
      /not a regular file.*device/,
    );
    await refused(
      agent.request('load', { path: join(tempDir(), 'missing.bpf.o') }, { timeoutMs: 3000 }),
      'not_found',
      /No such file/,
    );
  });

  test('uprobe on a FIFO or a directory: a coded error at once, nothing attached', async (t) => {
    if (!precondition(t, reason)) return;
    const { handle } = await agent.request('load', { path: fixture('attach') });
    for (const bin of [fifo, tempDir()])
      await refused(
        agent.request('attach', { handle, program: 'on_uprobe', target: `${bin}:close` }, { timeoutMs: 3000 }),
        'io_error',
        /not a regular file/,
      );
    await agent.request('unload', { handle });
  });
});
