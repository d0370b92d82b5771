import type { Logger } from '../telemetry/logger';

/**
 * The cache tiers: local upstream-call memory, the shared tier (Redis), hot answers, and the shared
 * tier's pub/sub subscription, which looks nothing up but fails on its own (its connection is not
 * the one commands use) and then loses the invalidations other replicas publish.
 */
export type CacheTier = 'upstream' | 'shared' | 'response' | 'shared_pubsub';

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
  /** Whether the tier is in an outage (failed, and has not answered since). */
  readonly failing: boolean;
}

/** What is lost while the shared tier's command connection is down. */
export const SHARED_LOOKUPS_LOST = 'its lookups are misses';
/** What is lost while the shared tier's subscriber is down, though its commands may still work. */
export const INVALIDATIONS_LOST = 'invalidations from other replicas do not reach this replica';

/**
 * A tier's health as the operator sees it: every failed operation counted, and one warning per
 * outage (the first failure), then nothing until the tier answers again, which is logged as its
 * recovery. One outage per connection: each connection of a tier has its own, so that one
 * connection answering never ends the other's outage (nor its errors start a new one). A tier that fails on every request would otherwise fill the log, or, with the
 * failures swallowed, serve every request from the sources without anyone knowing.
 */
export class TierOutage implements TierHealth {
  private down = false;

  constructor(
    private readonly tier: CacheTier,
    private readonly metrics: CacheMetrics,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    /** What the operator loses meanwhile, said in the warning. */
    private readonly meanwhile: string = SHARED_LOOKUPS_LOST,
  ) {}

  failed(error: unknown): void {
    this.metrics.tierFailed(this.tier, error);
    this.lost(error);
  }

  lost(error: unknown): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn({ tier: this.tier, reason: error instanceof Error ? error.message : String(error) }, `cache tier failed; ${this.meanwhile} until it answers again`);
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
