/** Caching: the cache policy a source or entity declares, and the config's cache tiers and webhooks. */
import { z } from 'zod';
import { stringOrEnv } from './env-ref';

/** Longest a cached answer is kept fresh, or stale on top of that, in milliseconds: 1 day. */
export const MAX_CACHE_MS = 86_400_000;

/**
 * How long the upstream-call cache keeps what a source answered: fresh for `ttlMs`, then served
 * stale for up to `staleWhileRevalidateMs` more while one refresh runs in the background. When the
 * source fails (down, timing out, breaker open), a value up to `staleIfErrorMs` past its freshness
 * is served instead of the error, and the answer says so (`extensions.stale`).
 * `ttlMs: 0` turns the cache off for the source or entity.
 */
export const cachePolicyDefinition = z.strictObject({
  ttlMs: z.number().int().min(0).max(MAX_CACHE_MS).optional(),
  staleWhileRevalidateMs: z.number().int().min(0).max(MAX_CACHE_MS).optional(),
  staleIfErrorMs: z.number().int().min(0).max(MAX_CACHE_MS).optional(),
});
export type CachePolicy = z.infer<typeof cachePolicyDefinition>;

/**
 * The cache tiers. `upstream`: records per (source, entity, lookup field, key), across requests,
 * bounded in bytes. `responses`: whole answers of operations that are asked often (admitted once
 * asked `admitAfter` times within `windowMs`), keyed by operation, variables and the caller's scope.
 */
export const cacheDefinition = z.strictObject({
  upstream: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Bound of the tier's memory, in bytes (approximate: the JSON size of the records). */
      maxBytes: z.number().int().positive().default(64 * 1024 * 1024),
      /** Default policy; sources and entities override it. */
      ttlMs: z.number().int().min(0).max(MAX_CACHE_MS).default(30_000),
      staleWhileRevalidateMs: z.number().int().min(0).max(MAX_CACHE_MS).default(30_000),
      staleIfErrorMs: z.number().int().min(0).max(MAX_CACHE_MS).default(300_000),
    })
    .prefault({}),
  responses: z
    .strictObject({
      enabled: z.boolean().default(true),
      maxBytes: z.number().int().positive().default(32 * 1024 * 1024),
      ttlMs: z.number().int().positive().default(10_000),
      /** A combination is cached from the `admitAfter`-th time it is asked within `windowMs`. */
      admitAfter: z.number().int().min(1).default(2),
      windowMs: z.number().int().positive().default(60_000),
    })
    .prefault({}),
  /**
   * The tier several replicas share, behind each one's local memory: none (`memory`, the default)
   * or Redis, which also carries invalidations to every replica (pub/sub).
   */
  shared: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('memory') }),
      z.strictObject({
        kind: z.literal('redis'),
        url: stringOrEnv,
        keyPrefix: z.string().default('virtualize:cache:'),
        /** A shared-tier read that takes longer counts as a miss. */
        timeoutMs: z.number().int().min(1).default(250),
      }),
    ])
    .default({ kind: 'memory' }),
  /**
   * Change notifications from sources: `POST /webhooks/<source>`, signed with HMAC-SHA256 of the
   * raw body (hex, optionally prefixed `sha256=`) in `signatureHeader`, with the source's secret.
   * A source without a secret here has no webhook.
   */
  webhooks: z
    .strictObject({
      signatureHeader: z.string().default('x-virtualize-signature'),
      /** How far an event's `occurredAt` may lie from now, in milliseconds. */
      toleranceMs: z.number().int().positive().default(300_000),
      /**
       * Per source: the shared secret, by environment reference. Outside sandbox mode the variable
       * must be set, to something else than the reference's default (the sandbox's published value).
       */
      secrets: z.record(z.string(), stringOrEnv).default({}),
      /**
       * Events about the same record (source, entity, field, key) within this long share one
       * identity resolution, the few upstream calls that follow a change through the mappings.
       */
      coalesceMs: z.number().int().min(0).max(60_000).default(1_000),
      /**
       * Per source, identity resolutions that may start per second, and at once (`burst`). An event
       * beyond it is applied to what is known without calling a source and answered 429 with
       * `Retry-After`, so that its sender delivers it again for the whole resolution.
       */
      resolveRate: z
        .strictObject({
          perSecond: z.number().positive().max(10_000).default(5),
          burst: z.number().int().positive().max(10_000).default(20),
        })
        .prefault({}),
    })
    .prefault({}),
});
export type CacheDefinition = z.infer<typeof cacheDefinition>;
