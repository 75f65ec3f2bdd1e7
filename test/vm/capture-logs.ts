/**
 * Captures real 6.1 and 6.12 verifier logs for the log parser's and the catalog's fixtures: boots
 * each guest, loads the chosen test/fixtures/verifier/*.bpf.c (and test/fixtures/vm/bpf-for.bpf.c)
 * at log level 2, and writes test/fixtures/verifier/<name>_<kernel>_l2.log. Needs the VM tier's
 * preconditions (qemu, busybox-static, cached kernels, clang, bpftool).
 * Usage: node --import tsx test/vm/capture-logs.ts [fixture-name...]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentRequestError } from '../../client/src/core/agent/agent-errors';
import { bootGuest, compile, ROOT } from './vm-fixture';

const VERIFIER = join(ROOT, 'test', 'fixtures', 'verifier');
// names on the command line pick other test/fixtures/verifier programs (the catalog's: node --import tsx
// test/vm/capture-logs.ts gpl_only_call dynptr_uninit ...)
const NAMES = process.argv.slice(2);
const PROGRAMS = NAMES.length
  ? NAMES.map((n) => join(VERIFIER, `${n}.bpf.c`))
  : [
      join(ROOT, 'test', 'fixtures', 'vm', 'bpf-for.bpf.c'),
      ...['null_map_value', 'map_value_oob', 'helper_not_allowed', 'ref_leak', 'infinite_loop', 'pkt_bounds'].map((n) =>
        join(VERIFIER, `${n}.bpf.c`),
      ),
    ];

async function main(): Promise<void> {
  for (const kernel of ['6.1', '6.12']) {
    const vm = await bootGuest(kernel);
    try {
      for (const src of PROGRAMS) {
        const name = src
          .split('/')
          .pop()!
          .replace(/\.bpf\.c$/, '')
          .replace(/-/g, '_');
        let object: string;
        try {
          // clang-19, as test/fixtures/verifier/make-logs.mjs compiles these fixtures
          object = readFileSync(compile(src, process.env.CLANG ?? 'clang-19')).toString('base64');
        } catch (e) {
          console.error(`${name}: does not compile: ${String((e as { stderr?: Buffer }).stderr ?? e).slice(0, 300)}`);
          continue;
        }
        let log = '';
        try {
          const r = await vm.agent!.request('load', { object, log_level: 2, partial: true });
          log = r.failed?.[0]?.verifier.log ?? r.programs[0]?.verifier.log ?? '';
          await vm.agent!.request('unload', { handle: r.handle });
        } catch (e) {
          log = e instanceof AgentRequestError ? (e.body.log ?? '') : '';
          if (!log) console.error(`${name} on ${kernel}: ${(e as Error).message}`);
        }
        if (!log) continue;
        const out = join(VERIFIER, `${name}_${kernel}_l2.log`);
        writeFileSync(out, log.endsWith('\n') ? log : log + '\n');
        console.log(`${out}: ${log.split('\n').length} lines, ${vm.hello!.kernel.release}`);
      }
    } finally {
      await vm.dispose();
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
