/**
 * Rule 8: SEC() names libbpf does not know, names that lack the target libbpf needs to load them,
 * and a context parameter whose type belongs to another program type.
 */
import { sectionFor, sections, type SectionDef } from '../../catalog/catalog';
import type { BpfProgram } from '../../bpf-document';
import type { Rule, RuleContext } from '../rule';

/** Sections whose programs are loaded against a BTF target: libbpf needs "prefix/target". */
const NEEDS_TARGET = new Set(['tracing', 'lsm', 'ext']);

/** Edit distance with transpositions (optimal string alignment): "xpd" is 1 away from "xdp". */
export function editDistance(a: string, b: string, max = 8): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** Valid names closest to `name`: its prefix corrected, the rest kept. */
export function suggestSections(name: string): string[] {
  const bare = name.startsWith('?') ? name.slice(1) : name;
  const slash = bare.indexOf('/');
  const candidates: { name: string; d: number }[] = [];
  const seen = new Set<string>();
  for (const s of sections()) {
    // Compare the whole name with exact entries, and the part before '/' with '+' entries.
    const options = [{ full: s.prefix, cmp: bare }];
    if (s.acceptsSuffix && slash > 0)
      options.push({ full: `${s.prefix}${bare.slice(slash)}`, cmp: bare.slice(0, slash) });
    for (const o of options) {
      let d = editDistance(o.cmp, s.prefix, 4);
      // "socket_filter" -> "socket": a known name followed by junk.
      if (d > 3 && o.cmp.startsWith(s.prefix) && s.prefix.length >= 3 && !s.acceptsSuffix) d = 3;
      const key = o.full;
      if (d <= Math.min(3, Math.max(1, Math.ceil(s.prefix.length / 3))) && !seen.has(key)) {
        seen.add(key);
        candidates.push({ name: key, d });
      }
    }
  }
  // "xdp/foo": a name that takes no suffix, given one.
  for (const s of sections()) {
    if (!s.acceptsSuffix && slash > 0 && bare.slice(0, slash) === s.prefix && !seen.has(s.prefix)) {
      seen.add(s.prefix);
      candidates.push({ name: s.prefix, d: 0 });
    }
  }
  return candidates
    .sort((a, b) => a.d - b.d || a.name.length - b.name.length)
    .slice(0, 3)
    .map((c) => c.name);
}

const KNOWN_CONTEXTS = () =>
  new Set(
    sections()
      .filter((s) => !s.contextFlexible && s.contextType.startsWith('struct ') && !s.contextType.includes('<'))
      .map((s) => norm(s.contextType)),
  );
const norm = (t: string) =>
  t
    .replace(/\b(const|volatile)\b/g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*\*/g, ' *')
    .trim();

export const sectionRule: Rule = {
  id: 'section',
  description: 'unknown SEC() names, missing attach targets, and context types of another program type',
  ownFunctionOnly: true,
  // SEC() names are top level; a program's context parameter and its uses are in its function.
  runFunction(ctx) {
    const p = ctx.programs.find((x) => x.node.startIndex === ctx.fn.startIndex);
    if (p?.def) contextType(ctx, p, p.def, KNOWN_CONTEXTS());
  },
  runTopLevel(ctx) {
    for (const p of ctx.doc.programs) {
      if (!p.def) unknownSection(ctx, p);
      else missingTarget(ctx, p, p.def);
      iterContext(ctx, p);
    }
    // A comment between SEC() and its function (`SEC("xdp") // parser`) takes the SEC in the
    // document model; the name is still checked.
    for (const o of ctx.doc.strayDeclarationsWithSec) {
      if (
        o.node.type !== 'comment' ||
        o.sec.name.startsWith('.') ||
        o.sec.name === 'license' ||
        o.sec.name === 'version'
      )
        continue;
      const def = sectionFor(o.sec.name);
      const pseudo = { section: o.sec.name, sec: o.sec } as BpfProgram;
      if (!def) unknownSection(ctx, pseudo);
      else missingTarget(ctx, pseudo, def);
    }
  },
};

function unknownSection(ctx: RuleContext, p: BpfProgram): void {
  const sugg = suggestSections(p.section);
  const q = p.section.startsWith('?') ? '?' : '';
  ctx.report({
    start: p.sec.nameStart,
    end: p.sec.nameStart + p.sec.name.length,
    severity: 'error',
    message:
      `SEC("${p.section}") is not a section name libbpf knows: libbpf cannot tell the program type and refuses to load it ("missing BPF prog type, check ELF section name '${p.section}'").` +
      (sugg.length
        ? ` Did you mean ${sugg.map((s) => `"${q}${s}"`).join(', ')}?`
        : " See libbpf's program types table for valid names."),
    fixes: sugg.map((s, i) => ({
      title: `Change to SEC("${q}${s}")`,
      preferred: i === 0 && sugg.length === 1,
      edits: [{ start: p.sec.nameStart, end: p.sec.nameStart + p.sec.name.length, newText: q + s }],
    })),
  });
}

function missingTarget(ctx: RuleContext, p: BpfProgram, def: SectionDef): void {
  const bare = p.section.replace(/^\?/, '');
  if (!NEEDS_TARGET.has(def.programType) || !def.acceptsSuffix) return;
  if (bare.length > def.prefix.length + 1 && bare[def.prefix.length] === '/') return;
  ctx.report({
    start: p.sec.nameStart,
    end: p.sec.nameStart + p.sec.name.length,
    severity: 'warning',
    message:
      `SEC("${p.section}") names no attach target: libbpf fails to load it ("no BTF-based attach target is specified, use bpf_program__set_attach_target()") ` +
      `unless the loader calls bpf_program__set_attach_target(). Write it as ${def.argForm}.`,
  });
}

/**
 * An iterator program whose context is another target's (`SEC("iter/task")` with `struct
 * bpf_iter__task_file *ctx`): the context is the SEC()'s target's (meta, task for iter/task), so the
 * other struct's fields past them ("invalid bpf_context access") or at other offsets are wrong. Judged
 * from the SEC() and the signature (top level), a warning: a program reading only the shared leading
 * fields loads.
 */
function iterContext(ctx: RuleContext, p: BpfProgram): void {
  const target = /^iter(?:\.s)?\/(\w+)$/.exec(p.section)?.[1];
  const declared = p.ctxParam ? /^struct\s+bpf_iter__(\w+)\s*\*$/.exec(p.ctxParam.type.trim())?.[1] : undefined;
  if (!target || !declared || declared === target || !p.ctxParam) return;
  ctx.report({
    start: p.sec.start,
    end: p.sec.end,
    severity: 'warning',
    message:
      `SEC("${p.section}") makes ${p.name} a ${target} iterator, whose context is struct bpf_iter__${target}, but its parameter is ` +
      `struct bpf_iter__${declared} *${p.ctxParam.name}: a field of bpf_iter__${declared} that bpf_iter__${target} does not have at the same ` +
      `offset is rejected ("invalid bpf_context access") or reads something else. Use SEC("iter/${declared}"), or declare struct bpf_iter__${target} *.`,
    related: [
      { start: p.ctxParam.node.startIndex, end: p.ctxParam.node.endIndex, message: 'the context declared here' },
    ],
    fixes: [
      {
        title: `Change the section to iter/${declared}`,
        edits: [{ start: p.sec.nameStart, end: p.sec.nameStart + p.section.length, newText: `iter/${declared}` }],
      },
    ],
  });
}

function contextType(ctx: RuleContext, p: BpfProgram, def: SectionDef, known: Set<string>): void {
  if (def.contextFlexible || def.contextNote || !p.ctxParam || !p.nameNode) return;
  // BPF_PROG(name, ...), BPF_KPROBE(...): the macro writes the real context parameter.
  if (/^BPF_/.test(p.nameNode.text)) return;
  const actual = norm(p.ctxParam.type);
  const expected = norm(def.contextType);
  if (actual === expected || !known.has(actual)) return;
  const usesFields = !!p.body && new RegExp(`\\b${p.ctxParam.name}\\s*->`).test(p.body.text);
  ctx.report({
    start: p.ctxParam.node.startIndex,
    end: p.ctxParam.node.endIndex,
    severity: usesFields ? 'error' : 'warning',
    message:
      `A SEC("${p.section}") program (${def.programType}) gets a ${def.contextType} context, not ${p.ctxParam.type}.` +
      (usesFields
        ? ` Its fields sit at other offsets: the verifier rejects the accesses ("invalid bpf_context access"), or they read other fields.`
        : ' The program loads only as long as it never reads the context.') +
      ` Declare the parameter as ${def.contextType}${p.ctxParam.name}.`,
    fixes: [
      {
        title: `Change the parameter to ${def.contextType}${p.ctxParam.name}`,
        preferred: true,
        edits: [
          {
            start: p.ctxParam.node.startIndex,
            end: p.ctxParam.node.endIndex,
            newText: `${def.contextType}${p.ctxParam.name}`,
          },
        ],
      },
    ],
  });
}
