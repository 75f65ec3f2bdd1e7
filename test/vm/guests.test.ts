/**
 * Real 6.1 and 6.12 kernels booted in qemu (one guest per kernel for this file), the agent on
 * their virtio-serial port: hello, every template loaded, the ones this machine's kernel refuses (kprobe,
 * fentry, lsm) attached and seen working, triggered with the guest-only `exec`; then the 6.1 guest
 * is disconnected (nothing left: no qemu, no socket dir) and the 6.12 guest is crashed on purpose
 * (sysrq) to check that a panic is reported as one, with the console's last lines.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import type { VmTarget } from '../../client/src/core/targets/vm-target';
import { targetVmlinux } from '../../client/src/core/templates';
import { GuestFailureError } from '../../client/src/core/vm/vm-errors';
import { waitFor } from '../agent/agent-harness';
import { alive, bootGuest, compile, ROOT, vmPrecondition, vmUnavailableReason } from './vm-fixture';

const reason = vmUnavailableReason();
const template = (id: string) => compile(join(ROOT, 'bpf-templates', id, `${id}.bpf.c`));

/** Loads an object into the guest (sent as base64: the guest has no view of this file system). */
async function load(agent: AgentClient, object: string) {
  const { readFileSync } = await import('node:fs');
  const r = await agent.request('load', { object: readFileSync(object).toString('base64') });
  return { ...r, map: (name: string) => r.maps.find((m) => m.name === name)!.id };
}

/** Subscribes to a ring buffer and collects its decoded events. */
async function collect(agent: AgentClient, mapId: number, type: string) {
  const events: Record<string, unknown>[] = [];
  agent.on('ringbuf_event', (e) => {
    if (e.map_id === mapId) events.push(e.data as Record<string, unknown>);
  });
  await agent.request('ringbuf_subscribe', { map_id: mapId, type });
  return events;
}

for (const kernel of ['6.1', '6.12'] as const) {
  describe(`vm:${kernel} guest`, { concurrency: false }, () => {
    let vm: VmTarget;
    let agent: AgentClient;

    before(async () => {
      if (reason) return;
      vm = await bootGuest(kernel);
      agent = vm.agent!;
    });
    after(async () => {
      await vm?.dispose();
    });

    test('boots to the agent hello: its own release, BTF, BPF LSM active, exec offered', async (t) => {
      if (!vmPrecondition(t)) return;
      const hello = vm.hello!;
      assert.match(
        hello.kernel.release,
        kernel === '6.1' ? /^6\.1\.0-\d+-cloud-amd64$/ : /^6\.12\.\d+\+deb12-cloud-amd64$/,
      );
      assert.equal(hello.kernel.btf, true);
      assert.equal(hello.privileges.privileged, true);
      assert.ok(hello.capabilities.includes('exec'));
      const lsm = await agent.request('exec', { argv: ['cat', '/sys/kernel/security/lsm'] });
      assert.match(lsm.stdout, /\bbpf\b/);
      assert.ok(vm.lastBoot!.bootMs > 0 && alive(vm.qemuPid));
    });

    test("every template loads in the guest (objects built against this machine's vmlinux.h: CO-RE relocates them)", async (t) => {
      if (!vmPrecondition(t)) return;
      const ids = readdirSync(join(ROOT, 'bpf-templates')).filter((d) =>
        existsSync(join(ROOT, 'bpf-templates', d, 'template.json')),
      );
      assert.ok(ids.length >= 10, ids.join(' '));
      for (const id of ids) {
        const l = await load(agent, template(id));
        assert.ok(l.programs.length > 0 && !(l.failed ?? []).length, `${id}: ${JSON.stringify(l.failed ?? [])}`);
        await agent.request('unload', { handle: l.handle });
      }
    });

    for (const id of ['kprobe', 'fentry'] as const) {
      test(`${id} template: attaches on do_unlinkat; an unlink in the guest arrives as an event`, async (t) => {
        if (!vmPrecondition(t)) return;
        const l = await load(agent, template(id));
        const { links } = await agent.request('attach', { handle: l.handle });
        assert.equal(links.length, 2, `${id}: entry and exit attached`);
        const events = await collect(agent, l.map('events'), 'struct unlink_event');
        const name = `bpfide_${id}_${process.pid}`;
        const r = await agent.request('exec', { argv: ['sh', '-c', `touch /tmp/${name} && rm /tmp/${name}`] });
        assert.equal(r.exit_code, 0, r.stderr);
        const e = await waitFor(
          () => events.find((x) => String(x.filename).includes(name)),
          `an unlink event for ${name}`,
        );
        assert.equal(e.ret, 0);
        assert.match(String(e.comm), /rm/);
        await agent.request('unload', { handle: l.handle });
      });
    }

    test('lsm template: attaches on bprm_check_security; an exec in the guest is counted for uid 0', async (t) => {
      if (!vmPrecondition(t)) return;
      const l = await load(agent, template('lsm'));
      const { links } = await agent.request('attach', { handle: l.handle });
      assert.equal(links.length, 1);
      await agent.request('exec', { argv: ['/bin/true'] });
      const entry = await waitFor(async () => {
        const d = await agent.request('map_dump', { map_id: l.map('execs') });
        return d.entries.find((x) => x.key === 0);
      }, 'execs[0]');
      assert.ok(Number((entry.value as { allowed: number }).allowed) >= 1, JSON.stringify(entry.value));
      await agent.request('unload', { handle: l.handle });
    });

    test("Generate vmlinux.h for the VM target: the guest's own BTF as C", async (t) => {
      if (!vmPrecondition(t)) return;
      const h = await targetVmlinux(agent, `vm:${kernel}`).generate();
      assert.match(h, /^struct task_struct \{$/m);
      // the numeric iterators came in 6.4: the 6.1 guest's header has no such type, 6.12's has
      if (kernel === '6.1') assert.doesNotMatch(h, /^struct bpf_iter_num \{$/m);
      else assert.match(h, /^struct bpf_iter_num \{$/m);
    });

    if (kernel === '6.1') {
      test('disconnect: the guest powers off, qemu is gone and its socket dir removed', async (t) => {
        if (!vmPrecondition(t)) return;
        const pid = vm.qemuPid;
        const dir = vm.lastBoot!.socketDir;
        assert.ok(alive(pid) && existsSync(dir));
        const t0 = Date.now();
        await vm.disconnect();
        assert.ok(!alive(pid), `qemu ${pid} is gone`);
        assert.ok(!existsSync(dir), `${dir} is removed`);
        assert.ok(Date.now() - t0 < 10_000);
      });
    } else {
      test('a kernel crash in the guest is reported as a panic with the console tail; nothing is left', async (t) => {
        if (!vmPrecondition(t)) return;
        const pid = vm.qemuPid;
        const dir = vm.lastBoot!.socketDir;
        const lost = new Promise<Error>((r) => vm.once('lost', r));
        // sysrq-c: the kernel crashes on purpose (a NULL dereference), as the 6.18 verifier once did
        await agent.request('exec', { argv: ['sh', '-c', 'echo c > /proc/sysrq-trigger'] }).catch(() => undefined);
        const err = await Promise.race([
          lost,
          new Promise<never>((_, j) => setTimeout(() => j(new Error('no lost event in 30 s')), 30_000)),
        ]);
        assert.ok(err instanceof GuestFailureError, String(err));
        assert.equal(err.kind, 'panic');
        assert.match(err.message, /guest kernel crashed while connected: .*(Kernel panic|sysrq)/);
        assert.match(err.consoleTail, /sysrq/i);
        await waitFor(() => !alive(pid) && !existsSync(dir), `qemu ${pid} gone and ${dir} removed`);
      });
    }
  });
}
