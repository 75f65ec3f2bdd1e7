/**
 * Connects to a target by its spec (`local`, `ssh://user@host[:port]`, an ssh config alias) through the
 * targets layer and returns a ready agent (hello received). Used by the CLI and the editor alike.
 */
import type { AgentClient } from '../agent/agent-client';
import { agentBinaryPath } from '../agent-path';
import { createTarget, type SshPrompts, type Target, type TargetStateChange } from '../targets';

/** The agent's version names its cache folder on SSH boxes; the sha256 makes each build distinct anyway. */
export const AGENT_VERSION = '0.1.0';

export interface ConnectOptions extends Partial<SshPrompts> {
  identity?: string;
  knownHosts?: string;
  /** Trust an unknown host key without asking (the CLI's --accept-new-host-key). Changed keys are always refused. */
  acceptNewHostKey?: boolean;
  /** Progress and diagnostics lines (never secrets). */
  log?: (line: string) => void;
  /** Reconnect after a drop (the editor does; the CLI doesn't). */
  reconnect?: boolean;
  /** The agent's --idle-timeout in seconds (0: never; default the agent's 30 s): a silent drop releases everything within it. */
  idleTimeoutSeconds?: number;
  /** State changes while connecting (a VM target's `fetching kernel`, `booting`). */
  onState?: (change: TargetStateChange) => void;
}

export interface ConnectedTarget {
  client: AgentClient;
  description: string;
  remote: boolean;
  target: Target;
  dispose(): Promise<void>;
}

export async function connectTarget(spec: string, o: ConnectOptions = {}): Promise<ConnectedTarget> {
  const target = createTarget(spec, {
    agent: { path: agentBinaryPath(), version: AGENT_VERSION },
    identityFiles: o.identity ? [o.identity] : undefined,
    knownHostsFile: o.knownHosts,
    idleTimeoutSeconds: o.idleTimeoutSeconds,
    // Where the agent is cached on SSH boxes (default ~/.cache/bpf-ide/agent); tests point it at a temp dir.
    remoteCacheDir: process.env.BPF_IDE_REMOTE_CACHE_DIR || undefined,
    reconnect: o.reconnect ? undefined : false,
    passphrase: o.passphrase,
    password: o.password,
    secretAccepted: o.secretAccepted,
    confirmUnknownHost:
      o.confirmUnknownHost ??
      (o.acceptNewHostKey
        ? async (info) => {
            o.log?.(
              `trusting ${info.host}:${info.port} (${info.keyType} ${info.fingerprintSha256}) and adding it to ${info.knownHostsFile}`,
            );
            return true;
          }
        : undefined),
  });
  if (o.log) target.on('log', (line: string) => o.log!(line));
  if (o.onState) target.on('state', o.onState);
  try {
    const client = await target.connect();
    return {
      client,
      description: target.describe(),
      remote: target.kind !== 'local',
      target,
      dispose: async () => {
        await target.dispose();
      },
    };
  } catch (e) {
    await Promise.resolve(target.dispose()).catch(() => undefined);
    throw e;
  }
}
