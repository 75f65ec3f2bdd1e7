/**
 * The targets layer in one import: where bpf-agent runs (`local`, a box over SSH, or a kernel booted
 * in qemu), and createTarget() to go from a spec (`--target local|vm:6.1|ssh://user@host[:port]|alias`)
 * to a Target.
 *
 * No `vscode` import.
 */
import { LocalTarget, type LocalTargetOptions } from './local-target';
import { SshTarget, type SshTargetOptions } from './ssh-target';
import { parseTargetSpec, type Target } from './target';
import { VmTarget, type VmTargetOptions } from './vm-target';

export * from './target';
export * from './target-errors';
export { LocalTarget, type LocalTargetOptions } from './local-target';
export { SshTarget, type SshTargetOptions, type SshConnectStats } from './ssh-target';
export { VmTarget, type VmTargetOptions, type VmBootStats } from './vm-target';
export { SshConfig, type SshHostConfig, type JumpHost } from './ssh-config';
export { KnownHosts, fingerprintSha256, knownHostsName } from './known-hosts';
export type { SshPrompts, UnknownHostInfo } from './ssh-connect';
export type { AgentBinary, DeployResult } from './agent-deploy';

/** Options for createTarget: what both kinds need, plus each kind's own. */
export type CreateTargetOptions = Omit<LocalTargetOptions, 'agentPath'> &
  Omit<SshTargetOptions, 'spec' | 'agent' | 'reconnect'> & {
    /** The bundled agent: its path, and its version (names the remote cache folder). */
    agent: { path: string; version: string };
    reconnect?: SshTargetOptions['reconnect'];
    /** For `vm:` targets: boot options (time limit, memory, extra kernel arguments). */
    vm?: Omit<VmTargetOptions, 'kernel' | 'agentPath'>;
  };

/** A Target for a spec: `local`, `ssh://user@host[:port]`, `user@alias` or an ssh config Host alias. */
export function createTarget(spec: string, options: CreateTargetOptions): Target {
  const parsed = parseTargetSpec(spec);
  if (parsed.kind === 'local') {
    return new LocalTarget({
      agentPath: options.agent.path,
      sudo: options.sudo,
      sudoPath: options.sudoPath,
      idleTimeoutSeconds: options.idleTimeoutSeconds,
      reconnect: options.reconnect,
      requestTimeoutMs: options.requestTimeoutMs,
      helloTimeoutMs: options.helloTimeoutMs,
    });
  }
  if (parsed.kind === 'vm') {
    return new VmTarget({
      ...options.vm,
      kernel: parsed.kernel,
      agentPath: options.agent.path,
      requestTimeoutMs: options.vm?.requestTimeoutMs ?? options.requestTimeoutMs,
    });
  }
  return new SshTarget({ ...options, spec });
}
