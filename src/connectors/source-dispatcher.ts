/**
 * The dispatcher of one source: one undici Pool with the source's policies composed around it as
 * undici interceptors, one small file each in `policies/`, always in this order (outermost first):
 *
 *   1. renew on 401  OAuth sources only: a 401 renews the token once and repeats the call through
 *                    every layer below.
 *   2. retry         transient failures of idempotent reads: bounded attempts, backoff with jitter,
 *                    Retry-After honoured, within the source's retry budget. Outside the breaker
 *                    and the rate limit, so that each retry is judged by them afresh.
 *   3. breaker       per attempt; while open, an attempt fails at once and goes no further (it
 *                    neither queues for a token nor fetches credentials nor reaches the source).
 *   4. rate limit    per attempt, retries included: a token from the source's bucket, a bounded
 *                    wait, and the source's own Retry-After held for every call.
 *   5. credentials   per attempt: the current API key or token (fetched only for an attempt that
 *                    the breaker and the rate limit let through).
 *   6. attempt       counts the attempt and bounds it by `timeoutMs`.
 *   7. pool          at most `maxConcurrency` connections, `connectTimeoutMs` to open one; a queued
 *                    request keeps its caller's async context (caller-context-pool.ts). An answer
 *                    longer than `maxResponseBytes` is cut off as it arrives (undici's
 *                    `maxResponseSize`: the socket is closed, the rest never read). A registered
 *                    source connects through its egress guard (egress-guard.ts), which checks the
 *                    addresses actually connected to; so does its token endpoint.
 *
 * A policy that is off (`retry: false`, `breaker: false`, no `rateLimit`, `auth: none`) is simply
 * left out of the list. Every policy reads time from the source's clock (the retry's backoff, the
 * breaker's window and open period, the bucket's waits, a token's lifetime): the time the gateway
 * decides on. The attempt's timeout and the pool's header and body timeouts bound real I/O and stay
 * on the process's timers: a source that does not answer is cut whatever a test's clock says.
 */
import type { Dispatcher } from 'undici';
import type { SourceDefinition } from '../config/definition';
import { systemClock, type TimerClock } from '../time/clock';
import { CallerContextPool } from './caller-context-pool';
import type { EgressGuard } from './egress-guard';
import { attempt } from './policies/attempt';
import { SourceBreaker } from './policies/circuit-breaker';
import { authenticate, credentialsFor, renewOnUnauthorized } from './policies/credentials';
import { SourceRateLimiter } from './policies/rate-limit';
import { retry } from './policies/retry';
import { RetryBudget } from './policies/retry-budget';

export interface SourceDispatcher {
  readonly dispatcher: Dispatcher;
  /** Absent when the source declares `breaker: false`. */
  readonly breaker: SourceBreaker | undefined;
  close(): Promise<void>;
}

export function createSourceDispatcher(
  source: string,
  definition: SourceDefinition,
  origin: string,
  env: NodeJS.ProcessEnv,
  clock: TimerClock = systemClock,
  /** Present for a registered source: every connection it opens passes the egress policy. */
  egress?: EgressGuard,
): SourceDispatcher {
  const { limits } = definition;
  // Queued requests keep their caller's async context (and so their trace): see caller-context-pool.ts.
  const pool = new CallerContextPool(origin, {
    connections: limits.maxConcurrency,
    connect: egress ? egress.connector(limits.connectTimeoutMs) : { timeout: limits.connectTimeoutMs },
    maxResponseSize: limits.maxResponseBytes,
    // Backstops; the attempt policy bounds the whole attempt.
    headersTimeout: limits.timeoutMs,
    bodyTimeout: limits.timeoutMs,
  });
  const credentials = credentialsFor(source, definition.auth, { origin, env, timeoutMs: limits.timeoutMs, connectTimeoutMs: limits.connectTimeoutMs, clock, ...(egress ? { egress } : {}) });
  const breaker = limits.breaker ? new SourceBreaker(source, limits.breaker, clock) : undefined;

  const outermostFirst: Array<Dispatcher.DispatcherComposeInterceptor | undefined> = [
    credentials?.renew ? renewOnUnauthorized((version) => credentials.renew?.(version)) : undefined,
    limits.retry ? retry(limits.retry, new RetryBudget(limits.retry.budget, () => clock.now()), Math.random, clock) : undefined,
    breaker?.interceptor(),
    limits.rateLimit ? new SourceRateLimiter(source, limits.rateLimit, clock).interceptor() : undefined,
    credentials ? authenticate(credentials) : undefined,
    // The attempt's timeout races the network, not the gateway's own decisions: process timers.
    attempt({ timeoutMs: limits.timeoutMs }),
  ];
  // undici's compose wraps the pool with the first interceptor first: innermost first.
  const interceptors = outermostFirst.filter((layer) => layer !== undefined).reverse();
  return {
    dispatcher: pool.compose(interceptors),
    breaker,
    close: async () => {
      breaker?.close();
      await Promise.all([pool.close(), credentials?.close()]);
    },
  };
}
