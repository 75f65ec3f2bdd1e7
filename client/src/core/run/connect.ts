/**
 * Connects to a target by its spec (`local`, `ssh://user@host[:port]`, an ssh config alias) and
 * returns a ready agent: hello received.
 */
import { AgentClient } from '../agent/agent-client';
import { agentBinaryPath } from '../agent-path';

export interface ConnectOptions {
  identity?: string;
  knownHosts?: string;
  /** Trust an unknown host key (the CLI's --accept-new-host-key). Changed keys are always refused. */
  acceptNewHostKey?: boolean;
}

export interface ConnectedTarget {
  client: AgentClient;
  description: string;
  remote: boolean;
  dispose(): Promise<void>;
}

export class UnsupportedTargetError extends Error {
  override readonly name = 'UnsupportedTargetError';
}

export async function connectTarget(spec: string, _o: ConnectOptions = {}): Promise<ConnectedTarget> {
  if (spec === 'local') {
    const sudo = process.getuid?.() !== 0;
    const client = AgentClient.spawn(agentBinaryPath(), { sudo });
    await client.hello;
    return {
      client,
      description: 'local',
      remote: false,
      dispose: async () => {
        await client.shutdown().catch(() => undefined);
      },
    };
  }
  throw new UnsupportedTargetError(`target "${spec}": only "local" is supported by this build (SSH targets come next)`);
}
