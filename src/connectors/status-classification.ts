/**
 * Every way an upstream call can fail, turned into the one `SourceError` that leaves the
 * connectors: a status the source answered, a policy's refusal (open breaker, rate-limit wait,
 * token endpoint), a timeout or a broken connection. Messages name the source, the route template
 * and how many attempts were made, never the URL.
 */
import { errors as undiciErrors } from 'undici';
import { CODES } from '../errors';
import { BreakerOpenError, EgressRefusedError, InterruptedAnswerError, RateLimitWaitError, SourceError, TokenRequestError, type SourceErrorCode } from './errors';
import { errorCode, failureKind, RESPONSE_TOO_LARGE } from './failures';
import type { CallRecord } from './policies/attempt';

/** What the classification needs to know of the source, beyond the call itself. */
export interface ClassifiedSource {
  name: string;
  timeoutMs: number;
  /** `limits.maxResponseBytes`: a longer answer is cut off and refused. */
  maxResponseBytes: number;
  /** Names of the secrets its credentials come from, for the hint on a refused credential. */
  secrets: readonly string[];
}

/** `(GET /orders answered 503 after 3 attempts; ...)`: what happened, for the end of a message. */
function what(route: string, record: CallRecord, outcome?: string): string {
  const attempts = record.attempts > 1 ? ` after ${record.attempts} attempts` : '';
  const stopped = record.retryStopped ? `; not retried: ${record.retryStopped}` : '';
  return `(${route}${outcome ? ` ${outcome}` : ''}${attempts}${stopped})`;
}

/** The error for a status of 400 or more that the source answered (404 aside, which callers read as "none"). */
export function statusError(source: ClassifiedSource, status: number, route: string, record: CallRecord): SourceError {
  const outcome = what(route, record, `answered ${status}`);
  const fail = (code: SourceErrorCode, message: string) => new SourceError(code, source.name, route, message, status);
  if (status === 429) return fail(CODES.SOURCE_RATE_LIMITED, `Source ${source.name} is rate limiting the gateway ${outcome}; try again shortly`);
  if (status >= 500) return fail(CODES.SOURCE_UNAVAILABLE, `Source ${source.name} failed ${outcome}`);
  if ((status === 401 || status === 403) && source.secrets.length > 0) {
    return fail(CODES.SOURCE_REJECTED_REQUEST, `Source ${source.name} refused the gateway's credentials ${outcome}; check ${source.secrets.join(', ')}`);
  }
  return fail(CODES.SOURCE_REJECTED_REQUEST, `Source ${source.name} rejected the request ${outcome}; check the source definition`);
}

/** Anything the dispatcher threw, as a `SourceError` (one already classified passes through). */
export function classifyFailure(source: ClassifiedSource, error: unknown, route: string, record: CallRecord): SourceError {
  if (error instanceof SourceError) return error;
  if (error instanceof undiciErrors.RequestRetryError) return statusError(source, error.statusCode, route, record);
  const name = source.name;
  const fail = (code: SourceErrorCode, message: string, status?: number) => new SourceError(code, name, route, message, status);
  if (error instanceof BreakerOpenError) return fail(CODES.SOURCE_UNAVAILABLE, `Source ${name} is unavailable (${route}): ${error.message}`);
  if (error instanceof RateLimitWaitError) return fail(CODES.SOURCE_RATE_LIMITED, `Source ${name} is rate limited (${route}): ${error.message}`);
  if (error instanceof TokenRequestError) {
    const code = error.kind === 'refused' ? CODES.SOURCE_REJECTED_REQUEST : error.kind === 'bad-response' ? CODES.SOURCE_BAD_RESPONSE : CODES.SOURCE_UNAVAILABLE;
    return fail(code, `Source ${name} could not authenticate (${route}): ${error.message}`, error.status);
  }
  if (error instanceof EgressRefusedError) return fail(CODES.SOURCE_EGRESS_REFUSED, `Source ${name} was not called (${route}): ${error.message}`);
  const interrupted = error instanceof InterruptedAnswerError;
  const cause = interrupted ? error.cause : error;
  const outcome = what(route, record);
  if (errorCode(cause) === RESPONSE_TOO_LARGE) {
    return fail(CODES.SOURCE_BAD_RESPONSE, `Source ${name} answered more than limits.maxResponseBytes (${source.maxResponseBytes} bytes) ${outcome}; the rest of the answer was not read and the connection was closed`);
  }
  switch (failureKind(cause)) {
    case 'timeout':
      return fail(CODES.SOURCE_TIMEOUT, `Source ${name} did not ${interrupted ? 'finish its answer' : 'answer'} within ${source.timeoutMs} ms ${outcome}`);
    case 'connection':
      return fail(CODES.SOURCE_UNAVAILABLE, `Source ${name} ${interrupted ? 'broke off its answer' : 'is unreachable'} (${errorCode(cause)}) ${outcome}`);
    default:
      return fail(CODES.SOURCE_UNAVAILABLE, `Source ${name} failed (${errorCode(cause) ?? (cause instanceof Error ? cause.name : 'unknown error')}) ${outcome}`);
  }
}
