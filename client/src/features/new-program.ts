/**
 * `bpf-ide: New BPF Program`: pick a template and a name, pick a folder, and get the program's files,
 * a vmlinux.h (from the connected target's kernel, or this machine's) and compile_commands.json /
 * .clangd entries. The work itself is client/src/core/templates.ts; this file is only the UI.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as vscode from 'vscode';
import { findClang } from '../../../server/src/clang/clang-runner';
import {
  type BtfDumper,
  bpfTargetArch,
  createProgram,
  loadTemplates,
  localVmlinux,
  programNameProblem,
  targetVmlinux,
  TemplateError,
  type TemplateInfo,
  type VmlinuxSource,
} from '../core/templates';

/** What the command needs from the extension; `targets` (the connected target, if any) is optional. */
export interface NewProgramContext {
  extension: vscode.ExtensionContext;
  output: vscode.LogOutputChannel;
  targets?: {
    readonly spec: string;
    readonly session?: {
      readonly target: { readonly client: BtfDumper & { readonly hello: Promise<{ kernel: { machine: string } }> } };
    };
  };
}

interface TemplatePick extends vscode.QuickPickItem {
  template: TemplateInfo;
}

/**
 * Each step of the wizard (template, name, folder) stays open when focus moves away. Between two steps VS Code
 * hides one quick input and gives focus back to the editor that had it before; when that is a webview (a map
 * panel, say), VS Code focuses it after a delay and through the webview's iframe, so on a busy machine that focus
 * lands after the next step opened and closed it (focus-out), dropping the user's answers. Escape still cancels.
 */
const WIZARD_STEP = { ignoreFocusOut: true } as const;

function templateItems(templates: TemplateInfo[]): TemplatePick[] {
  return templates.map((t) => ({
    label: t.title,
    description: t.id,
    detail: `${t.description} Attach: ${t.attach.how}. Needs: ${[t.needs.root ? 'root' : '', `kernel ${t.needs.kernel}`, ...t.needs.kernelConfig].filter(Boolean).join(', ')}.`,
    template: t,
  }));
}

/** Where the files go: a new folder named after the program, the workspace root, or one the user picks. */
async function pickFolder(name: string): Promise<vscode.Uri | undefined> {
  const roots = vscode.workspace.workspaceFolders ?? [];
  type FolderPick = vscode.QuickPickItem & { uri?: vscode.Uri };
  const items: FolderPick[] = roots.flatMap((r) => [
    {
      label: `$(new-folder) ${vscode.workspace.asRelativePath(r.uri)}/${name}/`,
      description: 'a new folder',
      uri: vscode.Uri.joinPath(r.uri, name),
    },
    { label: `$(folder) ${r.name}/`, description: 'the workspace folder', uri: r.uri },
  ]);
  items.push({ label: '$(folder-opened) Choose a folder...' });
  const picked = roots.length
    ? await vscode.window.showQuickPick(items, { title: `New BPF Program: where should ${name} go?`, ...WIZARD_STEP })
    : items[items.length - 1];
  if (!picked) return undefined;
  if (picked.uri) return picked.uri;
  const chosen = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    openLabel: 'Create here',
    defaultUri: roots[0]?.uri,
  });
  return chosen?.[0];
}

/** The target's kernel when one is connected (its BTF is what the program will run against), else this machine's. */
async function vmlinuxSources(ctx: NewProgramContext): Promise<{ sources: VmlinuxSource[]; machine: string }> {
  const session = ctx.targets?.session;
  const local = localVmlinux();
  if (!session) return { sources: [local], machine: process.arch };
  const hello = await session.target.client.hello;
  return { sources: [targetVmlinux(session.target.client, ctx.targets!.spec), local], machine: hello.kernel.machine };
}

/** The first source that works; each failure goes to the output channel. */
function firstWorking(sources: VmlinuxSource[], output: vscode.LogOutputChannel): VmlinuxSource & { used?: string } {
  const chain: VmlinuxSource & { used?: string } = {
    describe: sources.map((s) => s.describe).join(', or '),
    async generate() {
      const errors: string[] = [];
      for (const s of sources) {
        try {
          const text = await s.generate();
          chain.used = s.describe;
          return text;
        } catch (err) {
          output.warn(`vmlinux.h from ${s.describe} failed: ${(err as Error).message}`);
          errors.push((err as Error).message);
        }
      }
      throw new TemplateError(`could not generate vmlinux.h: ${errors.join('; ')}`);
    },
  };
  return chain;
}

/**
 * Optional command arguments, each skipping its prompt: from a walkthrough link
 * (`command:bpfIde.newProgram?{"template":"xdp"}`), another command, or a test.
 */
export interface NewProgramArgs {
  /** A template id (bpf-templates/<id>). */
  template?: string;
  name?: string;
  /** The destination folder: a path or a file Uri. */
  folder?: string | vscode.Uri;
}

function parseArgs(args: unknown): NewProgramArgs {
  if (!args || typeof args !== 'object') return {};
  const a = args as Record<string, unknown>;
  return {
    template: typeof a.template === 'string' ? a.template : undefined,
    name: typeof a.name === 'string' ? a.name : undefined,
    folder: typeof a.folder === 'string' || a.folder instanceof vscode.Uri ? a.folder : undefined,
  };
}

/** The command: every failure of what the user asked for is shown to them; details go to the output channel. */
export async function newBpfProgram(ctx: NewProgramContext, commandArgs?: unknown): Promise<void> {
  const args = parseArgs(commandArgs);
  let templates: TemplateInfo[];
  try {
    templates = loadTemplates(ctx.extension.asAbsolutePath('bpf-templates'));
  } catch (err) {
    ctx.output.error(`loading templates: ${(err as Error).message}`);
    void vscode.window.showErrorMessage(
      `bpf-ide: the templates could not be read (${(err as Error).message}). Reinstall the extension.`,
    );
    return;
  }
  let template = args.template ? templates.find((t) => t.id === args.template) : undefined;
  if (args.template && !template) {
    void vscode.window.showErrorMessage(
      `bpf-ide: there is no template "${args.template}" (there are: ${templates.map((t) => t.id).join(', ')}).`,
    );
    return;
  }
  if (!template) {
    const pick = await vscode.window.showQuickPick(templateItems(templates), {
      title: 'New BPF Program: pick a template',
      placeHolder: 'tracepoint, kprobe, XDP, tc, ring buffer...',
      matchOnDescription: true,
      matchOnDetail: true,
      ...WIZARD_STEP,
    });
    if (!pick) return;
    template = pick.template;
  }

  let programName = args.name?.trim();
  if (programName !== undefined && programNameProblem(programName)) {
    void vscode.window.showErrorMessage(`bpf-ide: "${programName}": ${programNameProblem(programName)}`);
    return;
  }
  if (programName === undefined) {
    const id = template.id;
    const name = await vscode.window.showInputBox({
      title: `New BPF Program from "${id}": name it`,
      prompt: 'The name of the files (<name>.bpf.c, <name>.h): letters, digits and _',
      value: id,
      valueSelection: [0, id.length],
      validateInput: (v) => programNameProblem(v.trim()),
      ...WIZARD_STEP,
    });
    if (name === undefined) return;
    programName = name.trim();
  }

  const folder =
    typeof args.folder === 'string' ? vscode.Uri.file(args.folder) : (args.folder ?? (await pickFolder(programName)));
  if (!folder) return;
  if (folder.scheme !== 'file') {
    void vscode.window.showErrorMessage(
      'bpf-ide: New BPF Program writes to local folders only (vmlinux.h and clang run on this machine).',
    );
    return;
  }
  const dir = folder.fsPath;
  const cfg = vscode.workspace.getConfiguration('bpfIde', folder);
  const clang = findClang(cfg.get<string>('clang.path', '')) ?? 'clang';
  try {
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Creating ${programName} from the ${template.id} template`,
      },
      async (progress) => {
        const { sources, machine } = await vmlinuxSources(ctx);
        const vmlinux = firstWorking(sources, ctx.output);
        progress.report({
          message: existsSync(join(dir, 'vmlinux.h'))
            ? 'writing files'
            : `generating vmlinux.h from ${sources[0].describe}`,
        });
        const r = await createProgram({
          template,
          name: programName,
          dir,
          vmlinux,
          clang,
          arch: bpfTargetArch(machine),
        });
        return { ...r, vmlinuxFrom: vmlinux.used };
      },
    );
    ctx.output.info(
      `created ${result.written.join(', ')}${result.kept.length ? `; kept ${result.kept.join(', ')}` : ''}`,
    );
    const doc = await vscode.workspace.openTextDocument(result.mainFile);
    await vscode.window.showTextDocument(doc);
    const inWorkspace = vscode.workspace.getWorkspaceFolder(folder) !== undefined;
    const from = result.vmlinuxFrom
      ? ` vmlinux.h comes from ${result.vmlinuxFrom}.`
      : ' It uses the vmlinux.h already in the folder.';
    const actions = inWorkspace ? ['Build'] : ['Build', 'Add Folder to Workspace'];
    // Not awaited: the command is done once the files exist; the notification stays until dismissed.
    void vscode.window
      .showInformationMessage(
        `bpf-ide: created ${basename(result.mainFile)} from the ${template.id} template.${from}`,
        ...actions,
      )
      .then((choice) => {
        if (choice === 'Build') void vscode.commands.executeCommand('bpfIde.build', vscode.Uri.file(result.mainFile));
        else if (choice === 'Add Folder to Workspace')
          vscode.workspace.updateWorkspaceFolders(vscode.workspace.workspaceFolders?.length ?? 0, 0, { uri: folder });
      });
  } catch (err) {
    ctx.output.error(`New BPF Program (${template.id} -> ${dir}/${programName}): ${(err as Error).message}`);
    void vscode.window.showErrorMessage(`bpf-ide: ${(err as Error).message}`);
  }
}
