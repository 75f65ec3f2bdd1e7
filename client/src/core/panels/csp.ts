/**
 * The Content-Security-Policy of every panel webview: nothing but the extension's own files, scripts only
 * with the page's nonce, no inline styles, no network. (The vscode side builds the HTML around it.)
 *
 * No `vscode` import.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}
