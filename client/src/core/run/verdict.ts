/**
 * The verdict on one program from a verifier log: the error line, and the source line the log names
 * just before it (`; <source> @ file:line`). A minimal reading; the full parser is core/verifier/.
 */
export interface VerdictError {
  message: string;
  file?: string;
  line?: number;
  source?: string;
  explanation?: string;
}

const NOISE =
  /^(processed \d+ insns|verification time|stack depth|max_states_per_insn|-- END PROG LOAD LOG --|libbpf:|\s*$)/;

export function verdictFromLog(log: string, fallback: string): VerdictError {
  const lines = log.split('\n');
  let message: string | undefined;
  let at = lines.length;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i].trim();
    if (!l || NOISE.test(l)) continue;
    // Instruction and state lines start with a number or "from": the error is the last other line.
    if (/^\d+: /.test(l) || /^from \d+ to \d+:/.test(l) || l.startsWith(';')) break;
    message = l;
    at = i;
    break;
  }
  const v: VerdictError = { message: message ?? fallback };
  for (let i = at - 1; i >= 0; i--) {
    const m = /^; (.*) @ (\S+):(\d+)$/.exec(lines[i]);
    if (m) {
      if (m[3] !== '0') {
        v.source = m[1];
        v.file = m[2];
        v.line = Number(m[3]);
      }
      break;
    }
  }
  return v;
}
