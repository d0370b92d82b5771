/**
 * A circuit breaker per source, on opossum: closed, open, half-open.
 *
 * It sees every attempt (it sits inside the retry policy). It opens when, within `windowMs`, at
 * least `minimumAttempts` attempts were made and more than `failureRatio` of them failed. While it
 * is open, attempts are refused at once with a `BreakerOpenError` and never reach the rate limit,
 * the credentials or the source. After `openMs` exactly one probe goes through: its outcome closes
 * the breaker or opens it for another `openMs`; other attempts meanwhile are refused.
 *
 * Time is the source's clock: opossum judges the window (its buckets rotate as the clock passes,
 * not on its own interval), and the open period and its probe are ours, measured on the clock, so
 * that no timer of opossum's decides when a source is tried again.
 *
 * A failure is what says the source is unwell: a 5xx, a connection refused or broken, a timeout,
 * a token endpoint that cannot be reached. A 4xx or a 429 is an answer (the source is up and
 * deciding), and so is anything refused by a policy below the breaker.
 */
import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { Dispatcher } from 'undici';
import type { BreakerPolicy } from '../../config/definition';
import { BreakerOpenError, TokenRequestError } from '../errors';
import { failureKind, isFailureStatus } from '../failures';
import { systemClock, type Clock } from '../../time/clock';
import { ForwardingHandler, refuse, type Headers } from './forwarding-handler';

/** Opossum's window is cut into this many buckets; one rotates out every `windowMs / BUCKETS`. */
const BUCKETS = 10;
/**
 * Opossum starts a timer of its own on opening; the longest a Node timer can wait (about 24 days)
 * keeps it from ever moving the breaker, and closing the breaker clears it.
 */
const NEVER = 2 ** 31 - 1;

export type BreakerState = 'closed' | 'open' | 'halfOpen';

export interface BreakerReport {
  state: BreakerState;
  /** When it last opened (ISO-8601), while open or half-open. */
  openedAt?: string;
  /** When the probe may go (ISO-8601), while open. */
  probeAt?: string;
}

/** Opossum needs a rejection to count a failure; this one carries no more than the status. */
class AttemptFailure extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function isSourceFailure(error: Error): boolean {
  return failureKind(error) !== undefined || (error instanceof TokenRequestError && error.kind === 'unreachable');
}

/** Reports the outcome of one attempt to the breaker, as soon as it is known, and forwards everything. */
class OutcomeHandler extends ForwardingHandler {
  private settled = false;

  constructor(
    handler: Dispatcher.DispatchHandler,
    private readonly settle: (failure: AttemptFailure | undefined) => void,
  ) {
    super(handler);
  }

  override onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, statusMessage?: string): void {
    // A status other than 2xx is the source's whole verdict: settle before the layers above act on
    // it, since a retry re-dispatches at once and must meet the breaker's new state.
    if (statusCode < 200 || statusCode >= 300) this.report(isFailureStatus(statusCode) ? new AttemptFailure(`answered ${statusCode}`) : undefined);
    super.onResponseStart(controller, statusCode, headers, statusMessage);
  }

  override onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    this.report(undefined);
    super.onResponseEnd(controller, trailers);
  }

  override onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.report(isSourceFailure(error) ? new AttemptFailure(error.message) : undefined);
    super.onResponseError(controller, error);
  }

  private report(failure: AttemptFailure | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.settle(failure);
  }
}

export class SourceBreaker {
  private readonly breaker: CircuitBreaker<[() => Promise<void>], void>;
  private readonly rotation = new EventEmitter();
  private readonly bucketMs: number;
  private rotatedAt: number;
  /** When it last opened, on the clock's monotonic and wall scales; undefined while closed. */
  private opened: { at: number; wallAt: number } | undefined;
  private probing = false;

  constructor(
    readonly source: string,
    private readonly policy: BreakerPolicy,
    private readonly clock: Clock = systemClock,
  ) {
    this.bucketMs = policy.windowMs / BUCKETS;
    this.rotatedAt = clock.now();
    this.breaker = new CircuitBreaker((attempt: () => Promise<void>) => attempt(), {
      name: source,
      timeout: false, // the attempt policy bounds every attempt
      resetTimeout: NEVER, // the open period is measured on the clock, below
      rollingCountTimeout: policy.windowMs,
      rollingCountBuckets: BUCKETS,
      rotateBucketController: this.rotation,
      volumeThreshold: policy.minimumAttempts,
      errorThresholdPercentage: policy.failureRatio * 100,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.breaker.on('open', () => this.markOpened());
    this.breaker.on('close', () => {
      this.opened = undefined;
    });
  }

  private markOpened(): void {
    this.opened = { at: this.clock.now(), wallAt: this.clock.wallNow() };
  }

  /** Rotates opossum's buckets for the time that has passed on the clock since they last rotated. */
  private rotate(): void {
    const due = Math.floor((this.clock.now() - this.rotatedAt) / this.bucketMs);
    if (due <= 0) return;
    for (let i = 0; i < Math.min(due, BUCKETS); i += 1) this.rotation.emit('rotate');
    this.rotatedAt += due * this.bucketMs;
  }

  /** `closed`, `open` for `openMs` after it opened, `halfOpen` once a probe may go (or is in flight). */
  private state(): BreakerState {
    if (this.opened === undefined || !this.breaker.opened) return 'closed';
    return this.probing || this.clock.now() - this.opened.at >= this.policy.openMs ? 'halfOpen' : 'open';
  }

  report(): BreakerReport {
    const state = this.state();
    if (state === 'closed' || this.opened === undefined) return { state };
    const openedAt = new Date(this.opened.wallAt).toISOString();
    return state === 'open' ? { state, openedAt, probeAt: new Date(this.opened.wallAt + this.policy.openMs).toISOString() } : { state, openedAt };
  }

  private refusal(): BreakerOpenError {
    const probeAt = this.state() === 'open' && this.opened ? this.opened.wallAt + this.policy.openMs : undefined;
    return new BreakerOpenError(this.source, probeAt, this.clock.wallNow());
  }

  /**
   * The probe of a half-open breaker: the one attempt let through, outside opossum (which refuses
   * everything while open). Its success closes the breaker; its failure opens it for another
   * `openMs`, from now.
   */
  private probe(dispatch: Dispatcher.Dispatch, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.probing = true;
    return dispatch(
      opts,
      new OutcomeHandler(handler, (failure) => {
        this.probing = false;
        if (failure) this.markOpened();
        else this.breaker.close();
      }),
    );
  }

  interceptor(): Dispatcher.DispatcherComposeInterceptor {
    return (dispatch) => (opts, handler) => {
      this.rotate();
      const state = this.breaker.isShutdown ? 'open' : this.state();
      // Refused here rather than by opossum, so that refusals do not count as attempts in its window.
      if (state === 'open' || (state === 'halfOpen' && this.probing)) {
        refuse(handler, this.refusal());
        return true;
      }
      if (state === 'halfOpen') return this.probe(dispatch, opts, handler);
      const attempt = () =>
        new Promise<void>((resolve, reject) => {
          dispatch(opts, new OutcomeHandler(handler, (failure) => (failure ? reject(failure) : resolve())));
        });
      this.breaker.fire(attempt).catch((error: unknown) => {
        // A failed attempt has reached the handler already; only opossum's own refusal has not.
        if (!(error instanceof AttemptFailure)) refuse(handler, this.refusal());
      });
      return true;
    };
  }

  /** Stops opossum's timers. */
  close(): void {
    this.breaker.shutdown();
  }
}
