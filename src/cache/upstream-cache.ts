import { LRUCache } from 'lru-cache';
import type { CacheDefinition } from '../config/definition';
import { resolveEnv } from '../config/env';
import { callerPartition, type CallerCredential } from '../connectors/caller-credential';
import type { CallObserver } from '../connectors/upstream-call';
import type { CanonicalRecord } from '../connectors/record-mapper';
import type { SourceConnector } from '../connectors/source-connector';
import type { KeyNormalization } from '../connectors/transforms';
import { defaultLogger, type Logger } from '../telemetry/logger';
import { systemClock, type Clock } from '../time/clock';
import { fingerprintOf, resolvePolicy, type ResolvedPolicy } from './cache-policy';
import { INVALIDATIONS_LOST, NO_CACHE_METRICS, TierOutage, type CacheMetrics } from './cache-telemetry';
import { RedisSharedTier, type SharedEntry, type SharedTier } from './shared-tier';
import { TagIndex } from './tag-index';
import { answerOf, FillRejections, reportRejected, sizeOf, tagsOf, type Entry } from './upstream-entry';
import type { RejectionSink } from '../connectors/record-rejections';

/**
 * The extension of an answer that shows values kept past their freshness because their source
 * failed: `extensions.stale`, one entry per source and lookup (`StaleServed`).
 */
export const STALE_EXTENSION = 'stale';

/** What the upstream-call cache is given when it is built. */
export interface UpstreamCacheDeps {
  /** The environment `cache.shared.url` is resolved from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Where freshness and ages are read; default the process's clocks. */
  clock?: Clock;
  /** Lookups per tier and result, and the shared tier's failures; default none counted. */
  metrics?: CacheMetrics;
  /** Where an outage of the shared tier is reported (once) and its recovery; default the application log. */
  logger?: Logger;
}

type FetchOptions = LRUCache.FetcherFetchOptions<string, Entry, Batch>;

interface Waiter {
  value: string;
  /** The options of the fetch this waiter resolves: its `ttl` is the entry's freshness, set when the records arrive. */
  options: FetchOptions;
  resolve: (entry: Entry) => void;
  reject: (error: unknown) => void;
}

/** The keys one lookup found missing or stale, fetched together in one `SourceConnector.lookup` call. */
interface Batch {
  waiters: Waiter[];
  policy: ResolvedPolicy;
  prefix: string;
  /** Whom the calls are for (a source that forwards its caller is called with their token). */
  caller: CallerCredential | undefined;
}

/** Per key of a lookup that the cache could not answer fresh: what it waits for, and the stale value it may serve. */
interface Pending {
  index: number;
  fetched: Promise<Entry | undefined>;
  stale: Entry | undefined;
  /** The stale value was served at once (stale-while-revalidate); the fetch refreshes it in the background. */
  servedStale: boolean;
}

const SEP = '\u0000';

/**
 * Upstream-call cache across requests: records per (source, definition fingerprint, entity,
 * lookup field, key normalization, key value), and per caller for a source that forwards its
 * caller's token (it may answer each caller differently), bounded in bytes, tag index included. Sits under
 * the per-request loaders: of the keys a loader batch asks for, fresh ones skip the source, and
 * the others still go out together in one batched lookup.
 *
 * lru-cache carries the mechanics: an entry's `ttl` is its freshness (the declared TTL, shortened
 * by the source's Cache-Control), read on the injected clock (`perf`); its `fetchMethod` shares
 * one call among identical keys asked concurrently; `allowStale` serves a value past its
 * freshness at once while one background refresh runs (within `staleWhileRevalidateMs`);
 * `allowStaleOnFetchRejection` answers with it when the source fails (within `staleIfErrorMs`),
 * and a failed refresh keeps it (`noDeleteOnFetchRejection`). Its `status` says what each key
 * was (hit, stale, miss, in flight), which is what is counted and shown to explain. Failures
 * are never stored. When every key asked is fresh, the answer is made without waiting on anything.
 */
export class UpstreamCache {
  private readonly lru: LRUCache<string, Entry, Batch>;
  private readonly tags = new TagIndex();
  /** Per connector (a generation's: its crosswalks may give an entity its freshness), per entity. */
  private readonly policies = new WeakMap<SourceConnector, Map<string, ResolvedPolicy>>();
  private readonly clock: Clock;
  private readonly metrics: CacheMetrics;
  /** The tier shared by replicas (Redis), asked before the source; none by default. */
  readonly shared: SharedTier | undefined;
  /** Fills and background refreshes not yet stored: what `idle` and `close` wait for. */
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly config: CacheDefinition['upstream'],
    deps: Pick<UpstreamCacheDeps, 'clock' | 'metrics'> & {
      /** The tier shared by replicas (Redis), asked before the source. */
      shared?: SharedTier;
    } = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.metrics = deps.metrics ?? NO_CACHE_METRICS;
    this.shared = deps.shared;
    this.lru = new LRUCache<string, Entry, Batch>({
      maxSize: config.maxBytes,
      sizeCalculation: sizeOf,
      perf: this.clock,
      // Read the clock at every check: lru-cache's default caches it for 1 ms behind a timer.
      ttlResolution: 0,
      // A value past its freshness stays for the stale windows; each lookup decides whether to serve it.
      noDeleteOnStaleGet: true,
      noDeleteOnFetchRejection: true,
      // Dropping a key whose refresh is in flight (an invalidation) still answers the lookups that
      // wait for it; the answer is not stored.
      ignoreFetchAbort: true,
      fetchMethod: (key, _stale, { options, context, signal }) =>
        new Promise<Entry>((resolve, reject) => {
          context.waiters.push({ value: key.slice(key.lastIndexOf(SEP) + 1), options, resolve, reject });
          // An entry evicted or dropped while refreshing is disposed of without its stale value: unindex it.
          signal.addEventListener('abort', () => queueMicrotask(() => this.lru.peek(key, { allowStale: true }) === undefined && this.tags.delete(key)), { once: true });
        }),
      onInsert: (entry, key) => {
        this.tags.set(key, entry.tags);
        // no-store: dropped once lru-cache has finished storing it, before any lookup waiting for it resumes
        // (they hold the records already), background refreshes included.
        if (entry.noStore) queueMicrotask(() => this.lru.peek(key, { allowStale: true }) === entry && this.lru.delete(key));
      },
      dispose: (_entry, key) => this.tags.delete(key),
    });
  }

  /** Bytes held now (as counted against `maxBytes`, the tag index included). */
  get bytes(): number {
    return this.lru.calculatedSize;
  }

  get size(): number {
    return this.lru.size;
  }

  /**
   * The cache of `cache.upstream`, with the shared tier `cache.shared` names (Redis) behind it.
   * One cache serves every schema generation of a gateway: keys carry the source definition's
   * fingerprint, so a generation never reads another definition's records.
   */
  static async open(config: CacheDefinition, deps: UpstreamCacheDeps = {}): Promise<UpstreamCache> {
    const shared = config.shared;
    if (shared.kind !== 'redis' || !config.upstream.enabled) return new UpstreamCache(config.upstream, deps);
    const metrics = deps.metrics ?? NO_CACHE_METRICS;
    const logger = deps.logger ?? defaultLogger(deps.env);
    const health = { commands: new TierOutage('shared', metrics, logger), pubsub: new TierOutage('shared_pubsub', metrics, logger, INVALIDATIONS_LOST) };
    const tier = await RedisSharedTier.connect({ url: resolveEnv(shared.url, deps.env ?? process.env), keyPrefix: shared.keyPrefix, timeoutMs: shared.timeoutMs }, health);
    return new UpstreamCache(config.upstream, { ...deps, shared: tier });
  }

  policy(connector: SourceConnector, entity: string): ResolvedPolicy {
    let policies = this.policies.get(connector);
    if (!policies) this.policies.set(connector, (policies = new Map()));
    let policy = policies.get(entity);
    if (!policy) {
      policy = resolvePolicy(this.config, connector.definition, entity, connector.crosswalkTtlMs.get(entity));
      policies.set(entity, policy);
    }
    return policy;
  }

  /**
   * `SourceConnector.lookup` through the cache: same contract (every value maps to its records or
   * to the error of the call that carried it). Values served from the cache are reported to
   * `observe` as one call with `cacheHit: true` and the age of the oldest value. Records the
   * mapping left out of an answer are kept with its entry and told to `onRejected` by every lookup
   * the entry answers.
   */
  lookup(
    connector: SourceConnector,
    entity: string,
    field: string,
    values: readonly string[],
    observe?: CallObserver,
    normalize: KeyNormalization = 'none',
    /** Whom the lookup is for: a source that forwards its caller is called, and cached, per caller. */
    caller?: CallerCredential,
    /** Told of the records left out of the entries that answer (see `Entry.rejected`). */
    onRejected?: RejectionSink,
  ): Promise<Map<string, CanonicalRecord[] | Error>> {
    const policy = this.policy(connector, entity);
    if (!this.config.enabled || policy.ttlMs <= 0) return connector.lookup(entity, field, values, observe, normalize, undefined, caller, onRejected);
    const partition = connector.definition.forwardCaller ? [callerPartition(caller)] : [];
    const prefix = [connector.name, fingerprintOf(connector.definition), entity, field, normalize, ...partition, ''].join(SEP);
    const batch: Batch = { waiters: [], policy, prefix, caller };
    const now = this.clock.now();
    const entries: Array<Entry | undefined> = new Array<Entry | undefined>(values.length);
    const pending: Pending[] = [];
    /** Values answered from memory (fresh, or stale while revalidating): their oldest fetch. */
    let oldestServed = Infinity;
    let servedCount = 0;
    let fresh = 0;
    let stale = 0;
    values.forEach((value, index) => {
      const key = prefix + value;
      const status: LRUCache.Status<string, Entry, Batch> = {};
      const found = this.lru.get(key, { allowStale: true, status });
      if (found !== undefined && status.get === 'hit') {
        entries[index] = found;
        fresh += 1;
        servedCount += 1;
        oldestServed = Math.min(oldestServed, found.fetchedAt);
        return;
      }
      // Past its freshness by this much: served at once within one window, after a failure within the other.
      const staleFor = found === undefined ? Infinity : -(status.remainingTTL ?? 0);
      const fetchStatus: LRUCache.Status<string, Entry, Batch> = {};
      const fetched = this.lru.fetch(key, {
        context: batch,
        allowStale: staleFor <= policy.staleWhileRevalidateMs,
        allowStaleOnFetchRejection: staleFor <= policy.staleIfErrorMs,
        status: fetchStatus,
      });
      const servedStale = fetchStatus.returnedStale === true && found !== undefined;
      if (servedStale) {
        stale += 1;
        servedCount += 1;
        oldestServed = Math.min(oldestServed, found.fetchedAt);
        // Joins the refresh now in flight (no second call), to know when its value is stored.
        this.track(this.lru.fetch(key, { context: batch, allowStale: false }));
      }
      pending.push({ index, fetched, stale: found, servedStale });
    });
    if (fresh > 0) this.metrics.count('upstream', 'hit', fresh);
    if (stale > 0) this.metrics.count('upstream', 'stale', stale);
    if (pending.length > stale) this.metrics.count('upstream', 'miss', pending.length - stale);
    if (observe && servedCount > 0) {
      observe({
        source: connector.name,
        route: `cache ${entity}.${field}`,
        batchSize: servedCount,
        status: 200,
        attempts: 0,
        startedAt: timelineNow(),
        durationMs: 0,
        cacheHit: true,
        ageMs: now - oldestServed,
      });
    }
    if (batch.waiters.length > 0) {
      this.track(
        this.fill(connector, entity, field, normalize, batch, observe).catch((error: unknown) => {
          for (const waiter of batch.waiters) waiter.reject(error);
        }),
      );
    }
    // Every key fresh, or served stale while it refreshes: answered now, without waiting on the fetches.
    if (pending.every((p) => p.servedStale)) {
      // (A refresh that fails keeps the stale value, until its windows end: lru-cache's noDeleteOnFetchRejection.)
      for (const p of pending) entries[p.index] = p.stale;
      reportRejected(connector.name, entity, entries, onRejected);
      return Promise.resolve(answerOf(values, entries, []));
    }
    return this.settle(connector, entity, field, values, entries, pending, observe, onRejected);
  }

  /** The answer of a lookup with keys to wait for: fetched records, stale values where the source failed, errors. */
  private async settle(
    connector: SourceConnector,
    entity: string,
    field: string,
    values: readonly string[],
    entries: Array<Entry | undefined>,
    pending: readonly Pending[],
    observe: CallObserver | undefined,
    onRejected: RejectionSink | undefined,
  ): Promise<Map<string, CanonicalRecord[] | Error>> {
    const errors: Array<Error | undefined> = [];
    const settled = await Promise.allSettled(pending.map((p) => p.fetched));
    let oldestRescued = Infinity;
    let rescued = 0;
    settled.forEach((outcome, i) => {
      const p = pending[i]!;
      if (outcome.status === 'rejected') {
        errors[p.index] = outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason));
        return;
      }
      const entry = outcome.value;
      entries[p.index] = entry;
      if (entry === undefined) return;
      // The fetch this lookup waited for answered with the value it meant to replace: the source failed.
      if (!p.servedStale && entry === p.stale) {
        rescued += 1;
        oldestRescued = Math.min(oldestRescued, entry.fetchedAt);
      }
    });
    if (rescued > 0) {
      this.metrics.count('upstream', 'stale_if_error', rescued);
      const now = this.clock.now();
      observe?.({
        source: connector.name,
        route: `cache ${entity}.${field}`,
        batchSize: rescued,
        status: 200,
        attempts: 0,
        startedAt: timelineNow(),
        durationMs: 0,
        cacheHit: true,
        staleIfError: true,
        ageMs: now - oldestRescued,
      });
    }
    reportRejected(connector.name, entity, entries, onRejected);
    return answerOf(values, entries, errors);
  }

  /** The shared tier first (when there is one), then one source call for every key still missing. */
  private async fill(connector: SourceConnector, entity: string, field: string, normalize: KeyNormalization, batch: Batch, observe: CallObserver | undefined): Promise<void> {
    const { policy, prefix } = batch;
    let waiters = batch.waiters;
    if (this.shared) waiters = await this.fromShared(waiters, prefix, policy);
    if (waiters.length === 0) return;
    // Cache-Control from the source shortens (never lengthens) the declared freshness.
    const maxAge = new Map<string, number>();
    const rejections = new FillRejections();
    let groups: Map<string, CanonicalRecord[] | Error>;
    try {
      groups = await connector.lookup(
        entity,
        field,
        waiters.map((waiter) => waiter.value),
        observe,
        normalize,
        (values, maxAgeMs) => {
          for (const value of values) maxAge.set(value, maxAgeMs);
        },
        batch.caller,
        rejections.add,
      );
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    const fetchedAt = this.clock.now();
    const fetchedAtWall = this.clock.wallNow();
    const keptPastFreshMs = Math.max(policy.staleWhileRevalidateMs, policy.staleIfErrorMs);
    const stored: Parameters<SharedTier['setMany']>[0][number][] = [];
    for (const waiter of waiters) {
      const group = groups.get(waiter.value) ?? [];
      if (group instanceof Error) {
        waiter.reject(group);
        continue;
      }
      const key = prefix + waiter.value;
      const sourceMaxAge = maxAge.get(waiter.value);
      const tags = tagsOf(waiter.value, group);
      const rejected = rejections.of(waiter.value);
      const told = rejected ? { rejected } : {};
      if (sourceMaxAge === 0 || rejections.unclaimed) {
        // no-store (or records no value claims): the waiting lookups get the records, and nothing is kept.
        waiter.resolve({ records: group, fetchedAt, tags, noStore: true, ...told });
        continue;
      }
      const freshMs = Math.min(policy.ttlMs, sourceMaxAge ?? Infinity);
      waiter.options.ttl = freshMs;
      waiter.resolve({ records: group, fetchedAt, tags, ...told });
      const entry: SharedEntry = { records: group, fetchedAt: fetchedAtWall, ...(freshMs < policy.ttlMs ? { freshMs } : {}), ...told };
      stored.push({ key, entry, ttlMs: freshMs + keptPastFreshMs, tags });
    }
    if (this.shared) await this.shared.setMany(stored);
  }

  /** Resolves the waiters the shared tier holds fresh (ages are wall-clock, across replicas); returns the rest. */
  private async fromShared(waiters: Waiter[], prefix: string, policy: ResolvedPolicy): Promise<Waiter[]> {
    const found = await this.shared!.getMany(waiters.map((waiter) => prefix + waiter.value));
    const now = this.clock.now();
    const wallNow = this.clock.wallNow();
    const missing: Waiter[] = [];
    waiters.forEach((waiter, i) => {
      const shared = found[i];
      const ageMs = shared === undefined ? 0 : Math.max(0, wallNow - shared.fetchedAt);
      const remainingMs = shared === undefined ? 0 : Math.min(policy.ttlMs, shared.freshMs ?? Infinity) - ageMs;
      if (shared === undefined || remainingMs <= 0) {
        missing.push(waiter);
        return;
      }
      // Fresh here for what is left of its freshness, however long ago another replica fetched it.
      waiter.options.ttl = remainingMs;
      waiter.resolve({ records: shared.records, fetchedAt: now - ageMs, tags: tagsOf(waiter.value, shared.records), ...(shared.rejected?.length ? { rejected: shared.rejected } : {}) });
    });
    if (missing.length < waiters.length) this.metrics.count('shared', 'hit', waiters.length - missing.length);
    if (missing.length > 0) this.metrics.count('shared', 'miss', missing.length);
    return missing;
  }

  private track(work: Promise<unknown>): void {
    const done: Promise<void> = work.then(
      () => void this.background.delete(done),
      () => void this.background.delete(done),
    );
    this.background.add(done);
  }

  /**
   * Resolves once every fill and background refresh started so far is done: its records stored
   * here and in the shared tier, or its failure settled. Closing waits for it, so that no write
   * reaches a closed tier.
   */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /**
   * Drops every entry asked by, or holding a record with a field equal to, one of `values` (an
   * entity's identities in all systems, say). Coarse on purpose: dropping too much costs a call.
   */
  invalidateValues(values: Iterable<string>): number {
    let dropped = 0;
    for (const value of values) {
      for (const key of this.tags.keysOf(value)) {
        if (this.lru.delete(key)) dropped += 1;
        this.tags.delete(key);
      }
    }
    return dropped;
  }

  clear(): void {
    this.lru.clear();
    this.tags.clear();
  }

  /** Waits for the fills in flight, empties local memory and closes the shared tier's connections. */
  async close(): Promise<void> {
    await this.idle();
    this.clear();
    await this.shared?.close();
  }
}

/**
 * Where a call the cache answered sits on the operation's timeline (explain's `startMs`, the order
 * of the fan-out): the process clock, which explain and the HTTP client stamp their calls with. The
 * injected clock is for freshness and ages, and a test may hold it still or move it by hours.
 */
function timelineNow(): number {
  return systemClock.now();
}
