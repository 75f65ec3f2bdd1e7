/**
 * The verdict on one program from a verifier log: the kernel's message, the source line it names, and
 * the catalog's explanation and fix. The reading is the full verifier log parser's (core/verifier/).
 */
import { verdictErrorFromLog } from '../verifier/report-format';

export interface VerdictError {
  message: string;
  file?: string;
  line?: number;
  source?: string;
  explanation?: string;
}

export function verdictFromLog(log: string, fallback: string): VerdictError {
  try {
    return verdictErrorFromLog(log, fallback);
  } catch {
    // The parser never throws on bad input (it is fuzzed); this is a last line of defence.
    return { message: fallback };
  }
}
