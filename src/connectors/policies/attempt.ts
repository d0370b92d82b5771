/**
 * The innermost policy: one attempt at the source.
 *
 * - It counts the attempt in the call's record (undici's `opaque`), so that telemetry and explain
 *   can say how many times a call reached for the source.
 * - It bounds the attempt by the source's `timeoutMs`, from the moment the request goes out on a
 *   connection (time spent waiting for a free connection of the pool is not counted) to the last
 *   byte of the answer. undici's own `headersTimeout` and `bodyTimeout` stop a silent source; this
 *   also stops one that trickles its body forever.
 * - A failure after the answer began to arrive is handed on as an `InterruptedAnswerError`, which
 *   the retry policy does not repeat (see errors.ts).
 */
import type { Dispatcher } from 'undici';
import { systemClock, type TimerClock } from '../../time/clock';
import { AttemptTimeoutError, InterruptedAnswerError } from '../errors';
import { currentUpstreamRequest, withUpstreamRequest } from '../upstream-request';
import { ForwardingHandler, refuse, type Headers } from './forwarding-handler';

/** What one call (all its attempts) has done so far; travels with the request as undici's `opaque`. */
export interface CallRecord {
  /** Attempts handed to the connection pool; 0 when a policy refused the call before any went out. */
  attempts: number;
  /** Why the retry policy stopped retrying, when it did. */
  retryStopped?: string;
  /** Which version of the source's credentials the latest attempt carried (never the secret itself). */
  credentialsVersion?: number;
}

export function newCallRecord(): CallRecord {
  return { attempts: 0 };
}

/** The call record of a request, when its `opaque` is one. */
export function callRecordOf(opts: Dispatcher.DispatchOptions): CallRecord | undefined {
  const opaque: unknown = (opts as { opaque?: unknown }).opaque;
  return typeof opaque === 'object' && opaque !== null && 'attempts' in opaque ? (opaque as CallRecord) : undefined;
}

type Phase = 'sent' | 'answering' | 'done';

class AttemptHandler extends ForwardingHandler {
  private cancelTimer: (() => void) | undefined;
  private phase: Phase = 'sent';

  constructor(
    handler: Dispatcher.DispatchHandler,
    private readonly timeoutMs: number,
    private readonly clock: TimerClock,
  ) {
    super(handler);
  }

  override onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.cancelTimer = this.clock.setTimer(this.timeoutMs, () => controller.abort(new AttemptTimeoutError(this.timeoutMs)));
    super.onRequestStart(controller, context);
  }

  override onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Headers, statusMessage?: string): void {
    this.phase = 'answering';
    super.onResponseStart(controller, statusCode, headers, statusMessage);
  }

  override onResponseEnd(controller: Dispatcher.DispatchController, trailers: Headers): void {
    this.finish();
    super.onResponseEnd(controller, trailers);
  }

  override onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    // After the end, an error comes from a layer above (undici's retry handler rejects a retryable
    // status by throwing from its end callback): it passes through unchanged.
    const interrupted = this.phase === 'answering';
    this.finish();
    const handedOn = interrupted ? new InterruptedAnswerError(error) : error;
    // Our own timeout aborted the controller; undici's retry handler would read that as the caller
    // giving up and never retry. The attempt failed, the call has not: hand on no controller.
    if (error instanceof AttemptTimeoutError) refuse(this.handler, handedOn);
    else super.onResponseError(controller, handedOn);
  }

  private finish(): void {
    this.cancelTimer?.();
    this.phase = 'done';
  }
}

/**
 * `clock` times the attempt: the process's timers by default, since the timeout races real I/O (a
 * test of this policy alone may move a manual clock instead).
 */
export function attempt(options: { timeoutMs: number; clock?: TimerClock }): Dispatcher.DispatcherComposeInterceptor {
  const { timeoutMs, clock = systemClock } = options;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new RangeError(`attempt: timeoutMs must be a positive integer of milliseconds, got ${String(timeoutMs)}`);
  return (dispatch) => (opts, handler) => {
    const record = callRecordOf(opts);
    if (record) record.attempts += 1;
    const send = () => dispatch(opts, new AttemptHandler(handler, timeoutMs, clock));
    // Telemetry reads the attempt number from the context the request is created in.
    const upstream = currentUpstreamRequest();
    return upstream && record ? withUpstreamRequest({ ...upstream, attempt: record.attempts }, send) : send();
  };
}
