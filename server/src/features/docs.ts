/** Markdown for helpers, kfuncs, macros, sections and maps, shared by hover and completion. */
import type { BpfMap } from '../bpf-document';
import {
  type Helper,
  helpersAllowed,
  isGplOnly,
  type Kfunc,
  type Macro,
  mapTypeByName,
  returnCodes,
  type SectionDef,
} from '../catalog/catalog';

/** The uapi docs use RST-ish markup (`**x**`, `*x*`); keep it, it reads as Markdown. */
export function helperMarkdown(h: Helper): string {
  const parts = ['```c\n' + h.signature + '\n```'];
  const flags: string[] = [`helper #${h.id}`];
  if (isGplOnly(h.name)) flags.push('GPL-only');
  if (h.mayReturnNull) flags.push('may return NULL: check before use');
  if (h.releasedBy?.length) flags.push(`acquires a reference: release with ${h.releasedBy.join(' or ')}`);
  parts.push(flags.join(' · '));
  if (h.description) parts.push(h.description);
  if (h.returns) parts.push('**Returns**\n\n' + h.returns);
  return parts.join('\n\n');
}

export function kfuncMarkdown(k: Kfunc): string {
  const notes = ["kfunc (from the kernel's BTF)"];
  if (k.mayReturnNull) notes.push('may return NULL: check before use');
  if (k.releasedBy?.length) notes.push(`acquires a reference: release with ${k.releasedBy.join(' or ')}`);
  if (k.releases) notes.push('releases a reference');
  if (k.trustedArgs) notes.push('pointer arguments must be trusted (KF_TRUSTED_ARGS): not walked from another struct');
  else if (k.rcuArgs) notes.push('pointer arguments must be trusted or RCU-protected (KF_RCU)');
  return [
    '```c\n' + k.prototype + '\n```',
    notes.join(' · '),
    'Declare it with `extern ... __ksym;` (vmlinux.h does not).',
  ].join('\n\n');
}

export function macroMarkdown(m: Macro): string {
  return [
    '```c\n' + m.signature + '\n```',
    m.description,
    `Defined in \`${m.header}\`${m.since ? ` (libbpf ${m.since}+)` : ''}.`,
  ].join('\n\n');
}

export function sectionMarkdown(s: SectionDef): string {
  const allowed = helpersAllowed(s.programType);
  const codes = returnCodes(s.returnCodes) ?? returnCodes(s.programType);
  const lines = [
    `**SEC("${s.prefix}${s.acceptsSuffix && s.argForm ? '/…' : ''}")**: ${s.description}`,
    `- program type: \`BPF_PROG_TYPE_${s.programType.toUpperCase()}\`${s.attachType ? `, attach type \`BPF_${s.attachType.toUpperCase()}\`` : ''}`,
    `- context: \`${s.contextType}\`${s.contextNote ? ` (${s.contextNote})` : ''}`,
  ];
  if (s.argForm) lines.push(`- form: \`SEC("${s.argForm}")\``);
  if (s.sleepable) lines.push('- sleepable: may call helpers that fault or sleep');
  if (codes) lines.push(`- returns: ${codes.values.map((v) => `\`${v.name}\``).join(', ') || codes.description}`);
  if (allowed) lines.push(`- ${allowed.size} helpers allowed`);
  return lines.join('\n');
}

export function mapMarkdown(m: BpfMap): string {
  const t = m.type ? mapTypeByName(m.type) : undefined;
  const lines = [
    '```c\n' + `map ${m.name}: ${m.type ?? '(no type)'}` + '\n```',
    `- key: \`${m.keyType ?? m.fields.get('key_size')?.value ?? '?'}\``,
    `- value: \`${m.valueType ?? m.fields.get('value_size')?.value ?? '?'}\``,
    `- max_entries: \`${m.maxEntries ?? '?'}\``,
  ];
  const flags = m.fields.get('map_flags')?.value;
  if (flags) lines.push(`- flags: \`${flags}\``);
  if (t) lines.push('', t.description);
  return lines.join('\n');
}
