// The BPF snippets (snippets/bpf-c.code-snippets): well-formed, and what they expand to (with their
// default placeholder values, as VS Code inserts them) compiles with clang -target bpf and gets no
// diagnostic from the language server.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { bpfTargetArch } from '../../client/src/core/templates';
import { check } from '../../server/src/check';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const SNIPPETS = join(ROOT, 'snippets', 'bpf-c.code-snippets');
const ARCH = bpfTargetArch(process.arch);

interface Snippet {
  prefix: string;
  description: string;
  body: string[];
}
const snippets = JSON.parse(readFileSync(SNIPPETS, 'utf8')) as Record<string, Snippet>;
const byPrefix = new Map(Object.values(snippets).map((s) => [s.prefix, s]));

/** The text VS Code inserts when every placeholder keeps its default (choices: the first). */
function expandSnippet(body: string[]): string {
  const text = body.join('\n');
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && '\\$}'.includes(text[i + 1])) {
      out += text[++i];
    } else if (c === '$' && /\d/.test(text[i + 1] ?? '')) {
      while (/\d/.test(text[i + 1] ?? '')) i++; // $1, $0: an empty tab stop
    } else if (c === '$' && text[i + 1] === '{') {
      // ${1}, ${1:default}, ${1|first,second|} (nested placeholders are not used by our snippets)
      const m = /^\$\{\d+(?::((?:\\.|[^}\\])*)|\|([^|]*)\|)?\}/.exec(text.slice(i));
      assert.ok(m, `unsupported placeholder at: ${text.slice(i, i + 30)}`);
      out += m[2] !== undefined ? m[2].split(',')[0] : (m[1] ?? '').replace(/\\([\\$}])/g, '$1');
      i += m[0].length - 1;
    } else out += c;
  }
  return out;
}

const HEADER = `// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

struct event {
	int pid;
	char comm[16];
};
`;
const LICENSE = '\nchar LICENSE[] SEC("license") = "Dual BSD/GPL";\n';
const MAPS = ['bpf-map-hash', 'bpf-map-array', 'bpf-map-ringbuf', 'bpf-map-stack-trace'];

/** One compilable file per snippet: the snippet in the context it is meant for. */
function files(): Map<string, string> {
  const x = (p: string) => expandSnippet(byPrefix.get(p)!.body);
  const maps = MAPS.map(x).join('\n');
  const out = new Map<string, string>();
  out.set('bpf-file', x('bpf-file'));
  out.set('top-level', `${HEADER}\n${maps}\n${x('bpf-knob')}\n\n${x('bpf-license')}\n`);
  for (const s of byPrefix.keys()) {
    if (s.startsWith('bpf-prog-')) out.set(s, `${HEADER}\n${maps}\n${x(s)}\n${LICENSE}`);
  }
  // statement snippets, inside a tracepoint program that has what their defaults name
  const stmt = (snippet: string, decls: string, tail = '') =>
    `${HEADER}\n${maps}\nSEC("tp/sched/sched_process_exec")\nint stmt(void *ctx)\n{\n${decls}\n${indent(x(snippet))}\n${tail}\treturn 0;\n}\n${LICENSE}`;
  const indent = (s: string) => s.replace(/^(?=.)/gm, '\t');
  out.set('bpf-lookup', stmt('bpf-lookup', '\tu32 key = 0;\n', '\t(*val)++;\n'));
  out.set('bpf-lookup-or-init', stmt('bpf-lookup-or-init', '\tu32 key = 0;\n'));
  out.set('bpf-ringbuf-reserve', stmt('bpf-ringbuf-reserve', ''));
  out.set('bpf-ringbuf-output', stmt('bpf-ringbuf-output', '\tstruct event e = {};\n'));
  out.set(
    'bpf-core-read',
    stmt(
      'bpf-core-read',
      '\tstruct task_struct *task = (void *)bpf_get_current_task();\n',
      '\tbpf_printk("%d", ppid);\n',
    ),
  );
  out.set(
    'bpf-packet+bpf-header',
    `${HEADER}\nSEC("xdp")\nint pkt(struct xdp_md *ctx)\n{\n${indent(x('bpf-packet'))}\n${indent(x('bpf-header'))}\n\treturn iph->protocol ? XDP_PASS : XDP_DROP;\n}\n${LICENSE}`,
  );
  return out;
}

let work: string;
let vmlinuxDir: string | null = null;
let problem: string | null = null;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'bpf-ide-snippets-'));
  if (!existsSync('/sys/kernel/btf/vmlinux')) problem = 'this kernel has no BTF (/sys/kernel/btf/vmlinux)';
  else if (spawnSync('clang', ['--version']).status !== 0) problem = 'clang is not installed';
  else {
    const r = spawnSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], {
      maxBuffer: 256 << 20,
    });
    if (r.status !== 0) problem = `bpftool could not dump the kernel BTF: ${r.error?.message ?? r.stderr.toString()}`;
    else {
      vmlinuxDir = work;
      writeFileSync(join(work, 'vmlinux.h'), r.stdout);
    }
  }
});
after(() => rmSync(work, { recursive: true, force: true }));

function need(t: TestContext): boolean {
  if (!problem) return true;
  if (process.env.CI === 'true') assert.fail(`cannot run under CI: ${problem}`);
  t.skip(problem);
  return false;
}

test("snippets are well-formed: bpf- prefixes, unique, described; the issue's kinds are there", () => {
  const prefixes = Object.values(snippets).map((s) => s.prefix);
  assert.equal(new Set(prefixes).size, prefixes.length, 'unique prefixes');
  for (const [name, s] of Object.entries(snippets)) {
    assert.match(s.prefix, /^bpf-[a-z0-9-]+$/, name);
    assert.ok(s.description.length > 10, `${name}: description`);
    assert.ok(Array.isArray(s.body) && s.body.length > 0, `${name}: body`);
    assert.ok(!s.body.some((l) => / +$/.test(l)), `${name}: trailing spaces`);
  }
  // map definitions, program skeletons, NULL-checked lookups, bounds-checked packet access, ring buffer reserve/submit
  for (const p of ['bpf-map-hash', 'bpf-prog-xdp', 'bpf-lookup', 'bpf-packet', 'bpf-header', 'bpf-ringbuf-reserve'])
    assert.ok(byPrefix.has(p), p);
});

test('expansion follows VS Code snippet syntax (defaults, first choice, escapes)', () => {
  assert.equal(expandSnippet(['${1:u64} *${2:val} = x;$0']), 'u64 *val = x;');
  assert.equal(expandSnippet(['return ${2|XDP_PASS,TC_ACT_OK|};']), 'return XDP_PASS;');
  assert.equal(expandSnippet(['"%d\\\\n" \\$ \\}']), '"%d\\n" $ }');
});

test('every snippet, expanded in its context, builds with clang -target bpf -Wall -Werror', async (t) => {
  if (!need(t)) return;
  const failures: string[] = [];
  for (const [name, text] of files()) {
    const src = join(work, `${name}.bpf.c`);
    writeFileSync(src, text);
    try {
      await run('clang', [
        '-O2',
        '-g',
        '-Wall',
        '-Werror',
        '-target',
        'bpf',
        `-D__TARGET_ARCH_${ARCH}`,
        `-I${vmlinuxDir}`,
        '-c',
        src,
        '-o',
        src.replace(/\.c$/, '.o'),
      ]);
    } catch (err) {
      failures.push(`${name}: ${(err as { stderr?: string }).stderr ?? String(err)}\n${text}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('the language server reports nothing on the expanded snippets', async (t) => {
  if (!need(t)) return;
  const paths = [...files()].map(([name, text]) => {
    const p = join(work, `ls-${name}.bpf.c`);
    writeFileSync(p, text);
    return p;
  });
  const { findings } = await check({
    files: paths,
    json: true,
    includeDirs: [vmlinuxDir!],
    defines: [`__TARGET_ARCH_${ARCH}`],
    clang: true,
    disabledRules: [],
  });
  assert.deepEqual(
    findings.map((f) => `${f.file}:${f.line}: ${f.code}: ${f.message}`),
    [],
  );
});
