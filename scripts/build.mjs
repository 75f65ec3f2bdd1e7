#!/usr/bin/env node
// Builds everything: the extension, the language server and the CLI (esbuild bundles into dist/),
// the tree-sitter wasm files next to them, and the static agent (make -C remote-agent) when present.
import { build } from 'esbuild';
import { copyFileSync, cpSync, existsSync, mkdirSync, chmodSync, renameSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
const skipAgent = process.argv.includes('--no-agent') || process.env.BPF_IDE_SKIP_AGENT === '1';
mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
  // ssh2's optional native parts are loaded with try/catch; keep them out of the bundle.
  external: ['vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
  // web-tree-sitter's ESM build locates its wasm through import.meta.url, which a CommonJS bundle
  // lacks; its CommonJS build uses __dirname-relative paths we control with locateFile.
  alias: { 'web-tree-sitter': require.resolve('web-tree-sitter').replace(/\.js$/, '.cjs') },
};

const t0 = Date.now();
await Promise.all([
  build({
    ...common,
    entryPoints: ['client/src/extension.ts'],
    outfile: 'dist/extension.js',
    minify: true, // a third less to parse when VS Code loads the extension
    // When the bundle starts loading: activation time is measured from here (logged by the extension).
    banner: { js: 'globalThis.__bpfIdeLoadStart = performance.now();' },
    footer: { js: 'globalThis.__bpfIdeLoadEnd = performance.now();' },
  }),
  build({ ...common, entryPoints: ['server/src/bin.ts'], outfile: 'dist/server.js' }),
  build({
    ...common,
    entryPoints: ['client/src/cli/bpf-ide.ts'],
    outfile: 'dist/bpf-ide.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
]);
chmodSync(join(dist, 'bpf-ide.js'), 0o755);
copyFileSync(require.resolve('web-tree-sitter/web-tree-sitter.wasm'), join(dist, 'web-tree-sitter.wasm'));
copyFileSync(require.resolve('tree-sitter-c/tree-sitter-c.wasm'), join(dist, 'tree-sitter-c.wasm'));
console.log(`bundles built in ${Date.now() - t0} ms`);

if (!skipAgent && existsSync(join(root, 'remote-agent', 'Makefile'))) {
  const r = spawnSync('make', ['-C', join(root, 'remote-agent'), '--no-print-directory'], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(
      'the agent did not build: see the make output above (needs gcc, libbpf-dev, libelf-dev, zlib1g-dev, libjansson-dev)',
    );
    process.exit(r.status ?? 1);
  }
}
// The agent and the templates travel with the bundles (the CLI and the .vsix find them in dist/).
const agentBin = join(root, 'remote-agent', 'build', 'bpf-agent');
if (existsSync(agentBin)) {
  // Copy then rename: a running dist/bpf-agent (ETXTBSY) keeps its old inode.
  copyFileSync(agentBin, join(dist, 'bpf-agent.tmp'));
  renameSync(join(dist, 'bpf-agent.tmp'), join(dist, 'bpf-agent'));
}
if (existsSync(join(root, 'bpf-templates')))
  cpSync(join(root, 'bpf-templates'), join(dist, 'bpf-templates'), { recursive: true });
if (watch) console.log('watch mode is not supported yet; rerun npm run build');
