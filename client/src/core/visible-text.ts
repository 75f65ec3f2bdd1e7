/**
 * Text from the target shown to the user (map keys and values, comm, events, bpf_printk and log lines, names, error
 * messages that quote them): control characters, bidi controls and other invisible code points are written as
 * escapes (`\n`, `\u202e`), so such text cannot hide, reorder or forge what is around it: a U+202E in a map key
 * reversing a hover line, a newline starting a fake row, a zero-width space making two names look alike.
 * The one function for this: hovers, notifications, tree views, panels and the verifier stepper all use it.
 *
 * No `vscode` import.
 */

/**
 * C0 and C1 controls and DEL; the bidi controls (ALM U+061C, LRM/RLM U+200E-F, embeddings and overrides
 * U+202A-E, isolates U+2066-9); zero-width and invisible characters (U+180E, U+200B-D, U+2060-4, BOM U+FEFF);
 * the line and paragraph separators U+2028-9; interlinear annotations U+FFF9-B.
 */
const HIDDEN =
  /[\u0000-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };

/** `s` with every hidden or reordering character written as an escape, cut to `max` characters (then `…`). */
export function visibleText(s: string, max = 4096): string {
  const cut = s.length > max ? `${s.slice(0, max)}…` : s;
  return cut.replace(HIDDEN, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** True when `s` holds a character visibleText escapes. */
export function hasHiddenText(s: string): boolean {
  HIDDEN.lastIndex = 0;
  const r = HIDDEN.test(s);
  HIDDEN.lastIndex = 0;
  return r;
}

/** As visibleText, but keeps line breaks and tabs: for multi-line text whose lines are ours (pretty JSON, a log). */
export function visibleLines(s: string, max = 1 << 20): string {
  return s
    .split('\n')
    .map((line) =>
      line
        .split('\t')
        .map((part) => visibleText(part, max))
        .join('\t'),
    )
    .join('\n');
}

/** Every string inside `v` (arrays, plain objects) through visibleLines: for a webview message built from a log. */
export function visibleDeep<T>(v: T): T {
  if (typeof v === 'string') return visibleLines(v) as T;
  if (Array.isArray(v)) return v.map((x: unknown) => visibleDeep(x)) as T;
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = visibleDeep(x);
    return out as T;
  }
  return v;
}
