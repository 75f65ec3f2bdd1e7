/**
 * `bpf-ide list [--target local|vm:6.1|ssh://user@host[:port]] [--identity KEY] [--known-hosts FILE]
 *   [--accept-new-host-key] [--json]`
 * Every BPF program and map on the target, whoever loaded them (what `bpftool prog show` / `map show` list), through
 * the agent: the box needs no bpftool. Exit: 0 listed, 1 could not connect or list, 2 bad usage.
 */
import type { ListedMap, ListedProgram } from '../agent/agent-protocol';
import { connectTarget } from './connect';
import { type TargetArgs, targetOption, UsageError } from './run-command';

export const LIST_USAGE = `usage: bpf-ide list [--target local|vm:6.1|ssh://user@host[:port]] [--identity KEY] [--known-hosts FILE]
                     [--accept-new-host-key] [--json]
  Every BPF program and map on the target, whoever loaded them, through the agent (the box needs no bpftool).
  --json prints {target, programs: [{id, name, type, tag, uid, verified_insns, map_ids, run_cnt, run_time_ns, ...}],
  maps: [{id, name, type, key_size, value_size, max_entries, flags, ...}]}.
  Exit: 0 listed, 1 could not connect or list, 2 bad usage.`;

export interface ListOptions extends TargetArgs {
  json: boolean;
}

export function parseListArgs(argv: string[]): ListOptions {
  const o: ListOptions = { target: 'local', json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new UsageError(`${a} needs a value`);
      return x;
    };
    if (targetOption(a, v, o)) continue;
    if (a === '--json') o.json = true;
    else throw new UsageError(a.startsWith('-') ? `unknown option ${a}` : `unexpected argument ${a}`);
  }
  return o;
}

/** Two aligned tables, as a terminal user reads them. */
export function formatList(target: string, programs: ListedProgram[], maps: ListedMap[]): string {
  const table = (head: string[], rows: string[][]) => {
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    return [head, ...rows]
      .map((r) =>
        r
          .map((c, i) => c.padEnd(w[i]))
          .join('  ')
          .trimEnd(),
      )
      .join('\n');
  };
  const progRows = programs.map((p) => [
    String(p.id),
    p.type,
    p.name,
    String(p.verified_insns),
    p.map_ids.join(','),
    p.handle ? 'this agent' : `uid ${p.uid}`,
  ]);
  const mapRows = maps.map((m) => [
    String(m.id),
    m.type,
    m.name,
    `${m.key_size}/${m.value_size}`,
    String(m.max_entries),
  ]);
  return [
    `${programs.length} programs and ${maps.length} maps on ${target}`,
    '',
    table(['ID', 'TYPE', 'NAME', 'INSNS', 'MAPS', 'LOADED BY'], progRows),
    '',
    table(['ID', 'TYPE', 'NAME', 'KEY/VALUE BYTES', 'MAX ENTRIES'], mapRows),
  ].join('\n');
}

export async function runListCommand(argv: string[]): Promise<number> {
  let o: ListOptions;
  try {
    o = parseListArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bpf-ide list: ${e.message}\n${LIST_USAGE}\n`);
      return 2;
    }
    throw e;
  }
  let target;
  try {
    target = await connectTarget(o.target, o);
  } catch (e) {
    process.stderr.write(`bpf-ide list: ${(e as Error).message}\n`);
    return 1;
  }
  try {
    const r = await target.client.request('list', {});
    if (o.json) process.stdout.write(JSON.stringify({ target: target.description, ...r }, null, 2) + '\n');
    else process.stdout.write(formatList(target.description, r.programs, r.maps) + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`bpf-ide list: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await target.dispose();
  }
}
