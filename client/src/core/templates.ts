/**
 * BPF program templates (bpf-templates/<id>/): reading their manifests, and creating a new program
 * from one: the renamed sources, a vmlinux.h, and compile_commands.json / .clangd entries so clangd
 * and the BPF language server find the headers.
 *
 * No `vscode` import: the New BPF Program command (client/src/features/new-program.ts), the CLI and
 * the tests all use this module.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from './zod-setup';
import { dumpVmlinux, type VmlinuxAgent } from './build/vmlinux-cache';

/** What a template needs, and how its programs attach, as template.json says. */
export const TemplateManifest = z.object({
  id: z.string().regex(/^[a-z][a-z0-9_]*$/),
  title: z.string().min(1),
  description: z.string().min(1),
  /** The program type, as libbpf names it (libbpf_bpf_prog_type_str). */
  programType: z.string(),
  /** Every SEC() of the template's programs. */
  sections: z.array(z.string()).min(1),
  files: z.array(z.string()).min(1),
  needs: z.object({
    root: z.boolean(),
    capabilities: z.array(z.string()),
    /** The oldest kernel version that runs it, with notes. */
    kernel: z.string(),
    kernelConfig: z.array(z.string()),
    btf: z.boolean(),
  }),
  attach: z.object({
    how: z.string(),
    /** null: libbpf attaches from the SEC() name alone. */
    target: z.object({ kind: z.string(), example: z.string() }).nullable(),
  }),
  /** `const volatile` knobs: name -> what it does. */
  knobs: z.record(z.string(), z.string()),
  maps: z.array(z.string()),
});
export type TemplateManifest = z.infer<typeof TemplateManifest>;

/** A template on disk. */
export interface TemplateInfo extends TemplateManifest {
  dir: string;
}

/** Something the user asked for cannot be done; the message says what and how to fix it. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** The templates under `root` (bpf-templates/), sorted by id. Throws on a broken manifest. */
export function loadTemplates(root: string): TemplateInfo[] {
  const out: TemplateInfo[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(root, entry.name);
    const manifestPath = join(dir, 'template.json');
    if (!existsSync(manifestPath)) continue;
    let manifest: TemplateManifest;
    try {
      manifest = TemplateManifest.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
    } catch (err) {
      throw new TemplateError(`${manifestPath} is not a valid template manifest: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (manifest.id !== entry.name)
      throw new TemplateError(`${manifestPath}: id "${manifest.id}" must match its folder "${entry.name}"`);
    out.push({ ...manifest, dir });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Why `name` can't name a new program (it becomes <name>.bpf.c and a C identifier), or null. */
export function programNameProblem(name: string): string | null {
  if (!name) return 'give the program a name';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    return 'use letters, digits and _ only, not starting with a digit (it names <name>.bpf.c and <name>.h)';
  if (name.length > 64) return 'keep the name under 64 characters';
  if (name === 'vmlinux') return '"vmlinux" would clash with vmlinux.h';
  return null;
}

/** One file a new program is made of. */
export interface PlannedFile {
  /** Relative to the destination folder. */
  path: string;
  content: string;
}

/** The template's files renamed for `name`: <id>.bpf.c -> <name>.bpf.c, <id>.h -> <name>.h, its include and guard. */
export function renderTemplate(template: TemplateInfo, name: string): PlannedFile[] {
  const problem = programNameProblem(name);
  if (problem) throw new TemplateError(`"${name}": ${problem}`);
  const id = template.id;
  const rename = (text: string) =>
    text
      .replaceAll(`${id}.bpf.`, `${name}.bpf.`)
      .replaceAll(`"${id}.h"`, `"${name}.h"`)
      .replaceAll(` ${id}.h `, ` ${name}.h `)
      .replace(new RegExp(`\\b${id.toUpperCase()}_H\\b`, 'g'), `${name.toUpperCase()}_H`);
  return template.files.map((file) => ({
    path: file.startsWith(`${id}.`) ? `${name}${file.slice(id.length)}` : file,
    content: rename(readFileSync(join(template.dir, file), 'utf8')),
  }));
}

/** The __TARGET_ARCH_* value bpf_tracing.h wants, from `uname -m` or Node's process.arch. */
export function bpfTargetArch(machine: string): string {
  const m: Record<string, string> = {
    x86_64: 'x86',
    x64: 'x86',
    amd64: 'x86',
    i686: 'x86',
    ia32: 'x86',
    aarch64: 'arm64',
    arm64: 'arm64',
    armv7l: 'arm',
    arm: 'arm',
    s390x: 's390',
    s390: 's390',
    ppc64le: 'powerpc',
    ppc64: 'powerpc',
    mips: 'mips',
    mips64: 'mips',
    riscv64: 'riscv',
    loongarch64: 'loongarch',
    sparc64: 'sparc',
  };
  return m[machine] ?? 'x86';
}

/** The flags a template builds with: clang -O2 -g -target bpf -D__TARGET_ARCH_<arch> -I<dir>. */
export function bpfCompileArgs(opts: { clang: string; arch: string; dir: string; file: string }): string[] {
  return [
    opts.clang,
    '-O2',
    '-g',
    '-Wall',
    '-target',
    'bpf',
    `-D__TARGET_ARCH_${opts.arch}`,
    `-I${opts.dir}`,
    '-c',
    opts.file,
    '-o',
    opts.file.replace(/\.c$/, '.o'),
  ];
}

interface CompileCommand {
  directory: string;
  file: string;
  arguments?: string[];
  command?: string;
  output?: string;
}

/**
 * compile_commands.json text with an entry for each of `files` (absolute paths in `dir`): the
 * existing entries are kept, an entry for the same file is replaced. Throws when `existing` is
 * not a JSON array (the user's file is not overwritten blindly).
 */
export function mergeCompileCommands(
  existing: string | undefined,
  opts: { clang: string; arch: string; dir: string; files: string[] },
): string {
  let entries: CompileCommand[] = [];
  if (existing !== undefined && existing.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch (err) {
      throw new TemplateError('compile_commands.json is not valid JSON: fix or remove it, then try again', {
        cause: err,
      });
    }
    if (!Array.isArray(parsed))
      throw new TemplateError('compile_commands.json is not a JSON array: fix or remove it, then try again');
    entries = parsed as CompileCommand[];
  }
  for (const file of opts.files) {
    const abs = resolve(opts.dir, file);
    entries = entries.filter((e) => resolve(e.directory ?? opts.dir, e.file ?? '') !== abs);
    const args = bpfCompileArgs({ clang: opts.clang, arch: opts.arch, dir: opts.dir, file: abs });
    entries.push({ directory: opts.dir, file: abs, arguments: args, output: args[args.length - 1] });
  }
  return JSON.stringify(entries, null, 2) + '\n';
}

/** A .clangd that makes clangd parse *.bpf.c as BPF: the target, the arch define, the folder's headers. */
export function clangdConfig(arch: string): string {
  return [
    '# Written by bpf-ide (New BPF Program): clangd flags for BPF C files.',
    'If:',
    '  PathMatch: .*\\.bpf\\.(c|h)',
    'CompileFlags:',
    `  Add: [-target, bpf, -D__TARGET_ARCH_${arch}, -I., -Wno-unknown-attributes]`,
    '',
  ].join('\n');
}

/** Where a vmlinux.h comes from: `describe` is shown to the user, `generate` returns the header. */
export interface VmlinuxSource {
  describe: string;
  generate(): Promise<string>;
}

function run(cmd: string, args: string[], maxBuffer = 256 << 20): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { maxBuffer, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolvePromise(stdout);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(
        new TemplateError(
          missing
            ? `${cmd} is not installed: install bpftool (Debian: apt install bpftool) to generate vmlinux.h`
            : `${cmd} ${args.join(' ')} failed: ${stderr.trim().split('\n').slice(-3).join(' ') || err.message}`,
          { cause: err },
        ),
      );
    });
  });
}

/** vmlinux.h from this machine's kernel BTF, with bpftool. */
export function localVmlinux(opts: { bpftool?: string; btfPath?: string } = {}): VmlinuxSource {
  const btfPath = opts.btfPath ?? '/sys/kernel/btf/vmlinux';
  const bpftool = opts.bpftool ?? 'bpftool';
  return {
    describe: `this machine's kernel (${btfPath})`,
    async generate() {
      if (!existsSync(btfPath))
        throw new TemplateError(
          `${btfPath} does not exist: this kernel has no BTF (CONFIG_DEBUG_INFO_BTF); connect to a target that has it, or copy a vmlinux.h into the folder`,
        );
      return run(bpftool, ['btf', 'dump', 'file', btfPath, 'format', 'c']);
    },
  };
}

/** The agent's btf_dump method, as much of AgentClient as this module needs. */
export type BtfDumper = Pick<VmlinuxAgent, 'request'>;

/**
 * vmlinux.h from a connected target's kernel: the agent turns its kernel's BTF into C (as bpftool
 * does) and sends the text in chunks; `length` counts the bytes of each (vmlinux.h is ASCII).
 */
export function targetVmlinux(agent: BtfDumper, targetName: string): VmlinuxSource {
  return {
    describe: `the target ${targetName}`,
    async generate() {
      return (await dumpVmlinux(agent)).text;
    },
  };
}

export interface CreateProgramOptions {
  template: TemplateInfo;
  name: string;
  /** The folder the files go into (created when missing). */
  dir: string;
  /** Used when dir has no vmlinux.h yet. */
  vmlinux: VmlinuxSource;
  clang?: string;
  /** __TARGET_ARCH_ value (bpfTargetArch()). */
  arch?: string;
}

export interface CreateProgramResult {
  /** Absolute paths written, the main .bpf.c first. */
  written: string[];
  /** Files left as they were (an existing vmlinux.h or .clangd). */
  kept: string[];
  mainFile: string;
}

/** Creates a program from a template. Never overwrites the user's sources: throws TemplateError instead. */
export async function createProgram(o: CreateProgramOptions): Promise<CreateProgramResult> {
  const dir = resolve(o.dir);
  const arch = o.arch ?? bpfTargetArch(process.arch);
  const clang = o.clang ?? 'clang';
  const files = renderTemplate(o.template, o.name);
  const clash = files.filter((f) => existsSync(join(dir, f.path))).map((f) => f.path);
  if (clash.length)
    throw new TemplateError(
      `${clash.join(', ')} already exist${clash.length === 1 ? 's' : ''} in ${dir}: choose another name or folder`,
    );

  const ccPath = join(dir, 'compile_commands.json');
  const mainFile = join(dir, files[0].path);
  const compileCommands = mergeCompileCommands(existsSync(ccPath) ? readFileSync(ccPath, 'utf8') : undefined, {
    clang,
    arch,
    dir,
    files: [mainFile],
  });
  const vmlinuxPath = join(dir, 'vmlinux.h');
  const vmlinux = existsSync(vmlinuxPath) ? undefined : await o.vmlinux.generate();

  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const kept: string[] = [];
  for (const f of files) {
    const p = join(dir, f.path);
    await writeFile(p, f.content, { flag: 'wx' });
    written.push(p);
  }
  if (vmlinux !== undefined) {
    await writeFile(vmlinuxPath, vmlinux);
    written.push(vmlinuxPath);
  } else kept.push(vmlinuxPath);
  await writeFile(ccPath, compileCommands);
  written.push(ccPath);
  const clangdPath = join(dir, '.clangd');
  if (existsSync(clangdPath)) kept.push(clangdPath);
  else {
    await writeFile(clangdPath, clangdConfig(arch));
    written.push(clangdPath);
  }
  return { written, kept, mainFile };
}
