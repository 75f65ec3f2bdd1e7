/**
 * What the rules know of a function of the file or of an included header, in words, for hover: the
 * interprocedural summaries "returns a may-be-NULL pointer" (null-check), "returns a reference it
 * acquired" (unreleased-reference) and "releases its argument N" (unreleased-reference).
 */
import type { BpfDocument } from '../bpf-document';
import { helperByName, kfuncByName } from '../catalog/catalog';
import { documentHeaderDeclarations, headerFunctionSummaries } from '../header-declarations';
import { functionsByName, functionsOf } from './function-cache';
import { releasedArguments } from './released-arguments';
import { fileNullableFunctions, nullableCallee } from './rules/null-check';
import { returnedReferences } from './rules/unreleased-reference';

/** One line per summary the rules hold for `name` (empty when none). */
export function functionSummaryNotes(doc: BpfDocument, name: string): string[] {
  const notes: string[] = [];
  const nullable = fileNullableFunctions(doc, functionsOf(doc));
  const refs = returnedReferences(doc);
  if (!functionsByName(doc).has(name)) {
    const hdr = headerFunctionSummaries(
      documentHeaderDeclarations(doc),
      (c) => nullableCallee(c, nullable),
      (c) => helperByName(c)?.releasedBy ?? kfuncByName(c)?.releasedBy ?? refs.get(c),
    );
    for (const n of hdr.nullable) nullable.add(n);
    for (const [n, r] of hdr.returnsRef) if (!refs.has(n)) refs.set(n, r);
  }
  if (nullable.has(name)) notes.push('may return NULL: check its result before use (`null-check`)');
  const rel = refs.get(name);
  if (rel) notes.push(`returns a reference it acquired: release it with ${rel.join(' or ')} on every path`);
  const released = releasedArguments(doc).get(name);
  if (released)
    notes.push(
      `releases its argument ${released.index + 1} (\`${released.param}\`) on every path, through ${released.via}(): ` +
        `the caller has given the reference back and must not use it afterwards`,
    );
  return notes;
}
