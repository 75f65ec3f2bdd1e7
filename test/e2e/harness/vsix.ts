/** Packages the checkout (already built) into a .vsix, as `npm run package` does, for install tests and benches. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

export function packageVsix(dir: string): string {
  const out = join(dir, 'bpf-ide.vsix');
  execFileSync(
    join(REPO_ROOT, 'node_modules', '.bin', 'vsce'),
    ['package', '--no-dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '--out', out],
    { cwd: REPO_ROOT, stdio: 'pipe' },
  );
  return out;
}
