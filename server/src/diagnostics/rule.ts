/**
 * The contract between the diagnostics engine and each rule. A rule reads one BpfDocument and reports
 * problems by character offsets; the engine turns them into LSP diagnostics and code actions.
 *
 * A rule has up to three parts; the engine decides when each runs, so an edit re-runs only what it can
 * have changed:
 * - `runFunction` (most rules): findings inside one function definition. Called for a function only when
 *   its key changed (see FunctionContext); otherwise the findings it gave last time for the same key are
 *   reused, moved to where the function is now. Must read only the function, the file's top level, the
 *   functions it calls, and what `fileKey` covers.
 * - `runTopLevel`: findings about the top level (license, SEC() names, map definitions, globals). Called
 *   when the top level changed (anything outside function bodies); otherwise its last findings are reused.
 * - `run`: the whole document, every analysis (the original interface: no caching; avoid it for speed).
 */
import type { Node } from 'web-tree-sitter';
import type { BpfDocument, BpfProgram } from '../bpf-document';

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

/** One function definition of the file, as a per-function rule sees it. */
export interface FunctionContext extends RuleContext {
  /** The `function_definition` node. */
  readonly fn: Node;
  /** Its name (the first argument of BPF_PROG()/BPF_KPROBE()-style definitions). */
  readonly name: string | undefined;
  /** Its text (`doc.text.slice(fn.startIndex, fn.endIndex)`). */
  readonly text: string;
  /**
   * The programs it runs in: itself when it has a SEC(), else every program that calls it, directly or
   * through other functions of the file.
   */
  readonly programs: readonly BpfProgram[];
}

export interface Rule {
  /** The diagnostic code shown to users, kebab-case, stable (users disable rules by it). */
  readonly id: string;
  /** One line describing what the rule finds. */
  readonly description: string;
  /** The whole document, on every analysis (not cached: prefer runFunction / runTopLevel). */
  run?(ctx: RuleContext): void;
  /**
   * Findings inside one function: every offset reported (start, end, related, fix edits) lies within
   * `fn`. Re-run only when the function's key changes: its text, the file's top level (declarations,
   * macros, structs, maps, SEC() lines, function signatures), the text of the file's functions it
   * calls (transitively), the names and sections of the programs it runs in, and `fileKey(doc)`.
   */
  runFunction?(ctx: FunctionContext): void;
  /**
   * Set when runFunction reads none of the file's other function bodies (directly, or through summaries
   * of what they return, release or call): only its own function, the top level (which holds the names
   * and signatures of the file's functions), its `programs` and what `fileKey` covers. Its findings in a
   * function are then kept when a function it calls changes. Leave it unset when in doubt: the default
   * re-runs the rule in every caller of an edited function.
   */
  readonly ownFunctionOnly?: boolean;
  /** Runs runFunction only on functions whose text matches (a cheap pre-filter: `/\bbpf_printk\b/`). */
  readonly functionFilter?: RegExp;
  /**
   * Anything else in the document the per-function findings depend on, as a short string (e.g. whether
   * the file mentions TC_ACT_OK). Computed on every analysis: keep it cheap.
   */
  fileKey?(doc: BpfDocument): string;
  /** Findings about the top level, re-run only when the top level (text outside function bodies) changed. */
  runTopLevel?(ctx: RuleContext): void;
}
