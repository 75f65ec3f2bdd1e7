// The BPF knowledge the language server uses: helpers, SEC() names, return codes, maps, libbpf
// macros and kfuncs. Plain Node (no vscode import): the data is JSON under server/data/, bundled by
// esbuild; every lookup goes through a Map built once, on first use.
import helpersJson from '../../data/helpers.json';
import sectionsJson from '../../data/sections.json';
import returnCodesJson from '../../data/return-codes.json';
import availabilityJson from '../../data/helper-availability.json';
import mapsJson from '../../data/maps.json';
import macrosJson from '../../data/macros.json';
import kfuncsJson from '../../data/kfuncs.json';
import usageJson from '../../data/usage-frequency.json';
import type {
  Helper,
  HelperAvailability,
  Kfunc,
  KfuncsData,
  Macro,
  MapField,
  MapFlag,
  MapsData,
  MapType,
  ReturnCodeSet,
  SectionDef,
  UpdateFlag,
} from './types';

export type * from './types';

const HELPERS = helpersJson as unknown as Helper[];
const SECTIONS = sectionsJson as unknown as SectionDef[];
// JSON imports type tuples as number[]: the shapes are checked by test/unit/catalog.test.ts.
const RETURN_CODES = returnCodesJson as unknown as Record<string, ReturnCodeSet>;
const MAPS = mapsJson as unknown as MapsData;
const MACROS = macrosJson as unknown as Macro[];
const KFUNCS = kfuncsJson as unknown as KfuncsData;

/** Builds a Map on first use and keeps it. */
function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

const helpersByName = lazy(() => new Map(HELPERS.map((h) => [h.name, h])));
const helpersById = lazy(() => new Map(HELPERS.map((h) => [h.id, h])));
const macrosByName = lazy(() => new Map(MACROS.map((m) => [m.name, m])));
const kfuncsByName = lazy(() => new Map(KFUNCS.kfuncs.map((k) => [k.name, k])));
const mapTypesByName = lazy(() => new Map(MAPS.types.map((t) => [t.name, t])));
const mapFlagsByName = lazy(() => new Map(MAPS.flags.map((f) => [f.name, f])));

/** Section names matched exactly, and the '+' entries that also accept "prefix/...". */
const sectionIndex = lazy(() => {
  const exact = new Map<string, SectionDef>();
  const withSuffix = new Map<string, SectionDef>();
  for (const s of SECTIONS) {
    if (!exact.has(s.prefix)) exact.set(s.prefix, s);
    if (s.acceptsSuffix && !withSuffix.has(s.prefix)) withSuffix.set(s.prefix, s);
  }
  return { exact, withSuffix };
});

/** Program type -> its default return-code set (the first set that names the type). */
const returnCodesByType = lazy(() => {
  const m = new Map<string, ReturnCodeSet>();
  for (const set of Object.values(RETURN_CODES)) {
    for (const t of set.programTypes) if (!m.has(t)) m.set(t, set);
  }
  return m;
});

/** All documented helpers, ordered by id. */
export function helpers(): readonly Helper[] {
  return HELPERS;
}

/** The helper named `name` ("bpf_map_lookup_elem"), or undefined. */
export function helperByName(name: string): Helper | undefined {
  return helpersByName().get(name);
}

/** The helper whose BPF_FUNC_* id is `id`, or undefined. */
export function helperById(id: number): Helper | undefined {
  return helpersById().get(id);
}

/** All libbpf SEC() definitions, in libbpf's table order. */
export function sections(): readonly SectionDef[] {
  return SECTIONS;
}

/**
 * The definition libbpf would pick for SEC(`secName`), or undefined when libbpf rejects the name
 * ("missing BPF prog type"). Follows libbpf's rules: a leading '?' (autoload off) is ignored; an
 * entry without suffix matches only exactly; a '+' entry matches "prefix" or "prefix/anything".
 * The longest matching prefix wins, which for libbpf's table equals its first-match order.
 */
export function sectionFor(secName: string): SectionDef | undefined {
  const name = secName.startsWith('?') ? secName.slice(1) : secName;
  const { exact, withSuffix } = sectionIndex();
  const hit = exact.get(name);
  if (hit) return hit;
  for (let slash = name.lastIndexOf('/'); slash > 0; slash = name.lastIndexOf('/', slash - 1)) {
    const def = withSuffix.get(name.slice(0, slash));
    if (def) return def;
  }
  return undefined;
}

/** Program types named by the section table, sorted ("cgroup_skb", "kprobe", "xdp"...). */
export const programTypes = lazy((): readonly string[] => [...new Set(SECTIONS.map((s) => s.programType))].sort());

let availability = availabilityJson as unknown as HelperAvailability;
let allowedByType = buildAllowed(availability);
let gplOnlySet = new Set(availability.gplOnly);
let availabilityGeneration = 0;

function buildAllowed(data: HelperAvailability): Map<string, ReadonlySet<string>> {
  return new Map(Object.entries(data.programTypes).map(([t, names]) => [t, new Set(names)]));
}

/**
 * Replaces the helper availability table, e.g. with the connected target's own probe.
 * Later calls of helpersAllowed() and isGplOnly() answer from `data`.
 */
export function setHelperAvailability(data: HelperAvailability): void {
  availability = data;
  allowedByType = buildAllowed(data);
  gplOnlySet = new Set(data.gplOnly);
  availabilityGeneration++;
}

/** Changes whenever setHelperAvailability() is called: part of the cache key of findings that depend on it. */
export function availabilityKey(): string {
  return `avail${availabilityGeneration}`;
}

/** The availability table in use: the bundled probe, or the one set by setHelperAvailability(). */
export function helperAvailability(): HelperAvailability {
  return availability;
}

/**
 * Names of the helpers a program of `programType` ("xdp", "sched_cls"...) may call, or undefined
 * when nothing is known about that type (then nothing should be reported as disallowed).
 */
export function helpersAllowed(programType: string): ReadonlySet<string> | undefined {
  return allowedByType.get(programType);
}

/** True when programs of `programType` may call helper `name` only when they are sleepable. */
export function isSleepableOnlyHelper(programType: string, name: string): boolean {
  return !!availability.sleepableOnly?.[programType]?.includes(name);
}

/** True when the verifier refuses `name` to programs whose license is not GPL-compatible. */
export function isGplOnly(name: string): boolean {
  return gplOnlySet.has(name);
}

/**
 * Return codes for a program type ("xdp") or for a section's returnCodes key ("cgroup_skb_egress").
 * A key is tried first, then the default set of the program type.
 */
export function returnCodes(programTypeOrKey: string): ReturnCodeSet | undefined {
  return RETURN_CODES[programTypeOrKey] ?? returnCodesByType().get(programTypeOrKey);
}

/** All return-code sets by key. */
export function returnCodeSets(): Readonly<Record<string, ReturnCodeSet>> {
  return RETURN_CODES;
}

/** BPF_MAP_TYPE_* with their key/value rules. */
export function mapTypes(): readonly MapType[] {
  return MAPS.types;
}

/** The map type named `name` ("BPF_MAP_TYPE_HASH"), or undefined. */
export function mapTypeByName(name: string): MapType | undefined {
  return mapTypesByName().get(name);
}

/** Map creation flags (BPF_F_NO_PREALLOC...). */
export function mapFlags(): readonly MapFlag[] {
  return MAPS.flags;
}

/** The map flag named `name`, or undefined. */
export function mapFlagByName(name: string): MapFlag | undefined {
  return mapFlagsByName().get(name);
}

/** Fields of a `.maps` struct definition (type, key, value, max_entries...). */
export function mapFields(): readonly MapField[] {
  return MAPS.fields;
}

/** Flags of bpf_map_update_elem (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK). */
export function updateFlags(): readonly UpdateFlag[] {
  return MAPS.updateFlags;
}

/** libbpf macros and attributes (BPF_CORE_READ, SEC, __uint, bpf_printk...). */
export function macros(): readonly Macro[] {
  return MACROS;
}

/** The libbpf macro named `name`, or undefined. */
export function macroByName(name: string): Macro | undefined {
  return macrosByName().get(name);
}

/** kfuncs of the kernel the catalog was generated on (see kfuncsKernel()). */
export function kfuncs(): readonly Kfunc[] {
  return KFUNCS.kfuncs;
}

/** The kfunc named `name`, or undefined. */
export function kfuncByName(name: string): Kfunc | undefined {
  return kfuncsByName().get(name);
}

/** Kernel release the kfunc list was taken from. */
export function kfuncsKernel(): string {
  return KFUNCS.kernel;
}

const usage = (usageJson as { counts: Record<string, number> }).counts;

/** How often real BPF programs call a helper, kfunc or macro (server/data/usage-frequency.json): 0 when never seen. */
export function usageCount(name: string): number {
  return usage[name] ?? 0;
}
