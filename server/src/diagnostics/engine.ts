/**
 * Runs every rule over a document. A rule that throws is logged and skipped: the others still report,
 * and the failure itself is reported as a `rule-failed` error at the top of the file (its findings are
 * missing, which a CI gate must not mistake for a clean file).
 *
 * Per-function rule parts run only for functions whose key changed since an earlier analysis (of this
 * document or any other with the same text): see function-cache.ts for the keys and rule.ts for the contract.
 */
import type { BpfDocument } from '../bpf-document';
import { ALL_RULES } from './rules';
import type { Rule, RuleDiagnostic } from './rule';
import { cachedFindings, runFunctionRule, topLevelKey } from './function-cache';

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
  const disabled = opts.disabledRules?.length ? new Set(opts.disabledRules) : undefined;
  for (const rule of opts.rules ?? ALL_RULES) {
    if (disabled?.has(rule.id)) continue;
    const found: EngineDiagnostic[] = [];
    const report = (d: RuleDiagnostic) => found.push({ ...d, code: rule.id });
    try {
      if (rule.runTopLevel) {
        const own = cachedFindings(doc, `${rule.id}\u0000top\u0000${topLevelKey(doc)}`, null, () => {
          const list: RuleDiagnostic[] = [];
          rule.runTopLevel!({ doc, report: (d) => list.push(d) });
          return list;
        });
        for (const d of own) report(d);
      }
      if (rule.runFunction) runPerFunction(doc, rule, report);
      rule.run?.({ doc, report });
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

function runPerFunction(doc: BpfDocument, rule: Rule, report: (d: RuleDiagnostic) => void): void {
  runFunctionRule(
    doc,
    rule.id,
    rule.fileKey?.(doc) ?? '',
    rule.functionFilter,
    (fn, a) => {
      const list: RuleDiagnostic[] = [];
      rule.runFunction!({
        doc,
        fn,
        name: a.name,
        text: a.text,
        programs: a.programs,
        report: (d) => list.push(d),
      });
      return list;
    },
    report,
    rule.ownFunctionOnly,
  );
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
