/** Where the bundled static agent binary is: next to the bundles (dist/), or in the source tree. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export class AgentBinaryMissingError extends Error {
  override readonly name = 'AgentBinaryMissingError';
  constructor(readonly tried: string[]) {
    super(
      `the bpf-agent binary was not found (looked in ${tried.join(', ')}): build it with \`npm run build\` or \`make -C remote-agent\``,
    );
  }
}

export function agentBinaryPath(): string {
  const candidates = [
    process.env.BPF_IDE_AGENT,
    join(__dirname, 'bpf-agent'),
    join(__dirname, '..', 'remote-agent', 'build', 'bpf-agent'),
    join(__dirname, '..', '..', '..', 'remote-agent', 'build', 'bpf-agent'),
  ].filter((p): p is string => !!p);
  for (const p of candidates) if (existsSync(p)) return p;
  throw new AgentBinaryMissingError(candidates);
}
