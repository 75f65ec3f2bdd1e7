/**
 * The panels' webview side, checked statically: the CSP allows no inline script or style and no network, and
 * the scripts in media/panels never turn data into HTML (no innerHTML, outerHTML, insertAdjacentHTML,
 * document.write, eval, Function, string timers) — everything from the target is rendered with textContent.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { contentSecurityPolicy } from '../../client/src/core/panels/csp';

const MEDIA = join(__dirname, '..', '..', 'media', 'panels');

describe('panel webviews', () => {
  test('CSP: default none, scripts by nonce only, styles from the extension only, no connections', () => {
    const csp = contentSecurityPolicy('https://x.vscode-cdn.net', 'abc123');
    const d = new Map(
      csp.split(';').map((p) => {
        const [k, ...v] = p.trim().split(/\s+/);
        return [k, v.join(' ')];
      }),
    );
    assert.equal(d.get('default-src'), "'none'");
    assert.equal(d.get('script-src'), "'nonce-abc123'");
    assert.equal(d.get('style-src'), 'https://x.vscode-cdn.net');
    assert.equal(d.get('connect-src'), "'none'");
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  });
  test('scripts never build HTML from data', () => {
    const files = readdirSync(MEDIA).filter((f) => f.endsWith('.js'));
    assert.deepEqual(files.sort(), ['common.js', 'events.js', 'map.js', 'stats.js', 'trace.js']);
    for (const f of files) {
      // each file parses as a browser script (a syntax error would leave the panel blank)
      assert.doesNotThrow(
        () => new Script(readFileSync(join(MEDIA, f), 'utf8'), { filename: f }),
        `${f} does not parse`,
      );
      const src = readFileSync(join(MEDIA, f), 'utf8').replace(/^\s*\/\/.*$/gm, '');
      for (const sink of [
        /\.innerHTML\b/,
        /\.outerHTML\b/,
        /insertAdjacentHTML/,
        /document\.write/,
        /\beval\s*\(/,
        /new Function\b/,
        /setTimeout\(\s*['"`]/,
        /setAttribute\(\s*['"]on/,
        /\.srcdoc\b/,
      ])
        assert.doesNotMatch(src, sink, `${f} uses ${sink}`);
    }
  });
  test('the stylesheet uses the theme: colours come from --vscode-* variables', () => {
    const css = readFileSync(join(MEDIA, 'panels.css'), 'utf8');
    const colours = css.match(/(?:^|[\s:])(#[0-9a-f]{3,8}|rgb\(|hsl\()/gim) ?? [];
    assert.deepEqual(colours, [], 'hard-coded colours break light, dark and high-contrast themes');
    assert.ok((css.match(/var\(--vscode-/g) ?? []).length > 20);
  });
});
