/**
 * A client-side rate limit per source: a token bucket (the `limiter` package's TokenBucket, which
 * also keeps waiting calls in order), declared below the source's own limit so that a burst queues
 * briefly in the gateway instead of collecting 429s from the source.
 *
 * Every attempt takes a token, retries included. The wait is bounded: a call that would queue
 * longer than `maxQueueWaitMs` fails at once with a `RateLimitWaitError` (SOURCE_RATE_LIMITED)
 * rather than piling up. And when the source answers 429 or 503 with `Retry-After`, every call to
 * it is held back until then, not only the one that was told.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenBucket } from 'limiter';
import type { Dispatcher } from 'undici';
import type { RateLimitPolicy } from '../../config/definition';
import { RateLimitWaitError } from '../errors';
import { retryAfterMs } from '../failures';
import { ForwardingHandler, refuse, type Headers } from './forwarding-handler';

/** Watches the answers for a source asking to be left alone for a while. */
class RetryAfterHandler extends ForwardingHandler {
  constructor(
    handler: Dispatcher.DispatchHandler,
    private readonly limiter: SourceRateLimiter,
  ) {
    super(handler);
  }

  override onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, statusMessage?: string): void {
    if (statusCode === 429 || statusCode === 503) {
      const waitMs = retryAfterMs(headers['retry-after']);
      if (waitMs !== undefined) this.limiter.holdFor(waitMs);
    }
    super.onResponseStart(controller, statusCode, headers, statusMessage);
  }
}

export class SourceRateLimiter {
  private readonly bucket: TokenBucket;
  private readonly tokensPerMs: number;
  private readonly maxQueueWaitMs: number;
  private queued = 0;
  /** Epoch ms before which nothing is sent: the source's own Retry-After. */
  private holdUntil = 0;

  constructor(
    readonly source: string,
    policy: RateLimitPolicy,
  ) {
    const burst = policy.burst ?? Math.max(1, Math.floor(policy.perSecond));
    this.bucket = new TokenBucket({ bucketSize: burst, tokensPerInterval: policy.perSecond, interval: 'second' });
    // Full at start: a fresh gateway may send its first burst at once.
    this.bucket.content = burst;
    this.tokensPerMs = policy.perSecond / 1000;
    this.maxQueueWaitMs = policy.maxQueueWaitMs;
  }

  /** Holds every call back for `ms` from now (never shortens a hold already in place). */
  holdFor(ms: number): void {
    this.holdUntil = Math.max(this.holdUntil, Date.now() + ms);
  }

  private holdMs(): number {
    return Math.max(0, this.holdUntil - Date.now());
  }

  /** Takes a token now if one is free and nobody is waiting ahead; never waits. */
  private tryTake(): boolean {
    return this.queued === 0 && this.holdMs() === 0 && this.bucket.tryRemoveTokens(1);
  }

  /** Waits for a token in turn, or fails at once when the wait would exceed `maxQueueWaitMs`. */
  private async take(): Promise<void> {
    const holdMs = this.holdMs();
    this.bucket.drip();
    // Tokens that the calls already waiting, and this one, still lack, at the bucket's rate.
    const lacking = this.queued + 1 - this.bucket.content;
    const queueMs = lacking > 0 ? lacking / this.tokensPerMs : 0;
    if (holdMs + queueMs > this.maxQueueWaitMs) throw new RateLimitWaitError(this.source, holdMs + queueMs, this.maxQueueWaitMs, holdMs > queueMs);
    this.queued += 1;
    try {
      if (holdMs > 0) await sleep(holdMs);
      await this.bucket.removeTokens(1);
    } finally {
      this.queued -= 1;
    }
  }

  interceptor(): Dispatcher.DispatcherComposeInterceptor {
    return (dispatch) => (opts, handler) => {
      const watched = new RetryAfterHandler(handler, this);
      if (this.tryTake()) return dispatch(opts, watched);
      this.take().then(
        () => dispatch(opts, watched),
        (error: Error) => refuse(handler, error),
      );
      return true;
    };
  }
}
