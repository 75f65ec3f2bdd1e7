/**
 * Errors of the agent client. Each has a fixed `name`, carries its context, and keeps the
 * original error as `cause`, so callers can tell "the verifier said no" from "the agent died"
 * from "the agent spoke something this client does not understand".
 */
import type { AgentErrorBody, ErrorCode, Method, RequestId } from './agent-protocol';

/** Base class: every error the agent client throws is an AgentError. */
export class AgentError extends Error {
  override name = 'AgentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The agent answered a request with an error reply (`{id, error: {code, message, hint}}`). */
export class AgentRequestError extends AgentError {
  override name = 'AgentRequestError';
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(
    readonly method: Method,
    readonly requestId: RequestId,
    /** The whole error object: verifier log, errno, program name, ... */
    readonly body: AgentErrorBody,
  ) {
    super(`${method} failed (${body.code}): ${body.message}${body.hint ? `. ${body.hint}` : ''}`);
    this.code = body.code;
    this.hint = body.hint;
  }
}

/** A line from the agent was not JSON or did not match the protocol schema. */
export class AgentProtocolError extends AgentError {
  override name = 'AgentProtocolError';
  constructor(
    message: string,
    /** The start of the offending line (at most 500 characters). */
    readonly line: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The agent process could not be started (binary missing, not executable, sudo refused). */
export class AgentSpawnError extends AgentError {
  override name = 'AgentSpawnError';
  constructor(
    readonly command: string,
    options?: { cause?: unknown },
  ) {
    super(
      `could not start the agent (${command}): ${(options?.cause as Error | undefined)?.message ?? 'unknown error'}. ` +
        'Build it with `make -C remote-agent` (or `npm run build`) and check the path.',
      options,
    );
  }
}

/** The agent exited (or its output closed) while requests were pending or before hello. */
export class AgentExitedError extends AgentError {
  override name = 'AgentExitedError';
  constructor(
    readonly exitCode: number | null,
    readonly signal: string | null,
    /** The last lines the agent wrote on stderr. */
    readonly stderrTail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `the agent exited (${signal ? `signal ${signal}` : `code ${exitCode}`})` +
        (stderrTail ? `: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}` : ''),
      options,
    );
  }
}

/** No reply within the time limit. The request may still complete on the agent. */
export class AgentTimeoutError extends AgentError {
  override name = 'AgentTimeoutError';
  constructor(
    readonly method: Method | 'hello',
    readonly timeoutMs: number,
  ) {
    super(`no reply to ${method} within ${timeoutMs} ms: the agent is busy or hung; see its stderr`);
  }
}
