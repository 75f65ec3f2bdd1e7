/** package.json's contributes.configuration must match the one settings schema (server/src/config.ts). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseServerSettings, SETTINGS } from '../../server/src/config';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));

test('every setting in package.json comes from the schema, with the same default and type', () => {
  const contributed = pkg.contributes.configuration.properties as Record<
    string,
    { type: string; default: unknown; enum?: string[] }
  >;
  assert.deepEqual(Object.keys(contributed).sort(), Object.keys(SETTINGS).sort());
  for (const [key, spec] of Object.entries(SETTINGS)) {
    assert.equal(contributed[key].type, spec.type, key);
    assert.deepEqual(contributed[key].default, spec.default, key);
    assert.deepEqual(contributed[key].enum, (spec as { enum?: readonly string[] }).enum, key);
  }
});

test('parseServerSettings applies defaults and ignores wrong types', () => {
  const s = parseServerSettings({
    clang: { path: 42 },
    includePaths: ['a', 3],
    diagnostics: { disabledRules: ['stack-size'] },
  });
  assert.equal(s.clangPath, '');
  assert.deepEqual(s.includePaths, ['a']);
  assert.deepEqual(s.disabledRules, ['stack-size']);
  assert.equal(s.clangDiagnostics, true);
});

test('the manifest declares the CLI, activation on C and *.bpf.c, and the engine', () => {
  assert.equal(pkg.name, 'bpf-ide');
  assert.equal(pkg.bin['bpf-ide'], 'dist/bpf-ide.js');
  assert.ok(pkg.activationEvents.includes('onLanguage:c'));
  assert.ok(pkg.activationEvents.includes('workspaceContains:**/*.bpf.c'));
  assert.match(pkg.engines.vscode, /^\^1\.\d+\.\d+$/);
});
