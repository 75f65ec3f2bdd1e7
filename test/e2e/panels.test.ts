/**
 * e2e: the live data panels in a real VS Code (the VS Code server in headless Chromium), on programs loaded on this
 * machine: a map panel on the tracepoint template (filtered to our own processes), the events panel on the ringbuf
 * template, bpf_printk output, program stats. The host suite (host-suites/panels.ts) opens each panel through the
 * extension's own target manager; this side checks what the webview shows and keeps a screenshot of each in
 * test-artifacts/e2e/panels/. Needs root and BTF (the agent loads real programs) besides the e2e tier's tools.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { build } from 'esbuild';
import { agentUnavailableReason } from '../agent/preconditions';
import { lineIn } from './harness/fixtures';
import { HOST_SUITES_DIR } from './harness/paths';
import { assertPrerequisites, isCI, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';
import type { Workbench } from './harness/workbench';

const agentReason = agentUnavailableReason();
const skip = skipUnlessReady() || (agentReason && !isCI ? agentReason : false);

/** Waits until `<dir>/<name>` exists (fs.watch, bounded). */
function fileAppears(dir: string, name: string, timeoutMs: number, exited: Promise<number>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  return new Promise((resolve, reject) => {
    const w = watch(dir);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      w.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`${name} did not appear within ${timeoutMs} ms`)), timeoutMs);
    w.on('change', () => existsSync(join(dir, name)) && finish());
    void exited.then((code) => finish(new Error(`the host suite ended (exit ${code}) before ${name}`)));
    if (existsSync(join(dir, name))) finish();
  });
}

/** The visible webview's document (VS Code nests it: iframe.webview > iframe#active-frame). */
function webview(wb: Workbench) {
  return wb.page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('#active-frame');
}

/**
 * The themes the panels are photographed in: VS Code's default (light) always; dark too with
 * BPF_IDE_E2E_PANEL_THEMES=all (the same checks, screenshots for the README; about 40 s more).
 * (A high-contrast run was tried: this VS Code server build ignored the setting, see the report.)
 */
const THEMES: { name: string; theme?: string }[] = [
  { name: 'panels' },
  ...(process.env.BPF_IDE_E2E_PANEL_THEMES === 'all' ? [{ name: 'panels-dark', theme: 'Default Dark Modern' }] : []),
];

for (const { name: sessionName, theme } of THEMES)
  test(
    `UI: map, events, bpf_printk and stats panels on loaded programs, with screenshots${theme ? ` (${theme})` : ''}`,
    { skip, timeout: 330_000 },
    async (t) => {
      assertPrerequisites();
      if (agentReason) assert.fail(`precondition not met under CI: ${agentReason}`);
      const bundleDir = mkdtempSync(join(tmpdir(), 'bpf-ide-e2e-panels-'));
      const suite = join(bundleDir, 'panels.cjs');
      await build({
        entryPoints: [join(HOST_SUITES_DIR, 'panels.ts')],
        outfile: suite,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['vscode'],
        logLevel: 'warning',
      });
      const log: string[] = [];
      let exited: (code: number) => void = () => {};
      const exit = new Promise<number>((resolve) => (exited = resolve));
      try {
        await withVsCode(
          {
            name: sessionName,
            fixture: 'xdp-workspace',
            userSettings: theme ? { 'workbench.colorTheme': theme } : undefined,
            extensionTestsPath: suite,
            deadlineMs: 320_000,
            signal: t.signal,
            beforeOpen: async (wb) => {
              await wb.page.exposeFunction('codeAutomationLog', (level: string, message: string) =>
                log.push(`[${level}] ${message}`),
              );
              await wb.page.exposeFunction('codeAutomationExit', (code: number) => exited(code));
            },
          },
          async (s) => {
            const wb = s.workbench;
            const steps = join(s.workspace, '.panels-e2e');
            const step = async (name: string, check: (info: Record<string, unknown>) => Promise<void>) => {
              await fileAppears(steps, `${name}.ready`, 120_000, exit);
              const info = JSON.parse(readFileSync(join(steps, `${name}.ready`), 'utf8') || '{}') as Record<
                string,
                unknown
              >;
              await wb.step(`${name} panel`, () => check(info));
              await wb.screenshot(name === 'stats' ? 'map-panel-shown-again' : `${name}-panel`);
              writeFileSync(join(steps, `${name}.done`), '');
            };

            let quietQuickOpen: number[] = [];
            /** Quick Open (Ctrl+P) of a workspace file, three times: ms until the file is listed. */
            const quickOpenMs = async () => {
              const ms: number[] = [];
              // keyboard focus out of a webview (a revealed panel takes it): the Explorer's title
              await wb.page.locator('.part.sidebar .composite.title').click();
              for (let i = 0; i < 3; i++) {
                const t0 = Date.now();
                await wb.page.keyboard.press('Control+P');
                await wb.quickInput.locator('input').fill('xdp_count');
                await wb.quickInput
                  .locator('.monaco-list-row')
                  .filter({ hasText: 'xdp_count.bpf.c' })
                  .first()
                  .waitFor();
                ms.push(Date.now() - t0);
                await wb.page.keyboard.press('Escape');
                await wb.quickInput.waitFor({ state: 'hidden' });
              }
              return ms;
            };

            await step('map', async ({ pid }) => {
              const v = webview(wb);
              await v.locator('body[data-panel="map"] .vt-row').first().waitFor({ timeout: 60_000 });
              const headers = await v.locator('.vt-head').allInnerTexts();
              assert.deepEqual(
                headers.map((h) => h.trim()),
                ['key', 'opens', 'creates', 'comm'],
              );
              // the filter box narrows the live table to our own process (key: its tgid)
              await v.locator('input.filter').fill(`key=${String(pid)} opens>0`);
              await v
                .locator('.status')
                .filter({ hasText: /^1 of \d+ entries/ })
                .waitFor({ timeout: 30_000 });
              const rows = await v.locator('.vt-row').allInnerTexts();
              assert.equal(rows.length, 1, `filtered rows: ${rows.join(' | ')}`);
              assert.match(rows[0], new RegExp(`^${String(pid)}\\s`));
              // the selected entry's decoded key and value, as text
              await v.locator('.vt-row').first().click();
              await v
                .locator('pre.json')
                .first()
                .filter({ hasText: String(pid) })
                .waitFor();
              await v.locator('pre.json').nth(1).filter({ hasText: '"opens"' }).waitFor();
            });

            await step('percpu', async () => {
              const v = webview(wb);
              await v.locator('body[data-panel="map"] .vt-row').first().waitFor({ timeout: 60_000 });
              // one column per CPU besides the sums, with a click on "per CPU"
              await v.locator('label').filter({ hasText: 'per CPU' }).locator('input').click();
              await v.locator('.vt-head').filter({ hasText: 'switches@cpu0' }).waitFor();
              const headers = (await v.locator('.vt-head').allInnerTexts()).map((h) => h.trim());
              assert.deepEqual(headers.slice(0, 4), ['key', 'switches (sum)', 'preemptions (sum)', 'to_idle (sum)']);
              const cells = (await v.locator('.vt-row').first().locator('.vt-cell').allInnerTexts()).map(Number);
              const cpus = headers.filter((h) => h.startsWith('switches@cpu')).length;
              const perCpu = headers
                .map((h, i) => (h.startsWith('switches@cpu') ? cells[i] : 0))
                .reduce((a, b) => a + b, 0);
              assert.ok(cpus >= 1 && cells[1] > 0, `cells: ${cells.join(' ')}`);
              assert.equal(perCpu, cells[1], 'the sum column is the sum of the per-CPU columns');
            });

            await step('events', async () => {
              const v = webview(wb);
              await v.locator('body[data-panel="events"] .vt-row').first().waitFor({ timeout: 60_000 });
              await v
                .locator('.counters')
                .filter({ hasText: /[1-9]\d* received/ })
                .waitFor();
              const headers = (await v.locator('.vt-head').allInnerTexts()).map((h) => h.trim());
              for (const h of ['pid', 'ppid', 'comm', 'filename'])
                assert.ok(headers.includes(h), `events columns: ${headers.join(', ')}`);
              assert.equal(await v.locator('select').inputValue(), 'struct exec_exit_event');
              // Quick Open on this machine before the flood, to tell the stream's cost from the machine's load
              quietQuickOpen = await quickOpenMs();
            });

            await step('trace', async () => {
              const v = webview(wb);
              const row = v
                .locator('body[data-panel="trace"] .vt-row')
                .filter({ hasText: 'bpf-ide trace pid=' })
                .first();
              await row.waitFor({ timeout: 60_000 });
              assert.match(await row.innerText(), /bpfide_printk/);
            });

            await step('flood', async () => {
              const v = webview(wb);
              const counters = v.locator('body[data-panel="events"] .counters');
              await counters.waitFor({ timeout: 60_000 });
              // the source rate the panel shows (forwarded + skipped by the agent) reaches 50,000 events/s
              const num = async (k: string) => Number(await counters.getAttribute(`data-${k}`));
              const deadline = Date.now() + 60_000;
              let rate = 0;
              while ((rate = await num('rate')) < 50_000) {
                assert.ok(Date.now() < deadline, `the source rate stayed at ${rate}/s: ${await counters.innerText()}`);
                await delay(250); // polling a number the page updates: there is no event to wait on
              }
              // Quick Open answers while the stream runs
              const quick = await quickOpenMs();
              // another panel opens
              const t1 = Date.now();
              await wb.runCommand('bpf-ide: Show Program Stats');
              await webview(wb).locator('body[data-panel="stats"] table.stats').waitFor({ timeout: 20_000 });
              const panelMs = Date.now() - t1;
              const figures = `source ${rate}/s, Quick Open ${quick.join('/')} ms (before the flood ${quietQuickOpen.join('/')} ms), stats panel ${panelMs} ms`;
              writeFileSync(join(s.artifactsDir, 'flood.txt'), figures + '\n');
              t.diagnostic(figures);
              // the goal: under 1 s. A machine that is itself slower than that before the flood (a shared CI box under
              // load) cannot show it; there the stream must not make it more than twice as slow.
              const limit = Math.max(1000, 2 * Math.max(...quietQuickOpen));
              assert.ok(Math.max(...quick) < limit, `Quick Open under 50,000 events/s (limit ${limit} ms): ${figures}`);
            });

            await step('flood-counts', async ({ written }) => {
              // the same Quick Open with the stream stopped: what this machine gives without the load
              writeFileSync(
                join(s.artifactsDir, 'flood.txt'),
                `Quick Open without the stream ${(await quickOpenMs()).join('/')} ms\n`,
                { flag: 'a' },
              );
              const v = webview(wb);
              await v
                .locator('body[data-panel="events"] .note')
                .filter({ hasText: 'stream stopped by the test' })
                .waitFor({ timeout: 30_000 });
              const counters = v.locator('body[data-panel="events"] .counters');
              const num = async (k: string) => Number(await counters.getAttribute(`data-${k}`));
              const c = Object.fromEntries(
                await Promise.all(
                  [
                    'received',
                    'skipped',
                    'agentDropped',
                    'shown',
                    'coalesced',
                    'filtered',
                    'whilePaused',
                    'pending',
                  ].map(async (k) => [k, await num(k)] as const),
                ),
              );
              const text = await counters.innerText();
              writeFileSync(
                join(s.artifactsDir, 'flood.txt'),
                `${text}\nwritten by the program: ${String(written)}\n`,
                { flag: 'a' },
              );
              // at the agent: every record the program wrote was forwarded, skipped (max_rate) or dropped
              assert.equal(c.received + c.skipped + c.agentDropped, written, text);
              assert.ok(c.skipped > 0, text);
              // in the panel: every record received was shown or counted as not shown
              assert.equal(c.shown + c.coalesced + c.filtered + c.whilePaused + c.pending, c.received, text);
            });

            await step('hostile', async ({ source }) => {
              const v = webview(wb);
              const row = v.locator('body[data-panel="map"] .vt-row').first();
              await row.waitFor({ timeout: 60_000 });
              const text = await row.innerText();
              // shown escaped: the override cannot reverse the row, the text after the NUL is not hidden
              assert.ok(text.includes('ev\\u202eil') && text.includes('ab\\0cd'), `row: ${text}`);
              assert.ok(!text.includes('\u202e'), 'no raw U+202E in the panel');
              // the hover over the map's name in its source
              const src = join(s.workspace, String(source));
              await wb.page.locator('.part.sidebar .composite.title').click();
              await wb.openFile(String(source));
              await wb.goToLine(lineIn(src, '} hostile SEC(".maps");'), 4);
              await wb.runCommand('Show or Focus Hover');
              const hover = wb.page.locator('.monaco-hover').filter({ hasText: /hostile\s·\shash\smap/ });
              await hover.waitFor({ state: 'visible', timeout: 30_000 });
              const shown = await hover.innerText();
              await wb.screenshot('hostile-hover');
              await wb.page.keyboard.press('Escape');
              assert.ok(shown.includes('ev\\u202eil'), `hover: ${shown}`);
              assert.ok(shown.includes('ab\\u0000cd'), `hover: ${shown}`);
              assert.ok(!shown.includes('\u202e'), `a raw U+202E in the hover: ${shown}`);
            });

            await step('histogram', async () => {
              const v = webview(wb);
              await v.locator('body[data-panel="map"] .hist-row').first().waitFor({ timeout: 60_000 });
              const labels = await v.locator('.hist-label').allInnerTexts();
              assert.equal(labels[0].trim(), '0 -> 1');
              // our execs' pids fall in one bucket; the title has the total
              const counts = (await v.locator('.hist-count').allInnerTexts()).map(Number);
              assert.ok(
                counts.some((n) => n >= 5),
                `bucket counts: ${counts.join(', ')}`,
              );
              assert.match(await v.locator('.hist-title').first().innerText(), /total \d+/);
            });

            await step('stats', async () => {
              const v = webview(wb);
              const row = v
                .locator('body[data-panel="stats"] table.stats tbody tr')
                .filter({ hasText: 'handle_openat' })
                .first();
              await row.waitFor({ timeout: 60_000 });
              // three readings: runs/s over two intervals, drawn as a line
              await row
                .locator('canvas.spark[data-points]:not([data-points="0"]):not([data-points="1"])')
                .waitFor({ timeout: 30_000 });
              const cells = await row.locator('td').allInnerTexts();
              // whole names, not the kernel's 15 characters ("handle_sched_wa" for both)
              const names = (
                await v.locator('body[data-panel="stats"] table.stats tbody tr td:first-child').allInnerTexts()
              ).map((x) => x.trim());
              for (const n of ['handle_sched_wakeup', 'handle_sched_wakeup_new'])
                assert.ok(names.includes(n), `stats panel names: ${names.join(', ')}`);
              assert.ok(!names.includes('handle_sched_wa'), `stats panel names: ${names.join(', ')}`);
              assert.ok(Number(cells[3].replace(/,/g, '')) > 0, `runs of handle_openat: ${cells.join(' | ')}`);
              assert.ok(Number(cells[4]) > 0, `runs/s of handle_openat: ${cells.join(' | ')}`);
              await wb.screenshot('stats-panel');
              // a panel hidden and shown again keeps its state: the map panel's filter, its one row
              await wb.page.locator('.tabs-container .tab').filter({ hasText: 'Map opens' }).click();
              const m = webview(wb);
              await m
                .locator('body[data-panel="map"] .status')
                .filter({ hasText: /^1 of \d+ entries/ })
                .waitFor({ timeout: 30_000 });
              assert.match(await m.locator('input.filter').inputValue(), /^key=\d+ opens>0$/);
            });

            const code = await exit;
            writeFileSync(join(s.artifactsDir, 'host-suite.log'), log.join('\n'));
            assert.equal(code, 0, `the host suite failed:\n${log.join('\n')}`);
            assert.deepEqual(
              activationErrors(s.extensionHostLog()),
              [],
              'the extension host log reports activation errors',
            );
          },
        );
      } finally {
        rmSync(bundleDir, { recursive: true, force: true });
      }
    },
  );
