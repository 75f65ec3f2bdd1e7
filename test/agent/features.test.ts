/**
 * features (probed on this kernel) and btf_dump (vmlinux.h in chunks, compiles with clang).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentClient } from '../../client/src/core/agent/agent-client';
import { agentUnavailableReason, precondition } from './preconditions';
import { startAgent, tempDir } from './agent-harness';

const reason = agentUnavailableReason();

describe('agent features and btf_dump', { concurrency: false }, () => {
  let agent: AgentClient;
  before(async () => {
    if (!reason) agent = await startAgent();
  });
  after(async () => {
    await agent?.shutdown();
  });

  test('features: types, helpers per program type (own probe), kfuncs, tracepoints, BTF functions', async (t) => {
    if (!precondition(t, reason)) return;
    const f = await agent.request('features', {});
    assert.ok(f.program_types!.includes('xdp') && f.program_types!.includes('tracepoint'));
    assert.ok(f.map_types!.includes('ringbuf') && f.map_types!.includes('hash'));
    const h = f.helpers!;
    assert.ok(h.xdp.includes('bpf_map_lookup_elem'));
    // the case bpftool gets wrong: XDP may not call bpf_get_stack, kprobes may
    assert.equal(h.xdp.includes('bpf_get_stack'), false);
    assert.ok(h.kprobe.includes('bpf_get_stack'));
    assert.notDeepEqual(h.xdp, h.kprobe);
    assert.ok(f.kfuncs!.length > 10);
    assert.ok(f.tracepoints!.includes('sched:sched_process_exec'));
    assert.ok(f.btf_functions!.includes('do_nanosleep') || f.btf_functions!.length > 1000);
    assert.ok(Array.isArray(f.lsm_hooks));
    assert.equal(f.btf, true);
    const only = await agent.request('features', { include: ['map_types'] });
    assert.equal(only.helpers, undefined);
    assert.ok(only.map_types);
  });

  test('btf_dump: vmlinux.h in chunks reassembles and compiles with clang -target bpf', async (t) => {
    if (!precondition(t, reason)) return;
    let offset = 0;
    const parts: string[] = [];
    let total = 0;
    for (;;) {
      const c = await agent.request('btf_dump', { offset, length: 1 << 20 });
      parts.push(c.data);
      total = c.total_bytes;
      offset += c.length;
      if (c.done) break;
    }
    const text = parts.join('');
    assert.equal(Buffer.byteLength(text), total);
    assert.ok(total > 1_000_000);
    assert.match(text, /struct task_struct \{/);
    const bpftool = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 64 << 20,
    }).toString();
    assert.ok(text === bpftool, 'byte for byte the header bpftool writes');
    const dir = tempDir();
    writeFileSync(join(dir, 'vmlinux.h'), text);
    writeFileSync(join(dir, 'core.bpf.c'), '#include "vmlinux.h"\nint f(struct task_struct *t) { return t->pid; }\n');
    execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', join(dir, 'core.bpf.c'), '-o', join(dir, 'core.o')]);
    await assert.rejects(agent.request('btf_dump', { offset: total + 1 }), { code: 'invalid_params' });
  });
});
