/**
 * Functions and macros of a project's own header, through the real language server over stdio: not
 * reported as unknown, hover shows their signature and where they are, go to definition opens the
 * header, and their bodies take part in the analysis (an unchecked result of a header function that
 * may return NULL is an error; a record used after a header function submitted it is a use after
 * release), hover showing those summaries.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LspSession, positionOf } from '../support/lsp-session';

const FIXTURES = join(__dirname, '..', 'fixtures', 'headers');

let dir: string;
let s: LspSession;

describe("a project's own header through the language server", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bpf-ide-lsp-headers-'));
    for (const f of ['flow_helpers.bpf.h', 'bad-header-helpers.bpf.c']) copyFileSync(join(FIXTURES, f), join(dir, f));
    s = new LspSession({ rootUri: pathToFileURL(dir).toString() });
    await s.initialize();
  });
  after(async () => {
    await s.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  test('header functions are known, analysed, hovered and found', async () => {
    const file = join(dir, 'bad-header-helpers.bpf.c');
    const text = readFileSync(file, 'utf8');
    const uri = pathToFileURL(file).toString();
    const got = s.waitDiagnostics(uri, (d) => d.some((x) => x.code === 'null-check'));
    s.open(uri, text);
    const { diagnostics } = await got;
    assert.deepEqual(
      diagnostics.filter((d) => d.code === 'unsupported-call').map((d) => d.message),
      [],
      'flow_counter() and flow_event_reserve() are not unknown functions',
    );
    const nc = diagnostics.find((d) => d.code === 'null-check')!;
    assert.equal(nc.range.start.line, positionOf(text, '*cnt += 1').line, 'the unchecked header lookup is an error');
    const leak = diagnostics.find((d) => d.code === 'unreleased-reference');
    assert.ok(leak, 'the reservation returned by flow_event_reserve() must be released');

    const h = await s.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri },
      position: positionOf(text, 'flow_counter(&counts', 3),
    });
    assert.match(h.contents.value, /u64 \*flow_counter\(void \*map, u32 \*key\)/);
    assert.match(h.contents.value, /flow_helpers\.bpf\.h:\d+/);
    assert.match(h.contents.value, /may return NULL/, 'hover shows the summary the rules use');
    const hoverOn = async (needle: string) =>
      (
        await s.request<{ contents: { value: string } }>('textDocument/hover', {
          textDocument: { uri },
          position: positionOf(text, needle, 3),
        })
      ).contents.value;
    assert.match(await hoverOn('flow_event_reserve(&events'), /returns a reference it acquired: release it with/);
    assert.match(
      await hoverOn('flow_event_submit(e'),
      /releases its argument 1 \(`e`\) on every path, through bpf_ringbuf_submit\(\)/,
    );
    assert.ok(
      diagnostics.some(
        (d) => d.code === 'unreleased-reference' && d.range.start.line === positionOf(text, 'e->pid = 0').line,
      ),
      'the record written after flow_event_submit() submitted it is a use after release',
    );
    const mac = await s.request<{ contents: { value: string } }>('textDocument/hover', {
      textDocument: { uri },
      position: positionOf(text, 'FLOW_SLOTS;', 2),
    });
    assert.match(mac.contents.value, /#define FLOW_SLOTS 64/);

    const loc = await s.request<{ uri: string; range: { start: { line: number } } }>('textDocument/definition', {
      textDocument: { uri },
      position: positionOf(text, 'flow_event_reserve(&events', 3),
    });
    const header = readFileSync(join(dir, 'flow_helpers.bpf.h'), 'utf8');
    assert.equal(loc.uri, pathToFileURL(join(dir, 'flow_helpers.bpf.h')).toString());
    assert.equal(
      loc.range.start.line,
      positionOf(header, 'static __always_inline struct flow_event *flow_event_reserve').line,
    );
    s.close(uri);
  });
});
