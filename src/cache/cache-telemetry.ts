import type { Logger } from '../telemetry/logger';

/** The tiers that count their lookups: local upstream-call memory, the shared tier (Redis), hot answers. */
export type CacheTier = 'upstream' | 'shared' | 'response';

/** `stale_if_error`: a miss whose source failed, answered with the value kept past its freshness. */
export type CacheResult = 'hit' | 'miss' | 'stale' | 'stale_if_error';

/**
 * What the cache tiers tell telemetry, given to them when they are built: every key looked up
 * (`virtualize_cache_requests_total{tier,result}`) and every operation of a tier that failed
 * (`virtualize_cache_tier_errors_total{tier}`).
 */
export interface CacheMetrics {
  count(tier: CacheTier, result: CacheResult, n?: number): void;
  tierFailed(tier: CacheTier, error: unknown): void;
}

/** Counts nothing: a cache built without telemetry (unit tests, one-off commands). */
export const NO_CACHE_METRICS: CacheMetrics = { count: () => undefined, tierFailed: () => undefined };

/** How a tier reports on itself: an operation that failed, a connection lost, the tier answering again. */
export interface TierHealth {
  /** An operation failed (a read answered as a miss, a write or an invalidation dropped): counted. */
  failed(error: unknown): void;
  /** The connection to the tier was lost (its client reconnects by itself): not an operation, not counted. */
  lost(error: unknown): void;
  /** The tier answered. */
  answered(): void;
}

/**
 * A tier's health as the operator sees it: every failed operation counted, and one warning per
 * outage (the first failure), then nothing until the tier answers again, which is logged as its
 * recovery. A tier that fails on every request would otherwise fill the log, or, with the
 * failures swallowed, serve every request from the sources without anyone knowing.
 */
export class TierOutage implements TierHealth {
  private down = false;

  constructor(
    private readonly tier: CacheTier,
    private readonly metrics: CacheMetrics,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
  ) {}

  failed(error: unknown): void {
    this.metrics.tierFailed(this.tier, error);
    this.lost(error);
  }

  lost(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn({ tier: this.tier, reason: error instanceof Error ? error.message : String(error) }, 'cache tier failed; its lookups are misses until it answers again');
  }

  answered(): void {
    if (!this.down) return;
    this.down = false;
    this.logger.info({ tier: this.tier }, 'cache tier recovered');
  }

  /** Whether the tier is in an outage (failed, and has not answered since). */
  get failing(): boolean {
    return this.down;
  }
}
