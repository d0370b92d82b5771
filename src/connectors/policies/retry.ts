/**
 * Retries of idempotent reads after transient failures, on undici's own retry interceptor
 * (`interceptors.retry`, its RetryHandler re-dispatches the request and drops the failed answer).
 * What is ours is the decision, in its `retry` callback:
 *
 * - only GET and HEAD, and only 429, 502, 503, 504, connections refused or broken before an answer,
 *   and timeouts; never 4xx otherwise, a policy's own refusal, or an answer that broke halfway;
 * - at most `maxAttempts` attempts per call;
 * - a `Retry-After` is honoured, and one longer than `maxRetryAfterMs` ends the call at once;
 * - otherwise exponential backoff with full jitter: a random delay in
 *   [0, min(maxDelayMs, baseDelayMs * 2^(attempt - 1))], so that callers that failed together do
 *   not come back together;
 * - every retry is taken from the source's retry budget (retry-budget.ts).
 */
import { errors, interceptors, type Dispatcher } from 'undici';
import type { RetryPolicy } from '../../config/definition';
import { systemClock, type TimerClock } from '../../time/clock';
import { InterruptedAnswerError } from '../errors';
import { failureKind, retryAfterMs } from '../failures';
import { callRecordOf } from './attempt';
import type { RetryBudget } from './retry-budget';

/** Answers a retry may help with: the source is overloaded, or a proxy in front of it failed. */
export const RETRY_STATUSES: readonly number[] = [429, 502, 503, 504];
/** Idempotent reads; nothing that changes data at the source is ever repeated. */
const RETRY_METHODS = ['GET', 'HEAD'];

/**
 * `because` says why a transient failure was not retried although attempts remained (the budget,
 * a Retry-After too long); it is absent when there was nothing to retry or no attempt left.
 */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; because?: string };

export interface FailedAttempt {
  error: Error;
  /** Attempts made so far, the failed one included. */
  attempt: number;
  method: string;
}

/** The status of an answer that undici's retry handler turned into an error, with its headers. */
export function retryableAnswer(error: unknown): { status: number; headers: Record<string, string | string[] | undefined> } | undefined {
  if (!(error instanceof errors.RequestRetryError)) return undefined;
  return { status: error.statusCode, headers: (error.headers ?? {}) as Record<string, string | string[] | undefined> };
}

/** Pure: whether to retry a failed attempt, and after how long. Takes a retry from the budget when it says yes. */
export function decideRetry(
  failed: FailedAttempt,
  policy: RetryPolicy,
  budget: RetryBudget,
  options: { now?: number; random?: () => number } = {},
): RetryDecision {
  const { now = Date.now(), random = Math.random } = options;
  const answer = retryableAnswer(failed.error);
  const transient = answer ? RETRY_STATUSES.includes(answer.status) : !(failed.error instanceof InterruptedAnswerError) && failureKind(failed.error) !== undefined;
  if (!transient || !RETRY_METHODS.includes(failed.method.toUpperCase()) || failed.attempt >= policy.maxAttempts) return { retry: false };
  const askedMs = answer ? retryAfterMs(answer.headers['retry-after'], now) : undefined;
  if (askedMs !== undefined && askedMs > policy.maxRetryAfterMs) {
    return { retry: false, because: `the source asked to wait ${Math.ceil(askedMs / 1000)} s (Retry-After), longer than maxRetryAfterMs` };
  }
  if (!budget.tryRetry()) return { retry: false, because: 'the retry budget of the source is spent' };
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failed.attempt - 1));
  return { retry: true, delayMs: askedMs ?? Math.round(random() * ceiling) };
}

/** `clock` times the backoff and reads an HTTP-date `Retry-After` (its wall scale). */
export function retry(policy: RetryPolicy, budget: RetryBudget, random: () => number = Math.random, clock: TimerClock = systemClock): Dispatcher.DispatcherComposeInterceptor {
  const undiciRetry = interceptors.retry({
    maxRetries: policy.maxAttempts - 1,
    methods: RETRY_METHODS as Dispatcher.HttpMethod[],
    statusCodes: [...RETRY_STATUSES],
    retry: (error, { state, opts }, callback) => {
      const decision = decideRetry({ error, attempt: state.counter, method: String(opts.method) }, policy, budget, { random, now: clock.wallNow() });
      if (!decision.retry) {
        const record = callRecordOf(opts);
        if (record && decision.because) record.retryStopped = decision.because;
        callback(error);
        return;
      }
      // A clock's timer never keeps a stopping process alive, so neither does a retry waiting out its backoff.
      clock.setTimer(decision.delayMs, () => callback(null));
    },
  });
  return (dispatch) => {
    const withRetries = undiciRetry(dispatch);
    return (opts, handler) => {
      budget.recordCall();
      return withRetries(opts, handler);
    };
  };
}
