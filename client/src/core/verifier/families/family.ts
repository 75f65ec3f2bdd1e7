/**
 * One family of verifier messages: one kernel format string, or several that mean the same thing (the same
 * check worded for different kernels or objects). Families claim the formats of
 * ../data/kernel-messages.json (generated from the kernel sources by server/scripts/gen-verifier-messages.mjs)
 * by exact text or by a regular expression over the format text.
 */
export interface Family {
  /** stable id, kebab-case; shown as the diagnostic's code */
  id: string;
  title: string;
  /** the formats it claims: exact format text, or a pattern tested against the format text */
  formats: (string | RegExp)[];
  /**
   * What the verifier could not rule out, and why. `$1`..`$9` are the matched line's conversions (the
   * format's %d/%s ... in order); use them only when every claimed format has them in that order.
   */
  explain?: string;
  fix?: string;
  /**
   * explained by this entry of the hand-written catalog (catalog.ts), which has its own pattern and test; the
   * family's `explain` is used for the wordings that pattern does not match (other kernels)
   */
  entry?: string;
  /** deliberately generic: why no program-specific explanation is given (the text shown instead) */
  generic?: string;
  /** not an error: the verifier's trace (states, precision marks, statistics); never matched */
  trace?: true;
  /**
   * real logs of this family (test/fixtures/verifier/<name>.log, made by loading <name>.bpf.c on this host's
   * kernel with make-logs.mjs); families without one are tested on their format strings instantiated
   */
  fixtures?: string[];
}

/** Families whose formats are not errors, for the coverage report's exclusion and the matcher's skip. */
export const TRACE_REASON =
  "the verifier's own trace (instruction states, precision backtracking, statistics), printed around errors but not an error";
