/**
 * Errors of the targets layer. Each has a fixed `name`, says what failed and where, says what to
 * do about it, and keeps the original error as `cause`. Callers (the extension, the CLI) show
 * `message` to the user as it is; they can branch on the class.
 *
 * No secrets ever go into a message: no passphrases, no passwords, no key material.
 */

/** Base class of every error this layer throws. */
export class TargetError extends Error {
  override name = 'TargetError';
  constructor(
    message: string,
    /** The target this is about: `local`, or `user@host:port`. */
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The local agent needs privileges, and neither root nor passwordless sudo is available. */
export class LocalPrivilegeError extends TargetError {
  override name = 'LocalPrivilegeError';
  constructor(
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `the local target needs root to load BPF programs, and ${detail}. ` +
        'Run VS Code (or bpf-ide) as root, or allow the agent through sudo without a password, e.g. ' +
        '`<you> ALL=(root) NOPASSWD: <path to bpf-agent>` in /etc/sudoers.d/bpf-ide (visudo -f).',
      'local',
      options,
    );
  }
}

/** Something about one SSH host: carries host and port. */
export class SshTargetError extends TargetError {
  override name = 'SshTargetError';
  constructor(
    message: string,
    readonly host: string,
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(message, `${host}:${port}`, options);
  }
}

/** Nothing listens on the port (ECONNREFUSED) or the host can't be reached. */
export class SshConnectionRefusedError extends SshTargetError {
  override name = 'SshConnectionRefusedError';
  constructor(host: string, port: number, options?: { cause?: unknown }) {
    const code = (options?.cause as NodeJS.ErrnoException | undefined)?.code;
    super(
      `could not connect to ${host} port ${port}: ${code === 'ECONNREFUSED' ? 'connection refused' : ((options?.cause as Error | undefined)?.message ?? 'unreachable')}. ` +
        'Check that sshd runs on the box and listens on that port (Port in ~/.ssh/config or ssh://host:PORT).',
      host,
      port,
      options,
    );
  }
}

/** The host name does not resolve. */
export class SshDnsError extends SshTargetError {
  override name = 'SshDnsError';
  constructor(host: string, port: number, options?: { cause?: unknown }) {
    super(
      `the host name ${host} does not resolve. Check the spelling, the HostName in ~/.ssh/config, or use an IP address.`,
      host,
      port,
      options,
    );
  }
}

/** No answer (TCP or SSH handshake) in time. */
export class SshTimeoutError extends SshTargetError {
  override name = 'SshTimeoutError';
  constructor(host: string, port: number, what: string, options?: { cause?: unknown }) {
    super(
      `${host} port ${port} did not answer in time (${what}). Check the address, a firewall, or the ProxyJump hop.`,
      host,
      port,
      options,
    );
  }
}

/** Every authentication method failed. Lists what was tried (never the secrets). */
export class SshAuthError extends SshTargetError {
  override name = 'SshAuthError';
  constructor(
    host: string,
    port: number,
    readonly user: string,
    /** What was tried, in order, e.g. `agent (2 keys)`, `publickey ~/.ssh/id_ed25519`, `password`. */
    readonly methodsTried: string[],
    /** Methods the server said it would still accept. */
    readonly methodsAllowed: string[],
    options?: { cause?: unknown },
  ) {
    super(
      `authentication as ${user} on ${host} port ${port} failed; tried: ${methodsTried.length ? methodsTried.join(', ') : 'nothing (no ssh-agent, no identity file, no password)'}` +
        `${methodsAllowed.length ? `; the server accepts: ${methodsAllowed.join(', ')}` : ''}. ` +
        'Add your public key to ~/.ssh/authorized_keys on the box, set IdentityFile in ~/.ssh/config (or --identity KEY), or load the key into ssh-agent.',
      host,
      port,
      options,
    );
  }
}

/** The host presented a key that differs from the one in known_hosts. Never accepted. */
export class HostKeyChangedError extends SshTargetError {
  override name = 'HostKeyChangedError';
  constructor(
    host: string,
    port: number,
    readonly keyType: string,
    readonly fingerprintSha256: string,
    readonly knownHostsFile: string,
    /** 1-based line numbers of the entries that no longer match. */
    readonly lines: number[],
  ) {
    super(
      `THE HOST KEY OF ${host} (port ${port}) HAS CHANGED: it now presents ${keyType} ${fingerprintSha256}, ` +
        `which does not match ${knownHostsFile}${lines.length ? ` line ${lines.join(', ')}` : ''}. ` +
        'Someone may be intercepting the connection, or the box was reinstalled. The connection was refused. ' +
        `If you know the box was reinstalled, remove the old entry (ssh-keygen -R '${port === 22 ? host : `[${host}]:${port}`}'` +
        ` -f ${knownHostsFile}) and connect again.`,
      host,
      port,
    );
  }
}

/** The host is not in known_hosts and the caller did not trust it (or can't ask, as the CLI). */
export class HostKeyUnknownError extends SshTargetError {
  override name = 'HostKeyUnknownError';
  constructor(
    host: string,
    port: number,
    readonly keyType: string,
    readonly fingerprintSha256: string,
    readonly knownHostsFile: string,
  ) {
    super(
      `the host ${host} (port ${port}) is not in ${knownHostsFile}; its ${keyType} key has the fingerprint ${fingerprintSha256}. ` +
        `Not trusted, so not connected. To trust it, compare the fingerprint with the box's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub, run on the box), ` +
        `then connect once with OpenSSH and answer yes: ssh${port === 22 ? '' : ` -p ${port}`} -o UserKnownHostsFile=${knownHostsFile} ${host} true ` +
        '(or accept it when the bpf-ide extension asks).',
      host,
      port,
    );
  }
}

/** The box is not x86_64: the bundled agent can't run there. */
export class UnsupportedArchitectureError extends SshTargetError {
  override name = 'UnsupportedArchitectureError';
  constructor(
    host: string,
    port: number,
    readonly machine: string,
  ) {
    super(
      `${host} reports the architecture ${machine} (uname -m), and the bundled bpf-agent is built for x86_64 only. ` +
        'Use an x86_64 test box, or build remote-agent for that architecture.',
      host,
      port,
    );
  }
}

/** Uploading or checking the agent on the box failed. */
export class AgentDeployError extends SshTargetError {
  override name = 'AgentDeployError';
  constructor(
    host: string,
    port: number,
    readonly step: string,
    readonly remotePath: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `deploying the agent to ${host}:${remotePath} failed at ${step}: ${detail}. ` +
        'Check free space and permissions of ~/.cache on the box, and that the sftp subsystem is enabled in its sshd_config.',
      host,
      port,
      options,
    );
  }
}

/** The remote user is not root and `sudo -n` is refused or missing. */
export class RemoteSudoError extends SshTargetError {
  override name = 'RemoteSudoError';
  constructor(
    host: string,
    port: number,
    readonly user: string,
    readonly agentPath: string,
    /** What sudo said (its stderr), or why it could not run. */
    readonly detail: string,
  ) {
    super(
      `${user}@${host} is not root and can't run the agent through sudo without a password (${detail.trim() || 'sudo -n failed'}). ` +
        `Connect as root, or add a sudoers rule on the box: \`${user} ALL=(root) NOPASSWD: ${agentPath}\` ` +
        '(in /etc/sudoers.d/bpf-ide, with visudo -f).',
      host,
      port,
    );
  }
}

/** The SSH connection dropped (keepalive timeout, socket closed, the box went away). */
export class SshConnectionLostError extends SshTargetError {
  override name = 'SshConnectionLostError';
  constructor(host: string, port: number, detail: string, options?: { cause?: unknown }) {
    super(
      `the connection to ${host} port ${port} was lost (${detail}); the agent on the box exits and releases what it loaded`,
      host,
      port,
      options,
    );
  }
}

/** A bad target spec or ssh config. */
export class TargetSpecError extends TargetError {
  override name = 'TargetSpecError';
  constructor(spec: string, detail: string) {
    super(
      `bad target "${spec}": ${detail}. Use local, ssh://user@host[:port], or a Host alias from ~/.ssh/config.`,
      spec,
    );
  }
}
