/**
 * What kind of failure an error from the dispatcher is, by its stable `code`: the one place where
 * the retry policy, the circuit breaker and the error classification of the HTTP client agree on
 * what a timeout and a connection failure are.
 */
import { CODES } from '../errors';
import { InterruptedAnswerError } from './errors';

/** The source did not answer in time: connect, headers, body or the whole attempt. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  CODES.VIRTUALIZE_ATTEMPT_TIMEOUT,
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** No connection could be made, or it broke before an answer. */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);

/** undici's code for an answer longer than the pool's `maxResponseSize` (the source's `maxResponseBytes`): neither a timeout nor a connection failure. */
export const RESPONSE_TOO_LARGE = 'UND_ERR_RES_EXCEEDED_MAX_SIZE';

export type FailureKind = 'timeout' | 'connection';

export function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object' || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** `timeout`, `connection`, or undefined for anything else (a policy's own refusal, a caller's abort). */
export function failureKind(error: unknown): FailureKind | undefined {
  const cause = error instanceof InterruptedAnswerError ? error.cause : error;
  const code = errorCode(cause);
  if (code === undefined) return undefined;
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (CONNECTION_CODES.has(code)) return 'connection';
  return undefined;
}

/** Statuses that say the source is failing, as opposed to refusing this one request (4xx). */
export function isFailureStatus(status: number): boolean {
  return status >= 500;
}

/**
 * The wait a `Retry-After` header asks for, in milliseconds: delay-seconds or an HTTP date
 * (RFC 9110, section 10.2.3). Undefined when absent or unreadable; never negative.
 */
export function retryAfterMs(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  // Delay-seconds; some sources send a fraction (Shopify `Retry-After: 2.0`).
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
