/**
 * Completion that knows BPF: SEC() names, map definition fields, map types and flags, helpers and
 * kfuncs filtered by the program type of the enclosing SEC() function, return codes for the program,
 * and struct members of the context and of structs in the file or its headers (vmlinux.h too).
 */
import {
  type CompletionItem,
  CompletionItemKind,
  type CompletionList,
  InsertTextFormat,
  MarkupKind,
  type Position,
} from 'vscode-languageserver/node';
import type { BpfDocument } from '../bpf-document';
import {
  helperByName,
  helpers,
  helpersAllowed,
  kfuncByName,
  kfuncs,
  macroByName,
  macros,
  mapFields,
  mapFlags,
  mapTypes,
  returnCodes,
  sections,
  updateFlags,
  usageCount,
} from '../catalog/catalog';
import { directCallerPrograms } from '../diagnostics/function-cache';
import type { ServerContext } from '../server';
import { callAt, expressionType, membersOf, structNameOf } from './cursor';
import { helperMarkdown, kfuncMarkdown, macroMarkdown, sectionMarkdown } from './docs';

type ItemData = { kind: 'helper' | 'kfunc' | 'macro' | 'section'; name: string };

export function completion(ctx: ServerContext, doc: BpfDocument, pos: Position): CompletionList | null {
  const offset = doc.offsetAt(pos);
  const text = doc.text;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);

  // SEC("...|")
  const sec = /\bSEC\s*\(\s*"([^"]*)$/.exec(before);
  if (sec) return sectionItems(ctx, sec[1]);

  // Map definition fields: inside `struct { ... } name SEC(".maps")`.
  const mapField = /\b(__uint|__type|__array)\s*\(\s*(\w+)\s*,\s*(\w*)$/.exec(before);
  if (mapField) return mapFieldValueItems(mapField[2]);
  if (inMapDefinition(doc, offset) && /^\s*\w*$/.test(before)) return mapFieldItems();

  // Members after `->` or `.`.
  const member = /(->|\.)\s*(\w*)$/.exec(before);
  if (member && !/^\s*\.\w*$/.test(before) && !/\d\.\w*$/.test(before)) {
    const end = offset - member[0].length;
    return memberItems(ctx, doc, end);
  }

  // `return |` in a program: its return codes first.
  const items: CompletionItem[] = [];
  const prog = doc.programAt(offset);
  const programType = prog?.def?.programType;
  if (/\breturn\s+\w*$/.test(before) && prog?.def) {
    const set = returnCodes(prog.def.returnCodes) ?? returnCodes(prog.def.programType);
    for (const v of set?.values ?? []) {
      items.push({
        label: v.name,
        kind: CompletionItemKind.EnumMember,
        detail: `${v.value}: ${prog.def.programType} return code`,
        documentation: v.description,
        sortText: `0${v.name}`,
        preselect: v.name === 'XDP_PASS' || v.name === 'TC_ACT_OK',
      });
    }
  }

  // Flags in the last argument of bpf_map_update_elem & co.
  const call = callAt(text, offset);
  if (call && /^bpf_map_update_elem$|^bpf_map_push_elem$/.test(call.name) && call.argIndex >= 2) {
    for (const f of updateFlags()) {
      items.push({
        label: f.name,
        kind: CompletionItemKind.Constant,
        detail: String(f.value),
        documentation: f.description,
        sortText: `0${f.name}`,
      });
    }
  }

  // Identifiers: helpers allowed here, kfuncs, macros, maps, functions of the file.
  const allowed = allowedHelpers(doc, offset, programType);
  for (const item of helperItems(allowed)) items.push(item);
  for (const item of catalogItems()) items.push(item);
  for (const map of doc.maps) {
    items.push({
      label: map.name,
      kind: CompletionItemKind.Variable,
      detail: `map ${map.type ?? ''} <${map.keyType ?? '?'}, ${map.valueType ?? '?'}>`,
      sortText: `1${map.name}`,
    });
  }
  for (const [name] of doc.functions) {
    if (doc.programs.some((p) => p.name === name)) continue;
    items.push({
      label: name,
      kind: CompletionItemKind.Function,
      detail: 'function in this file',
      sortText: `1${name}`,
    });
  }
  return { isIncomplete: false, items };
}

/** A helper's completion item (built once: the catalog does not change while the server runs). */
function helperItem(h: ReturnType<typeof helpers>[number]): CompletionItem {
  return {
    label: h.name,
    kind: CompletionItemKind.Function,
    detail: h.signature,
    insertText: `${h.name}(${h.args.map((a, i) => `\${${i + 1}:${a.name}}`).join(', ')})`,
    insertTextFormat: InsertTextFormat.Snippet,
    sortText: byUsage(h.name),
    data: { kind: 'helper', name: h.name } satisfies ItemData,
  };
}

let helperCache:
  { list: ReturnType<typeof helpers>; all: CompletionItem[]; byAllowed: WeakMap<object, CompletionItem[]> } | undefined;

/**
 * The items of the helpers in `allowed` (all helpers when undefined), kept per allowed set: the sets
 * of program types are the catalog's own (replaced when a target connects), so they key the cache.
 */
function helperItems(allowed: ReadonlySet<string> | undefined): readonly CompletionItem[] {
  const list = helpers();
  if (helperCache?.list !== list) helperCache = { list, all: list.map(helperItem), byAllowed: new WeakMap() };
  const cache = helperCache;
  if (!allowed) return cache.all;
  let items = cache.byAllowed.get(allowed);
  if (!items) {
    items = cache.all.filter((it) => allowed.has(it.label));
    cache.byAllowed.set(allowed, items);
  }
  return items;
}

let catalogCache:
  { kfuncs: ReturnType<typeof kfuncs>; macros: ReturnType<typeof macros>; items: CompletionItem[] } | undefined;

/** The kfuncs' and the macros' items, built once per catalog. */
function catalogItems(): readonly CompletionItem[] {
  const ks = kfuncs();
  const ms = macros();
  if (catalogCache?.kfuncs === ks && catalogCache.macros === ms) return catalogCache.items;
  const items: CompletionItem[] = [];
  for (const k of ks) {
    items.push({
      label: k.name,
      kind: CompletionItemKind.Function,
      detail: `kfunc: ${k.prototype}`,
      insertText: `${k.name}(${k.args.map((a, i) => `\${${i + 1}:${a.name || 'arg' + i}}`).join(', ')})`,
      insertTextFormat: InsertTextFormat.Snippet,
      sortText: byUsage(k.name),
      data: { kind: 'kfunc', name: k.name } satisfies ItemData,
    });
  }
  for (const m of ms) {
    items.push({
      label: m.name,
      kind: m.kind === 'function-like' ? CompletionItemKind.Function : CompletionItemKind.Keyword,
      detail: m.signature,
      insertText: m.snippet || m.name,
      insertTextFormat: m.snippet ? InsertTextFormat.Snippet : InsertTextFormat.PlainText,
      sortText: byUsage(m.name),
      data: { kind: 'macro', name: m.name } satisfies ItemData,
    });
  }
  catalogCache = { kfuncs: ks, macros: ms, items };
  return items;
}

/**
 * Helpers, kfuncs and macros in one list, the ones real BPF programs call most first (usage counts in
 * server/data/usage-frequency.json), then the others by name.
 */
function byUsage(name: string): string {
  return `2${String(1_000_000 - Math.min(usageCount(name), 999_999)).padStart(7, '0')}${name}`;
}

/** Fills in documentation for the item the user looks at (kept out of the list for speed). */
export function resolveCompletion(_ctx: ServerContext, item: CompletionItem): CompletionItem {
  const data = item.data as ItemData | undefined;
  if (!data) return item;
  let value: string | undefined;
  if (data.kind === 'helper') {
    const h = helperByName(data.name);
    if (h) value = helperMarkdown(h);
  } else if (data.kind === 'kfunc') {
    const k = kfuncByName(data.name);
    if (k) value = kfuncMarkdown(k);
  } else if (data.kind === 'macro') {
    const m = macroByName(data.name);
    if (m) value = macroMarkdown(m);
  } else if (data.kind === 'section') {
    const s = sections().find((x) => x.prefix === data.name);
    if (s) value = sectionMarkdown(s);
  }
  // The item's detail already shows the signature: the documentation does not repeat it.
  if (value && item.detail) value = value.replace(/^```c\n[\s\S]*?\n```\n*/, '');
  if (value) item.documentation = { kind: MarkupKind.Markdown, value };
  return item;
}

/** Helpers a function at `offset` may call: its program type's, or the union over its callers'. */
function allowedHelpers(
  doc: BpfDocument,
  offset: number,
  programType: string | undefined,
): ReadonlySet<string> | undefined {
  if (programType) return helpersAllowed(programType);
  const node = doc.root?.descendantForIndex(offset);
  let fn = node ?? null;
  while (fn && fn.type !== 'function_definition') fn = fn.parent;
  if (!fn) return undefined;
  const progs = directCallerPrograms(doc, fn);
  const sets = progs.map((p) => (p.def ? helpersAllowed(p.def.programType) : undefined));
  if (sets.length === 0 || sets.some((s) => !s)) return undefined;
  if (sets.length === 1) return sets[0];
  // A helper used by a function shared between programs must be allowed in every one of them.
  const key = progs.map((p) => p.def!.programType).join(',');
  const hit = intersections.get(key);
  if (hit && hit.sets.length === sets.length && hit.sets.every((s, k) => s === sets[k])) return hit.result;
  const [first, ...rest] = sets as ReadonlySet<string>[];
  const result = new Set([...first].filter((h) => rest.every((s) => s.has(h))));
  intersections.set(key, { sets: sets as ReadonlySet<string>[], result });
  return result;
}

/** Helpers allowed in every one of several program types, by the types (the catalog's sets checked too). */
const intersections = new Map<string, { sets: ReadonlySet<string>[]; result: ReadonlySet<string> }>();

function sectionItems(ctx: ServerContext, typed: string): CompletionList {
  const items: CompletionItem[] = [];
  const slash = typed.indexOf('/');
  const head = slash >= 0 ? typed.slice(0, slash) : '';
  // SEC("tracepoint/<category>/<event>"): the connected target's tracepoints.
  if (ctx.target?.tracepoints && (head === 'tracepoint' || head === 'tp')) {
    for (const tp of ctx.target.tracepoints) {
      const label = `${head}/${tp.replace(':', '/')}`;
      items.push({
        label,
        kind: CompletionItemKind.Event,
        detail: `tracepoint on ${ctx.target.target ?? 'the target'}`,
      });
    }
    return { isIncomplete: false, items: items.map((i) => withTypedPrefix(i, typed)) };
  }
  // SEC("kprobe/<function>"), fentry/fexit/fmod_ret: the connected target's BTF functions, by prefix
  // (tens of thousands: only those matching what was typed, and the list is marked incomplete).
  if (ctx.target?.functions && /^(kprobe|kretprobe|fentry|fexit|fmod_ret|fentry\.s|fexit\.s)$/.test(head)) {
    const typedFn = typed.slice(slash + 1);
    const max = 500;
    for (const fn of ctx.target.functions) {
      if (!fn.startsWith(typedFn)) continue;
      items.push(
        withTypedPrefix(
          {
            label: `${head}/${fn}`,
            kind: CompletionItemKind.Function,
            detail: `kernel function on ${ctx.target.target ?? 'the target'}`,
          },
          typed,
        ),
      );
      if (items.length >= max) break;
    }
    return { isIncomplete: items.length >= max, items };
  }
  for (const s of sections()) {
    const label = s.acceptsSuffix && s.argForm ? `${s.prefix}/` : s.prefix;
    items.push(
      withTypedPrefix(
        {
          label,
          kind: CompletionItemKind.Module,
          detail: `${s.programType}${s.argForm ? ` · ${s.argForm}` : ''}`,
          sortText: s.prefix,
          data: { kind: 'section', name: s.prefix } satisfies ItemData,
        },
        typed,
      ),
    );
  }
  return { isIncomplete: false, items };
}

/** Inside a string, VS Code's word is cut at '/': replace the whole typed text instead. */
function withTypedPrefix(item: CompletionItem, typed: string): CompletionItem {
  const cut = Math.max(typed.lastIndexOf('/'), typed.lastIndexOf('.'), typed.lastIndexOf('-'));
  if (cut >= 0) {
    const rest = item.label.startsWith(typed.slice(0, cut + 1)) ? item.label.slice(cut + 1) : item.label;
    item.insertText = rest;
    item.filterText = rest;
  }
  return item;
}

function inMapDefinition(doc: BpfDocument, offset: number): boolean {
  const text = doc.text;
  const open = text.lastIndexOf('{', offset);
  if (open < 0) return false;
  const close = text.indexOf('}', open);
  if (close >= 0 && close < offset) return false;
  const head = text.slice(Math.max(0, open - 40), open);
  if (!/\bstruct\s*$/.test(head)) return false;
  const tail = text.slice(offset, offset + 2000);
  return /^[^{}]*\}\s*\w+\s*SEC\s*\(\s*"\.maps"/.test(tail) || /__uint\s*\(\s*type/.test(text.slice(open, offset));
}

function mapFieldItems(): CompletionList {
  return {
    isIncomplete: false,
    items: mapFields().map((f) => ({
      label: `${f.macro}(${f.name}, …)`,
      filterText: `${f.macro} ${f.name}`,
      kind: CompletionItemKind.Field,
      detail: f.example,
      documentation: f.description,
      insertText: f.snippet,
      insertTextFormat: InsertTextFormat.Snippet,
    })),
  };
}

function mapFieldValueItems(field: string): CompletionList {
  if (field === 'type') {
    return {
      isIncomplete: false,
      items: mapTypes().map((t) => ({
        label: t.name,
        kind: CompletionItemKind.EnumMember,
        detail: `key: ${t.key}; value: ${t.value}${t.perCpu ? ' (per-CPU)' : ''}`,
        documentation: t.description,
      })),
    };
  }
  if (field === 'map_flags') {
    return {
      isIncomplete: false,
      items: mapFlags().map((f) => ({
        label: f.name,
        kind: CompletionItemKind.Constant,
        detail: `0x${f.value.toString(16)}`,
        documentation: f.description,
      })),
    };
  }
  if (field === 'pinning') {
    return {
      isIncomplete: false,
      items: [
        {
          label: 'LIBBPF_PIN_BY_NAME',
          kind: CompletionItemKind.Constant,
          documentation:
            'Pin the map in /sys/fs/bpf under its name (or the pin_root_path libbpf is given); reuse it if already pinned.',
        },
        { label: 'LIBBPF_PIN_NONE', kind: CompletionItemKind.Constant, documentation: 'Do not pin (the default).' },
      ],
    };
  }
  return { isIncomplete: false, items: [] };
}

function memberItems(ctx: ServerContext, doc: BpfDocument, end: number): CompletionList {
  const type = expressionType(ctx, doc, end);
  const sname = type ? structNameOf(type) : undefined;
  const members = sname ? membersOf(ctx, doc, sname) : undefined;
  return {
    isIncomplete: false,
    items: (members ?? []).map((m, i) => ({
      label: m.name,
      kind: CompletionItemKind.Field,
      detail: m.type,
      sortText: String(i).padStart(4, '0'),
    })),
  };
}
