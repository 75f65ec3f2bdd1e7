/**
 * `bpf-ide lsp --stdio` runs the language server with the Node flags the extension gives it
 * (SERVER_NODE_FLAGS), also when started without them: the server process has them, answers over the
 * same stdio, and both processes end when the client exits.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { hasServerFlags } from '../../client/src/cli/lsp-command';
import { SERVER_NODE_FLAGS } from '../../server/src/protocol';
import { CLI, LspSession } from '../support/lsp-session';

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('hasServerFlags: every server flag must be there', () => {
  assert.equal(hasServerFlags([...SERVER_NODE_FLAGS]), true);
  assert.equal(hasServerFlags(['--inspect']), false);
});

test('bpf-ide lsp --stdio started without the flags serves from a process that has them', async () => {
  const session = new LspSession({ args: [CLI, 'lsp', '--stdio'] });
  const pid = session.child.pid!;
  try {
    await session.initialize();
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(children.length, 1, 'one server process');
    const server = children[0];
    for (const f of SERVER_NODE_FLAGS) assert.ok(cmdline(server).includes(f), `${cmdline(server).join(' ')} has ${f}`);
    const r = await session.request<{ contents: unknown } | null>('textDocument/hover', {
      textDocument: { uri: 'file:///nowhere.bpf.c' },
      position: { line: 0, character: 0 },
    });
    assert.equal(r, null, 'the server answers over the same stdio');
    await session.shutdown();
    assert.equal(session.child.exitCode, 0, 'the CLI process ends with the server');
    for (let i = 0; i < 50 && alive(server); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(server), false, 'the server process ended');
  } finally {
    if (session.child.exitCode === null) session.child.kill('SIGKILL');
  }
});
