/**
 * The rows of the target picker (`bpf-ide: Select Target`): this machine, the concrete Hosts of ~/.ssh/config,
 * kernels booted in a VM (vm:6.1, vm:6.12), the targets used before, each once, the current one marked, then a row to type any target. No `vscode` here:
 * the rows are plain objects the picker shows as they are.
 */

export interface TargetPick {
  label: string;
  description?: string;
  /** The target spec the row stands for; none: "enter a target". */
  spec?: string;
}

/** A kernel the picker offers as a `vm:` target (see vmTargetRows in core/vm/kernel-cache). */
export interface VmPick {
  spec: string;
  description: string;
}

/** The picker's rows: local, ~/.ssh/config Hosts, VM kernels, recent targets (each once), then "enter a target". */
export function targetPicks(
  current: string,
  sshHosts: string[],
  recent: string[],
  vmKernels: VmPick[] = [],
): TargetPick[] {
  const seen = new Set<string>();
  const row = (spec: string, label: string, description: string): TargetPick | undefined => {
    if (seen.has(spec)) return undefined;
    seen.add(spec);
    return { label, description: spec === current ? `${description} · current` : description, spec };
  };
  const rows: (TargetPick | undefined)[] = [
    row('local', '$(vm) local', 'this machine'),
    ...sshHosts.map((h) => row(h, `$(remote) ${h}`, 'Host in ~/.ssh/config')),
    ...vmKernels.map((k) => row(k.spec, `$(server-environment) ${k.spec}`, k.description)),
    ...recent.map((r) => row(r, `$(history) ${r}`, 'used before')),
    row(current, `$(remote) ${current}`, 'from the bpfIde.target setting'),
  ];
  return [
    ...rows.filter((r): r is TargetPick => r !== undefined),
    { label: '$(edit) Enter a target...', description: 'ssh://user@host[:port], a Host alias or vm:/path/to/vmlinuz' },
  ];
}
