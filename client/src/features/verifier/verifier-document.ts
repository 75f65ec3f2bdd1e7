/**
 * One opened verifier log in the editor: the parsed log, its report, the stepper's model, and the
 * mapping from the log's basenames to workspace files.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  analyzeLog,
  sourceForLine,
  type RelatedLocation,
  type SourceLocation,
  type VerifierReport,
} from '../../core/verifier/analyze';
import { parseVerifierLog, type VerifierLog } from '../../core/verifier/log-parser';
import { findLineByText, resolveRelatedSearch, resolveSourceFile } from '../../core/verifier/source-map';
import { StepperModel } from '../../core/verifier/stepper-model';

export interface OpenLogOptions {
  /** a title for the panel (file name, program name) */
  title?: string;
  /** the log file, when it came from one */
  logUri?: vscode.Uri;
  /** the source file the program was built from (resolves basenames first next to it; 5.x text lookups) */
  sourceFile?: vscode.Uri;
  /** the build's include directories (-I): a header the log names is looked up there before the workspace */
  includeDirs?: string[];
  /** 0-based line of sourceFile for an error the log places nowhere (the program's SEC() line) */
  fallbackLine?: number;
}

export class VerifierDocument {
  readonly log: VerifierLog;
  readonly report: VerifierReport;
  /** rows, windows, state, follow-back and search for the stepper */
  readonly model: StepperModel;
  private readonly uris = new Map<string, vscode.Uri | null>();

  constructor(
    text: string,
    readonly options: OpenLogOptions,
  ) {
    this.log = parseVerifierLog(text);
    this.report = analyzeLog(this.log);
    this.model = new StepperModel(this.log, this.report, this.title);
  }

  get title(): string {
    return this.options.title ?? (this.options.logUri ? path.basename(this.options.logUri.fsPath) : 'verifier log');
  }

  /** The workspace file a log basename names (null: not found). Cached. */
  async resolve(name: string): Promise<vscode.Uri | null> {
    if (!name) return this.options.sourceFile ?? null;
    const hit = this.uris.get(name);
    if (hit !== undefined) return hit;
    let uri: vscode.Uri | null = null;
    // The log names a basename (from the target: no path parts are followed).
    const onIncludePath =
      name === path.basename(name)
        ? [
            ...(this.options.sourceFile ? [path.dirname(this.options.sourceFile.fsPath)] : []),
            ...(this.options.includeDirs ?? []),
          ]
            .map((d) => path.join(d, name))
            .find((f) => existsSync(f))
        : undefined;
    if (this.options.sourceFile && path.basename(this.options.sourceFile.fsPath) === name)
      uri = this.options.sourceFile;
    else if (onIncludePath) uri = vscode.Uri.file(onIncludePath);
    else {
      const found = await vscode.workspace.findFiles(`**/${name}`, '**/{node_modules,.git}/**', 50);
      const near = this.options.sourceFile?.fsPath ?? this.options.logUri?.fsPath;
      const best = resolveSourceFile(
        name,
        found.map((u) => u.fsPath),
        { mainSource: near, preferDirs: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath) },
      );
      uri = best ? vscode.Uri.file(best) : null;
    }
    this.uris.set(name, uri);
    return uri;
  }

  /** A source location as a file position (0-based line); 5.x text-only locations are looked up. */
  async locate(src: SourceLocation | undefined): Promise<{ uri: vscode.Uri; line: number } | undefined> {
    if (!src) return undefined;
    const uri = await this.resolve(src.file);
    if (!uri) return src.file ? undefined : this.locateByText(src.text);
    if (src.line > 0) return { uri, line: src.line - 1 };
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      const l = findLineByText(doc.getText(), src.text);
      return l > 0 ? { uri, line: l - 1 } : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Where a related location is: one the log does not name (the license line) is searched in the
   * program's sources; otherwise, or when the search finds nothing, the log's own location.
   */
  async locateRelated(r: RelatedLocation): Promise<{ uri: vscode.Uri; line: number } | undefined> {
    if (r.find) {
      const main = this.options.sourceFile ? path.basename(this.options.sourceFile.fsPath) : undefined;
      const texts = new Map<string, string | undefined>();
      for (const name of [r.find.file ?? main].filter((n): n is string => !!n)) {
        const uri = await this.resolve(name);
        texts.set(name, uri ? Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8') : undefined);
      }
      const found = resolveRelatedSearch(r, main, (name) => texts.get(name));
      if (found) return this.locate(found);
    }
    return this.locate(r.source);
  }

  /** 5.x logs without a source file hint: the one workspace C file that holds the quoted line. */
  private async locateByText(text: string): Promise<{ uri: vscode.Uri; line: number } | undefined> {
    if (!text) return undefined;
    const hits: { uri: vscode.Uri; line: number }[] = [];
    for (const uri of await vscode.workspace.findFiles('**/*.{c,h}', '**/{node_modules,.git}/**', 300)) {
      const body = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
      const l = findLineByText(body, text);
      if (l > 0) hits.push({ uri, line: l - 1 });
      if (hits.length > 1) return undefined;
    }
    return hits[0];
  }

  /** The source location of a log line (line 0 resolved to the nearest real line). */
  sourceOf(li: number): SourceLocation | undefined {
    return sourceForLine(this.log, li);
  }
}
