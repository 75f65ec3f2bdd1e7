// The interprocedural summaries the rules use, as hover shows them for a function of the file:
// "releases its argument N" (released-arguments.ts), "returns a reference it acquired", "may return
// NULL"; and the cases the "releases its argument" summary must not claim (a release on some paths only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpfDocument } from '../../server/src/bpf-document';
import { functionSummaryNotes } from '../../server/src/diagnostics/function-summaries';
import { releasedArgumentsOf, unconditionalCalls } from '../../server/src/diagnostics/released-arguments';
import { hover } from '../../server/src/features/hover';
import type { ServerContext } from '../../server/src/server';
import { CParser, loadCLanguage } from '../../server/src/parser';

const SOURCE = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event { u32 pid; u64 ts; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, u32); __type(value, u64); } seen SEC(".maps");

static struct event *reserve_event(void)
{
	struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	return e;
}

static u64 *lookup_seen(u32 *pid)
{
	return bpf_map_lookup_elem(&seen, pid);
}

static void send_event(u64 flags, struct event *e)
{
	e->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, flags);
}

static void send_some(struct event *e)
{
	if (e->pid)
		bpf_ringbuf_submit(e, 0);
}

SEC("tp/syscalls/sys_enter_getpid")
int prog(void *ctx)
{
	struct event *e = reserve_event();
	if (!e)
		return 0;
	send_event(0, e);
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

async function doc(): Promise<BpfDocument> {
  return new BpfDocument('file:///tmp/function-summaries.bpf.c', 0, SOURCE, new CParser(await loadCLanguage()));
}

test('summaries of the file functions, in words', async () => {
  const d = await doc();
  assert.match(
    functionSummaryNotes(d, 'reserve_event').join('\n'),
    /returns a reference it acquired: release it with bpf_ringbuf_submit/,
  );
  assert.match(functionSummaryNotes(d, 'lookup_seen').join('\n'), /may return NULL/);
  assert.match(
    functionSummaryNotes(d, 'send_event').join('\n'),
    /releases its argument 2 \(`e`\) on every path, through bpf_ringbuf_submit\(\)/,
  );
  assert.deepEqual(
    functionSummaryNotes(d, 'send_some'),
    [],
    'a release on one branch only is not "releases its argument"',
  );
  d.dispose();
});

test('hover on a function of the file shows its signature and summary', async () => {
  const d = await doc();
  const at = d.positionAt(SOURCE.indexOf('send_event(0, e)') + 2);
  const h = hover({} as ServerContext, d, at);
  const value = (h?.contents as { value: string }).value;
  assert.match(value, /static void send_event\(u64 flags, struct event \*e\)/);
  assert.match(value, /releases its argument 2/);
  d.dispose();
});

test('only unconditional releases before any return count', () => {
  assert.deepEqual(unconditionalCalls('{ x = 1; bpf_ringbuf_discard(e, 0); return 0; }'), [
    ['bpf_ringbuf_discard', 'e'],
  ]);
  assert.deepEqual(unconditionalCalls('{ if (!ok) return -1; bpf_ringbuf_submit(e, 0); }'), []);
  assert.deepEqual(unconditionalCalls('{ if (x) { bpf_ringbuf_submit(e, 0); } }'), []);
  const s = releasedArgumentsOf([
    { name: 'outer', params: ['ev'], calls: [['inner', 'ev']] },
    { name: 'inner', params: ['e'], calls: [['bpf_ringbuf_submit', 'e']] },
  ]);
  assert.deepEqual(s.get('outer'), { index: 0, param: 'ev', via: 'inner' });
});

test('a return inside a block before the release ends what counts', () => {
  assert.deepEqual(unconditionalCalls('{ if (!x) { return -1; } bpf_ringbuf_submit(e, 0); }'), []);
  assert.deepEqual(unconditionalCalls('{ if (!x) { y = 1; } bpf_ringbuf_submit(e, 0); }'), [
    ['bpf_ringbuf_submit', 'e'],
  ]);
});
