/**
 * `bpf-ide: Select Target` (also the status bar item): a quick pick of this machine, the concrete Hosts of
 * ~/.ssh/config, kernels in a VM (vm:6.1, vm:6.12) and the targets used before, or any `ssh://user@host[:port]` typed in. Picking one stores it in
 * the workspace's `bpfIde.target`, releases what the previous target had loaded (after asking, when something is)
 * and connects to the new one (unknown host keys are asked about then, not in the middle of a load).
 */
import * as vscode from 'vscode';
import { targetPicks } from '../core/targets/target-picks';
import type { BpfIdeContext } from '../ctx';

const RECENT_KEY = 'bpfIde.recentTargets';
const RECENT_MAX = 8;

export async function selectTarget(ctx: BpfIdeContext): Promise<void> {
  const current = ctx.targets.spec;
  let hosts: string[] = [];
  try {
    const { SshConfig } = await import('../core/targets/ssh-config');
    hosts = SshConfig.load().hostAliases();
  } catch (e) {
    ctx.output.warn(`~/.ssh/config could not be read for the target list: ${(e as Error).message}`);
  }
  const recent = ctx.extension.globalState.get<string[]>(RECENT_KEY, []);
  let vms: { spec: string; description: string }[] = [];
  try {
    vms = (await import('../core/vm/kernel-cache')).vmTargetRows();
  } catch (e) {
    ctx.output.warn(`the kernel cache could not be read for the target list: ${(e as Error).message}`);
  }
  const picked = await vscode.window.showQuickPick(targetPicks(current, hosts, recent, vms), {
    title: 'BPF target: where programs are loaded',
    placeHolder: `now: ${current} (${ctx.targets.state})`,
    matchOnDescription: true,
  });
  if (!picked) return;
  const spec =
    picked.spec ??
    (
      await vscode.window.showInputBox({
        title: 'BPF target',
        prompt:
          'local (this machine), ssh://user@host[:port], a Host from ~/.ssh/config, or vm:6.1 / vm:/path/to/vmlinuz',
        value: current === 'local' ? '' : current,
        placeHolder: 'ssh://root@testbox:22',
        validateInput: (v) => (/\s/.test(v.trim()) ? 'a target has no spaces' : undefined),
        // The typed host survives a focus change, like New BPF Program's steps.
        ignoreFocusOut: true,
      })
    )?.trim();
  if (!spec) return;
  if (spec !== current) {
    const loaded = ctx.targets.session?.loaded.reduce((n, o) => n + o.programs.length, 0) ?? 0;
    if (loaded) {
      const go = await vscode.window.showWarningMessage(
        `Switching to ${spec} releases the ${loaded} program${loaded === 1 ? '' : 's'} loaded on ${current}.`,
        { modal: true, detail: 'Their maps and links go with them; load them again on the new target.' },
        'Switch',
      );
      if (go !== 'Switch') return;
    }
    await ctx.targets.disconnect();
    // The workspace's target when a folder is open, else the user's.
    const where = vscode.workspace.workspaceFolders?.length
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
    await vscode.workspace.getConfiguration('bpfIde').update('target', spec, where);
  }
  if (spec !== 'local')
    await ctx.extension.globalState.update(
      RECENT_KEY,
      [spec, ...recent.filter((r) => r !== spec)].slice(0, RECENT_MAX),
    );
  await ctx.targets.ensureConnected().catch((e: unknown) => ctx.targets.reportConnectFailure(e));
}
