/**
 * A "box with its own address" on this machine: a network namespace `bpfide-<random>` joined to
 * the root namespace by a veth pair, 10.200.X.1/24 on our side and 10.200.X.2/24 inside. Only
 * namespaces and interfaces this fixture created are touched; dispose deletes them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Why netns tests can't run here, or null. */
export function netnsUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'needs root for ip netns';
  if (spawnSync('ip', ['-V'], { stdio: 'ignore' }).status !== 0) return 'iproute2 (`ip`) is not installed';
  return null;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class NetnsBox {
  private constructor(
    readonly name: string,
    /** Our end of the veth pair (root namespace). */
    readonly hostIf: string,
    readonly nsIf: string,
    readonly hostAddress: string,
    /** The box's address (inside the namespace). */
    readonly address: string,
  ) {}

  /** Creates the namespace and the veth pair, picking a 10.200.X.0/24 that is not in use. */
  static create(): NetnsBox {
    const tag = randomBytes(3).toString('hex');
    const used = ip('-4', '-o', 'addr', 'show') + ip('-4', 'route', 'show');
    let x = 0;
    for (let i = 0; i < 50 && !x; i++) {
      const cand = 1 + Math.floor(Math.random() * 254);
      if (!used.includes(`10.200.${cand}.`)) x = cand;
    }
    if (!x) throw new Error('no free 10.200.X.0/24 subnet');
    const box = new NetnsBox(`bpfide-${tag}`, `bih${tag}`, `bin${tag}`, `10.200.${x}.1`, `10.200.${x}.2`);
    try {
      ip('netns', 'add', box.name);
      ip('link', 'add', box.hostIf, 'type', 'veth', 'peer', 'name', box.nsIf);
      ip('link', 'set', box.nsIf, 'netns', box.name);
      ip('addr', 'add', `${box.hostAddress}/24`, 'dev', box.hostIf);
      ip('link', 'set', box.hostIf, 'up');
      box.exec('ip', 'addr', 'add', `${box.address}/24`, 'dev', box.nsIf);
      box.exec('ip', 'link', 'set', box.nsIf, 'up');
      box.exec('ip', 'link', 'set', 'lo', 'up');
    } catch (err) {
      box.dispose();
      throw err;
    }
    return box;
  }

  /** Runs a command inside the namespace. */
  exec(cmd: string, ...args: string[]): string {
    return ip('netns', 'exec', this.name, cmd, ...args);
  }

  /** Takes the box's end of the link down (packets vanish: no FIN, no RST) or up again. */
  setLink(up: boolean): void {
    this.exec('ip', 'link', 'set', this.nsIf, up ? 'up' : 'down');
  }

  /** Deletes the veth pair and the namespace (what this fixture created, nothing else). */
  dispose(): void {
    spawnSync('ip', ['link', 'del', this.hostIf], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', this.name], { stdio: 'ignore' });
  }
}
