// The New BPF Program command's flow (client/src/features/new-program.ts) against a minimal stand-in for
// the `vscode` module: prompts, command arguments, and what the user is told when something is wrong.
// The real editor runs it in the VS Code test tier; this checks the flow fast and without a display.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

class Uri {
  private constructor(
    readonly scheme: string,
    readonly fsPath: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', p);
  }
  static joinPath(u: Uri, ...parts: string[]): Uri {
    return new Uri(u.scheme, join(u.fsPath, ...parts));
  }
}

/** What the fake editor was asked to do, and what it answers. */
const ui = {
  quickPicks: [] as ((items: { label: string; template?: { id: string } }[]) => unknown)[],
  inputs: [] as (string | undefined)[],
  openDialog: undefined as Uri[] | undefined,
  errors: [] as string[],
  infos: [] as string[],
  opened: [] as string[],
  workspaceFolders: undefined as { uri: Uri; name: string }[] | undefined,
};

const fakeVscode = {
  Uri,
  ProgressLocation: { Notification: 15 },
  window: {
    showQuickPick: async (items: { label: string; template?: { id: string } }[]) => ui.quickPicks.shift()?.(items),
    showInputBox: async (o: { validateInput?: (v: string) => string | null }) => {
      const v = ui.inputs.shift();
      if (v !== undefined && o.validateInput?.(v))
        throw new Error(`the input box would refuse "${v}": ${o.validateInput(v)}`);
      return v;
    },
    showOpenDialog: async () => ui.openDialog,
    showErrorMessage: async (m: string) => void ui.errors.push(m),
    showInformationMessage: async (m: string) => void ui.infos.push(m),
    showTextDocument: async () => undefined,
    withProgress: async (_o: unknown, fn: (p: { report(): void }) => Promise<unknown>) => fn({ report() {} }),
  },
  workspace: {
    get workspaceFolders() {
      return ui.workspaceFolders;
    },
    getConfiguration: () => ({ get: <T>(_k: string, d: T) => d }),
    getWorkspaceFolder: () => undefined,
    asRelativePath: (u: Uri) => u.fsPath,
    openTextDocument: async (p: string) => (ui.opened.push(p), { uri: Uri.file(p) }),
    updateWorkspaceFolders: () => true,
  },
  commands: { executeCommand: async () => undefined },
};

type NewProgram = typeof import('../../client/src/features/new-program');
let newBpfProgram: NewProgram['newBpfProgram'];
let work: string;
const logs: string[] = [];
const ctx = {
  extension: { asAbsolutePath: (p: string) => join(ROOT, p) },
  output: {
    info: (m: string) => logs.push(`info ${m}`),
    warn: (m: string) => logs.push(`warn ${m}`),
    error: (m: string) => logs.push(`error ${m}`),
  },
} as unknown as Parameters<NewProgram['newBpfProgram']>[0];

before(() => {
  // `vscode` exists only inside the editor: resolve it to the stand-in for this process.
  const M = Module as unknown as { _resolveFilename: (r: string, ...a: unknown[]) => string };
  const orig = M._resolveFilename;
  M._resolveFilename = (request: string, ...rest: unknown[]) =>
    request === 'vscode' ? 'vscode' : orig(request, ...rest);
  require.cache.vscode = {
    id: 'vscode',
    filename: 'vscode',
    loaded: true,
    exports: fakeVscode,
  } as unknown as NodeJS.Module;
  newBpfProgram = (require('../../client/src/features/new-program') as NewProgram).newBpfProgram;
  work = mkdtempSync(join(tmpdir(), 'bpf-ide-new-program-'));
});
after(() => rmSync(work, { recursive: true, force: true }));
beforeEach(() => {
  Object.assign(ui, {
    quickPicks: [],
    inputs: [],
    openDialog: undefined,
    errors: [],
    infos: [],
    opened: [],
    workspaceFolders: undefined,
  });
  logs.length = 0;
});

/** A folder with a vmlinux.h already in it (the command keeps it: no bpftool needed here). */
function folder(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vmlinux.h'), '/* test */\n');
  return dir;
}

describe('New BPF Program', () => {
  test('with {template, name, folder} arguments: no prompt, the files, the editor, one notification', async () => {
    const dir = folder('args');
    await newBpfProgram(ctx, { template: 'xdp', name: 'count', folder: dir });
    assert.deepEqual(ui.errors, []);
    for (const f of ['count.bpf.c', 'count.h', 'compile_commands.json', '.clangd'])
      assert.ok(existsSync(join(dir, f)), f);
    assert.match(readFileSync(join(dir, 'count.bpf.c'), 'utf8'), /#include "count\.h"/);
    assert.deepEqual(ui.opened, [join(dir, 'count.bpf.c')]);
    assert.equal(ui.infos.length, 1);
    assert.match(
      ui.infos[0],
      /created count\.bpf\.c from the xdp template\. It uses the vmlinux\.h already in the folder/,
    );
  });

  test('through the prompts: template, name, then a folder from the open dialog', async () => {
    const dir = folder('prompts');
    ui.quickPicks.push((items) => items.find((i) => i.template?.id === 'ringbuf'));
    ui.inputs.push('execs');
    ui.openDialog = [Uri.file(dir)];
    await newBpfProgram(ctx);
    assert.deepEqual(ui.errors, []);
    assert.ok(existsSync(join(dir, 'execs.bpf.c')) && existsSync(join(dir, 'execs.h')));
  });

  test('with a workspace open, the folder prompt offers a new folder named after the program', async () => {
    folder('ws/opens'); // holds a vmlinux.h already
    const root = join(work, 'ws');
    ui.workspaceFolders = [{ uri: Uri.file(root), name: 'ws' }];
    ui.quickPicks.push((items) => items.find((i) => i.template?.id === 'tracepoint'));
    ui.inputs.push('opens');
    let offered: string[] = [];
    ui.quickPicks.push((items) => ((offered = items.map((i) => i.label)), items[0]));
    await newBpfProgram(ctx);
    assert.deepEqual(ui.errors, []);
    assert.match(offered[0], /opens\/$/);
    assert.ok(existsSync(join(root, 'opens', 'opens.bpf.c')));
  });

  test('cancelling any prompt creates nothing and says nothing', async () => {
    ui.quickPicks.push(() => undefined);
    await newBpfProgram(ctx);
    ui.quickPicks.push((items) => items[0]);
    ui.inputs.push(undefined);
    await newBpfProgram(ctx);
    assert.deepEqual([ui.errors, ui.infos, ui.opened], [[], [], []]);
  });

  test('an unknown template, a bad name, or existing files: a clear error, nothing written', async () => {
    const dir = folder('errors');
    await newBpfProgram(ctx, { template: 'nope', name: 'x', folder: dir });
    assert.match(ui.errors.pop()!, /no template "nope" \(there are: .*xdp/);
    await newBpfProgram(ctx, { template: 'xdp', name: 'bad-name', folder: dir });
    assert.match(ui.errors.pop()!, /"bad-name": use letters, digits and _/);
    writeFileSync(join(dir, 'mine.bpf.c'), 'keep me\n');
    await newBpfProgram(ctx, { template: 'xdp', name: 'mine', folder: dir });
    assert.match(ui.errors.pop()!, /mine\.bpf\.c already exists in .*choose another name or folder/);
    assert.equal(readFileSync(join(dir, 'mine.bpf.c'), 'utf8'), 'keep me\n');
    assert.ok(!existsSync(join(dir, 'mine.h')));
    assert.ok(
      logs.some((l) => l.startsWith('error ') && l.includes('mine')),
      'the failure is in the output channel too',
    );
  });
});
