/**
 * The VS Code workbench in headless Chromium, driven the way a user drives it: keyboard, command palette, views.
 * Every wait is on an event or a DOM state, bounded by a timeout; every failed step leaves a screenshot.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { WorkbenchStepError } from './errors';
import { type BrowserContext, type FrameLocator, type Locator, loadChromium, type Page } from './playwright';
import { CHROMIUM_BIN } from './paths';

/** Chromium flags for a machine with no route to Google's or Microsoft's servers (see shared/E2E.md). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface WorkbenchLaunchOptions {
  /** Chromium's profile dir (new and empty). */
  profileDir: string;
  /** HOME/XDG_* for Chromium, inside the test's temp dir. */
  env: Record<string, string>;
  /** test-artifacts/e2e/<test>: screenshots and the browser console log go here. */
  artifactsDir: string;
  /** Default timeout of each wait, in ms. */
  timeoutMs?: number;
}

const FOCUS_TRACE = `(() => {
  const d = (e) => e ? e.tagName + (e.id ? '#' + e.id : '') + '.' + String(e.className).slice(0, 60) : 'null';
  let last = '';
  setInterval(() => {
    const q = document.querySelector('.quick-input-widget');
    const s = d(document.activeElement) + ' qi=' + (q ? getComputedStyle(q).display : '-');
    if (s !== last) { console.log('[focus-trace] ' + new Date().toISOString() + ' ' + s); last = s; }
  }, 20);
})()`;

/** One workbench window. Create with `Workbench.launch`, then `open`. */
export class Workbench {
  private shots = 0;

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    readonly artifactsDir: string,
    readonly timeoutMs: number,
  ) {}

  static async launch(opts: WorkbenchLaunchOptions): Promise<Workbench> {
    mkdirSync(opts.artifactsDir, { recursive: true });
    const context = await loadChromium().launchPersistentContext(opts.profileDir, {
      executablePath: CHROMIUM_BIN,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
      env: { ...process.env, ...opts.env },
      timeout: 60_000,
      // The harness cleans up itself (see cleanup.ts); Playwright's own handlers would race with it.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const timeoutMs = opts.timeoutMs ?? 30_000;
    page.setDefaultTimeout(timeoutMs);
    const consoleLog = join(opts.artifactsDir, 'browser-console.log');
    page.on('console', (m) => appendFileSync(consoleLog, `[${m.type()}] ${m.text()}\n`));
    page.on('pageerror', (e) => appendFileSync(consoleLog, `[pageerror] ${e.stack ?? e.message}\n`));
    return new Workbench(context, page, opts.artifactsDir, timeoutMs);
  }

  /**
   * Opens `folder` in the workbench served at `origin`, with the given payload entries (extensionDevelopmentPath,
   * extensionTestsPath: vscode-remote URIs), and waits until the workbench has restored (the smoke-test driver's
   * own signal).
   */
  async open(origin: string, folder: string, payload: [string, string][]): Promise<void> {
    const url = `${origin}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    await this.step('open-workbench', async () => {
      await this.page.goto(url, { waitUntil: 'domcontentloaded' });
      await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
      await this.page.waitForFunction('typeof window.driver?.whenWorkbenchRestored === "function"', undefined, {
        timeout: 60_000,
      });
      await this.page.evaluate('window.driver.whenWorkbenchRestored()');
    });
    if (process.env.BPF_IDE_E2E_FOCUS_TRACE) await this.page.evaluate(FOCUS_TRACE);
  }

  /**
   * Developer: Reload Window, as a user does it: the extension host restarts and the workbench restores its
   * editors (webview panels through their serializers). Resolves once the reloaded workbench has restored.
   */
  async reloadWindow(): Promise<void> {
    await this.page.evaluate('window.__bpfIdeBeforeReload = true');
    await this.runCommand('Developer: Reload Window');
    await this.step('window reloaded', async () => {
      await this.page.waitForFunction(
        '!window.__bpfIdeBeforeReload && typeof window.driver?.whenWorkbenchRestored === "function"',
        undefined,
        { timeout: 60_000 },
      );
      await this.page.evaluate('window.driver.whenWorkbenchRestored()');
    });
  }

  /** Saves a screenshot as <artifactsDir>/<NN>-<name>.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    // Step names may hold regexes and paths: keep the file name to one safe path segment.
    const safe = name.replace(/[^\w.@+-]+/g, '_').slice(0, 100);
    const file = join(this.artifactsDir, `${String(++this.shots).padStart(2, '0')}-${safe}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  /** Runs one named step; if it throws, saves `<name>-failed.png` and throws a WorkbenchStepError naming both. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (process.env.BPF_IDE_E2E_FOCUS_TRACE) process.stderr.write(`[step] ${new Date().toISOString()} ${name}\n`);
    try {
      return await fn();
    } catch (err) {
      const shot = await this.screenshot(`${name}-failed`).catch(() => undefined);
      throw new WorkbenchStepError(name, shot, { cause: err });
    }
  }

  /** The quick input widget (command palette, quick open, go to line). */
  get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * Runs a command from the palette (F1) by its label as shown there, e.g. 'View: Focus Problems'. With
   * `thenInput`, the command asks something right away: waits for the quick input titled so instead of its closing.
   */
  async runCommand(label: string, opts: { thenInput?: string | RegExp } = {}): Promise<void> {
    await this.step(`command ${label}`, async () => {
      // The first row whose label is exactly the command: pressing Enter on a partial match runs the wrong one.
      const row = this.quickInput.locator('.monaco-list-row').filter({ hasText: label }).first();
      const input = this.quickInput.locator('input');
      const deadline = Date.now() + this.timeoutMs;
      const upTo5s = () => Math.min(5_000, Math.max(1, deadline - Date.now()));
      for (let attempt = 0; ;) {
        if (Date.now() >= deadline) throw new Error(`the command palette did not run '${label}'`);
        await this.focusWorkbench();
        // F1 goes where the focus is: from a webview it is forwarded to the workbench asynchronously, and a
        // palette opened while VS Code still moves focus back to an editor (after a quick input closed, it focuses
        // a webview editor after a delay, through its iframe) closes again on that focus-out. A user whose
        // palette did not show or vanished presses F1 again; so does this, until the command is clicked.
        if (attempt++ === 0 || !(await this.quickInput.isVisible())) await this.page.keyboard.press('F1');
        const opened = await input
          .waitFor({ state: 'visible', timeout: upTo5s() })
          .then(() => true)
          .catch(() => false);
        if (!opened) continue;
        const filled = await input
          .fill(`>${label}`, { timeout: upTo5s() })
          .then(() => true)
          .catch(() => false);
        if (!filled) continue;
        // The palette lists the commands known when it opened: an extension still starting up registers its
        // contributions a moment later, so close and reopen until the command is listed.
        const listed = await row
          .waitFor({ state: 'visible', timeout: upTo5s() })
          .then(() => true)
          .catch(() => false);
        if (!listed) {
          if (await this.quickInput.isVisible()) {
            await this.page.keyboard.press('Escape');
            await this.quickInput.waitFor({ state: 'hidden' });
          }
          continue;
        }
        // A click that times out did not happen (the palette closed under it): open it again.
        const clicked = await row
          .click({ timeout: upTo5s() })
          .then(() => true)
          .catch(() => false);
        if (clicked) break;
        const asked =
          opts.thenInput && this.quickInput.locator('.quick-input-title').filter({ hasText: opts.thenInput });
        if (asked && (await asked.isVisible())) break; // the click did land: the command asks its question
      }
      if (opts.thenInput) await this.quickInputTitled(opts.thenInput);
      else await this.quickInput.waitFor({ state: 'hidden' });
    });
  }

  /** Waits until the quick input shows the title `title` (a quick pick or an input box a command opened). */
  async quickInputTitled(title: string | RegExp, timeoutMs = this.timeoutMs): Promise<void> {
    await this.quickInput
      .locator('.quick-input-title')
      .filter({ hasText: title })
      .waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /**
   * In the quick pick titled `title`: types `filter` (if given), clicks the first row showing `row`. With
   * `thenInput`, waits for the next quick input of that title instead of the picker closing.
   */
  async pick(
    title: string | RegExp,
    row: string | RegExp,
    opts: { filter?: string; thenInput?: string | RegExp; timeoutMs?: number } = {},
  ): Promise<void> {
    await this.step(`pick ${String(row)}`, async () => {
      await this.quickInputTitled(title, opts.timeoutMs);
      if (opts.filter !== undefined) await this.quickInput.locator('input').fill(opts.filter);
      const r = this.quickInput.locator('.monaco-list-row').filter({ hasText: row }).first();
      await r.waitFor({ state: 'visible', timeout: opts.timeoutMs });
      await r.click();
      if (opts.thenInput) await this.quickInputTitled(opts.thenInput, opts.timeoutMs);
      else await this.quickInput.locator('.quick-input-title').filter({ hasText: title }).waitFor({ state: 'hidden' });
    });
  }

  /** Answers the input box titled `title` with `value` (replacing what it proposes) and Enter. */
  async answer(title: string | RegExp, value: string, opts: { thenInput?: string | RegExp } = {}): Promise<void> {
    await this.step(`answer ${String(title)}`, async () => {
      await this.quickInputTitled(title);
      await this.quickInput.locator('input').fill(value);
      await this.page.keyboard.press('Enter');
      if (opts.thenInput) await this.quickInputTitled(opts.thenInput);
      else await this.quickInput.locator('.quick-input-title').filter({ hasText: title }).waitFor({ state: 'hidden' });
    });
  }

  /** The modal dialog whose text matches `text`, once shown. */
  async dialog(text: string | RegExp, timeoutMs = this.timeoutMs): Promise<Locator> {
    const box = this.page.locator('.monaco-dialog-box').filter({ hasText: text }).first();
    await this.step(`dialog ${String(text)}`, () => box.waitFor({ state: 'visible', timeout: timeoutMs }));
    return box;
  }

  /**
   * The notification whose message matches `text`, in the Notifications Center (opened here): this VS Code
   * server build, driven headless, lists notifications there without showing toasts. The returned row holds the
   * notification's buttons.
   */
  async notification(text: string | RegExp, timeoutMs = this.timeoutMs): Promise<Locator> {
    const row = this.page.locator('.notifications-center .monaco-list-row').filter({ hasText: text }).first();
    await this.step(`notification ${String(text)}`, async () => {
      if ((await this.page.locator('.notifications-center.visible').count()) === 0)
        await this.runCommand('Notifications: Show Notifications');
      await row.waitFor({ state: 'visible', timeout: timeoutMs });
    });
    return row;
  }

  /** Clears every notification and closes the Notifications Center, so neither covers what comes next. */
  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
    if ((await this.page.locator('.notifications-center.visible').count()) > 0)
      await this.runCommand('Notifications: Hide Notifications');
  }

  /** The CodeLens of the active editor whose text matches `text` (the icon is not text), once shown. */
  async codeLens(text: RegExp, timeoutMs = this.timeoutMs): Promise<Locator> {
    const lens = this.activeEditor.locator('.codelens-decoration a').filter({ hasText: text }).first();
    await this.step(`codelens ${String(text)}`, () => lens.waitFor({ state: 'visible', timeout: timeoutMs }));
    return lens;
  }

  /**
   * Clicks the CodeLens of the active editor matching `text`. VS Code retires a lens's command when the lenses are
   * recomputed, and a click that lands on a retired lens does nothing but log "Actual command not found" in the
   * console; a user clicks again, and so does this (up to 3 times, only when VS Code said so).
   */
  async clickCodeLens(text: RegExp, timeoutMs = this.timeoutMs): Promise<void> {
    let lost = false;
    const onConsole = (m: { text(): string }) => {
      if (m.text().includes('Actual command not found')) lost = true;
    };
    this.page.on('console', onConsole);
    try {
      for (let attempt = 1; ; attempt++) {
        lost = false;
        await (await this.codeLens(text, timeoutMs)).click();
        await new Promise((r) => setTimeout(r, 1_500));
        if (!lost) return;
        if (attempt === 3) throw new Error(`3 clicks on the CodeLens ${String(text)} were lost`);
      }
    } finally {
      this.page.off('console', onConsole);
    }
  }

  /** The document of the visible webview (VS Code nests it: iframe.webview > iframe#active-frame). */
  get webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('#active-frame');
  }

  /** Opens a workspace file with Quick Open (Ctrl+P) and waits until its editor tab is active. */
  async openFile(relativePath: string): Promise<void> {
    const name = relativePath.split('/').pop()!;
    await this.step(`open ${relativePath}`, async () => {
      await this.focusWorkbench();
      await this.page.keyboard.press('Control+P');
      const input = this.quickInput.locator('input');
      await input.waitFor({ state: 'visible' });
      await input.fill(relativePath);
      const row = this.quickInput.locator('.monaco-list-row').filter({ hasText: name }).first();
      await row.waitFor({ state: 'visible' });
      await this.page.keyboard.press('Enter');
      await this.quickInput.waitFor({ state: 'hidden' });
      await this.page.locator(`.tabs-container .tab.active[aria-label*="${name}"]`).waitFor({ state: 'visible' });
      await this.activeEditor.waitFor({ state: 'visible' });
    });
  }

  /** The active text editor's Monaco element. */
  get activeEditor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  /** Moves the cursor to the start of a 1-based line with Go to Line (Ctrl+G), then to the given column. */
  async goToLine(line: number, column?: number): Promise<void> {
    await this.step(`go to line ${line}`, async () => {
      await this.activeEditor.click();
      await this.page.keyboard.press('Control+G');
      const input = this.quickInput.locator('input');
      await input.waitFor({ state: 'visible' });
      // Ctrl+G opens Quick Open with the ':' (go to line) prefix: keep it.
      await input.fill(column ? `:${line}:${column}` : `:${line}`);
      await this.page.keyboard.press('Enter');
      await this.quickInput.waitFor({ state: 'hidden' });
      await this.page
        .locator('.statusbar-item[id="status.editor.selection"]')
        .filter({ hasText: `Ln ${line}, Col ${column ?? 1}` })
        .waitFor({ state: 'visible' });
    });
  }

  /** Types text into the focused editor the way a user does (key events, so editor features like suggest react). */
  async type(text: string): Promise<void> {
    await this.page.keyboard.type(text, { delay: 20 });
  }

  /** The Problems panel, opened and focused. */
  async openProblems(): Promise<Locator> {
    await this.runCommand('View: Focus Problems');
    const panel = this.page.locator('.markers-panel');
    await panel.waitFor({ state: 'visible' });
    return panel;
  }

  /** Waits until the Problems panel lists a row containing `text` (the panel must be open) and returns it. */
  async waitForProblem(text: string | RegExp, timeoutMs = this.timeoutMs): Promise<Locator> {
    const row = this.page.locator('.markers-panel .monaco-list-row').filter({ hasText: text }).first();
    await this.step(`problem ${String(text)}`, () => row.waitFor({ state: 'visible', timeout: timeoutMs }));
    return row;
  }

  /** Every row of the Problems panel, as shown (file rows and marker rows). */
  async problemRows(): Promise<string[]> {
    return this.page.locator('.markers-panel .monaco-list-row').allInnerTexts();
  }

  /** Opens the suggest widget (Ctrl+Space) in the active editor and waits until it lists `label`. */
  async triggerSuggest(label: string, timeoutMs = this.timeoutMs): Promise<Locator> {
    const widget = this.page.locator('.editor-widget.suggest-widget');
    return this.step(`suggest ${label}`, async () => {
      await this.page.keyboard.press('Control+Space');
      await widget.waitFor({ state: 'visible', timeout: timeoutMs });
      const row = widget.locator('.monaco-list-row').filter({ hasText: label }).first();
      await row.waitFor({ state: 'visible', timeout: timeoutMs });
      return row;
    });
  }

  /** The labels the suggest widget currently shows. */
  async suggestionLabels(): Promise<string[]> {
    return this.page.locator('.editor-widget.suggest-widget .monaco-list-row .label-name').allInnerTexts();
  }

  /** Waits until the workbench is shown; keys then go to whatever has focus in it (an editor, a view). */
  private async focusWorkbench(): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible' });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
