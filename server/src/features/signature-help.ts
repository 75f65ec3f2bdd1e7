/** Signature help for helpers, kfuncs and function-like macros. */
import type { Position, SignatureHelp } from 'vscode-languageserver/node';
import type { BpfDocument } from '../bpf-document';
import { helperByName, kfuncByName, macroByName } from '../catalog/catalog';
import type { ServerContext } from '../server';
import { callAt } from './cursor';

export function signatureHelp(_ctx: ServerContext, doc: BpfDocument, pos: Position): SignatureHelp | null {
  const call = callAt(doc.text, doc.offsetAt(pos));
  if (!call) return null;
  const h = helperByName(call.name);
  const k = h ? undefined : kfuncByName(call.name);
  const m = h || k ? undefined : macroByName(call.name);
  let label: string;
  let params: string[];
  let documentation: string | undefined;
  if (h) {
    label = h.signature;
    params = h.args.map((a) => `${a.type}${a.type.endsWith('*') ? '' : ' '}${a.name}`);
    documentation = h.description.split('\n\n')[0];
  } else if (k) {
    label = k.prototype;
    params = k.args.map((a) => `${a.type}${a.type.endsWith('*') ? '' : ' '}${a.name}`.trim());
  } else if (m && m.kind === 'function-like') {
    label = m.signature;
    const inner = /\((.*)\)/.exec(m.signature)?.[1] ?? '';
    params = inner
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    documentation = m.description;
  } else return null;
  // Parameters as offsets into the label, so clients highlight the right one even with repeated text.
  const parameters: { label: [number, number] }[] = [];
  let from = label.indexOf('(') + 1;
  for (const p of params) {
    const at = label.indexOf(p, from);
    if (at < 0) break;
    parameters.push({ label: [at, at + p.length] });
    from = at + p.length;
  }
  const variadic = params.some((p) => p === '...');
  const active = Math.min(call.argIndex, Math.max(0, parameters.length - 1));
  return {
    signatures: [{ label, documentation, parameters }],
    activeSignature: 0,
    activeParameter: variadic || call.argIndex < parameters.length ? active : parameters.length,
  };
}
