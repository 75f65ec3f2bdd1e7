/**
 * The BPF language server: declares capabilities and routes LSP requests to the feature modules.
 * Rule diagnostics are computed synchronously on every change (they take a few milliseconds);
 * clang's diagnostics run after edits settle and are merged in.
 */
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  type Connection,
  type Diagnostic,
  DidChangeConfigurationNotification,
  type InitializeParams,
  type InitializeResult,
  TextDocumentSyncKind,
  TextDocuments,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { helperAvailability, setHelperAvailability } from './catalog/catalog';
import { ClangScheduler } from './clang/clang-scheduler';
import { defaultServerSettings, expandServerSettings, parseServerSettings, type ServerSettings } from './config';
import { DocumentStore } from './document-store';
import { runRules } from './diagnostics/engine';
import { toLspDiagnostic } from './diagnostics/to-lsp';
import { codeActions } from './features/code-actions';
import { completion, resolveCompletion } from './features/completion';
import { definition } from './features/definition';
import { documentSymbols } from './features/symbols';
import { hover } from './features/hover';
import { signatureHelp } from './features/signature-help';
import { sharedHeaderDeclarations } from './header-declarations';
import { HeaderIndex } from './header-index';
import { loadCLanguage } from './parser';
import {
  documentProgramsRequest,
  serverStatusNotification,
  targetFeaturesNotification,
  type ParamsOf,
  type ResultOf,
  type TargetFeaturesParams,
} from './protocol';

export interface ServerContext {
  store: DocumentStore;
  headers: HeaderIndex;
  settings: ServerSettings;
  target: TargetFeaturesParams | null;
  log(message: string): void;
}

/** Wires every handler onto `connection` and starts listening. */
export function startServer(connection: Connection): void {
  const bundledAvailability = helperAvailability();
  const documents = new TextDocuments(TextDocument);
  let ctx: ServerContext | undefined;
  let clang: ClangScheduler | undefined;
  let hasConfigurationCapability = false;
  let workspaceFolder: string | undefined;
  const ruleDiagnostics = new Map<string, Diagnostic[]>();
  const log = (m: string) => connection.console.log(m);

  connection.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
    hasConfigurationCapability = !!params.capabilities.workspace?.configuration;
    // ${workspaceFolder} in path settings: the first workspace folder, as Build expands it.
    const folderUri = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    try {
      workspaceFolder = folderUri?.startsWith('file:') ? fileURLToPath(folderUri) : undefined;
    } catch {
      workspaceFolder = undefined;
    }
    const language = await loadCLanguage();
    const init = params.initializationOptions as { settings?: unknown } | undefined;
    ctx = {
      store: new DocumentStore(language),
      // The rules' index: vmlinux.h read and indexed once for rules and completion alike.
      headers: sharedHeaderDeclarations.headers,
      settings: expandServerSettings(
        init?.settings ? parseServerSettings(init.settings) : defaultServerSettings(),
        workspaceFolder,
      ),
      target: null,
      log,
    };
    sharedHeaderDeclarations.setSearchDirs(ctx.settings.includePaths);
    clang = new ClangScheduler({
      settings: () => ctx!.settings,
      publish: (uri, diags) => publish(uri, diags),
      status: (kind, message) =>
        connection.sendNotification(serverStatusNotification.method, { kind, message } satisfies ParamsOf<
          typeof serverStatusNotification
        >),
      log,
    });
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        completionProvider: {
          triggerCharacters: ['.', '>', '"', '/', '(', ',', ' ', '_'],
          resolveProvider: true,
        },
        hoverProvider: true,
        signatureHelpProvider: { triggerCharacters: ['(', ','], retriggerCharacters: [','] },
        documentSymbolProvider: true,
        definitionProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      },
      serverInfo: { name: 'bpf-ide language server', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    if (hasConfigurationCapability) {
      void connection.client.register(DidChangeConfigurationNotification.type, { section: 'bpfIde' });
      void refreshSettings();
    }
  });

  async function refreshSettings(): Promise<void> {
    if (!ctx) return;
    try {
      const section: unknown = await connection.workspace.getConfiguration('bpfIde');
      ctx.settings = expandServerSettings(parseServerSettings(nest(section)), workspaceFolder);
      sharedHeaderDeclarations.setSearchDirs(ctx.settings.includePaths);
    } catch (err) {
      log(`could not read settings: ${String(err)}`);
    }
    for (const d of documents.all()) analyse(d);
  }

  connection.onDidChangeConfiguration(() => void refreshSettings());

  function publish(uri: string, clangDiags?: Diagnostic[]): void {
    const own = ruleDiagnostics.get(uri) ?? [];
    const merged = clangDiags ?? clang?.last(uri) ?? [];
    void connection.sendDiagnostics({ uri, diagnostics: [...own, ...merged] });
  }

  function analyse(td: TextDocument): void {
    if (!ctx) return;
    const started = performance.now();
    const doc = ctx.store.update(td.uri, td.version, td.getText());
    const diags = runRules(doc, { disabledRules: ctx.settings.disabledRules, log }).map((d) => toLspDiagnostic(doc, d));
    ruleDiagnostics.set(td.uri, diags);
    publish(td.uri);
    const ms = performance.now() - started;
    if (ms > 200) log(`analysis of ${td.uri} took ${ms.toFixed(0)} ms`);
    if (td.uri.startsWith('file:')) clang?.schedule(td.uri, fileURLToPath(td.uri), td.getText(), td.version);
  }

  documents.onDidOpen((e) => analyse(e.document));
  documents.onDidChangeContent((e) => analyse(e.document));
  documents.onDidClose((e) => {
    ctx?.store.close(e.document.uri);
    ruleDiagnostics.delete(e.document.uri);
    clang?.forget(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  /** Runs a feature on the current analysis of a document; a feature that throws returns null. */
  function withDoc<T>(
    uri: string,
    what: string,
    f: (c: ServerContext, doc: NonNullable<ReturnType<DocumentStore['get']>>) => T,
  ): T | null {
    const td = documents.get(uri);
    if (!ctx || !td) return null;
    try {
      const doc = ctx.store.update(uri, td.version, td.getText());
      return f(ctx, doc);
    } catch (err) {
      log(`${what} failed on ${uri}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return null;
    }
  }

  connection.onCompletion((p) => withDoc(p.textDocument.uri, 'completion', (c, doc) => completion(c, doc, p.position)));
  connection.onCompletionResolve((item) => {
    try {
      return ctx ? resolveCompletion(ctx, item) : item;
    } catch (err) {
      log(`completion resolve failed: ${String(err)}`);
      return item;
    }
  });
  connection.onHover((p) => withDoc(p.textDocument.uri, 'hover', (c, doc) => hover(c, doc, p.position)));
  connection.onSignatureHelp((p) =>
    withDoc(p.textDocument.uri, 'signature help', (c, doc) => signatureHelp(c, doc, p.position)),
  );
  connection.onDocumentSymbol((p) => withDoc(p.textDocument.uri, 'symbols', (_c, doc) => documentSymbols(doc)));
  connection.onDefinition((p) => withDoc(p.textDocument.uri, 'definition', (c, doc) => definition(c, doc, p.position)));
  connection.onCodeAction((p) => withDoc(p.textDocument.uri, 'code actions', (_c, doc) => codeActions(doc, p)));
  connection.onRequest(
    documentProgramsRequest.method,
    (p: ParamsOf<typeof documentProgramsRequest>): ResultOf<typeof documentProgramsRequest> =>
      withDoc(p.uri, 'programs', (_c, doc) =>
        doc.programs.map((prog) => ({
          name: prog.name,
          section: prog.section,
          programType: prog.def?.programType ?? null,
          line: doc.positionAt(prog.sec.start).line,
        })),
      ) ?? [],
  );
  connection.onNotification(targetFeaturesNotification.method, (p: TargetFeaturesParams) => {
    if (!ctx) return;
    ctx.target = p.target ? p : null;
    // The target's own probe replaces the bundled table while it is connected.
    if (p.target && p.helpersByProgramType) {
      setHelperAvailability({
        ...bundledAvailability,
        kernel: p.kernelRelease ?? 'target',
        probedWith: `target ${p.target}`,
        programTypes: { ...bundledAvailability.programTypes, ...p.helpersByProgramType },
      });
    } else setHelperAvailability(bundledAvailability);
    for (const d of documents.all()) analyse(d);
  });
  connection.onShutdown(() => clang?.dispose());

  documents.listen(connection);
  connection.listen();
}

/** VS Code sends `{ "clang.path": ... }` or nested objects depending on how settings were written. */
function nest(section: unknown): unknown {
  if (!section || typeof section !== 'object') return section;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section as Record<string, unknown>)) {
    const parts = k.split('.');
    let cur = out;
    for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Record<string, unknown>;
    const last = parts[parts.length - 1];
    cur[last] =
      v && typeof v === 'object' && !Array.isArray(v) ? { ...(cur[last] as object), ...(nest(v) as object) } : v;
  }
  return out;
}
