/**
 * e2e, the whole journey the way a user walks it, in one real VS Code (the VS Code server in headless Chromium)
 * with the packaged .vsix installed and nothing else: every step is a click, a key or the command palette.
 *   1. New BPF Program from the tracepoint template;
 *   2. a deliberate mistake (a misspelt SEC() name) gets the language server's diagnostic and its quick fix;
 *      a helper completion (Ctrl+Space) writes a bpf_printk() argument;
 *   3. build; connect to the local target, then to an SSH target (a real sshd on 127.0.0.1 started here, found
 *      through ~/.ssh/config, its unknown host key confirmed in the modal);
 *   4. Load + Attach from the CodeLens on the SSH target; the Programs view shows the program attached; the map's
 *      live values show on hover;
 *   5. a program the verifier rejects: the diagnostic on its source line, the stepper walks the log;
 *   6. the map panel's values grow; a second program from the ring buffer template, its events arrive in the
 *      events panel; the bpf_printk line from step 2 arrives in the trace panel; the stats panel counts runs;
 *   7. disconnect: bpftool shows none of the programs and maps left, the agent process is gone.
 * Screenshots of each step: test-artifacts/e2e/journey/. Needs root, BTF, sshd and the e2e tier's tools.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bpftoolHas, waitFor } from '../agent/agent-harness';
import { agentUnavailableReason } from '../agent/preconditions';
import { Sshd, sshdUnavailableReason } from '../ssh/sshd-fixture';
import { lineIn } from './harness/fixtures';
import { assertPrerequisites, isCI, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';
import { waitForTarget } from './harness/target-status';
import { VsCodeServer } from './harness/vscode-server';
import { packageVsix } from './harness/vsix';

const kernelReason = agentUnavailableReason() ?? sshdUnavailableReason();
const skip = skipUnlessReady() || (kernelReason && !isCI ? kernelReason : false);
const HOST = 'journeybox';

/** Numbers in a Programs view row such as "handle_openat  tracepoint · id 123 · 45 insns · attached". */
function idIn(text: string): number {
  const id = Number(/\bid (\d+)/.exec(text)?.[1]);
  assert.ok(id > 0, `no id in ${text}`);
  return id;
}

test(
  'journey: install the .vsix, write, fix, build, connect (local and SSH), load, verify, watch, disconnect',
  { skip, timeout: 720_000 },
  async (t) => {
    assertPrerequisites();
    if (kernelReason) assert.fail(`precondition not met under CI: ${kernelReason}`);
    const dir = mkdtempSync(join(tmpdir(), 'bpf-ide-journey-'));
    const remoteCache = join(dir, 'remote-cache');
    const sshd = await Sshd.start();
    // Activity the programs see: this process opens a file (its own entry in the map grows), and new processes
    // open and exec (a first open per process prints a line; each exec and exit is a ring buffer event).
    const activity = setInterval(() => {
      readFileSync('/etc/hostname');
      execFile('/bin/cat', ['/etc/hostname'], () => undefined);
    }, 100);
    const ids: { prog: number[]; map: number[] } = { prog: [], map: [] };
    try {
      const vsix = packageVsix(dir);
      await withVsCode(
        {
          name: 'journey',
          fixture: 'journey-workspace',
          installVsix: vsix,
          deadlineMs: 690_000,
          signal: t.signal,
          // The agent's cache on the "box" goes to a temp dir of this test, not root's ~/.cache.
          env: { BPF_IDE_REMOTE_CACHE_DIR: remoteCache },
          userSettings: {
            // Typing a line key by key: no brackets or quotes inserted behind the cursor, and completion only
            // when asked for (Ctrl+Space), as the step says.
            'editor.autoClosingBrackets': 'never',
            'editor.autoClosingQuotes': 'never',
            'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' },
            'editor.suggestOnTriggerCharacters': false,
          },
          prepareHome: (home) => {
            mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
            writeFileSync(
              join(home, '.ssh', 'config'),
              [
                `Host ${HOST}`,
                `  HostName ${sshd.address}`,
                `  Port ${sshd.port}`,
                '  User root',
                `  IdentityFile ${sshd.clientKey}`,
                '  IdentitiesOnly yes',
                '',
              ].join('\n'),
              { mode: 0o600 },
            );
          },
        },
        async (s) => {
          const wb = s.workbench;
          const home = VsCodeServer.dirsUnder(s.root).home;
          const src = join(s.workspace, 'journey', 'journey.bpf.c');

          // 1. New BPF Program from the tracepoint template, into a new folder.
          await wb.runCommand('bpf-ide: New BPF Program', { thenInput: 'New BPF Program: pick a template' });
          await wb.screenshot('1-templates');
          await wb.pick('New BPF Program: pick a template', 'Tracepoint: count openat() per process', {
            filter: 'tracepoint',
            thenInput: /name it/,
          });
          await wb.answer(/name it/, 'journey', { thenInput: /where should journey go/ });
          await wb.pick(/where should journey go/, 'journey/');
          await wb.step('the new program opens', () =>
            wb.page
              .locator('.tabs-container .tab.active[aria-label*="journey.bpf.c"]')
              .waitFor({ state: 'visible', timeout: 90_000 }),
          );
          for (const f of ['journey.bpf.c', 'journey.h', 'vmlinux.h', 'compile_commands.json'])
            assert.ok(existsSync(join(s.workspace, 'journey', f)), `New BPF Program did not write ${f}`);
          await wb.screenshot('1-new-program');

          // 2a. A misspelt section name: the server's diagnostic, then its quick fix.
          const secLine = lineIn(src, 'SEC("tracepoint/syscalls/sys_enter_openat")');
          const secCol = readFileSync(src, 'utf8').split('\n')[secLine - 1].indexOf('tracepoint') + 1;
          await wb.goToLine(secLine, secCol + 'tracepo'.length);
          await wb.page.keyboard.press('Delete'); // tracepoint -> tracepont
          await wb.openProblems();
          const unknown = await wb.waitForProblem(/"tracepont\/syscalls\/sys_enter_openat"\) is not a section name/);
          assert.match(await unknown.innerText(), new RegExp(`bpf-ide.*Ln ${secLine}`, 's'));
          await wb.screenshot('2-diagnostic');
          await wb.goToLine(secLine, secCol + 2);
          const fix = wb.page
            .locator('.action-widget .monaco-list-row')
            .filter({ hasText: 'Change to SEC("tracepoint/syscalls/sys_enter_openat")' })
            .first();
          // Ctrl+. (Quick Fix); a press that lands while the editor is still busy is lost, so press again.
          await wb.step('quick fix offered', () =>
            waitFor(
              async () => {
                await wb.page.keyboard.press('Control+.');
                return (await fix
                  .waitFor({ state: 'visible', timeout: 5_000 })
                  .then(() => true)
                  .catch(() => false))
                  ? true
                  : undefined;
              },
              'the quick fix menu',
              30_000,
            ),
          );
          await wb.screenshot('2-quick-fix');
          await fix.click();
          await wb.step('the fix is applied and the problem gone', async () => {
            await wb.activeEditor
              .locator('.view-line')
              .filter({ hasText: 'SEC("tracepoint/syscalls/sys_enter_openat")' })
              .waitFor({ state: 'visible', timeout: 10_000 });
            await unknown.waitFor({ state: 'detached', timeout: 30_000 });
          });

          // 2b. A helper completion inside the program: a bpf_printk() on each process's first open.
          await wb.goToLine(lineIn(src, 'bpf_get_current_comm(zero.comm'));
          await wb.page.keyboard.press('End');
          await wb.page.keyboard.press('Enter');
          await wb.type('bpf_printk("journey: first open by tgid %u on cpu %u", tgid, bpf_get_smp_proc');
          const item = await wb.triggerSuggest('bpf_get_smp_processor_id', 60_000);
          assert.equal((await wb.suggestionLabels())[0], 'bpf_get_smp_processor_id');
          await wb.screenshot('2-completion');
          await item.click();
          await wb.page.locator('.editor-widget.suggest-widget').waitFor({ state: 'hidden' });
          await wb.type(');');
          await wb.page.keyboard.press('Control+S');
          await wb.step('the line is written and saved', () =>
            waitFor(
              () =>
                readFileSync(src, 'utf8').includes(
                  'bpf_printk("journey: first open by tgid %u on cpu %u", tgid, bpf_get_smp_processor_id());',
                )
                  ? true
                  : undefined,
              'the saved printk line',
              60_000,
            ),
          );

          // 3. Build, then connect: this machine first, then the SSH box from ~/.ssh/config.
          await wb.runCommand('bpf-ide: Build BPF Program');
          await wb.notification(/built journey\/\.output\/journey\.bpf\.o in \d+ ms/, 90_000);
          assert.ok(existsSync(join(s.workspace, 'journey', '.output', 'journey.bpf.o')));
          await wb.screenshot('3-built');
          await wb.clearNotifications();

          await wb.runCommand('bpf-ide: Connect to Target');
          await waitForTarget(wb, 'local', 'connected');
          await wb.screenshot('3-local-connected');

          await wb.runCommand('bpf-ide: Select Target', { thenInput: 'BPF target: where programs are loaded' });
          await wb.screenshot('3-target-picker');
          await wb.pick('BPF target: where programs are loaded', new RegExp(`${HOST}\\s*Host in ~/.ssh/config`));
          const trust = await wb.dialog(/authenticity of host 127\.0\.0\.1/, 60_000);
          assert.ok((await trust.innerText()).includes(sshd.hostFingerprint()), 'the dialog shows the host key');
          await wb.screenshot('3-host-key');
          await wb.step('trust the host key', () =>
            trust.locator('.monaco-button').filter({ hasText: 'Trust and Connect' }).click(),
          );
          await waitForTarget(wb, HOST, 'connected', 90_000);
          const knownHosts = readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8');
          assert.ok(
            knownHosts.includes(sshd.knownHostsLine().trim().split(' ').slice(1).join(' ')),
            'the trusted key is in ~/.ssh/known_hosts',
          );
          await wb.screenshot('3-ssh-connected');

          // 4. Load + Attach from the CodeLens, on the SSH target; the Programs view shows it attached.
          await wb.openFile('journey/journey.bpf.c');
          await wb.goToLine(secLine);
          await wb.clickCodeLens(/^\s*Load \+ Attach\s*$/, 60_000);
          const loaded = await wb.codeLens(/loaded: id \d+/, 120_000);
          await wb.codeLens(/^\s*Detach\s*$/, 30_000);
          const progId = idIn(await loaded.innerText());
          ids.prog.push(progId);
          await wb.runCommand('bpf-ide: Show Loaded Programs');
          const progRow = wb.page
            .locator('.monaco-list-row')
            .filter({ hasText: new RegExp(`handle_openat\\s*tracepoint · id ${progId} · \\d+ insns · attached`) })
            .first();
          await wb.step('attached program in the Programs view', () =>
            progRow.waitFor({ state: 'visible', timeout: 30_000 }),
          );
          await wb.page
            .locator('.monaco-list-row')
            .filter({ hasText: new RegExp(`${HOST}\\s*connected`) })
            .first()
            .waitFor({ state: 'visible', timeout: 10_000 });
          const mapRow = wb.page
            .locator('.monaco-list-row')
            .filter({ hasText: /opens\s*hash · id \d+/ })
            .first();
          await mapRow.waitFor({ state: 'visible', timeout: 10_000 });
          ids.map.push(idIn(await mapRow.innerText()));
          assert.ok(bpftoolHas('prog', progId), 'bpftool sees the program loaded over SSH');
          await wb.screenshot('4-programs-view');
          // the map's live values on hover, in the source
          await wb.openFile('journey/journey.bpf.c');
          await wb.goToLine(lineIn(src, '} opens SEC(".maps");'), 4);
          await wb.runCommand('Show or Focus Hover');
          const hover = wb.page.locator('.monaco-hover').filter({ hasText: /opens\s·\shash\smap\s·\sid\s\d+/ }); // (\s: the hover's text has no-break spaces)
          await wb.step('live map values on hover', () => hover.waitFor({ state: 'visible', timeout: 30_000 }));
          assert.match(await hover.innerText(), /\d+ => \{"opens":\d+,"creates":\d+,"comm":/);
          await wb.screenshot('4-map-hover');
          await wb.page.keyboard.press('Escape');
          // and the program's: attached, the verifier's figures, runs
          const fnLine = lineIn(src, 'int handle_openat(');
          await wb.goToLine(fnLine, readFileSync(src, 'utf8').split('\n')[fnLine - 1].indexOf('handle_openat') + 2);
          await wb.runCommand('Show or Focus Hover');
          const progHover = wb.page.locator('.monaco-hover').filter({
            hasText: new RegExp(`handle_openat\\s·\\stracepoint\\sprogram\\s·\\sid\\s${progId}\\s·\\sattached`),
          });
          await wb.step('the program on hover', () => progHover.waitFor({ state: 'visible', timeout: 30_000 }));
          assert.match(await progHover.innerText(), /\d+\sinsns\sverified/);
          await wb.page.keyboard.press('Escape');

          // 5. A program the verifier rejects: the diagnostic on its line, then the stepper on its log.
          await wb.clearNotifications();
          await wb.openFile('rejected/null_deref.bpf.c');
          await wb.goToLine(lineIn(join(s.workspace, 'rejected', 'null_deref.bpf.c'), 'SEC("tracepoint/'));
          await wb.clickCodeLens(/^\s*Load\s*$/, 60_000);
          const rejected = await wb.notification(
            /count_execs: rejected by the verifier at null_deref\.bpf\.c:\d+/,
            120_000,
          );
          await wb.openProblems();
          const badLine = lineIn(join(s.workspace, 'rejected', 'null_deref.bpf.c'), 'journey: the verifier rejects');
          const verdictRow = await wb.waitForProblem(/map_value_or_null/, 60_000);
          assert.match(await verdictRow.innerText(), new RegExp(`verifier.*Ln ${badLine}`, 's'));
          await wb.screenshot('5-rejected');
          await wb.step('Step Through the Log', () =>
            rejected.locator('.monaco-button').filter({ hasText: 'Step Through the Log' }).click(),
          );
          const v = wb.webview;
          await wb.step('the stepper opens on the log', async () => {
            await v.locator('.verdict').filter({ hasText: 'rejected' }).waitFor({ timeout: 60_000 });
            await v.locator('.list .row.k-insn').first().waitFor({ timeout: 30_000 });
          });
          await v.locator('.list').click();
          await v.locator('.list').press('e');
          const failing = v.locator('.row.selected.failing');
          await wb.step('e jumps to the failing instruction', () => failing.waitFor({ timeout: 10_000 }));
          await wb.step('its source line is shown', () =>
            v
              .locator('.where')
              .filter({ hasText: `null_deref.bpf.c:${badLine}` })
              .waitFor({ timeout: 10_000 }),
          );
          const atError = await v.locator('.row.selected').innerText();
          await v.locator('.list').press('p');
          await wb.step('p steps back one instruction', async () => {
            await waitFor(
              async () => ((await v.locator('.row.selected').innerText()) !== atError ? true : undefined),
              'another row selected',
              60_000,
            );
          });
          assert.match(await v.locator('.row.selected').innerText(), /^\d+: \(/, 'the selected row is an instruction');
          const regs = await v.locator('table.regs').innerText();
          assert.match(regs, /\bR\d+\b/, `registers and stack show: ${regs}`);
          await wb.screenshot('5-stepper');

          // 6. The map's values change; ring buffer events and bpf_printk lines arrive. (The Problems panel is
          // closed first: the panels get the height.)
          await wb.runCommand('View: Hide Panel');
          await wb.runCommand('bpf-ide: Show Loaded Programs');
          await wb.step('open the map from the Programs view', () => mapRow.click());
          const pid = String(process.pid);
          await v.locator('body[data-panel="map"] .vt-row').first().waitFor({ timeout: 60_000 });
          await v.locator('input.filter').fill(`key=${pid}`);
          const ours = v.locator('.vt-row').first();
          await wb.step('our process has an entry', async () => {
            await v
              .locator('.status')
              .filter({ hasText: /^1 of \d+ entries/ })
              .waitFor({ timeout: 30_000 });
            assert.equal((await ours.locator('.vt-cell').first().innerText()).trim(), pid);
          });
          const opensNow = async () => Number((await ours.locator('.vt-cell').nth(1).innerText()).replace(/,/g, ''));
          const first = await opensNow();
          await wb.step('its value grows', () =>
            waitFor(async () => ((await opensNow()) > first ? true : undefined), 'the opens count to grow', 30_000),
          );
          await wb.screenshot('6-map-panel');

          await wb.runCommand('bpf-ide: New BPF Program', { thenInput: 'New BPF Program: pick a template' });
          await wb.pick('New BPF Program: pick a template', /ringbuf/, { filter: 'ringbuf', thenInput: /name it/ });
          await wb.answer(/name it/, 'execs', { thenInput: /where should execs go/ });
          await wb.pick(/where should execs go/, 'execs/');
          await wb.step('the second program opens', () =>
            wb.page
              .locator('.tabs-container .tab.active[aria-label*="execs.bpf.c"]')
              .waitFor({ state: 'visible', timeout: 90_000 }),
          );
          await wb.goToLine(lineIn(join(s.workspace, 'execs', 'execs.bpf.c'), 'SEC("tp/sched/sched_process_exec")'));
          await wb.clickCodeLens(/^\s*Load \+ Attach\s*$/, 60_000);
          const execsLoaded = await wb.codeLens(/loaded: id \d+/, 120_000);
          ids.prog.push(idIn(await execsLoaded.innerText()));
          await wb.runCommand('bpf-ide: Open Ring Buffer / Perf Events');
          await wb.step('ring buffer events arrive', async () => {
            await v.locator('body[data-panel="events"] .vt-row').first().waitFor({ timeout: 60_000 });
            await v
              .locator('.counters')
              .filter({ hasText: /[1-9]\d* received/ })
              .waitFor({ timeout: 30_000 });
          });
          await wb.screenshot('6-events-panel');

          await wb.runCommand('bpf-ide: Show bpf_printk Output');
          await wb.step('bpf_printk lines arrive', () =>
            v
              .locator('body[data-panel="trace"] .vt-row')
              .filter({ hasText: /journey: first open by tgid \d+ on cpu \d+/ })
              .first()
              .waitFor({ timeout: 60_000 }),
          );
          await wb.screenshot('6-trace-panel');

          await wb.runCommand('bpf-ide: Show Program Stats');
          const statsRow = v
            .locator('body[data-panel="stats"] table.stats tbody tr')
            .filter({ hasText: 'handle_openat' })
            .first();
          await wb.step('program stats count the runs', async () => {
            await statsRow.waitFor({ timeout: 60_000 });
            await waitFor(
              async () => {
                const cells = await statsRow.locator('td').allInnerTexts();
                return Number(cells[3].replace(/,/g, '')) > 0 ? true : undefined;
              },
              'runs of handle_openat',
              30_000,
            );
          });
          await wb.screenshot('6-stats-panel');
          // every program on the box (bpftop's view): this window's are among them
          await v.locator('label').filter({ hasText: 'all programs on the target' }).locator('input').click();
          await wb.step('all programs on the target', async () => {
            await waitFor(
              async () => {
                const names = await v.locator('table.stats tbody tr td:first-child').allInnerTexts();
                return ['handle_openat', 'handle_exec', 'handle_exit'].every((n) => names.includes(n))
                  ? true
                  : undefined;
              },
              'the all-programs table',
              30_000,
            );
            assert.equal(await v.locator('label input.all').isChecked(), true);
          });

          // Every program and map loaded from this window, for the check after disconnect.
          await wb.runCommand('bpf-ide: Show Loaded Programs');
          for (const text of await wb.page.locator('.monaco-list-row').allInnerTexts()) {
            const m = /^(.*?)\s+(\w+) · id (\d+)/.exec(text.replace(/\n/g, ' '));
            if (!m) continue;
            const id = Number(m[3]);
            if (/ max$/.test(text.trim()) || / · \d+ max/.test(text)) ids.map.push(id);
            else ids.prog.push(id);
          }
          for (const id of ids.prog) assert.ok(bpftoolHas('prog', id), `program ${id} is loaded before disconnect`);
          for (const id of ids.map) assert.ok(bpftoolHas('map', id), `map ${id} exists before disconnect`);

          // 7. Disconnect: nothing of ours is left.
          await wb.runCommand('bpf-ide: Disconnect from Target (releases everything loaded)');
          await wb.step('everything released', () =>
            waitFor(
              () =>
                ids.prog.every((id) => !bpftoolHas('prog', id)) && ids.map.every((id) => !bpftoolHas('map', id))
                  ? true
                  : undefined,
              'every program and map of ours to go',
              30_000,
            ),
          );
          await waitForTarget(wb, HOST, 'disconnected', 30_000);
          await wb.screenshot('7-disconnected');
          const agents = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
            .split('\n')
            .filter((l) => l.includes(remoteCache));
          assert.deepEqual(agents, [], 'the agent on the SSH box has exited');
          assert.deepEqual(activationErrors(s.extensionHostLog()), [], 'activation errors in the extension host log');
        },
      );
    } finally {
      clearInterval(activity);
      await sshd.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
    for (const id of ids.prog) assert.equal(bpftoolHas('prog', id), false, `program ${id} is left loaded`);
    for (const id of ids.map) assert.equal(bpftoolHas('map', id), false, `map ${id} is left`);
  },
);
