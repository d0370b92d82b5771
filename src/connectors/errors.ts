import { CODES, VirtualizeError, type SourceErrorCode } from '../errors';

export type { SourceErrorCode } from '../errors';

/**
 * Every error of the connectors, in one file, each a `VirtualizeError` whose code is in the one
 * table (src/errors/codes.ts).
 *
 * `SourceError` is what leaves the connectors: a stable `code` that reaches the client as
 * `extensions.code`, the source's name and the route template (its data fields). Messages name
 * the source and the route, never a URL (it may carry ids or credentials) and never a credential.
 *
 * The others are raised by the per-source policies inside the dispatcher (see `source-dispatcher.ts`)
 * and turned into a `SourceError` by the HTTP client. Each has a stable `code` of its own, which
 * the retry and breaker policies match on; nobody matches on messages.
 */
export class SourceError extends VirtualizeError<SourceErrorCode, { readonly source: string; readonly route: string }> {
  constructor(
    code: SourceErrorCode,
    readonly source: string,
    readonly route: string,
    message: string,
    /** The source's own HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(code, message, { source, route });
    this.name = 'SourceError';
  }
}

export function isSourceError(error: unknown): error is SourceError {
  return error instanceof SourceError;
}

/** The source's circuit breaker is open (or a probe is in flight): the call never left the gateway. */
export class BreakerOpenError extends VirtualizeError<typeof CODES.VIRTUALIZE_BREAKER_OPEN> {
  constructor(
    readonly source: string,
    /** When the next probe may go, epoch ms; undefined while a probe is in flight. */
    readonly probeAt: number | undefined,
    /** Epoch ms of the refusal, on the source's clock. */
    now: number = Date.now(),
  ) {
    super(
      CODES.VIRTUALIZE_BREAKER_OPEN,
      probeAt === undefined
        ? `the circuit breaker of source ${source} is half-open and its probe call is still in flight; calls fail at once until it answers`
        : `the circuit breaker of source ${source} is open after repeated failures; calls fail at once until a probe at ${new Date(probeAt).toISOString()} (in ${Math.max(0, Math.ceil((probeAt - now) / 1000))} s)`,
    );
    this.name = 'BreakerOpenError';
  }
}

/** The gateway's own rate limit for the source would make this call wait longer than allowed. */
export class RateLimitWaitError extends VirtualizeError<typeof CODES.VIRTUALIZE_RATE_LIMIT_WAIT> {
  constructor(
    readonly source: string,
    readonly waitMs: number,
    readonly maxQueueWaitMs: number,
    /** True when the wait comes from the source's own Retry-After rather than the gateway's token bucket. */
    readonly sourceAskedToWait: boolean,
  ) {
    super(
      CODES.VIRTUALIZE_RATE_LIMIT_WAIT,
      sourceAskedToWait
        ? `source ${source} asked the gateway to wait ${Math.ceil(waitMs / 1000)} s (Retry-After), longer than the ${maxQueueWaitMs} ms a call may queue`
        : `the gateway's rate limit for source ${source} would queue this call ${Math.ceil(waitMs)} ms, longer than its maxQueueWaitMs of ${maxQueueWaitMs} ms`,
    );
    this.name = 'RateLimitWaitError';
  }
}

/** One attempt took longer than the source's `timeoutMs`, from leaving on a connection to its last byte. */
export class AttemptTimeoutError extends VirtualizeError<typeof CODES.VIRTUALIZE_ATTEMPT_TIMEOUT> {
  constructor(readonly timeoutMs: number) {
    super(CODES.VIRTUALIZE_ATTEMPT_TIMEOUT, `no complete answer within ${timeoutMs} ms`);
    this.name = 'AttemptTimeoutError';
  }
}

/**
 * An attempt failed after its answer had begun to arrive. It is not retried: the caller already has
 * the status and headers, and a repeat could only resume with Range requests, which these APIs do
 * not serve. `cause` is the underlying failure (a timeout, a broken connection).
 */
export class InterruptedAnswerError extends VirtualizeError<typeof CODES.VIRTUALIZE_ANSWER_INTERRUPTED> {
  constructor(override readonly cause: Error) {
    super(CODES.VIRTUALIZE_ANSWER_INTERRUPTED, `the answer stopped halfway: ${cause.message}`, undefined, { cause });
    this.name = 'InterruptedAnswerError';
  }
}

/** The OAuth 2.0 token endpoint of a source could not give a token. */
export class TokenRequestError extends VirtualizeError<typeof CODES.VIRTUALIZE_TOKEN_REQUEST> {
  constructor(
    readonly kind: 'unreachable' | 'refused' | 'bad-response',
    message: string,
    readonly status?: number,
  ) {
    super(CODES.VIRTUALIZE_TOKEN_REQUEST, message);
    this.name = 'TokenRequestError';
  }
}

/**
 * A list was asked to start at a cursor that this source's list never issued: one the gateway
 * cannot read (a page-number list's offsets are the gateway's own), or one the source refused
 * with a 400. The caller wrote the cursor, so it is the caller's mistake, not a source failure;
 * `cause` is the source's refusal when there was one.
 */
export class ForeignCursorError extends VirtualizeError<typeof CODES.VIRTUALIZE_FOREIGN_CURSOR> {
  constructor(
    readonly source: string,
    readonly route: string,
    readonly cursor: string,
    options?: { cause: SourceError },
  ) {
    super(CODES.VIRTUALIZE_FOREIGN_CURSOR, `"${cursor}" is not a cursor of ${route}`, undefined, options);
    this.name = 'ForeignCursorError';
  }
}

/**
 * The egress policy refused a registered source's connection when it was being made (its host is
 * not allowed, or it resolved to an internal address): nothing was sent. `reason` names the host
 * and the rule; never a URL's path or query, never a credential.
 */
export class EgressRefusedError extends VirtualizeError<typeof CODES.VIRTUALIZE_EGRESS_REFUSED> {
  constructor(
    readonly host: string,
    readonly port: string,
    readonly reason: string,
  ) {
    super(CODES.VIRTUALIZE_EGRESS_REFUSED, `the connection to ${host}${port ? `:${port}` : ''} was refused by the egress policy: ${reason}`);
    this.name = 'EgressRefusedError';
  }
}
