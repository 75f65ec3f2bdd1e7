/** The panels' Content-Security-Policy: the one every bpf-ide webview uses (core/webview-csp.ts). */
export { contentSecurityPolicy } from '../webview-csp';
