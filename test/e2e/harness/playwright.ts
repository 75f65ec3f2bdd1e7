/**
 * playwright-core, loaded from test/e2e/vscode/node_modules (installed by setup.sh, outside the project's own
 * dependencies). The types below are the subset of Playwright's API that the harness and the tests use, declared
 * here so that `tsc -b` passes on a machine where the tier is not set up; add members as tests need them
 * (they are checked against the real library at run time only).
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { VSCODE_PKG_DIR } from './paths';

export interface Locator {
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  locator(selector: string): Locator;
  filter(options: { hasText?: string | RegExp; has?: Locator }): Locator;
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  click(options?: { timeout?: number; button?: 'left' | 'right' | 'middle' }): Promise<void>;
  dblclick(options?: { timeout?: number }): Promise<void>;
  hover(options?: { timeout?: number }): Promise<void>;
  fill(value: string, options?: { timeout?: number }): Promise<void>;
  press(key: string, options?: { timeout?: number }): Promise<void>;
  count(): Promise<number>;
  textContent(options?: { timeout?: number }): Promise<string | null>;
  inputValue(options?: { timeout?: number }): Promise<string>;
  innerText(options?: { timeout?: number }): Promise<string>;
  allInnerTexts(): Promise<string[]>;
  allTextContents(): Promise<string[]>;
  getAttribute(name: string, options?: { timeout?: number }): Promise<string | null>;
  isVisible(): Promise<boolean>;
  isChecked(): Promise<boolean>;
  screenshot(options?: { path?: string; timeout?: number }): Promise<Buffer>;
}

/** A frame (an iframe, e.g. a webview's) addressed by selector. */
export interface FrameLocator {
  frameLocator(selector: string): FrameLocator;
  locator(selector: string): Locator;
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator;
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
  first(): FrameLocator;
  nth(index: number): FrameLocator;
}

export interface Keyboard {
  press(key: string, options?: { delay?: number }): Promise<void>;
  type(text: string, options?: { delay?: number }): Promise<void>;
  insertText(text: string): Promise<void>;
  down(key: string): Promise<void>;
  up(key: string): Promise<void>;
}

export interface ConsoleMessage {
  type(): string;
  text(): string;
}

export interface Page {
  goto(
    url: string,
    options?: { timeout?: number; waitUntil?: 'load' | 'domcontentloaded' | 'networkidle' | 'commit' },
  ): Promise<unknown>;
  exposeFunction(name: string, callback: (...args: never[]) => unknown): Promise<void>;
  locator(selector: string): Locator;
  frameLocator(selector: string): FrameLocator;
  getByText(text: string | RegExp, options?: { exact?: boolean }): Locator;
  getByRole(role: string, options?: { name?: string | RegExp; exact?: boolean }): Locator;
  keyboard: Keyboard;
  screenshot(options?: { path?: string; fullPage?: boolean; timeout?: number }): Promise<Buffer>;
  evaluate<R>(fn: string | (() => R | Promise<R>)): Promise<R>;
  evaluate<R, A>(fn: (arg: A) => R | Promise<R>, arg: A): Promise<R>;
  waitForFunction(
    fn: string | (() => unknown),
    arg?: unknown,
    options?: { timeout?: number; polling?: number | 'raf' },
  ): Promise<unknown>;
  on(event: 'console', listener: (msg: ConsoleMessage) => void): void;
  on(event: 'pageerror', listener: (err: Error) => void): void;
  on(event: 'crash' | 'close', listener: () => void): void;
  off(event: 'console', listener: (msg: ConsoleMessage) => void): void;
  setDefaultTimeout(ms: number): void;
  close(): Promise<void>;
}

export interface BrowserContext {
  pages(): Page[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
  on(event: 'close', listener: () => void): void;
}

export interface LaunchPersistentContextOptions {
  executablePath: string;
  headless: boolean;
  args: string[];
  viewport?: { width: number; height: number };
  env?: Record<string, string | undefined>;
  timeout?: number;
  handleSIGINT?: boolean;
  handleSIGTERM?: boolean;
  handleSIGHUP?: boolean;
}

export interface BrowserType {
  launchPersistentContext(userDataDir: string, options: LaunchPersistentContextOptions): Promise<BrowserContext>;
}

/** playwright-core's `chromium`, from the tier's own install. */
export function loadChromium(): BrowserType {
  const require = createRequire(join(VSCODE_PKG_DIR, 'package.json'));
  return (require('playwright-core') as { chromium: BrowserType }).chromium;
}
