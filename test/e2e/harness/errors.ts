/** Errors of the e2e harness: a fixed `name`, the context needed to act on them, the original error as `cause`. */

/** Something the tier needs is not installed (Chromium, Node 24, the VS Code server, the built extension). */
export class E2EPreconditionError extends Error {
  override readonly name = 'E2EPreconditionError';
  constructor(readonly missing: string[]) {
    super(
      `the real-VS-Code tier cannot run: ${missing.join('; ')}. ` +
        'Fix: `bash test/e2e/setup.sh` (installs Chromium, Node 24, code-server and playwright-core) and `npm run build`.',
    );
  }
}

/** The VS Code server did not start, or died. Carries the command line, the exit status and the tail of its output. */
export class VsCodeServerError extends Error {
  override readonly name = 'VsCodeServerError';
  constructor(
    message: string,
    readonly command: string,
    readonly outputTail: string,
    options?: { cause?: unknown },
  ) {
    super(`${message}\n  command: ${command}\n  output (tail):\n${indent(outputTail)}`, options);
  }
}

/** A step in the workbench did not reach the state it waited for. Names the step and points to the screenshot. */
export class WorkbenchStepError extends Error {
  override readonly name = 'WorkbenchStepError';
  constructor(
    readonly step: string,
    readonly screenshot: string | undefined,
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause instanceof Error ? options.cause.message.split('\n')[0] : String(options?.cause ?? '');
    super(`workbench step '${step}' failed: ${cause}${screenshot ? `\n  screenshot: ${screenshot}` : ''}`, options);
  }
}

/** Extension-host tests (extensionTestsPath) ended with a non-zero code, or never ended. */
export class ExtensionTestsError extends Error {
  override readonly name = 'ExtensionTestsError';
  constructor(
    message: string,
    readonly exitCode: number | undefined,
    readonly log: string,
  ) {
    super(`${message}\n  extension host output (tail):\n${indent(tail(log, 40))}`);
  }
}

export function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
