/**
 * e2e: SSH targets in the editor, the security side, against real sshds on 127.0.0.1 with throwaway keys:
 *   - an encrypted key: the passphrase is asked in a password box (a wrong one is asked again, saying so), kept in
 *     VS Code's SecretStorage once it worked (a reconnect does not ask), and appears in no setting, log or file of
 *     the workspace;
 *   - switching away from a box with a program loaded asks first (Cancel keeps it loaded);
 *   - a box whose host key changed: refused with the warning, no way offered to trust it, known_hosts untouched.
 * Screenshots: test-artifacts/e2e/ssh-ui/. Needs root, sshd and the e2e tier's tools.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { bpftoolHas } from '../agent/agent-harness';
import { agentUnavailableReason } from '../agent/preconditions';
import { Sshd, sshdUnavailableReason } from '../ssh/sshd-fixture';
import { fixtureLine } from './harness/fixtures';
import { assertPrerequisites, isCI, skipUnlessReady } from './harness/preconditions';
import { activationErrors, withVsCode } from './harness/session';
import { waitForTarget } from './harness/target-status';
import { VsCodeServer } from './harness/vscode-server';

const reason = agentUnavailableReason() ?? sshdUnavailableReason();
const skip = skipUnlessReady() || (reason && !isCI ? reason : false);
const PICKER = 'BPF target: where programs are loaded';

/** `path` itself, or every file under it, whose bytes contain `needle`. */
function filesContaining(path: string, needle: string): string[] {
  if (!existsSync(path)) return [];
  const st = statSync(path);
  if (!st.isDirectory()) return st.isFile() && st.size < 50 << 20 && readFileSync(path).includes(needle) ? [path] : []; // not sockets
  return readdirSync(path).flatMap((n) => filesContaining(join(path, n), needle));
}

test(
  'UI: SSH passphrases live in SecretStorage only; a changed host key is refused',
  { skip, timeout: 300_000 },
  async (t) => {
    assertPrerequisites();
    if (reason) assert.fail(`precondition not met under CI: ${reason}`);
    const locked = await Sshd.start();
    const changed = await Sshd.start();
    let knownHostsBefore = '';
    try {
      await withVsCode(
        {
          name: 'ssh-ui',
          fixture: 'xdp-workspace',
          deadlineMs: 280_000,
          signal: t.signal,
          env: { BPF_IDE_REMOTE_CACHE_DIR: join(locked.dir, 'remote-cache') },
          prepareHome: (home) => {
            const ssh = join(home, '.ssh');
            mkdirSync(ssh, { recursive: true, mode: 0o700 });
            const host = (name: string, box: Sshd, key: string) => [
              `Host ${name}`,
              `  HostName ${box.address}`,
              `  Port ${box.port}`,
              '  User root',
              `  IdentityFile ${key}`,
            ];
            writeFileSync(
              join(ssh, 'config'),
              [
                ...host('lockedbox', locked, locked.encryptedClientKey),
                '  IdentitiesOnly yes',
                ...host('changedbox', changed, changed.clientKey),
                '',
              ].join('\n'),
              { mode: 0o600 },
            );
            // lockedbox is known; changedbox is "known" with another key (the stranger's public key stands in)
            const [type, b64] = readFileSync(`${changed.strangerKey}.pub`, 'utf8').trim().split(/\s+/);
            knownHostsBefore = `${locked.knownHostsLine()}[${changed.address}]:${changed.port} ${type} ${b64}\n`;
            writeFileSync(join(ssh, 'known_hosts'), knownHostsBefore, { mode: 0o600 });
          },
        },
        async (s) => {
          const wb = s.workbench;
          const { home, userData } = VsCodeServer.dirsUnder(s.root);
          await wb.openFile('xdp_count.bpf.c');

          // An encrypted key: asked in a password box; a wrong passphrase is asked again.
          await wb.runCommand('bpf-ide: Select Target', { thenInput: PICKER });
          await wb.pick(PICKER, /lockedbox\s*Host in ~\/.ssh\/config/, { thenInput: 'bpf-ide: SSH' });
          const input = wb.quickInput.locator('input');
          assert.equal(await input.getAttribute('type'), 'password', 'the passphrase box hides what is typed');
          assert.match(await wb.quickInput.innerText(), /Passphrase for .*client_encrypted/);
          await wb.screenshot('passphrase');
          await input.fill('not the passphrase');
          await wb.page.keyboard.press('Enter');
          await wb.step('asked again, saying it was wrong', () =>
            wb.quickInput.filter({ hasText: /Wrong passphrase\. Passphrase for/ }).waitFor({ timeout: 30_000 }),
          );
          await wb.quickInput.locator('input').fill(Sshd.PASSPHRASE);
          await wb.page.keyboard.press('Enter');
          await waitForTarget(wb, 'lockedbox', 'connected');
          await wb.screenshot('connected-with-passphrase');

          // Reconnecting does not ask: the passphrase that worked is in SecretStorage.
          await wb.runCommand('bpf-ide: Disconnect from Target (releases everything loaded)');
          await waitForTarget(wb, 'lockedbox', 'disconnected', 30_000);
          await wb.runCommand('bpf-ide: Connect to Target');
          await waitForTarget(wb, 'lockedbox', 'connected');
          assert.equal(await wb.quickInput.isVisible(), false, 'no passphrase prompt on reconnect');

          // Something loaded on lockedbox: switching asks first, and Cancel keeps it loaded and connected.
          await wb.goToLine(fixtureLine('xdp-workspace', 'xdp_count.bpf.c', 'SEC("xdp")'));
          await wb.clickCodeLens(/^\s*Load\s*$/, 60_000);
          const loaded = await wb.codeLens(/loaded: id \d+/, 120_000);
          const progId = Number(/id (\d+)/.exec(await loaded.innerText())![1]);
          await wb.clearNotifications();
          await wb.runCommand('bpf-ide: Select Target', { thenInput: PICKER });
          await wb.pick(PICKER, /changedbox\s*Host in ~\/.ssh\/config/);
          const ask = await wb.dialog(/Switching to changedbox releases the 1 program loaded on lockedbox/, 30_000);
          await wb.screenshot('switch-asks');
          await ask.locator('.monaco-button').filter({ hasText: 'Cancel' }).click();
          await ask.waitFor({ state: 'hidden', timeout: 10_000 });
          await waitForTarget(wb, 'lockedbox', 'connected', 10_000);
          assert.ok(bpftoolHas('prog', progId), 'Cancel keeps the program loaded');

          // A changed host key: refused, with the warning, and nothing offers to trust it.
          await wb.runCommand('bpf-ide: Select Target', { thenInput: PICKER });
          await wb.pick(PICKER, /changedbox\s*Host in ~\/.ssh\/config/);
          await (
            await wb.dialog(/Switching to changedbox releases/, 30_000)
          )
            .locator('.monaco-button')
            .filter({ hasText: 'Switch' })
            .click();
          // a modal warning (a security matter, not a passing toast), which offers nothing but closing it
          const refused = await wb.dialog(/could not connect to changedbox: THE HOST KEY OF/, 60_000);
          const text = await refused.innerText();
          assert.match(text, /HAS CHANGED/);
          assert.match(text, /ssh-keygen -R/);
          const buttons = await refused.locator('.monaco-button').allInnerTexts();
          assert.ok(
            buttons.every((b) => !/trust|connect|accept/i.test(b)),
            `the dialog offers: ${buttons.join(', ')}`,
          );
          await wb.screenshot('host-key-changed');
          await wb.page.keyboard.press('Escape');
          await refused.waitFor({ state: 'hidden', timeout: 10_000 });
          assert.equal(readFileSync(join(home, '.ssh', 'known_hosts'), 'utf8'), knownHostsBefore);
          assert.equal(bpftoolHas('prog', progId), false, 'switching released what lockedbox had loaded');
          await waitForTarget(wb, 'changedbox', 'failed', 10_000);

          // The passphrase is nowhere but SecretStorage: not in settings, logs, the workspace or the session's
          // own files outside VS Code's secret store (checked by reading every file).
          const leaks = [
            ...filesContaining(s.workspace, Sshd.PASSPHRASE),
            ...filesContaining(join(userData, 'User', 'settings.json'), Sshd.PASSPHRASE),
            ...filesContaining(join(userData, 'logs'), Sshd.PASSPHRASE),
            ...filesContaining(home, Sshd.PASSPHRASE),
          ];
          assert.deepEqual(leaks, [], 'the passphrase was written in clear');
          assert.ok(!s.outputChannelLog().includes(Sshd.PASSPHRASE));
          assert.deepEqual(activationErrors(s.extensionHostLog()), [], 'activation errors in the extension host log');
        },
      );
    } finally {
      await locked.dispose();
      await changed.dispose();
    }
  },
);
