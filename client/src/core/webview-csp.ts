/**
 * The Content-Security-Policy of every bpf-ide webview (panels, verifier stepper): nothing but the extension's
 * own files, scripts only with the page's nonce, no inline styles, no network. (The vscode side builds the HTML
 * around it: client/src/features/webview-shell.ts.)
 *
 * No `vscode` import.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string, opts: { images?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    opts.images === false ? "img-src 'none'" : `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}
