/** `npm run package`'s vsce step: the .vsix holds the bundles, the agent and the assets, no node_modules, under 15 MB. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/lsp-session';

test(
  'the .vsix: bundled extension, server, CLI, agent, grammar, snippets, templates, walkthrough; < 15 MB',
  { timeout: 180_000 },
  () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'extension.js')), 'build first (npm test does)');
    const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-vsix-'));
    try {
      const out = join(dir, 'bpf-ide.vsix');
      const vsce = join(ROOT, 'node_modules', '.bin', 'vsce');
      execFileSync(
        vsce,
        ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out],
        { cwd: ROOT, stdio: 'pipe' },
      );
      const size = statSync(out).size;
      assert.ok(size < 15 * 1024 * 1024, `${(size / 1e6).toFixed(1)} MB`);
      const files = execFileSync('unzip', ['-Z1', out], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const f of [
        'extension/package.json',
        'extension/dist/extension.js',
        'extension/dist/server.js',
        'extension/dist/bpf-ide.js',
        'extension/dist/tree-sitter-c.wasm',
        'extension/dist/web-tree-sitter.wasm',
        'extension/syntaxes/bpf-c.injection.tmLanguage.json',
        'extension/snippets/bpf-c.code-snippets',
        'extension/bpf-templates/tracepoint/tracepoint.bpf.c',
        'extension/walkthrough/1-create.md',
      ]) {
        assert.ok(files.includes(f), `${f} is in the .vsix`);
      }
      if (existsSync(join(ROOT, 'dist', 'bpf-agent')))
        assert.ok(files.includes('extension/dist/bpf-agent'), 'the agent is in the .vsix');
      assert.deepEqual(
        files.filter((f) => f.includes('node_modules/')),
        [],
        'no node_modules',
      );
      assert.deepEqual(
        files.filter((f) => /\.(ts|map)$/.test(f) && !f.endsWith('.d.ts')),
        [],
        'no sources or source maps',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
