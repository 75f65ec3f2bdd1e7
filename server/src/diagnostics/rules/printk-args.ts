/**
 * Rule 11: bpf_printk and bpf_trace_printk arguments. bpf_trace_printk takes at most 3 values (5
 * registers in all); libbpf's bpf_printk switches to bpf_trace_vprintk (kernel 5.16+) above 3 and its
 * macro handles at most 12. The kernel parses the format at run time (bpf_bprintf_prepare) and refuses
 * the whole call with -EINVAL, printing nothing, for any conversion it does not know.
 */
import type { Node } from 'web-tree-sitter';
import type { Rule } from '../rule';
import { callArgs } from '../syntax';

/** Checks one conversion the way kernel/bpf/helpers.c bpf_bprintf_prepare() does; returns its length or an error. */
export function scanFormat(fmt: string): { specs: string[]; bad: { spec: string; at: number }[] } {
  const specs: string[] = [];
  const bad: { spec: string; at: number }[] = [];
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== '%') continue;
    if (fmt[i + 1] === '%') {
      i++;
      continue;
    }
    const start = i;
    i++;
    while ('0+- '.includes(fmt[i] ?? 'x') && i < fmt.length) i++;
    if (fmt[i] >= '1' && fmt[i] <= '9') while (fmt[i] >= '0' && fmt[i] <= '9') i++;
    let ok = false;
    if (fmt[i] === 'p') {
      const n1 = fmt[i + 1] ?? '';
      let skip = 1;
      if (n1 === '' || /[\s!-/:-@[-`{-~]/.test(n1)) {
        ok = true;
        skip = 0;
      } else if ((n1 === 'k' || n1 === 'u') && fmt[i + 2] === 's') {
        ok = true;
        skip = 2;
      } else if (n1 === 'K' || n1 === 'x' || n1 === 'B') {
        ok = true;
      } else if ((n1 === 'i' || n1 === 'I') && (fmt[i + 2] === '4' || fmt[i + 2] === '6')) {
        ok = true;
        skip = 2;
      }
      i += skip;
    } else if (fmt[i] === 's' || fmt[i] === 'c') ok = true;
    else {
      if (fmt[i] === 'l') i++;
      if (fmt[i] === 'l') i++;
      ok = 'idux'.includes(fmt[i] ?? '#') || fmt[i] === 'X';
    }
    let spec = fmt.slice(start, i + 1);
    specs.push(spec);
    if (!ok) {
      const more = /^[.0-9a-zA-Z]{0,4}/.exec(fmt.slice(i + 1))?.[0] ?? '';
      if (!/[a-zA-Z]$/.test(spec)) spec += more.replace(/^([.0-9]*[hlLqjzt]*[a-zA-Z]?).*$/, '$1');
      else if (/[hlLqjzt]$/.test(spec)) spec += more.replace(/^([hlLqjzt]*[a-zA-Z]?).*$/, '$1');
      bad.push({ spec, at: start });
    }
  }
  return { specs, bad };
}

/** The string a format argument holds (concatenated literals), with the offset of its first character. */
function formatText(n: Node): { text: string; start: number } | undefined {
  const parts = n.type === 'concatenated_string' ? n.namedChildren : [n];
  let text = '';
  for (const p of parts) {
    if (p?.type !== 'string_literal') return undefined;
    for (const c of p.namedChildren) text += c?.type === 'escape_sequence' ? decodeEscape(c.text) : (c?.text ?? '');
  }
  // The kernel reads the format as a C string: bpf_bprintf_prepare() stops at the first NUL.
  const nul = text.indexOf('\0');
  return { text: nul < 0 ? text : text.slice(0, nul), start: n.startIndex + 1 };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  e: '\x1b', // GNU extension, accepted by clang
  E: '\x1b',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

/** One C escape sequence (`\n`, `\033`, `\x1b`, `\u00e9`...) as the character(s) C makes of it. */
export function decodeEscape(esc: string): string {
  const body = esc.slice(1);
  const simple = SIMPLE_ESCAPES[body];
  if (simple !== undefined) return simple;
  let m = /^[0-7]{1,3}$/.exec(body);
  if (m) return String.fromCharCode(parseInt(body, 8) & 0xff);
  m = /^x([0-9a-fA-F]+)$/.exec(body);
  if (m) return String.fromCharCode(parseInt(m[1].slice(-2), 16));
  m = /^(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))$/.exec(body);
  if (m) {
    const cp = parseInt(m[1] ?? m[2], 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '?';
  }
  // An unknown escape (`\q`): clang warns and keeps the character.
  return body;
}

export const printkArgsRule: Rule = {
  id: 'printk-args',
  description: 'bpf_printk/bpf_trace_printk with too many arguments or format conversions the kernel rejects',
  ownFunctionOnly: true,
  functionFilter: /bpf_(trace_)?printk/,
  runFunction({ doc, fn: func, text: fnText, report }) {
    for (const m of fnText.matchAll(/(?<![\w.>])(bpf_printk|bpf_trace_printk)\s*\(/g)) {
      const name = m[1];
      const at = func.startIndex + m.index!;
      const id = func.descendantForIndex(at, at + name.length);
      const call = id?.type === 'identifier' ? id.parent : null;
      if (call?.type !== 'call_expression') continue;
      const args = callArgs(call);
      const values = name === 'bpf_printk' ? args.length - 1 : args.length - 2;
      const fn = call.childForFieldName('function')!;
      if (name === 'bpf_trace_printk' && values > 3) {
        report({
          start: fn.startIndex,
          end: call.endIndex,
          severity: 'error',
          message: `bpf_trace_printk() takes at most 3 values after the format and its size (${values} given): a BPF call passes at most 5 arguments, and clang rejects more. Use bpf_printk(), which switches to bpf_trace_vprintk (kernel 5.16+), or split the message.`,
        });
      } else if (name === 'bpf_printk' && values > 12) {
        report({
          start: fn.startIndex,
          end: call.endIndex,
          severity: 'error',
          message: `bpf_printk() with ${values} values: libbpf's macro and bpf_trace_vprintk handle at most 12 (MAX_BPRINTF_VARARGS). Split the message.`,
        });
      } else if (name === 'bpf_printk' && values > 3) {
        report({
          start: fn.startIndex,
          end: call.endIndex,
          severity: 'warning',
          message: `bpf_printk() with ${values} values (more than 3) becomes bpf_trace_vprintk, which needs kernel 5.16 or newer; older kernels reject the program ("invalid func unknown#177"). Keep to 3 values to support them.`,
        });
      }
      const f = args[0] ? formatText(args[0]) : undefined;
      if (!f) continue;
      const { specs, bad } = scanFormat(f.text);
      for (const b of bad) {
        const at = doc.text.indexOf(b.spec, f.start) >= 0 ? doc.text.indexOf(b.spec, f.start) : args[0].startIndex;
        report({
          start: at,
          end: at + b.spec.length,
          severity: 'error',
          message: `The kernel does not support the conversion "${b.spec}" in ${name}(): the call fails with -EINVAL and prints nothing. Supported: %d %i %u %x %X with l/ll, %c, %s, %p, %pK %px %pB %pks %pus %pi4 %pI4 %pi6 %pI6, width and 0+- flags, no precision, no %f.`,
        });
      }
      // bpf_trace_printk always hands the kernel 3 values; bpf_trace_vprintk exactly as many as given.
      const passed = name === 'bpf_trace_printk' || values <= 3 ? 3 : values;
      if (specs.length > values && values >= 0 && values <= 12 && !bad.length) {
        const refused = specs.length > passed;
        report({
          start: args[0].startIndex,
          end: args[0].endIndex,
          severity: refused ? 'error' : 'warning',
          message: refused
            ? `The format has ${specs.length} conversions but ${values} value${values === 1 ? '' : 's'} follow: the kernel refuses the call (-EINVAL) and prints nothing.`
            : `The format has ${specs.length} conversions but only ${values} value${values === 1 ? '' : 's'} follow: the missing ones print whatever is in the registers.`,
        });
      }
    }
  },
};
