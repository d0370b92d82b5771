/**
 * A source's limits and resilience policies: timeouts, concurrency, the size of an answer, retries,
 * the circuit breaker and the rate limit. Every duration and size has an upper bound, so that a
 * definition (a registered one above all) cannot hold connections, callers or memory without end:
 * `timeoutMs: 2147483647` is refused, not a call that waits 24 days.
 */
import { z } from 'zod';

/** Longest single attempt at a source, in milliseconds: 2 minutes. */
export const MAX_TIMEOUT_MS = 120_000;
/** Longest wait for a connection to a source, in milliseconds. */
export const MAX_CONNECT_TIMEOUT_MS = 60_000;
/** Longest wait between two attempts, or that a Retry-After or the rate limit may hold a call, in milliseconds: 2 minutes. */
export const MAX_WAIT_MS = 120_000;
/** Longest window or open period of the retry budget and the breaker, in milliseconds: 1 hour. */
export const MAX_WINDOW_MS = 3_600_000;
/** Default bound of one answer of a source, in bytes: 16 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Largest bound of one answer that may be declared: 256 MiB (the answer is read whole, and V8 strings stop at 512 MiB). */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/**
 * Retries of idempotent reads (GET) after transient failures only: 429, 502, 503 and 504 answers,
 * connections refused or broken before an answer, and timeouts. Never after 400, 401, 403 or 404.
 */
export const retryPolicyDefinition = z
  .strictObject({
    /** Most attempts per call, the first one included: 1 means no retry. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** Backoff before retry n is a random delay in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))], in milliseconds ("full jitter"). */
    baseDelayMs: z.number().int().min(0).max(MAX_WAIT_MS).default(100),
    /** Longest backoff between two attempts, in milliseconds. */
    maxDelayMs: z.number().int().min(0).max(MAX_WAIT_MS).default(2_000),
    /**
     * A `Retry-After` up to this long is waited out before the retry, in milliseconds; a source
     * asking for a longer wait fails the call at once (SOURCE_RATE_LIMITED or SOURCE_UNAVAILABLE).
     */
    maxRetryAfterMs: z.number().int().min(0).max(MAX_WAIT_MS).default(5_000),
    /**
     * Retries of all calls to the source together stay within `ratio` of its calls over the last
     * `windowMs` plus `minPerSecond`, so that in an outage retries add at most that much load.
     */
    budget: z
      .strictObject({
        /** Retries per call, e.g. 0.2: at most one retry for every five calls. */
        ratio: z.number().min(0).max(10).default(0.2),
        /** Retries per second always allowed, so that a quiet source still gets its retries. */
        minPerSecond: z.number().min(0).max(100_000).default(5),
        /** The sliding window, in milliseconds. */
        windowMs: z.number().int().min(100).max(MAX_WINDOW_MS).default(10_000),
      })
      .prefault({}),
  })
  .refine((retry) => retry.maxDelayMs >= retry.baseDelayMs, { message: 'maxDelayMs must be at least baseDelayMs', path: ['maxDelayMs'] });
export type RetryPolicy = z.infer<typeof retryPolicyDefinition>;

/**
 * A circuit breaker per source (closed, open, half-open). It opens when, within the last
 * `windowMs`, at least `minimumAttempts` attempts were made and more than `failureRatio` of them
 * failed (a 5xx, a connection refused or broken, a timeout; a 4xx or 429 is not a failure of the
 * source): with the defaults, 5 attempts in 10 s of which more than half failed open it for 30 s.
 * While open, calls fail at once with SOURCE_UNAVAILABLE and never reach the source; after `openMs`
 * one probe call goes through, and its outcome closes the breaker or opens it again.
 *
 * A ratio rather than a count, so that a busy source with a few failures among many successes stays
 * in use; a short window, so that the successes before an outage do not hold the breaker closed
 * long into it.
 */
export const breakerPolicyDefinition = z.strictObject({
  /** The sliding window attempts are counted over, in milliseconds. */
  windowMs: z.number().int().min(1_000).max(MAX_WINDOW_MS).default(10_000),
  /** Fewest attempts in the window before the breaker may open. */
  minimumAttempts: z.number().int().min(1).max(100_000).default(5),
  /** Share of failed attempts in the window above which it opens, from 0 to 1. */
  failureRatio: z.number().gt(0).lt(1).default(0.5),
  /** How long it stays open before one probe call, in milliseconds. */
  openMs: z.number().int().min(1).max(MAX_WINDOW_MS).default(30_000),
});
export type BreakerPolicy = z.infer<typeof breakerPolicyDefinition>;

/**
 * The quota a source reports left on every answer, read so that calls pause before the source's
 * own bucket is empty: once at most `reserve` calls remain, further calls wait until room frees
 * (on the gateway's clock, within `maxQueueWaitMs`; a longer wait fails the call with
 * SOURCE_RATE_LIMITED naming the header). An unreadable value is ignored and counted, never fatal.
 *
 * One header says what is left, in one of two forms, and exactly one of `leakPerSecond`,
 * `resetHeader` or `intervalHeader` says when room frees:
 * - Shopify: `{ "header": "X-Shopify-Shop-Api-Call-Limit", "form": "used/size", "leakPerSecond": 2 }`
 * - HubSpot: `{ "header": "X-HubSpot-RateLimit-Remaining", "intervalHeader": "X-HubSpot-RateLimit-Interval-Milliseconds" }`
 * - Zendesk (IETF RateLimit): `{ "header": "ratelimit-remaining", "resetHeader": "ratelimit-reset" }`
 */
export const remainingHeaderDefinition = z
  .strictObject({
    /** The answer header carrying what is left of the quota, e.g. `X-HubSpot-RateLimit-Remaining` (any case). */
    header: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name').max(100),
    /** `remaining`: a count of calls left (`37`); `used/size`: calls used of the bucket's size (Shopify's `32/40`). */
    form: z.enum(['remaining', 'used/size']).default('remaining'),
    /** Calls kept in hand: calls pause once at most this many remain, leaving room for other clients of the same quota. */
    reserve: z.number().int().min(0).max(100_000).default(1),
    /** A leaky bucket: calls freed per second (Shopify: 2 on standard plans). */
    leakPerSecond: z.number().positive().max(100_000).optional(),
    /** A header giving the seconds until the quota resets whole (IETF `ratelimit-reset`). */
    resetHeader: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name').max(100).optional(),
    /** A header giving the quota's window in milliseconds (HubSpot): a call waits one whole window from the answer that left the reserve. */
    intervalHeader: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'an HTTP header name').max(100).optional(),
  })
  .refine((quota) => [quota.leakPerSecond, quota.resetHeader, quota.intervalHeader].filter((v) => v !== undefined).length === 1, {
    message: 'declare exactly one of leakPerSecond (a leaky bucket), resetHeader (seconds until reset) or intervalHeader (a window in milliseconds): it says when room frees',
  });
export type RemainingHeader = z.infer<typeof remainingHeaderDefinition>;

/**
 * A client-side token bucket per source, set below the source's own limit, so that bursts queue
 * briefly in the gateway instead of collecting 429s. Every attempt takes a token, retries included.
 * A 429 with `Retry-After` also holds back every call to the source until then, and a declared
 * `remainingHeader` pauses calls before the source's own quota runs out.
 */
export const rateLimitPolicyDefinition = z.strictObject({
  /** Sustained rate, in requests per second. */
  perSecond: z.number().positive().max(100_000),
  /** Requests allowed at once after a quiet spell (the bucket size); defaults to perSecond, at least 1. */
  burst: z.number().int().min(1).max(100_000).optional(),
  /** Longest a call may queue for its turn, in milliseconds; one that would wait longer fails at once with SOURCE_RATE_LIMITED. */
  maxQueueWaitMs: z.number().int().min(0).max(MAX_WAIT_MS).default(1_000),
  /** The quota left as the source reports it on each answer; calls pause before it runs out. */
  remainingHeader: remainingHeaderDefinition.optional(),
});
export type RateLimitPolicy = z.infer<typeof rateLimitPolicyDefinition>;

/**
 * How hard the gateway may press a source, and how it copes when the source struggles. Each
 * option has a default that suits most APIs; `false` turns retries or the breaker off.
 */
export const limitsDefinition = z.strictObject({
  /**
   * Per attempt, from the moment the request goes out on a connection to the last byte of the
   * answer, in milliseconds (time spent waiting for a free connection is not counted).
   */
  timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).default(10_000),
  /** Per attempt, to establish a connection, in milliseconds. */
  connectTimeoutMs: z.number().int().min(1).max(MAX_CONNECT_TIMEOUT_MS).default(5_000),
  /**
   * Most bytes of one answer (its body, as sent). Counted while the body arrives: a longer answer
   * fails the call with SOURCE_BAD_RESPONSE, the rest is not read and the connection is closed,
   * so that a source cannot fill the gateway's memory.
   */
  maxResponseBytes: z.number().int().min(1_024).max(MAX_RESPONSE_BYTES).default(DEFAULT_MAX_RESPONSE_BYTES),
  /** Most connections (so calls in flight) to the source at once; further calls wait for one. */
  maxConcurrency: z.number().int().min(1).max(1_000).default(16),
  /**
   * At most this many calls to the source for one GraphQL request, as the guard predicts them
   * before execution (after batching); a request predicted above it is refused before any call.
   * Absent: no per-request cap (the cost limit still applies).
   */
  maxCallsPerRequest: z.number().int().min(1).max(100_000).optional(),
  retry: z.union([z.literal(false), retryPolicyDefinition]).prefault({}),
  breaker: z.union([z.literal(false), breakerPolicyDefinition]).prefault({}),
  /** No client-side rate limit unless declared: declare it below the source's published limit. */
  rateLimit: rateLimitPolicyDefinition.optional(),
});
export type Limits = z.infer<typeof limitsDefinition>;
export type LimitsInput = z.input<typeof limitsDefinition>;
