/**
 * The extension's settings: one schema that holds every default. package.json's
 * contributes.configuration is checked against it by test/unit/config.test.ts, and the server reads
 * its settings through parseSettings(), so a default lives in exactly one place.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface SettingSpec {
  type: 'string' | 'boolean' | 'number' | 'array';
  default: unknown;
  description: string;
  enum?: readonly string[];
  items?: { type: 'string' };
  minimum?: number;
  maximum?: number;
  scope?: 'application' | 'machine' | 'window' | 'resource' | 'machine-overridable';
}

export const SETTINGS = {
  'bpfIde.clang.path': {
    type: 'string',
    default: '',
    description: 'Path to clang. Empty: the first of clang, clang-19 ... clang-14 found on PATH.',
    scope: 'machine-overridable',
  },
  'bpfIde.includePaths': {
    type: 'array',
    items: { type: 'string' },
    default: [],
    description:
      'Extra include directories for BPF C files (${workspaceFolder}, ${userHome} and ~ are expanded, by Build and by the language server). compile_commands.json is read too.',
    scope: 'resource',
  },
  'bpfIde.defines': {
    type: 'array',
    items: { type: 'string' },
    default: [],
    description: 'Extra preprocessor definitions, as NAME or NAME=VALUE.',
    scope: 'resource',
  },
  'bpfIde.diagnostics.clang': {
    type: 'boolean',
    default: true,
    description: "Run clang -fsyntax-only -target bpf after edits settle and show its diagnostics (source 'clang').",
    scope: 'resource',
  },
  'bpfIde.diagnostics.clangDelayMs': {
    type: 'number',
    default: 400,
    minimum: 0,
    maximum: 10000,
    description: 'How long edits must settle before clang runs, in milliseconds.',
    scope: 'resource',
  },
  'bpfIde.diagnostics.disabledRules': {
    type: 'array',
    items: { type: 'string' },
    default: [],
    description: 'Codes of bpf-ide rules to turn off, e.g. ["stack-size"].',
    scope: 'resource',
  },
  'bpfIde.target': {
    type: 'string',
    default: 'local',
    description:
      'Where programs load: "local" (this machine, through the agent as a child process, with sudo -n when not root), "ssh://user@host[:port]", or a Host from ~/.ssh/config.',
    scope: 'window',
  },
  'bpfIde.agent.idleTimeoutSeconds': {
    type: 'number',
    default: 30,
    minimum: 0,
    maximum: 86400,
    description:
      'Seconds without a word from the editor after which the agent on the target releases everything it loaded and exits (the editor pings every few seconds, so this only happens when the connection died silently). 0: never.',
    scope: 'window',
  },
  'bpfIde.build.extraFlags': {
    type: 'array',
    default: [],
    description:
      "Extra clang flags for BPF C files (e.g. -mcpu=v3, -idirafter DIR, -include FILE), used by Build and by clang's diagnostics in the editor, after those of compile_commands.json.",
    scope: 'resource',
  },
  'bpfIde.build.onSave': {
    type: 'boolean',
    default: false,
    description: 'Build BPF C files with clang -target bpf when they are saved (errors in the Problems panel).',
    scope: 'resource',
  },
  'bpfIde.reloadOnSave': {
    type: 'boolean',
    default: false,
    description:
      'When a file with loaded programs is saved: build, load the new object, re-attach, and release the old one.',
    scope: 'resource',
  },
  'bpfIde.load.logLevel': {
    type: 'number',
    default: 1,
    minimum: 0,
    maximum: 6,
    description: 'Verifier log level for loads: 1 (the failing path), 2 (every instruction), +4 for statistics.',
    scope: 'resource',
  },
  'bpfIde.load.programs': {
    type: 'string',
    enum: ['object', 'clicked'],
    default: 'object',
    description:
      'What a Load or Load + Attach lens loads: "object" every program of the object libbpf would load (plus the clicked one), only the clicked one attached; "clicked" only the clicked program (others load when their own lens is clicked, into the same object).',
    scope: 'resource',
  },
  'bpfIde.panels.maxEventRate': {
    type: 'number',
    default: 2000,
    minimum: 0,
    maximum: 1000000,
    description:
      'Events and bpf_printk lines per second the agent forwards to a live panel at most (0: no limit). The agent still consumes and counts everything; the panel shows how many were skipped, so a busy ring buffer never slows the editor.',
    scope: 'window',
  },
  'bpfIde.trace.server': {
    type: 'string',
    enum: ['off', 'messages', 'verbose'],
    default: 'off',
    description: 'Trace the communication between VS Code and the BPF language server.',
    scope: 'window',
  },
} as const satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

/** The settings the language server uses, with defaults applied. */
export interface ServerSettings {
  clangPath: string;
  includePaths: string[];
  defines: string[];
  clangDiagnostics: boolean;
  clangDelayMs: number;
  disabledRules: string[];
  extraFlags: string[];
}

export function defaultServerSettings(): ServerSettings {
  return parseServerSettings(undefined);
}

/**
 * Expands what a path setting may contain, the same everywhere a path setting is read (Build, Load, the
 * language server): `${workspaceFolder}` (the first workspace folder), `${userHome}`, and a leading `~`.
 */
export function expandPathSetting(value: string, workspaceFolder: string | undefined, home = homedir()): string {
  let v = value.replace(/\$\{userHome\}/g, home);
  if (workspaceFolder !== undefined) v = v.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  if (v === '~') return home;
  if (v.startsWith('~/')) return join(home, v.slice(2));
  return v;
}

/** The settings with their paths expanded (see expandPathSetting). */
export function expandServerSettings(s: ServerSettings, workspaceFolder: string | undefined): ServerSettings {
  return {
    ...s,
    clangPath: s.clangPath && expandPathSetting(s.clangPath, workspaceFolder),
    includePaths: s.includePaths.map((p) => expandPathSetting(p, workspaceFolder)),
  };
}

/** Reads the `bpfIde` section as the client sends it (nested objects), falling back to defaults. */
export function parseServerSettings(section: unknown): ServerSettings {
  const get = (key: SettingKey): unknown => {
    let cur: unknown = section;
    for (const part of key.split('.').slice(1)) {
      if (cur && typeof cur === 'object' && part in cur) cur = (cur as Record<string, unknown>)[part];
      else return SETTINGS[key].default;
    }
    const spec: SettingSpec = SETTINGS[key];
    if (spec.type === 'array') return Array.isArray(cur) ? cur.filter((x) => typeof x === 'string') : spec.default;
    return typeof cur === spec.type ? cur : spec.default;
  };
  return {
    clangPath: get('bpfIde.clang.path') as string,
    includePaths: get('bpfIde.includePaths') as string[],
    defines: get('bpfIde.defines') as string[],
    clangDiagnostics: get('bpfIde.diagnostics.clang') as boolean,
    clangDelayMs: get('bpfIde.diagnostics.clangDelayMs') as number,
    disabledRules: get('bpfIde.diagnostics.disabledRules') as string[],
    extraFlags: get('bpfIde.build.extraFlags') as string[],
  };
}
