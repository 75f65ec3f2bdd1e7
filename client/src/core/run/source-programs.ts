/**
 * The BPF programs a source file declares, read from its text: each `SEC("...")` and the program's name
 * (the function's name, or the first argument of BPF_PROG / BPF_KPROBE / ... macros, as libbpf names it).
 * The editor's CodeLens uses it to know which program a lens acts on.
 */

export interface SourceProgram {
  /** The program's name as libbpf and the agent know it (the C function's name). */
  name: string;
  /** The section, without the leading `?` of a program libbpf does not autoload. */
  section: string;
  /** `SEC("?...")`: libbpf does not load it unless asked by name. */
  optional: boolean;
  /** 0-based line of the SEC(). */
  line: number;
}

const SEC_AT = /\bSEC\s*\(\s*"([^"]*)"\s*\)/g;
// After SEC(): type words, then `name(` or `MACRO(name`; the macro form is BPF_* / *_PROG etc. in capitals.
const DECL = /^\s*((?:[A-Za-z_]\w*\s+|\*\s*)*?)([A-Za-z_]\w*)\s*\(\s*([A-Za-z_]\w*)?/;

/** The programs of a source text, in order. Sections of data (`.maps`, `license`, `.rodata`...) are not programs. */
export function programsInSource(text: string): SourceProgram[] {
  const out: SourceProgram[] = [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/\/\/[^\n]*/g, '');
  for (const m of code.matchAll(SEC_AT)) {
    const raw = m[1];
    if (!raw || raw === 'license' || raw === 'version' || raw.startsWith('.')) continue;
    const after = code.slice(m.index + m[0].length, m.index + m[0].length + 400);
    const d = DECL.exec(after);
    if (!d) continue;
    const callee = d[2];
    const macro = /^[A-Z][A-Z0-9_]*$/.test(callee) && d[3];
    const name = macro ? d[3]! : callee;
    if (/^(struct|union|enum)$/.test(name)) continue;
    const line = code.slice(0, m.index).split('\n').length - 1;
    out.push({ name, section: raw.replace(/^\?/, ''), optional: raw.startsWith('?'), line });
  }
  return out;
}
