/**
 * Runs every rule over a document. A rule that throws is logged and skipped: the others still report.
 */
import type { BpfDocument } from '../bpf-document';
import { ALL_RULES } from './rules';
import type { Rule, RuleDiagnostic } from './rule';

export interface EngineDiagnostic extends RuleDiagnostic {
  code: string;
}

export interface EngineOptions {
  disabledRules?: readonly string[];
  log?: (message: string) => void;
  rules?: readonly Rule[];
}

/** Diagnostics found by the rules, in document order. */
export function runRules(doc: BpfDocument, opts: EngineOptions = {}): EngineDiagnostic[] {
  const out: EngineDiagnostic[] = [];
  if (!doc.root) return out;
  const disabled = new Set(opts.disabledRules ?? []);
  for (const rule of opts.rules ?? ALL_RULES) {
    if (disabled.has(rule.id)) continue;
    const found: EngineDiagnostic[] = [];
    try {
      rule.run({ doc, report: (d) => found.push({ ...d, code: rule.id }) });
      out.push(...found);
    } catch (err) {
      opts.log?.(
        `rule ${rule.id} failed on ${doc.uri}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}
