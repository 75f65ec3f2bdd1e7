// What package.json must contribute for the templates feature (issue 4): the injection grammar, the
// snippets, the New BPF Program command and the Getting Started walkthrough. This file holds the
// fragment; the test checks package.json carries it and that every file and command it names exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';

const ROOT = resolve(__dirname, '..', '..');

/** The fragment to merge into package.json `contributes` (the same JSON is in the issue 4 report). */
const TEMPLATES_CONTRIBUTES = {
  commands: [{ command: 'bpfIde.newProgram', title: 'New BPF Program', category: 'bpf-ide' }],
  grammars: [
    { scopeName: 'bpf.c.injection', path: './syntaxes/bpf-c.injection.tmLanguage.json', injectTo: ['source.c'] },
  ],
  snippets: [{ language: 'c', path: './snippets/bpf-c.code-snippets' }],
  walkthroughs: [
    {
      id: 'bpfIde.gettingStarted',
      title: 'Get Started with bpf-ide',
      description: 'Create a BPF program from a template, build it, load it into a kernel and watch it run.',
      steps: [
        {
          id: 'create',
          title: 'Create a BPF program from a template',
          description:
            'Pick one of the templates (tracepoint, kprobe, XDP, tc, ring buffer...): each builds and loads on a current kernel.\n[New BPF Program](command:bpfIde.newProgram)',
          media: { markdown: 'walkthrough/1-create.md' },
          completionEvents: ['onCommand:bpfIde.newProgram'],
        },
        {
          id: 'target',
          title: 'Choose where programs run',
          description: 'This machine, or a test box over SSH.\n[Select Target](command:bpfIde.selectTarget)',
          media: { markdown: 'walkthrough/2-target.md' },
          completionEvents: ['onCommand:bpfIde.selectTarget', 'onCommand:bpfIde.connect'],
        },
        {
          id: 'build',
          title: 'Build',
          description:
            'clang -target bpf, with its errors in the Problems panel.\n[Build BPF Program](command:bpfIde.build)',
          media: { markdown: 'walkthrough/3-build.md' },
          completionEvents: ['onCommand:bpfIde.build'],
        },
        {
          id: 'load',
          title: 'Load and attach',
          description:
            'Run the verifier on the target and hook the program up.\n[Build, Load and Attach](command:bpfIde.loadAndAttach)',
          media: { markdown: 'walkthrough/4-load.md' },
          completionEvents: ['onCommand:bpfIde.load', 'onCommand:bpfIde.loadAndAttach'],
        },
        {
          id: 'watch',
          title: 'Watch it run',
          description:
            'Programs, maps and verifier logs of the target.\n[Show Loaded Programs](command:bpfIde.showPrograms)',
          media: { markdown: 'walkthrough/5-watch.md' },
          completionEvents: ['onView:bpfIde.programs', 'onCommand:bpfIde.showPrograms'],
        },
      ],
    },
  ],
};

interface Contributes {
  commands?: { command: string }[];
  grammars?: unknown[];
  snippets?: unknown[];
  walkthroughs?: unknown[];
}
const contributes = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: Contributes })
  .contributes;

test('every file the fragment names exists', () => {
  const paths = [
    ...TEMPLATES_CONTRIBUTES.grammars.map((g) => g.path),
    ...TEMPLATES_CONTRIBUTES.snippets.map((s) => s.path),
    ...TEMPLATES_CONTRIBUTES.walkthroughs.flatMap((w) => w.steps.map((s) => s.media.markdown)),
  ];
  for (const p of paths) assert.ok(existsSync(join(ROOT, p)), p);
  const g = JSON.parse(readFileSync(join(ROOT, TEMPLATES_CONTRIBUTES.grammars[0].path), 'utf8')) as {
    scopeName: string;
  };
  assert.equal(g.scopeName, TEMPLATES_CONTRIBUTES.grammars[0].scopeName);
});

test('package.json contributes the grammar, snippets, command and walkthrough', () => {
  for (const key of ['grammars', 'snippets', 'walkthroughs'] as const) {
    for (const item of TEMPLATES_CONTRIBUTES[key])
      assert.ok(
        (contributes[key] ?? []).some((x) => isDeepStrictEqual(x, item)),
        `contributes.${key} lacks ${JSON.stringify(item).slice(0, 120)}`,
      );
  }
  const cmd = TEMPLATES_CONTRIBUTES.commands[0];
  assert.deepEqual(
    contributes.commands?.find((c) => c.command === cmd.command),
    cmd,
  );
});

test('every command the walkthrough links to or waits for is contributed', () => {
  const commands = new Set(
    (contributes.commands ?? []).map((c) => c.command).concat(TEMPLATES_CONTRIBUTES.commands.map((c) => c.command)),
  );
  const text = JSON.stringify(TEMPLATES_CONTRIBUTES.walkthroughs);
  for (const m of text.matchAll(/(?:command:|onCommand:)(bpfIde\.\w+)/g)) assert.ok(commands.has(m[1]), m[1]);
});
