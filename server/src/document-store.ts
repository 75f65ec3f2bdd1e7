/**
 * The analyzer's cache: one BpfDocument (text, masked text, tree, structure) per open document,
 * re-parsed incrementally from the previous version on every change.
 */
import type { Language } from 'web-tree-sitter';
import { BpfDocument } from './bpf-document';
import { CParser } from './parser';

export class DocumentStore {
  private readonly docs = new Map<string, BpfDocument>();
  private readonly parser: CParser;

  constructor(language: Language) {
    this.parser = new CParser(language);
  }

  /** Analyses a new version of a document, reusing the previous tree. */
  update(uri: string, version: number, text: string): BpfDocument {
    const previous = this.docs.get(uri);
    if (previous && previous.version === version && previous.text === text) return previous;
    const doc = new BpfDocument(uri, version, text, this.parser, previous);
    this.docs.set(uri, doc);
    previous?.dispose();
    return doc;
  }

  get(uri: string): BpfDocument | undefined {
    return this.docs.get(uri);
  }

  close(uri: string): void {
    this.docs.get(uri)?.dispose();
    this.docs.delete(uri);
  }

  /** Parses a file that is not open (headless check), without caching it. */
  analyseOnce(uri: string, text: string): BpfDocument {
    return new BpfDocument(uri, 0, text, this.parser);
  }
}
