/**
 * A circuit breaker per source, on opossum: closed, open, half-open.
 *
 * It sees every attempt (it sits inside the retry policy). It opens when, within `windowMs`, at
 * least `minimumAttempts` attempts were made and more than `failureRatio` of them failed. While it
 * is open, attempts are refused at once with a `BreakerOpenError` and never reach the rate limit,
 * the credentials or the source. After `openMs` opossum lets exactly one probe through: its outcome
 * closes the breaker or opens it for another `openMs`; other attempts meanwhile are refused.
 *
 * A failure is what says the source is unwell: a 5xx, a connection refused or broken, a timeout,
 * a token endpoint that cannot be reached. A 4xx or a 429 is an answer (the source is up and
 * deciding), and so is anything refused by a policy below the breaker.
 */
import CircuitBreaker from 'opossum';
import type { Dispatcher } from 'undici';
import type { BreakerPolicy } from '../../config/definition';
import { BreakerOpenError, TokenRequestError } from '../errors';
import { failureKind, isFailureStatus } from '../failures';
import { ForwardingHandler, refuse, type Headers } from './forwarding-handler';

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
  private openedAt: number | undefined;

  constructor(
    readonly source: string,
    private readonly policy: BreakerPolicy,
  ) {
    this.breaker = new CircuitBreaker((attempt: () => Promise<void>) => attempt(), {
      name: source,
      timeout: false, // the attempt policy bounds every attempt
      resetTimeout: policy.openMs,
      rollingCountTimeout: policy.windowMs,
      rollingCountBuckets: 10,
      volumeThreshold: policy.minimumAttempts,
      errorThresholdPercentage: policy.failureRatio * 100,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.breaker.on('open', () => {
      this.openedAt = Date.now();
    });
    this.breaker.on('close', () => {
      this.openedAt = undefined;
    });
  }

  report(): BreakerReport {
    const state: BreakerState = this.breaker.opened ? 'open' : this.breaker.halfOpen ? 'halfOpen' : 'closed';
    if (state === 'closed' || this.openedAt === undefined) return { state };
    const openedAt = new Date(this.openedAt).toISOString();
    return state === 'open' ? { state, openedAt, probeAt: new Date(this.openedAt + this.policy.openMs).toISOString() } : { state, openedAt };
  }

  /** Whether an attempt now would be refused: open, or half-open with its probe in flight. */
  private refusing(): boolean {
    return this.breaker.opened || (this.breaker.halfOpen && !this.breaker.pendingClose) || this.breaker.isShutdown;
  }

  private refusal(): BreakerOpenError {
    return new BreakerOpenError(this.source, this.breaker.opened && this.openedAt !== undefined ? this.openedAt + this.policy.openMs : undefined);
  }

  interceptor(): Dispatcher.DispatcherComposeInterceptor {
    return (dispatch) => (opts, handler) => {
      // Refused here rather than by opossum, so that refusals do not count as attempts in its window.
      if (this.refusing()) {
        refuse(handler, this.refusal());
        return true;
      }
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
