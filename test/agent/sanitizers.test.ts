/**
 * The agent under AddressSanitizer + UBSan (issue 15, item 5): `make -C remote-agent asan` builds the
 * same sources with -fsanitize=address,undefined (dynamically linked), and the key agent protocol
 * tests run against that binary (BPF_IDE_AGENT). Any sanitizer report (use-after-free, overflow,
 * leak at exit, undefined behaviour) fails this test, with the report in the message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentUnavailableReason, precondition } from './preconditions';
import { ROOT } from './agent-harness';

/**
 * The agent protocol tests that exercise the most agent code per second: the reliability suites, the
 * fuzz, streams, maps, attach types, the golden session and hostile text (load.test.ts and
 * idle-timeout.test.ts are left out: mostly kernel verification time and sleeps).
 */
const SUITES = [
  'unload-streaming',
  'big-maps',
  'bad-paths',
  'big-numbers',
  'fuzz',
  'events',
  'maps',
  'attach',
  'golden',
  'hostile-text',
];

test('the agent protocol tests pass against the AddressSanitizer + UBSan agent, with no report', async (t) => {
  if (!precondition(t, agentUnavailableReason())) return;
  execFileSync('make', ['-C', join(ROOT, 'remote-agent'), '--no-print-directory', '-s', '-j2', 'asan'], {
    stdio: 'inherit',
  });
  const logs = mkdtempSync(join(tmpdir(), 'bpf-ide-asan-'));
  t.after(() => rmSync(logs, { recursive: true, force: true }));
  // a nested `node --test` that inherits NODE_TEST_CONTEXT would report to this runner instead of running
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const files = SUITES.map((s) => join('test', 'agent', `${s}.test.ts`));
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: {
      ...env,
      BPF_IDE_AGENT: join(ROOT, 'remote-agent', 'build', 'bpf-agent-asan'),
      BPF_IDE_SANITIZED: '1',
      ASAN_OPTIONS: `log_path=${join(logs, 'asan')}:detect_leaks=1:abort_on_error=0`,
      UBSAN_OPTIONS: `log_path=${join(logs, 'ubsan')}:print_stacktrace=1`,
    },
  });
  const reports = readdirSync(logs).map((f) => `--- ${f}\n${readFileSync(join(logs, f), 'utf8').slice(0, 6000)}`);
  assert.deepEqual(reports, [], `sanitizer reports from the agent:\n${reports.join('\n')}`);
  const summary = (r.stdout.match(/^# (tests|pass|fail) \d+$/gm) ?? []).join(', ');
  const failed = r.stdout
    .split('\n')
    .filter((l) => /not ok|^\s+error:/.test(l))
    .join('\n');
  assert.equal(
    r.status,
    0,
    `the agent tests failed under the sanitizers (${summary}):\n${failed}\n${r.stderr.slice(-2000)}`,
  );
  const passed = Number(/^# pass (\d+)$/m.exec(r.stdout)?.[1] ?? 0);
  assert.ok(passed >= 20, `the agent tests ran under the sanitizers (${summary})`);
});
