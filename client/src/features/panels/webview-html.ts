/**
 * The HTML shell of every panel: a strict Content Security Policy with a per-load nonce, the
 * panel's script and stylesheet from media/panels/ in the extension, and no data at all. Data
 * arrives by postMessage and is rendered with textContent (media/panels/common.js).
 */
import * as vscode from 'vscode';
import { contentSecurityPolicy } from '../../core/panels/csp';
import { webviewShell } from '../webview-shell';

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
  return webviewShell(webview, mediaRoot(extensionUri), {
    title: `bpf-ide ${kind}`,
    styles: ['panels.css'],
    scripts: ['common.js', `${kind}.js`],
    bodyAttributes: `data-panel="${kind}"`,
  });
}
