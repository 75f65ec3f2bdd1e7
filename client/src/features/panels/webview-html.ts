/**
 * The HTML shell of every panel: a strict Content Security Policy with a per-load nonce, the
 * panel's script and stylesheet from media/panels/ in the extension, and no data at all. Data
 * arrives by postMessage and is rendered with textContent (media/panels/common.js).
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { contentSecurityPolicy } from '../../core/panels/csp';

export { contentSecurityPolicy };

export type PanelKind = 'map' | 'events' | 'trace' | 'stats';

/** Where panel scripts and styles live (also the webview's only local resource root). */
export function mediaRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'media', 'panels');
}

/** Webview options of every panel: scripts on, local files only from media/panels. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [mediaRoot(extensionUri)], enableFindWidget: true };
}

/** The panel's HTML: fixed markup only (a title placeholder and a root element). */
export function panelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, kind: PanelKind): string {
  const nonce = randomBytes(18).toString('base64');
  const root = mediaRoot(extensionUri);
  const uri = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(root, f)).toString();
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${uri('panels.css')}">
<title>bpf-ide ${kind}</title>
</head>
<body data-panel="${kind}">
<div id="app"></div>
<script nonce="${nonce}" src="${uri('common.js')}"></script>
<script nonce="${nonce}" src="${uri(`${kind}.js`)}"></script>
</body>
</html>`;
}
