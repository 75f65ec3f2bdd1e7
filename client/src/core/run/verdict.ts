/**
 * The verdict on one program from a verifier log: the kernel's message, the source line it names, and
 * the catalog's explanation and fix. The reading is the full verifier log parser's (core/verifier/).
 */
import { verdictErrorFromLog, type VerdictError } from '../verifier/report-format';

export type { VerdictError };

/** `mainSource`: the program's .c file, when known, to find related lines the log does not name. */
export function verdictFromLog(log: string, fallback: string, mainSource?: string): VerdictError {
  try {
    return verdictErrorFromLog(log, fallback, mainSource);
  } catch {
    // The parser never throws on bad input (it is fuzzed); this is a last line of defence.
    return { message: fallback };
  }
}
