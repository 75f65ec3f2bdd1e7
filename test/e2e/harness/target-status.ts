/** bpf-ide's status bar item, as the user reads it: the target's name and its state as an icon. */
import type { Workbench } from './workbench';

const ICON = { connected: 'codicon-zap', disconnected: 'codicon-debug-disconnect', failed: 'codicon-error' };

/** Waits until the status bar shows `BPF: <host>` with the icon of `state`. */
export function waitForTarget(
  wb: Workbench,
  host: string,
  state: keyof typeof ICON,
  timeoutMs = 60_000,
): Promise<void> {
  return wb.step(`target ${host} ${state}`, () =>
    wb.page
      .locator(`.statusbar-item:has(.${ICON[state]})`)
      .filter({ hasText: `BPF: ${host}` })
      .waitFor({ state: 'visible', timeout: timeoutMs }),
  );
}
