/**
 * A client-side rate limit per source: a token bucket, declared below the source's own limit so
 * that a burst queues briefly in the gateway instead of collecting 429s from the source.
 *
 * Every attempt takes a token, retries included, in the order the attempts come. The wait is
 * bounded: a call that would queue longer than `maxQueueWaitMs` fails at once with a
 * `RateLimitWaitError` (SOURCE_RATE_LIMITED) rather than piling up. And when the source answers
 * 429 or 503 with `Retry-After`, every call to it is held back until then, not only the one that
 * was told. A declared `remainingHeader` holds calls back likewise, before the source's own quota
 * is spent (`vendor-quota.ts`).
 *
 * The bucket fills and its calls wait on the source's clock (the `limiter` package's TokenBucket
 * reads the process's clock and sleeps on its own timers, which a test cannot move).
 */
import type { Dispatcher } from 'undici';
import type { RateLimitPolicy } from '../../config/definition';
import { systemClock, type TimerClock } from '../../time/clock';
import { RateLimitWaitError } from '../errors';
import { retryAfterMs } from '../failures';
import { ForwardingHandler, refuse, type Headers } from './forwarding-handler';
import { QuotaWaitError, VendorQuota } from './vendor-quota';

/** Watches the answers for a source asking to be left alone for a while, and for the quota it reports left. */
class RetryAfterHandler extends ForwardingHandler {
  private answered = false;

  constructor(
    handler: Dispatcher.DispatchHandler,
    private readonly limiter: SourceRateLimiter,
  ) {
    super(handler);
  }

  override onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, statusMessage?: string): void {
    if (!this.answered) {
      this.answered = true;
      this.limiter.sourceAnswered(headers);
    }
    if (statusCode === 429 || statusCode === 503) this.limiter.sourceAsked(headers['retry-after']);
    super.onResponseStart(controller, statusCode, headers, statusMessage);
  }

  override onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.settle();
    super.onResponseError(controller, error);
  }

  /** The call ended without an answer (an error, or a dispatch that threw). */
  settle(): void {
    if (this.answered) return;
    this.answered = true;
    this.limiter.quota?.settled();
  }
}

export class SourceRateLimiter {
  private readonly burst: number;
  private readonly tokensPerMs: number;
  private readonly maxQueueWaitMs: number;
  /**
   * Tokens in the bucket as of `drippedAt`; below zero, the tokens that calls already waiting have
   * spoken for. During a hold `drippedAt` is the hold's end, ahead of the clock.
   */
  private tokens: number;
  private drippedAt: number;
  /** Before this (the clock's monotonic ms) nothing is sent: the source's own Retry-After. */
  private holdUntil = Number.NEGATIVE_INFINITY;
  /** The quota the source reports left, when the definition declares its header. */
  readonly quota: VendorQuota | undefined;

  constructor(
    readonly source: string,
    policy: RateLimitPolicy,
    private readonly clock: TimerClock = systemClock,
  ) {
    this.burst = policy.burst ?? Math.max(1, Math.floor(policy.perSecond));
    // Full at start: a fresh gateway may send its first burst at once.
    this.tokens = this.burst;
    this.drippedAt = clock.now();
    this.tokensPerMs = policy.perSecond / 1000;
    this.maxQueueWaitMs = policy.maxQueueWaitMs;
    this.quota = policy.remainingHeader ? new VendorQuota(policy.remainingHeader) : undefined;
  }

  /** An answer began: the quota it reports left, if declared. */
  sourceAnswered(headers: Headers): void {
    this.quota?.answered(headers, this.clock.now());
  }

  /** Holds every call back for `ms` from now (never shortens a hold already in place). */
  holdFor(ms: number): void {
    this.holdUntil = Math.max(this.holdUntil, this.clock.now() + ms);
  }

  /** The source answered with a `Retry-After` (delay-seconds or an HTTP date, read on the clock's wall scale). */
  sourceAsked(retryAfter: string | string[] | undefined): void {
    const waitMs = retryAfterMs(retryAfter, this.clock.wallNow());
    if (waitMs !== undefined) this.holdFor(waitMs);
  }

  /**
   * Fills the bucket up to `at`, never above `burst`. During a hold `at` is the hold's end: the
   * bucket fills while the source asks to wait, capped as it would be by then, and the calls taking
   * tokens meanwhile take them from that figure, so that the hold's end releases at most `burst`.
   */
  private dripUntil(at: number): void {
    if (at <= this.drippedAt) return;
    this.tokens = Math.min(this.burst, this.tokens + (at - this.drippedAt) * this.tokensPerMs);
    this.drippedAt = at;
  }

  /**
   * Takes a token for a call, in turn behind the calls already waiting: how long the call must
   * wait for it (0 to go now), or the refusal when that is longer than `maxQueueWaitMs` (and then
   * nothing is taken). The wait is one figure, the moment this call's token is there (not before
   * the hold ends), for the timer and the check alike.
   */
  private take(): number | RateLimitWaitError {
    const now = this.clock.now();
    // Nothing leaves before the hold ends, nor before the source's quota has room above the
    // reserve; the bucket is read as it will be then.
    const quotaAt = this.quota?.earliest(now) ?? now;
    const from = Math.max(now, this.holdUntil, quotaAt);
    this.dripUntil(from);
    // Tokens that the calls already waiting, and this one, still lack, at the bucket's rate.
    const lacking = 1 - this.tokens;
    const waitMs = from - now + (lacking > 0 ? lacking / this.tokensPerMs : 0);
    if (waitMs > this.maxQueueWaitMs) {
      const holdMs = from - now;
      if (this.quota && quotaAt > this.holdUntil && holdMs > waitMs - holdMs) return new QuotaWaitError(this.source, waitMs, this.maxQueueWaitMs, this.quota.declaredHeader);
      return new RateLimitWaitError(this.source, waitMs, this.maxQueueWaitMs, holdMs > waitMs - holdMs);
    }
    this.tokens -= 1;
    this.quota?.took();
    return waitMs;
  }

  interceptor(): Dispatcher.DispatcherComposeInterceptor {
    return (dispatch) => (opts, handler) => {
      const waitMs = this.take();
      if (waitMs instanceof RateLimitWaitError) {
        refuse(handler, waitMs);
        return true;
      }
      const watched = new RetryAfterHandler(handler, this);
      if (waitMs === 0) {
        try {
          return dispatch(opts, watched);
        } catch (error) {
          watched.settle();
          throw error;
        }
      }
      this.clock.setTimer(waitMs, () => {
        // No caller is on the stack to catch a throw from the layers below by now: the call fails
        // through its handler, as a refusal does.
        try {
          dispatch(opts, watched);
        } catch (error) {
          refuse(watched, error instanceof Error ? error : new Error(String(error)));
        }
      });
      return true;
    };
  }
}
