import { useResponseCache as useEnvelopResponseCache, type Cache, type CacheEntityRecord } from '@envelop/response-cache';
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { Catalog } from '../catalog/catalog';
import type { CacheDefinition } from '../config/definition';
import { systemClock, type Clock } from '../time/clock';
import { resolvePolicy } from './cache-policy';
import { NO_CACHE_METRICS, type CacheMetrics } from './cache-telemetry';
import { STALE_EXTENSION } from './upstream-cache';
import { REJECTED_EXTENSION } from '../connectors/record-rejections';

interface CachedAnswer {
  data: NonNullable<ExecutionResult['data']>;
  /** `extensions.rejected` of the answer: records left out of it, said again by every hit. */
  rejected?: unknown;
  storedAt: number;
  /** `Type:id` of every entity the answer shows, and each of their type names. */
  entities: string[];
}

/** How many distinct combinations the admission rule remembers (a bound, not a tuning knob). */
const ADMISSION_MEMORY = 50_000;

/** Extension of an answer served from the response tier: `{ hit: true, ageMs }`. */
export const RESPONSE_AGE_EXTENSION = 'responseCache';

const entityId = (typename: string, id: string | number) => `${typename}:${id}`;

/** What the hot-response store is given when it is built. */
export interface ResponseStoreDeps {
  /** Where ages, the admission window and the TTL are read; default the process's clocks. */
  clock?: Clock;
  /** Lookups counted by result (`tier="response"`); default none counted. */
  metrics?: CacheMetrics;
}

/**
 * The store behind the hot-response tier (envelop's response cache decides what to look up and
 * what to store; this decides what to keep). Bounded in bytes; a combination is kept only once it
 * has been asked `admitAfter` times within `windowMs` (each lookup is an ask), so one-off queries
 * do not churn it; answers are indexed by the entities they show (`Customer:<id>`), so that a
 * change to one entity drops every answer that shows it. A hit says its age.
 */
export class ResponseStore implements Cache {
  private readonly answers: LRUCache<string, CachedAnswer>;
  private readonly asked: LRUCache<string, number[]>;
  private readonly index = new Map<string, Set<string>>();
  private readonly clock: Clock;
  private readonly metrics: CacheMetrics;

  constructor(
    readonly config: CacheDefinition['responses'],
    deps: ResponseStoreDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.metrics = deps.metrics ?? NO_CACHE_METRICS;
    this.answers = new LRUCache<string, CachedAnswer>({
      perf: this.clock,
      // Read the clock at every check: lru-cache's default caches it for 1 ms behind a timer.
      ttlResolution: 0,
      maxSize: config.maxBytes,
      // JSON length is a fair proxy of heap use (UTF-16 strings, object overhead): counted twice.
      sizeCalculation: (answer, key) => 2 * (key.length + JSON.stringify(answer.data).length + JSON.stringify(answer.rejected ?? null).length + answer.entities.join().length) + 64,
      ttl: config.ttlMs,
      dispose: (answer, key) => this.unindex(key, answer.entities),
    });
    this.asked = new LRUCache<string, number[]>({ max: ADMISSION_MEMORY, ttl: config.windowMs, perf: this.clock, ttlResolution: 0 });
  }

  get size(): number {
    return this.answers.size;
  }

  get bytes(): number {
    return this.answers.calculatedSize;
  }

  get(key: string): ExecutionResult | null {
    const answer = this.answers.get(key);
    this.metrics.count('response', answer ? 'hit' : 'miss');
    if (!answer) {
      this.ask(key);
      return null;
    }
    // Whole milliseconds, as extensions.stale says its ages.
    const age = { [RESPONSE_AGE_EXTENSION]: { hit: true, ageMs: Math.round(this.clock.now() - answer.storedAt) } };
    return { data: answer.data, extensions: answer.rejected === undefined ? age : { ...age, [REJECTED_EXTENSION]: answer.rejected } };
  }

  /** Counts one asking of `key`. */
  private ask(key: string): void {
    const now = this.clock.now();
    const times = (this.asked.get(key) ?? []).filter((at) => now - at < this.config.windowMs);
    times.push(now);
    this.asked.set(key, times.slice(-this.config.admitAfter));
  }

  /** Whether `key` was asked often enough, recently enough, to be kept. */
  private hot(key: string): boolean {
    const now = this.clock.now();
    return (this.asked.get(key) ?? []).filter((at) => now - at < this.config.windowMs).length >= this.config.admitAfter;
  }

  set(key: string, result: ExecutionResult, entities: Iterable<CacheEntityRecord>, ttl: number): void {
    // Partial answers, and answers with values served stale because a source failed, are not kept as
    // if complete. An answer some records were left out of is kept with its `extensions.rejected`:
    // it is complete as far as its sources' records fit, and a hit says what was left out, as of its age.
    if (result.errors?.length || !result.data || result.extensions?.[STALE_EXTENSION] || ttl <= 0 || !this.hot(key)) return;
    const ids = new Set<string>();
    for (const { typename, id } of entities) {
      ids.add(typename);
      if (id !== undefined) ids.add(entityId(typename, id));
    }
    const rejected = result.extensions?.[REJECTED_EXTENSION];
    const answer: CachedAnswer = { data: result.data, storedAt: this.clock.now(), entities: [...ids], ...(rejected === undefined ? {} : { rejected }) };
    // Replacing an answer disposes of the old one, and with it its index entries.
    this.answers.set(key, answer, { ttl: Math.min(ttl, this.config.ttlMs) });
    // Larger than the whole bound: not kept.
    if (this.answers.peek(key, { allowStale: true }) !== answer) return;
    for (const id of answer.entities) {
      let keys = this.index.get(id);
      if (!keys) this.index.set(id, (keys = new Set()));
      keys.add(key);
    }
  }

  /** `Cache.invalidate`: see `drop`. */
  invalidate(entities: Iterable<CacheEntityRecord>): void {
    this.drop(entities);
  }

  /** Drops every answer that shows one of `entities` (a record without id: any of that type); says how many. */
  drop(entities: Iterable<CacheEntityRecord>): number {
    let dropped = 0;
    for (const { typename, id } of entities) {
      for (const key of [...(this.index.get(id === undefined ? typename : entityId(typename, id)) ?? [])]) if (this.answers.delete(key)) dropped += 1;
    }
    return dropped;
  }

  private unindex(key: string, entities: readonly string[]): void {
    for (const id of entities) {
      const keys = this.index.get(id);
      keys?.delete(key);
      if (keys?.size === 0) this.index.delete(id);
    }
  }

  clear(): void {
    this.answers.clear();
    this.asked.clear();
    this.index.clear();
  }
}

export interface ResponseCacheOptions {
  /** Per type: how long an answer that shows it may be kept, in ms (see `ttlPerTypeOf`). */
  ttlPerType?: Record<string, number>;
  /**
   * The caller an answer belongs to alone, when it must not be shared even with callers of the
   * same rights (a generation with a source that answers per caller, `forwardCaller`); undefined
   * when answers are shared by rights.
   */
  ownerOf?: (context: unknown) => string | undefined;
  /**
   * The caller's authorization partition for an operation's context (what the caller may see and
   * how masked fields are shown: `src/auth/`); undefined when authorization did not decide, and
   * then nothing is looked up or stored. Never a header the client chooses.
   */
  partition: (context: unknown) => string | undefined;
}

/**
 * An answer is kept no longer than the freshness its sources declare for the types it shows (an
 * answer with tickets, fresh for 10 s at the desk, is not kept for a minute), nor than the
 * `cacheTtlMs` of a service crosswalk it joins through, nor than `cache.responses.ttlMs`.
 */
export function ttlPerTypeOf(cache: CacheDefinition, catalog: Catalog): Record<string, number> {
  const ttls: Record<string, number> = {};
  for (const entity of catalog.entities.values()) {
    const { ttlMs } = resolvePolicy(cache.upstream, catalog.source(entity.source).definition, entity.name);
    ttls[entity.name] = Math.min(ttlMs, cache.responses.ttlMs);
  }
  // A join through a master-data service is no fresher than its service's answers (`cacheTtlMs`; 0: not kept).
  for (const { service, from, to, forward, inverse } of catalog.mappings.values()) {
    if (!service) continue;
    const fields = [...[forward.field, ...forward.summaries].map((field) => `${from.entity}.${field}`), ...(inverse ? [`${to.entity}.${inverse.field}`] : [])];
    for (const field of fields) ttls[field] = Math.min(service.cacheTtlMs, ttls[field] ?? cache.responses.ttlMs);
  }
  return ttls;
}

/**
 * The yoga plugin of the hot-response tier: envelop's response cache over `store`. The key is the
 * operation, its variables and the session: the caller's authorization partition and the schema
 * version the request runs on, so that two callers with different rights never share an answer,
 * two with the same rights do, and a hot reload starts afresh. Only answers without errors are
 * stored. Put it after authorization (which decides the partition) and after the guard, so that a
 * hot answer is still charged.
 */
export function useResponseCache(store: ResponseStore, options: ResponseCacheOptions): Plugin {
  type Context = { request?: Request; generation?: { version: number } };
  return useEnvelopResponseCache<Context>({
    cache: store,
    enabled: (context) => store.config.enabled && options.partition(context) !== undefined,
    session: (context) => `${options.partition(context) ?? ''}\u0000${options.ownerOf?.(context) ?? ''}\u0000v${context.generation?.version ?? 0}`,
    ttl: store.config.ttlMs,
    ttlPerSchemaCoordinate: { ...options.ttlPerType },
    // Consumers have no mutations; sources tell changes by webhook.
    invalidateViaMutation: false,
    // The default logs a warning for each answer with errors; not storing it is the rule here.
    shouldCacheResult: ({ result }) => !result.errors?.length,
    includeExtensionMetadata: false,
  }) as Plugin;
}
