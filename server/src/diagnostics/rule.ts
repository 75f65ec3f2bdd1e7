/**
 * The contract between the diagnostics engine and each rule. A rule reads one BpfDocument and reports
 * problems by character offsets; the engine turns them into LSP diagnostics and code actions.
 */
import type { BpfDocument } from '../bpf-document';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A text edit by offsets in the document's text. */
export interface OffsetEdit {
  start: number;
  end: number;
  newText: string;
}

/** A quick fix offered for a diagnostic. */
export interface RuleFix {
  title: string;
  edits: OffsetEdit[];
  /** The fix the editor may apply on its own (one per diagnostic at most). */
  preferred?: boolean;
}

export interface RuleDiagnostic {
  start: number;
  end: number;
  severity: Severity;
  /** Why the verifier (or the loader) will reject this, and what to do about it. */
  message: string;
  /** Places that explain the problem, e.g. the lookup whose result was not checked. */
  related?: { start: number; end: number; message: string }[];
  fixes?: RuleFix[];
}

export interface RuleContext {
  readonly doc: BpfDocument;
  report(d: RuleDiagnostic): void;
}

export interface Rule {
  /** The diagnostic code shown to users, kebab-case, stable (users disable rules by it). */
  readonly id: string;
  /** One line describing what the rule finds. */
  readonly description: string;
  run(ctx: RuleContext): void;
}
