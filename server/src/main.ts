/** Entry point of the language server bundle (dist/server.js): LSP over stdio (or node IPC). */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startServer } from './server';

/** Starts the server on the transport given on the command line (--stdio, --node-ipc). */
export function main(): void {
  const connection = createConnection(ProposedFeatures.all);
  startServer(connection);
}
