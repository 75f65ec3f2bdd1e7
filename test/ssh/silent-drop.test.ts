/**
 * Issue 15, item 9: a silent SSH drop (no FIN, no RST: the link goes down) left the box's agent, and
 * everything it had attached, in place for as long as the box's sshd took to notice: ~2 hours with a
 * default sshd (TCP keepalive). The agent now has its own liveness: the client pings every few seconds
 * and the agent releases everything when it has heard nothing for --idle-timeout seconds.
 *
 * The box is sshd in a network namespace with sshd's defaults (no ClientAliveInterval), the drop is
 * its veth link set down, and what is left is checked with bpftool (BPF ids are global).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { need } from '../support/preconditions';
import { NetnsBox, netnsUnavailableReason } from './netns-fixture';
import { Sshd } from './sshd-fixture';
import { fixture as agentFixture } from '../agent/agent-harness';
import { alive, canRun, progExists, sshTestsUnavailableReason, targetFor, waitFor } from './ssh-harness';

const runnable = sshTestsUnavailableReason() === null && netnsUnavailableReason() === null;
const IDLE_S = 3;

const linkExists = (id: number) =>
  spawnSync('bpftool', ['link', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0;

describe('a silent drop of the SSH connection', { concurrency: false }, () => {
  let box: NetnsBox;
  let sshd: Sshd;
  before(async () => {
    if (!runnable) return;
    box = NetnsBox.create();
    sshd = await Sshd.start({ netns: box.name, address: box.address, port: 22 }); // sshd's defaults: no ClientAlive
  });
  after(async () => {
    await sshd?.dispose();
    box?.dispose();
  });

  test(`the box's agent releases what it attached within its idle timeout (${IDLE_S} s), and not before`, async (t) => {
    if (!canRun(t)) return;
    const reason = netnsUnavailableReason();
    if (!need(t, reason === null, reason ?? '')) return;
    // the client's own keepalive must not end the session first (it could not reach the box anyway)
    const target = targetFor(sshd, { idleTimeoutSeconds: IDLE_S, keepaliveIntervalMs: 60_000 });
    try {
      const agent = await target.connect();
      const hello = await agent.hello;
      assert.equal(hello.idle_timeout_s, IDLE_S);
      // raw_tp: needs no tracefs (`ip netns exec` gives the box's sshd a /sys without it)
      const r = await agent.request('load', { path: agentFixture('attach') });
      const prog = r.programs.find((p) => p.name === 'on_raw_tp')!.id;
      const { links } = await agent.request('attach', { handle: r.handle, program: 'on_raw_tp' });
      const link = links[0].link_id!;
      assert.ok(progExists(prog) && linkExists(link));

      // connected and quiet for longer than the timeout: the client's pings keep the agent
      await new Promise((res) => setTimeout(res, (IDLE_S + 1.5) * 1000));
      assert.ok(alive(hello.pid) && progExists(prog) && linkExists(link), 'a quiet but live client keeps its programs');

      const dropped = Date.now();
      box.setLink(false);
      await waitFor(() => !linkExists(link) && !progExists(prog), 'the link and program to be released', 20_000);
      const releasedMs = Date.now() - dropped;
      await waitFor(() => !alive(hello.pid), 'the agent on the box to exit', 5000);
      t.diagnostic(`released ${releasedMs} ms after the drop (idle timeout ${IDLE_S} s)`);
      assert.ok(releasedMs <= (IDLE_S + 3) * 1000, `released within the bound: ${releasedMs} ms`);
    } finally {
      box.setLink(true);
      await target.dispose();
    }
  });
});
