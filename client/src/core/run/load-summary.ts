/**
 * What a load (or attach) did, in words, the clicked program first: its verdict (loaded, attached,
 * rejected with its line, refused with the kernel's reason and the alternative), then the other programs
 * counted by what happened to them, then every rejected program with its own message. The editor's
 * notification shows it; it has no `vscode` import so it is tested on real outcomes.
 */
import { basename } from 'node:path';
import type { LoadOutcome, ProgramFailure } from './load-session';

export interface LoadSummary {
  severity: 'info' | 'warning' | 'error';
  message: string;
  /** The program whose verifier log the "Step Through the Log" button opens. */
  stepThrough?: ProgramFailure;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "at file.bpf.c:12: R0 invalid mem access 'map_value_or_null'" */
function rejection(f: ProgramFailure): string {
  const at = f.error.line ? ` at ${basename(f.error.file ?? '')}:${f.error.line}` : '';
  return `rejected by the verifier${at}: ${f.error.message}`;
}

/** "refused by the kernel: Operation not permitted (this kernel refuses BPF trampolines ...; use tp_btf ...)" */
function refusal(f: ProgramFailure): string {
  return `refused by the kernel: ${f.error.message}${f.hint ? ` (${f.hint})` : ''}`;
}

/** Why a group of refusals happened, as one phrase: the agent's advice, else the kernel's message. */
function reasonOf(f: ProgramFailure): string {
  return f.hint ?? f.error.message;
}

/** The verdict of one program of the outcome. */
export function programVerdict(outcome: LoadOutcome, name: string): string | undefined {
  const rej = outcome.rejected.find((f) => f.name === name);
  if (rej) return rejection(rej);
  const ref = outcome.refused.find((f) => f.name === name);
  if (ref) return refusal(ref);
  const p = outcome.loaded?.programs.find((x) => x.name === name);
  if (!p) return undefined;
  const what = `loaded (id ${p.id}, ${p.verified_insns} insns verified)`;
  const failed = outcome.attachFailed.find((a) => a.name === name);
  if (failed) return `${what}, but attaching failed: ${failed.message}`;
  if (outcome.attached.includes(name)) return `${what} and attached`;
  return p.links.length ? `${what}, attached` : what;
}

export function summarizeLoad(outcome: LoadOutcome, what: { target: string; attach?: boolean }): LoadSummary {
  const clicked = outcome.clicked;
  const parts: string[] = [];
  let severity: LoadSummary['severity'] = 'info';
  if (outcome.cancelled) return { severity: 'warning', message: `${outcome.error ?? 'cancelled'}.` };
  const clickedVerdict = clicked ? programVerdict(outcome, clicked) : undefined;
  if (clicked && clickedVerdict) parts.push(`${clicked}: ${clickedVerdict}.`);
  else if (clicked && outcome.error) parts.push(`${clicked}: not loaded: ${outcome.error}.`);
  else if (outcome.error && !outcome.rejected.length) parts.push(`${outcome.error}.`);
  if (clicked) {
    if (outcome.rejected.some((f) => f.name === clicked)) severity = 'error';
    else if (outcome.refused.some((f) => f.name === clicked) || outcome.attachFailed.some((a) => a.name === clicked))
      severity = 'error';
    else if (!clickedVerdict) severity = 'error';
  } else if (outcome.error && !outcome.loaded) severity = 'error';

  // The others, counted: "5 other programs loaded, 30 refused: kprobes are not available on this kernel".
  const others = (n: string) => n !== clicked;
  const loaded = (outcome.loaded?.programs ?? []).filter((p) => others(p.name));
  const refused = outcome.refused.filter((f) => others(f.name));
  const rejected = outcome.rejected.filter((f) => others(f.name));
  const attachFailed = outcome.attachFailed.filter((a) => others(a.name));
  const counts: string[] = [];
  const other = clicked ? 'other ' : '';
  if (loaded.length) {
    const attachedHere = loaded.filter((p) => outcome.attached.includes(p.name)).length;
    counts.push(
      `${plural(loaded.length, `${other}program`)} loaded${attachedHere ? ` (${attachedHere} attached)` : clicked ? ' (not attached)' : ''}`,
    );
  }
  if (refused.length) {
    const byReason = new Map<string, number>();
    for (const f of refused) byReason.set(reasonOf(f), (byReason.get(reasonOf(f)) ?? 0) + 1);
    for (const [reason, n] of byReason) counts.push(`${n} refused: ${reason}`);
  }
  if (attachFailed.length) {
    const byReason = new Map<string, number>();
    for (const a of attachFailed) byReason.set(a.message, (byReason.get(a.message) ?? 0) + 1);
    for (const [reason, n] of byReason) counts.push(`${n} not attached: ${reason}`);
  }
  if (rejected.length) counts.push(`${rejected.length} rejected by the verifier`);
  if (counts.length) parts.push(`${counts.join(', ')}.`);
  if (!clicked && !counts.length && !parts.length) parts.push('nothing to load.');
  if (refused.length || attachFailed.length || rejected.length) severity = severity === 'info' ? 'warning' : severity;

  // Every rejected program with its own message (the clicked one's is already said).
  if (rejected.length) {
    parts.push(
      `Rejected: ${rejected.map((f) => `${f.name} ${rejection(f).replace(/^rejected by the verifier /, '')}`).join('; ')}.`,
    );
    if (!clicked && !loaded.length) severity = 'error';
  }
  const stepThrough =
    outcome.rejected.find((f) => f.name === clicked && f.log.trim()) ?? outcome.rejected.find((f) => f.log.trim());
  const on = ` (on ${what.target})`;
  return { severity, message: parts.join(' ') + on, stepThrough };
}
