import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CacheDefinition, CachePolicy, SourceDefinition } from '../config/definition';
import { resolveEnv } from '../config/env';
import type { CallObserver } from '../connectors/upstream-call';
import type { CanonicalRecord } from '../connectors/record-mapper';
import type { SourceConnector } from '../connectors/source-connector';
import type { KeyNormalization } from '../connectors/transforms';
import { RedisSharedTier, type SharedTier } from './shared-tier';

/** `stale_if_error`: a miss whose source failed, answered with the value kept past its freshness. */
export type CacheResult = 'hit' | 'miss' | 'stale' | 'stale_if_error';

/**
 * The extension of an answer that shows values kept past their freshness because their source
 * failed: `extensions.stale`, one entry per source and lookup (`StaleServed`).
 */
export const STALE_EXTENSION = 'stale';

/** Told of every key looked up in a tier: fed into `virtualize_cache_requests_total{tier,result}`. */
export type CacheCounter = (tier: 'upstream' | 'shared' | 'response', result: CacheResult, n?: number) => void;

interface Entry {
  records: CanonicalRecord[];
  fetchedAt: number;
  /** Fresh until `fetchedAt + freshMs`; lru-cache drops it at `freshMs` plus the longer of the stale windows. */
  freshMs: number;
}

interface Waiter {
  value: string;
  resolve: (entry: Entry) => void;
  reject: (error: unknown) => void;
}

/** The keys one lookup found missing, fetched together in one `SourceConnector.lookup` call. */
interface Batch {
  waiters: Waiter[];
  freshMs: number;
  /** How long the entry is kept at all: fresh, then servable stale (while revalidating or if the source fails). */
  ttlMs: number;
  prefix: string;
}

const SEP = '\u0000';

export interface ResolvedPolicy {
  ttlMs: number;
  staleWhileRevalidateMs: number;
  staleIfErrorMs: number;
}

/** Entity over source over config: each field falls back to the next. */
export function resolvePolicy(defaults: CacheDefinition['upstream'], source: SourceDefinition, entity: string): ResolvedPolicy {
  const layers: Array<CachePolicy | undefined> = [source.entities[entity]?.cache, source.cache];
  const pick = (field: keyof CachePolicy, fallback: number) => layers.map((layer) => layer?.[field]).find((v) => v !== undefined) ?? fallback;
  return {
    ttlMs: pick('ttlMs', defaults.ttlMs),
    staleWhileRevalidateMs: pick('staleWhileRevalidateMs', defaults.staleWhileRevalidateMs),
    staleIfErrorMs: pick('staleIfErrorMs', defaults.staleIfErrorMs),
  };
}

function sizeOf(entry: Entry, key: string): number {
  // JSON length is a fair proxy of heap use (UTF-16 strings, object overhead): counted twice.
  return 2 * (key.length + JSON.stringify(entry.records).length) + 64;
}

/**
 * A short digest of a source's definition: part of every key, so that records mapped by one
 * version of a definition are never served to another (after a registry update, on any replica).
 */
const fingerprints = new WeakMap<SourceDefinition, string>();
function fingerprintOf(definition: SourceDefinition): string {
  let fingerprint = fingerprints.get(definition);
  if (fingerprint === undefined) {
    fingerprint = createHash('sha256').update(JSON.stringify(definition)).digest('base64url').slice(0, 12);
    fingerprints.set(definition, fingerprint);
  }
  return fingerprint;
}

/**
 * Upstream-call cache across requests: records per (source, entity, lookup field, key
 * normalization, key value), bounded in bytes. Sits under the per-request loaders: of the keys a
 * loader batch asks for, cached ones skip the source, and the missing ones still go out together
 * in one batched lookup. Identical keys asked concurrently by different requests share one call
 * (lru-cache's in-flight fetch). A value past its TTL but within its stale-while-revalidate window
 * is served as is while one background refresh runs. Failures are never stored.
 */
export class UpstreamCache {
  private readonly lru: LRUCache<string, Entry, Batch>;
  /** Index from a key value or a record's field value to the cache keys whose entry holds it. */
  private readonly tags = new Map<string, Set<string>>();
  private readonly tagsOf = new Map<string, string[]>();
  private readonly policies = new WeakMap<SourceDefinition, Map<string, ResolvedPolicy>>();
  /** The tier shared by replicas (Redis), asked before the source; none by default. */
  shared: SharedTier | undefined;

  constructor(
    private readonly config: CacheDefinition['upstream'],
    /** Assignable, so that the server can feed its metrics once they exist. */
    public count: CacheCounter = () => undefined,
  ) {
    this.lru = new LRUCache<string, Entry, Batch>({
      maxSize: config.maxBytes,
      sizeCalculation: sizeOf,
      ttlAutopurge: false,
      // A refresh that fails leaves the value it meant to replace: served stale if the source stays down.
      noDeleteOnFetchRejection: true,
      fetchMethod: (key, _stale, { context }) =>
        new Promise<Entry>((resolve, reject) => {
          const value = key.slice(key.lastIndexOf(SEP) + 1);
          context.waiters.push({ value, resolve, reject });
        }),
      onInsert: (entry, key) => {
        if (!Array.isArray((entry as Partial<Entry>).records)) return;
        this.tag(key, tagsOf(key, entry.records));
      },
      dispose: (_entry, key) => this.untag(key),
    });
  }

  /** Bytes held now (as counted against `maxBytes`). */
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
  static async open(config: CacheDefinition, env: NodeJS.ProcessEnv = process.env): Promise<UpstreamCache> {
    const cache = new UpstreamCache(config.upstream);
    const shared = config.shared;
    if (shared.kind === 'redis' && config.upstream.enabled) {
      cache.shared = await RedisSharedTier.connect({ url: resolveEnv(shared.url, env), keyPrefix: shared.keyPrefix, timeoutMs: shared.timeoutMs });
    }
    return cache;
  }

  policy(connector: SourceConnector, entity: string): ResolvedPolicy {
    let policies = this.policies.get(connector.definition);
    if (!policies) this.policies.set(connector.definition, (policies = new Map()));
    let policy = policies.get(entity);
    if (!policy) {
      policy = resolvePolicy(this.config, connector.definition, entity);
      policies.set(entity, policy);
    }
    return policy;
  }

  /**
   * `SourceConnector.lookup` through the cache: same contract (every value maps to its records or
   * to the error of the call that carried it). Values served from the cache are reported to
   * `observe` as one call with `cacheHit: true` and the age of the oldest value.
   */
  async lookup(
    connector: SourceConnector,
    entity: string,
    field: string,
    values: readonly string[],
    observe?: CallObserver,
    normalize: KeyNormalization = 'none',
  ): Promise<Map<string, CanonicalRecord[] | Error>> {
    const policy = this.policy(connector, entity);
    if (!this.config.enabled || policy.ttlMs <= 0) return connector.lookup(entity, field, values, observe, normalize);
    const prefix = [connector.name, fingerprintOf(connector.definition), entity, field, normalize, ''].join(SEP);
    const keptMs = policy.ttlMs + Math.max(policy.staleWhileRevalidateMs, policy.staleIfErrorMs);
    const batch: Batch = { waiters: [], freshMs: policy.ttlMs, ttlMs: keptMs, prefix };
    const now = Date.now();
    const startedAt = performance.now();
    let fresh = 0;
    let stale = 0;
    let misses = 0;
    /** Per value: the entry to serve if the source fails (kept within `staleIfErrorMs` of its freshness). */
    const fallbacks: Array<Entry | undefined> = [];
    const pending = values.map((value, i): Promise<Entry | undefined> => {
      const key = prefix + value;
      const entry = this.lru.get(key, { allowStale: false });
      const age = entry === undefined ? 0 : now - entry.fetchedAt;
      const isStale = entry !== undefined && age > entry.freshMs;
      // Past its freshness plus the window (a short Cache-Control), a value is no longer served.
      const servable = entry !== undefined && age <= entry.freshMs + policy.staleWhileRevalidateMs;
      if (entry && !isStale) {
        fresh += 1;
        return Promise.resolve(entry);
      }
      if (entry !== undefined && age <= entry.freshMs + policy.staleIfErrorMs) fallbacks[i] = entry;
      const status: LRUCache.Status<string, Entry, Batch> = {};
      const fetched = this.lru.fetch(key, {
        context: batch,
        ttl: keptMs,
        forceRefresh: isStale,
        allowStale: !isStale || servable,
        status,
      });
      if ((isStale && servable) || status.returnedStale) stale += 1;
      else misses += 1;
      return fetched;
    });
    if (fresh > 0) this.count('upstream', 'hit', fresh);
    if (stale > 0) this.count('upstream', 'stale', stale);
    if (misses > 0) this.count('upstream', 'miss', misses);
    if (batch.waiters.length > 0) {
      this.fill(connector, entity, field, normalize, batch, observe).catch((error: unknown) => {
        for (const waiter of batch.waiters) waiter.reject(error);
      });
    }
    const settled = await Promise.allSettled(pending);
    // The source failed: values kept past their freshness answer instead, and say how old they are.
    const rescued = settled.map((outcome, i) => (outcome.status === 'rejected' ? fallbacks[i] : undefined));
    const kept = rescued.filter((entry): entry is Entry => entry !== undefined);
    if (kept.length > 0) {
      this.count('upstream', 'stale_if_error', kept.length);
      observe?.({
        source: connector.name,
        route: `cache ${entity}.${field}`,
        batchSize: kept.length,
        status: 200,
        attempts: 0,
        startedAt: performance.now(),
        durationMs: 0,
        cacheHit: true,
        staleIfError: true,
        ageMs: Date.now() - Math.min(...kept.map((entry) => entry.fetchedAt)),
      });
    }
    if (observe && fresh + stale > 0) {
      // Values fetched before this lookup began were served from the cache.
      const served = settled.flatMap((outcome) => (outcome.status === 'fulfilled' && outcome.value && outcome.value.fetchedAt < now ? [outcome.value.fetchedAt] : []));
      observe({
        source: connector.name,
        route: `cache ${entity}.${field}`,
        batchSize: fresh + stale,
        status: 200,
        attempts: 0,
        startedAt,
        durationMs: 0,
        cacheHit: true,
        ageMs: now - Math.min(now, ...served),
      });
    }
    return new Map<string, CanonicalRecord[] | Error>(
      values.map((value, i) => {
        const outcome = settled[i]!;
        const fallback = rescued[i];
        if (fallback) return [value, fallback.records];
        if (outcome.status === 'rejected') return [value, outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason))];
        return [value, outcome.value?.records ?? []];
      }),
    );
  }

  /** The shared tier first (when there is one), then one source call for every key still missing. */
  private async fill(
    connector: SourceConnector,
    entity: string,
    field: string,
    normalize: KeyNormalization,
    batch: Batch,
    observe: CallObserver | undefined,
  ): Promise<void> {
    let waiters = batch.waiters;
    if (this.shared) {
      const found = await this.shared.getMany(waiters.map((waiter) => batch.prefix + waiter.value));
      const now = Date.now();
      const missing: Waiter[] = [];
      waiters.forEach((waiter, i) => {
        const shared = found[i];
        const freshMs = Math.min(batch.freshMs, shared?.freshMs ?? Infinity);
        if (shared && now - shared.fetchedAt <= freshMs) waiter.resolve({ records: shared.records, fetchedAt: shared.fetchedAt, freshMs });
        else missing.push(waiter);
      });
      if (missing.length < waiters.length) this.count('shared', 'hit', waiters.length - missing.length);
      if (missing.length > 0) this.count('shared', 'miss', missing.length);
      waiters = missing;
      if (waiters.length === 0) return;
    }
    let groups: Map<string, CanonicalRecord[] | Error>;
    // Cache-Control from the source shortens (never lengthens) the declared freshness.
    const maxAge = new Map<string, number>();
    try {
      groups = await connector.lookup(entity, field, waiters.map((waiter) => waiter.value), observe, normalize, (values, maxAgeMs) => {
        for (const value of values) maxAge.set(value, maxAgeMs);
      });
    } catch (error) {
      for (const waiter of waiters) waiter.reject(error);
      return;
    }
    const fetchedAt = Date.now();
    const stored: Parameters<SharedTier['setMany']>[0][number][] = [];
    for (const waiter of waiters) {
      const group = groups.get(waiter.value) ?? [];
      if (group instanceof Error) {
        waiter.reject(group);
        continue;
      }
      const key = batch.prefix + waiter.value;
      const sourceMaxAge = maxAge.get(waiter.value);
      const freshMs = Math.min(batch.freshMs, sourceMaxAge ?? Infinity);
      waiter.resolve({ records: group, fetchedAt, freshMs });
      if (sourceMaxAge === 0) {
        // no-store: the waiting lookups get the records, and nothing is kept.
        setImmediate(() => this.lru.delete(key));
        continue;
      }
      stored.push({ key, entry: { records: group, fetchedAt, ...(freshMs < batch.freshMs ? { freshMs } : {}) }, ttlMs: Math.min(batch.ttlMs, sourceMaxAge === undefined ? Infinity : sourceMaxAge + batch.ttlMs - batch.freshMs), tags: tagsOf(key, group) });
    }
    if (this.shared) await this.shared.setMany(stored);
  }

  private tag(key: string, values: readonly string[]): void {
    this.untag(key);
    const unique = [...new Set(values)];
    this.tagsOf.set(key, unique);
    for (const value of unique) {
      let keys = this.tags.get(value);
      if (!keys) this.tags.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private untag(key: string): void {
    for (const value of this.tagsOf.get(key) ?? []) {
      const keys = this.tags.get(value);
      keys?.delete(key);
      if (keys?.size === 0) this.tags.delete(value);
    }
    this.tagsOf.delete(key);
  }

  /**
   * Drops every entry asked by, or holding a record with a field equal to, one of `values` (an
   * entity's identities in all systems, say). Coarse on purpose: dropping too much costs a call.
   */
  invalidateValues(values: Iterable<string>): number {
    let dropped = 0;
    for (const value of values) {
      for (const key of [...(this.tags.get(value) ?? [])]) {
        if (this.lru.delete(key)) dropped += 1;
        this.untag(key);
      }
    }
    return dropped;
  }

  clear(): void {
    this.lru.clear();
    this.tags.clear();
    this.tagsOf.clear();
  }

  /** Empties local memory and closes the shared tier's connections. */
  async close(): Promise<void> {
    this.clear();
    await this.shared?.close();
  }
}

/** The key's own value and every short field value of the records: what an invalidation names. */
function tagsOf(key: string, records: readonly CanonicalRecord[]): string[] {
  return [key.slice(key.lastIndexOf(SEP) + 1), ...records.flatMap((record) => Object.values(record).filter(isKeyLike).map(String))];
}

function isKeyLike(value: unknown): value is string | number {
  return typeof value === 'string' ? value.length > 0 && value.length <= 200 : typeof value === 'number';
}
