// The TextMate injection grammar (syntaxes/bpf-c.injection.tmLanguage.json), tokenized the way VS Code
// does it: vscode-textmate + vscode-oniguruma, injected into VS Code's own C grammar (from tm-grammars).
// Checks named tokens, that comments and strings are left alone, that plain C is tokenized exactly
// as without the injection, and a snapshot of a fixture (UPDATE_SNAPSHOTS=1 rewrites it).
import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'grammar');
const GRAMMAR = join(ROOT, 'syntaxes', 'bpf-c.injection.tmLanguage.json');
const INJECTION_SCOPE = 'bpf.c.injection';
const DEPS = ['vscode-textmate', 'vscode-oniguruma', 'tm-grammars'];

interface Token {
  text: string;
  scopes: string[];
}
type Tokenize = (text: string, inject: boolean) => Promise<Token[][]>;

// Minimal shapes of the vscode-textmate API used here (the package ships its own types when installed).
interface TmGrammar {
  tokenizeLine(
    line: string,
    state: unknown,
  ): { tokens: { startIndex: number; endIndex: number; scopes: string[] }[]; ruleStack: unknown };
}
interface TmRegistry {
  loadGrammar(scope: string): Promise<TmGrammar | null>;
}

const req = createRequire(__filename);
let tokenize: Tokenize | undefined;
let missing: string | null = null;

before(async () => {
  try {
    for (const d of DEPS) req.resolve(d === 'tm-grammars' ? 'tm-grammars/grammars/c.json' : d);
  } catch {
    missing = `the grammar tests need the dev dependencies ${DEPS.join(', ')} (npm install --save-dev ${DEPS.join(' ')})`;
    return;
  }
  const tm = req('vscode-textmate') as {
    Registry: new (o: unknown) => TmRegistry;
    INITIAL: unknown;
    parseRawGrammar(text: string, path: string): unknown;
  };
  const onig = req('vscode-oniguruma') as {
    loadWASM(data: ArrayBuffer): Promise<void>;
    createOnigScanner(p: string[]): unknown;
    createOnigString(s: string): unknown;
  };
  const wasm = readFileSync(join(req.resolve('vscode-oniguruma'), '..', 'onig.wasm'));
  await onig.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const cGrammarPath = req.resolve('tm-grammars/grammars/c.json');
  const makeRegistry = (inject: boolean) =>
    new tm.Registry({
      onigLib: Promise.resolve({ createOnigScanner: onig.createOnigScanner, createOnigString: onig.createOnigString }),
      loadGrammar: async (scope: string) => {
        if (scope === 'source.c') return tm.parseRawGrammar(readFileSync(cGrammarPath, 'utf8'), cGrammarPath);
        if (scope === INJECTION_SCOPE) return tm.parseRawGrammar(readFileSync(GRAMMAR, 'utf8'), GRAMMAR);
        return null;
      },
      // what package.json's contributes.grammars[].injectTo ["source.c"] does in VS Code
      getInjections: (scope: string) => (inject && scope === 'source.c' ? [INJECTION_SCOPE] : undefined),
    });
  const grammars = new Map<boolean, TmGrammar>();
  for (const inject of [false, true]) {
    const g = await makeRegistry(inject).loadGrammar('source.c');
    assert.ok(g, 'the C grammar loads');
    grammars.set(inject, g);
  }
  tokenize = async (text, inject) => {
    const g = grammars.get(inject)!;
    let state = tm.INITIAL;
    return text.split('\n').map((line) => {
      const r = g.tokenizeLine(line, state);
      state = r.ruleStack;
      return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
    });
  };
});

function ready(t: TestContext): boolean {
  if (!missing) return true;
  if (process.env.CI === 'true') assert.fail(missing);
  t.skip(missing);
  return false;
}

/** The scopes of the first token with this text on the first line containing `lineHas`. */
function scopesOf(lines: Token[][], source: string, lineHas: string, token: string): string[] {
  const i = source.split('\n').findIndex((l) => l.includes(lineHas));
  assert.ok(i >= 0, `no line contains ${lineHas}`);
  const tok = lines[i].find((t) => t.text === token);
  assert.ok(tok, `line ${i + 1} has no token "${token}": ${JSON.stringify(lines[i].map((t) => t.text))}`);
  return tok.scopes;
}

describe('BPF injection grammar', () => {
  const samplePath = join(FIXTURES, 'sample.bpf.c');
  const sample = readFileSync(samplePath, 'utf8');

  test('the grammar file is a valid injection grammar for source.c', () => {
    const g = JSON.parse(readFileSync(GRAMMAR, 'utf8')) as {
      scopeName: string;
      injectionSelector: string;
      repository: Record<string, unknown>;
    };
    assert.equal(g.scopeName, INJECTION_SCOPE);
    assert.match(g.injectionSelector, /^L:source\.c -comment -string$/);
    for (const m of readFileSync(GRAMMAR, 'utf8').matchAll(/"include": "#([\w-]+)"/g))
      assert.ok(g.repository[m[1]], `#${m[1]} is defined`);
  });

  test('BPF constructs get their .bpf scopes', async (t) => {
    if (!ready(t)) return;
    const lines = await tokenize!(sample, true);
    const expect: [string, string, string][] = [
      ['SEC("xdp")', 'SEC', 'storage.modifier.section.bpf'],
      ['SEC("xdp")', 'xdp', 'support.type.section.bpf'],
      ['SEC("kprobe/do_unlinkat")', 'kprobe', 'support.type.section.bpf'],
      ['SEC("kprobe/do_unlinkat")', '/do_unlinkat', 'string.unquoted.attach-target.bpf'],
      ['SEC("?tc")', '?', 'keyword.operator.optional-load.bpf'],
      ['SEC("?tc")', 'tc', 'support.type.section.bpf'],
      ['SEC("uprobe//lib', '//lib/x86_64-linux-gnu/libc.so.6:close', 'string.unquoted.attach-target.bpf'],
      ['} counts SEC(".maps")', '.maps', 'support.type.section.bpf'],
      ['SEC("license")', 'license', 'support.type.section.bpf'],
      ['__uint(type, BPF_MAP_TYPE_HASH)', '__uint', 'storage.type.map-field.bpf'],
      ['__uint(type, BPF_MAP_TYPE_HASH)', 'type', 'variable.other.property.map-field.bpf'],
      ['__uint(type, BPF_MAP_TYPE_HASH)', 'BPF_MAP_TYPE_HASH', 'support.constant.map-type.bpf'],
      ['__type(key, u32)', '__type', 'storage.type.map-field.bpf'],
      ['__type(key, u32)', 'key', 'variable.other.property.map-field.bpf'],
      ['__array(values', '__array', 'storage.type.map-field.bpf'],
      ['BPF_F_NO_PREALLOC', 'BPF_F_NO_PREALLOC', 'support.constant.flag.bpf'],
      ['LIBBPF_PIN_BY_NAME', 'LIBBPF_PIN_BY_NAME', 'support.constant.pinning.bpf'],
      ['val = bpf_map_lookup_elem', 'bpf_map_lookup_elem', 'support.function.helper.bpf'],
      ['bpf_get_current_pid_tgid()', 'bpf_get_current_pid_tgid', 'support.function.helper.bpf'],
      ['bpf_printk("not a call', 'bpf_printk', 'support.function.helper.bpf'],
      ['BPF_NOEXIST', 'BPF_NOEXIST', 'support.constant.map-flag.bpf'],
      ['return XDP_PASS', 'XDP_PASS', 'support.constant.return-code.bpf'],
      ['? XDP_ABORTED : XDP_TX', 'XDP_TX', 'support.constant.return-code.bpf'],
      ['TC_ACT_SHOT : TC_ACT_OK', 'TC_ACT_OK', 'support.constant.return-code.bpf'],
      ['return SK_PASS', 'SK_PASS', 'support.constant.return-code.bpf'],
      ['int BPF_KPROBE(probe', 'BPF_KPROBE', 'support.function.macro.definition.bpf'],
      ['int BPF_KPROBE(probe', 'BPF_KPROBE', 'entity.name.function.c'],
      ['int BPF_KPROBE(probe', 'dfd', 'variable.parameter.probably.c'],
      ['val = bpf_map_lookup_elem', 'bpf_map_lookup_elem', 'meta.function-call.c'],
      ['BPF_CORE_READ(name, name)', 'BPF_CORE_READ', 'support.function.macro.bpf'],
      ['bpf_core_field_exists', 'bpf_core_field_exists', 'support.function.macro.bpf'],
      ['static __always_inline int add', '__always_inline', 'storage.modifier.annotation.bpf'],
      ['__ksym __weak', '__ksym', 'storage.modifier.annotation.bpf'],
      ['__ksym __weak', '__weak', 'storage.modifier.annotation.bpf'],
      ['LINUX_KERNEL_VERSION __kconfig', '__kconfig', 'storage.modifier.annotation.bpf'],
    ];
    const wrong: string[] = [];
    for (const [line, token, scope] of expect) {
      const scopes = scopesOf(lines, sample, line, token);
      if (!scopes.includes(scope)) wrong.push(`${token} (in ${line}): ${scopes.join(' ')} lacks ${scope}`);
    }
    assert.deepEqual(wrong, []);
  });

  test('C keeps its scopes around BPF: types, function names, punctuation', async (t) => {
    if (!ready(t)) return;
    const lines = await tokenize!(sample, true);
    assert.ok(
      scopesOf(lines, sample, 'int xdp_prog(struct xdp_md *ctx)', 'xdp_prog').some((s) =>
        s.startsWith('entity.name.function'),
      ),
    );
    assert.ok(
      scopesOf(lines, sample, 'int xdp_prog(struct xdp_md *ctx)', 'int').includes('storage.type.built-in.primitive.c'),
    );
    assert.ok(scopesOf(lines, sample, 'const volatile u32 target_pid', 'const').includes('storage.modifier.c'));
    assert.ok(
      scopesOf(lines, sample, 'char LICENSE[]', 'Dual BSD/GPL').some((s) => s.startsWith('string.quoted.double')),
    );
    assert.ok(scopesOf(lines, sample, 'return a + b;', 'return').includes('keyword.control.c'));
    // the functions after SEC() lines are still function definitions (the SEC() match ends cleanly)
    const fnLine = sample.split('\n').findIndex((l) => l.startsWith('int tc_prog('));
    assert.ok(
      lines[fnLine].some((tk) => tk.text === 'tc_prog' && tk.scopes.some((s) => s.startsWith('entity.name.function'))),
    );
  });

  test('comments, strings and look-alike names are left alone', async (t) => {
    if (!ready(t)) return;
    const lines = await tokenize!(sample, true);
    const src = sample.split('\n');
    const bad: string[] = [];
    lines.forEach((toks, i) => {
      for (const tk of toks) {
        const inCommentOrString = tk.scopes.some(
          (s) => s.startsWith('comment') || (s.startsWith('string') && !s.endsWith('.bpf')),
        );
        if (
          inCommentOrString &&
          tk.scopes.some((s) => s.endsWith('.bpf') && !s.startsWith('string') && !s.startsWith('punctuation'))
        )
          bad.push(`${i + 1}: "${tk.text}" ${tk.scopes.join(' ')}`);
      }
    });
    assert.deepEqual(bad, []);
    const i = src.findIndex((l) => l.includes('my_bpf_helper'));
    assert.ok(
      lines[i].every((tk) => !tk.text.includes('bpf_helper') || !tk.scopes.some((s) => s.endsWith('.bpf'))),
      'my_bpf_helper is not a helper',
    );
  });

  test('plain C is tokenized exactly as without the injection', async (t) => {
    if (!ready(t)) return;
    const plain = readFileSync(join(FIXTURES, 'plain.c'), 'utf8');
    assert.deepEqual(await tokenize!(plain, true), await tokenize!(plain, false));
  });

  test('in every template, the injection only adds .bpf scopes: other tokens keep their C scopes', async (t) => {
    if (!ready(t)) return;
    const root = join(ROOT, 'bpf-templates');
    const diffs: string[] = [];
    for (const id of readdirSync(root).filter((d) => existsSync(join(root, d, `${d}.bpf.c`)))) {
      const text = readFileSync(join(root, id, `${id}.bpf.c`), 'utf8');
      const [withInj, without] = [await tokenize!(text, true), await tokenize!(text, false)];
      withInj.forEach((toks, i) => {
        // characters -> scopes without the injection, for this line
        const plainAt: string[][] = [];
        let off = 0;
        for (const tk of without[i]) for (let k = 0; k < tk.text.length; k++) plainAt[off++] = tk.scopes;
        off = 0;
        for (const tk of toks) {
          const touched = tk.scopes.some((s) => s.endsWith('.bpf'));
          // A helper called inside another call's arguments carries meta.function-call.c twice (C's
          // nested-call rule adds none): harmless for themes, so repeated meta scopes are folded.
          const fold = (s: string[]) => s.filter((x, k) => !(x.startsWith('meta.') && s[k - 1] === x));
          if (
            !touched &&
            tk.text.trim() &&
            JSON.stringify(fold(tk.scopes)) !== JSON.stringify(fold(plainAt[off] ?? []))
          )
            diffs.push(
              `${id}:${i + 1} "${tk.text}": ${tk.scopes.join(' ')} (without: ${(plainAt[off] ?? []).join(' ')})`,
            );
          off += tk.text.length;
        }
      });
    }
    assert.deepEqual(diffs.slice(0, 20), []);
  });

  test('snapshot of the fixture (UPDATE_SNAPSHOTS=1 to rewrite)', async (t) => {
    if (!ready(t)) return;
    const lines = await tokenize!(sample, true);
    const src = sample.split('\n');
    const out: string[] = [];
    lines.forEach((toks, i) => {
      out.push(`>${src[i]}`);
      let col = 0;
      for (const tk of toks) {
        const extra = tk.scopes.filter((s) => s !== 'source.c');
        if (tk.text.trim() && extra.length)
          out.push(`#${' '.repeat(col)}${'^'.repeat(tk.text.length)} ${extra.join(' ')}`);
        col += tk.text.length;
      }
    });
    const snapPath = `${samplePath}.snap`;
    const snap = out.join('\n') + '\n';
    if (process.env.UPDATE_SNAPSHOTS === '1' || !existsSync(snapPath)) {
      if (process.env.CI === 'true' && !existsSync(snapPath))
        assert.fail(`${snapPath} is missing: run with UPDATE_SNAPSHOTS=1`);
      writeFileSync(snapPath, snap);
    }
    assert.equal(
      snap,
      readFileSync(snapPath, 'utf8'),
      'tokenization changed: review the diff, then UPDATE_SNAPSHOTS=1',
    );
  });
});
