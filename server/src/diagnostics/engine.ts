/**
 * Runs every rule over a document. A rule that throws is logged and skipped: the others still report,
 * and the failure itself is reported as a `rule-failed` error at the top of the file (its findings are
 * missing, which a CI gate must not mistake for a clean file).
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
      out.push(ruleFailure(rule.id, err));
    }
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** The code of the diagnostic that says a rule threw. */
export const RULE_FAILED = 'rule-failed';

/** The diagnostic that stands for a rule that threw on a document. */
export function ruleFailure(ruleId: string, err: unknown): EngineDiagnostic {
  const why = err instanceof Error ? err.message : String(err);
  return {
    start: 0,
    end: 0,
    severity: 'error',
    code: RULE_FAILED,
    message: `bpf-ide: rule ${ruleId} failed on this file: ${why}. Its findings are missing (the others are shown); this is a bug in bpf-ide, please report it. Disable the rule with bpfIde.diagnostics.disabledRules (or check --disable ${ruleId}) until it is fixed.`,
  };
}
