/**
 * The HTML shell of every bpf-ide webview: a strict Content Security Policy with a per-load nonce, stylesheets
 * and scripts from one media folder of the extension, and no data at all. Data arrives by postMessage and is
 * rendered with textContent (log lines, map keys and process names come from a remote machine).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { contentSecurityPolicy } from '../core/webview-csp';

export interface ShellOptions {
  title: string;
  styles: string[];
  scripts: string[];
  /** Attributes of <body>, fixed markup only (e.g. `data-panel="map"`). */
  bodyAttributes?: string;
  /** Allow images from the extension (default true). */
  images?: boolean;
}

export function webviewShell(webview: vscode.Webview, media: vscode.Uri, o: ShellOptions): string {
  const nonce = randomBytes(18).toString('base64');
  const uri = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(media, f)).toString();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview.cspSource, nonce, { images: o.images })}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${o.styles.map((f) => `<link rel="stylesheet" href="${uri(f)}">`).join('\n')}
<title>${o.title}</title>
</head>
<body${o.bodyAttributes ? ` ${o.bodyAttributes}` : ''}>
<div id="app"></div>
${o.scripts.map((f) => `<script nonce="${nonce}" src="${uri(f)}"></script>`).join('\n')}
</body>
</html>`;
}
