/**
 * scripts/measure-real-programs.mjs on a small tree laid out as public XDP/tc projects are (a `headers/` dir
 * above the program, a `BPF_CFLAGS` file, *.c programs next to user-space *.c files), without the load
 * (--no-load): what it takes as programs, the include paths and defines it compiles them with, and its JSON.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { haveCommand, need } from '../support/preconditions';

const SCRIPT = resolve(__dirname, '..', '..', 'scripts', 'measure-real-programs.mjs');

let dir: string;
const put = (path: string, text: string) => {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'bpf-ide-measure-'));
  put('vmlinux.h', '/* the programs here do not use it; its presence spares bpftool */\n');
  // <xdp/parse.h> lives in headers/ at the top of the tree, as in xdp-tools and bpf-examples
  put('headers/xdp/parse.h', '#define ETH_LEN 14\n');
  put('BPF_CFLAGS', '-DHAVE_FEATURE\n');
  put(
    'tools/fwd/fwd.bpf.c',
    `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdp/parse.h>
#ifndef HAVE_FEATURE
#error BPF_CFLAGS was not read
#endif
SEC("xdp")
int fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (data + ETH_LEN > data_end)
		return XDP_DROP;
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`,
  );
  // a BPF program named *.c (bpf-examples, xdp-tutorial) and its user-space loader beside it
  put(
    'tools/cls/filter.c',
    `#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
SEC("tc")
int cls(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}
char LICENSE[] SEC("license") = "GPL";
`,
  );
  put('tools/cls/loader.c', '#include <stdio.h>\nint main(void)\n{\n\treturn 0;\n}\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('programs are *.bpf.c and *.c with SEC() and no main(); headers/ above and BPF_CFLAGS apply', (t) => {
  if (!need(t, haveCommand('clang'), 'needs clang')) return;
  const out = join(dir, 'out.json');
  const r = spawnSync(process.execPath, [SCRIPT, dir, '--no-load', '--json', out], {
    encoding: 'utf8',
    timeout: 120000,
  });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const j = JSON.parse(readFileSync(out, 'utf8')) as {
    found: number;
    compiled: number;
    passing: number;
    results: { file: string; compiled: boolean; defines?: string[]; reason?: string }[];
    findings: { severity: string }[];
  };
  assert.deepEqual(j.results.map((x) => x.file).sort(), ['tools/cls/filter.c', 'tools/fwd/fwd.bpf.c']);
  assert.equal(j.compiled, 2, JSON.stringify(j.results));
  assert.deepEqual(j.results.find((x) => x.file.endsWith('fwd.bpf.c'))?.defines, ['HAVE_FEATURE']);
  assert.equal(j.passing, 2);
  assert.deepEqual(
    j.findings.filter((f) => f.severity === 'error'),
    [],
  );
  assert.match(r.stdout, /^BENCH lsp_false_errors_real_programs ours=0 baseline=0 ratio=1 \(2 programs/m);
});
