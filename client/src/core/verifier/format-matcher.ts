/**
 * A kernel printf format (the verifier's `verbose(env, "R%d invalid mem access '%s'\n", ...)`) compiled into a
 * regular expression that matches the lines it prints, with one capture group per conversion, and its
 * specificity (how many literal characters it has: when several formats match a line, the most specific wins).
 */

export interface FormatMatcher {
  fmt: string;
  re: RegExp;
  /** literal (non-conversion) characters: the higher, the more specific */
  literal: number;
}

/** %[flags][width][.precision][length]conversion, and %% */
const CONVERSION = /%([-+ #0]*)(\d+|\*)?(?:\.(\d+|\*))?(hh|h|ll|l|z|j|t|L)?([diouxXcspeEfgG%])([A-Za-z]*)/g;

function pattern(flags: string, conv: string): string {
  switch (conv) {
    case 'd':
    case 'i':
      return ' *[-+]?\\d+';
    case 'u':
    case 'o':
      return ' *\\d+';
    case 'x':
    case 'X':
      return flags.includes('#') ? '(?:0[xX][0-9a-fA-F]+|0)' : ' *[0-9a-fA-F]+';
    case 'c':
      return '[\\s\\S]';
    case 'p':
      return '\\S+';
    case 's':
      return '.*?';
    default:
      return '\\S+';
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compiles one format. `part`: the format is the start of a line that later calls continue (no trailing
 * newline), so it matches a prefix. `prefixed`: the kernel prints something before it (BTF type logs).
 */
export function compileFormat(fmt: string, opts: { part?: boolean; prefixed?: boolean } = {}): FormatMatcher {
  const text = fmt.trim();
  let src = '';
  let literal = 0;
  let last = 0;
  CONVERSION.lastIndex = 0;
  for (let m: RegExpExecArray | null; (m = CONVERSION.exec(text));) {
    const lit = text.slice(last, m.index);
    src += escape(lit);
    literal += lit.length;
    last = m.index + m[0].length;
    if (m[5] === '%') {
      src += '%';
      literal++;
      continue;
    }
    // %pK, %pS ...: the letters after p belong to the conversion; after other conversions they are text
    const extra = m[5] === 'p' ? '' : m[6]!;
    src += `(${pattern(m[1]!, m[5]!)})` + escape(extra);
    literal += extra.length;
  }
  const tail = text.slice(last);
  src += escape(tail);
  literal += tail.length;
  // runs of spaces in the kernel's text are kept as they are, but a line may have been trimmed
  const re = new RegExp(`${opts.prefixed ? '' : '^'}${src}${opts.part ? '' : '\\s*$'}`);
  return { fmt, re, literal };
}
