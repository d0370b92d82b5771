import { UpstreamCache } from '../../src/cache/upstream-cache';
import type { CacheMetrics } from '../../src/cache/cache-telemetry';
import type { SharedEntry, SharedTier } from '../../src/cache/shared-tier';
import type { CacheDefinition, SourceDefinition } from '../../src/config/definition';
import { maxAgeOf } from '../../src/connectors/cache-control';
import type { UpstreamCall } from '../../src/connectors/upstream-call';
import type { CanonicalRecord } from '../../src/connectors/record-mapper';
import type { SourceConnector } from '../../src/connectors/source-connector';
import { ManualClock } from '../support/manual-clock';

const defaults: CacheDefinition['upstream'] = { enabled: true, maxBytes: 1_000_000, ttlMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };

/**
 * A connector that answers `{ id: value }` for each value, and records every call. With `gated`,
 * each call waits until the test opens it (`release()`), so that a test holds calls in flight.
 */
function fakeConnector(options: { gated?: boolean; fail?: (value: string) => boolean; cache?: SourceDefinition['cache']; maxAgeMs?: number; crosswalkTtlMs?: number } = {}) {
  // `options` is read at each call: a test may change what the source says (maxAgeMs) between calls.
  const calls: string[][] = [];
  const gates: Array<() => void> = [];
  let version = 0;
  const connector = {
    name: 'fake',
    definition: { entities: { Thing: {} }, cache: options.cache } as unknown as SourceDefinition,
    crosswalkTtlMs: new Map<string, number>(options.crosswalkTtlMs === undefined ? [] : [['Thing', options.crosswalkTtlMs]]),
    async lookup(_entity: string, _field: string, values: readonly string[], _observe: unknown, _normalize: unknown, onMaxAge?: (values: readonly string[], maxAgeMs: number) => void) {
      calls.push([...values]);
      if (options.maxAgeMs !== undefined) onMaxAge?.(values, options.maxAgeMs);
      if (options.gated) await new Promise<void>((resolve) => gates.push(resolve));
      version += 1;
      return new Map<string, CanonicalRecord[] | Error>(
        values.map((value) => [value, options.fail?.(value) ? new Error(`failed ${value}`) : [{ id: value, version, padding: 'x'.repeat(100) }]]),
      );
    },
  } as unknown as SourceConnector;
  /** Lets every call waiting so far answer. */
  const release = () => gates.splice(0).forEach((open) => open());
  return { connector, calls, release };
}

/** Counters that keep every result counted, one entry per key. */
function counting(): { metrics: CacheMetrics; counts: string[] } {
  const counts: string[] = [];
  return { counts, metrics: { count: (_tier, result, n = 1) => counts.push(...Array<string>(n).fill(result)), tierFailed: () => undefined } };
}

const version = (answer: Map<string, CanonicalRecord[] | Error>, key: string) => (answer.get(key) as CanonicalRecord[])[0]!.version;

describe('upstream-call cache', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = new ManualClock();
  });

  it('serves cached keys without a call and batches only the missing ones', async () => {
    const { metrics, counts } = counting();
    const cache = new UpstreamCache(defaults, { clock, metrics });
    const { connector, calls } = fakeConnector();
    await cache.lookup(connector, 'Thing', 'id', ['a', 'b']);
    clock.advance(1_500);
    const observed: UpstreamCall[] = [];
    const result = await cache.lookup(connector, 'Thing', 'id', ['a', 'b', 'c', 'd'], (call) => observed.push(call));
    expect(calls).toEqual([['a', 'b'], ['c', 'd']]);
    expect([...result.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect((result.get('a') as CanonicalRecord[])[0]).toMatchObject({ id: 'a' });
    expect(observed).toEqual([expect.objectContaining({ cacheHit: true, batchSize: 2, attempts: 0, ageMs: 1_500 })]);
    expect(counts.filter((c) => c === 'hit')).toHaveLength(2);
    expect(counts.filter((c) => c === 'miss')).toHaveLength(4);
  });

  it('never serves records mapped by another version of a source definition', async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const before = fakeConnector();
    await cache.lookup(before.connector, 'Thing', 'id', ['a']);
    await cache.lookup(before.connector, 'Thing', 'id', ['a']);
    expect(before.calls).toHaveLength(1);
    // The same source, registered anew with another mapping: its first lookup goes to the source.
    const after = fakeConnector({ cache: { ttlMs: 60_000 } });
    await cache.lookup(after.connector, 'Thing', 'id', ['a']);
    expect(after.calls).toEqual([['a']]);
    // An equal definition (another object, same content) shares the entries.
    const same = fakeConnector({ cache: { ttlMs: 60_000 } });
    await cache.lookup(same.connector, 'Thing', 'id', ['a']);
    expect(same.calls).toHaveLength(0);
  });

  it('100 concurrent identical cold lookups make one call per key', async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const { connector, calls, release } = fakeConnector({ gated: true });
    const pending = Array.from({ length: 100 }, () => cache.lookup(connector, 'Thing', 'id', ['k1', 'k2']));
    expect(calls).toEqual([['k1', 'k2']]);
    release();
    const results = await Promise.all(pending);
    expect(calls).toEqual([['k1', 'k2']]);
    for (const result of results) expect((result.get('k2') as CanonicalRecord[])[0]).toMatchObject({ id: 'k2', version: 1 });
  });

  it('expires values after their TTL (source policy over the default)', async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const { connector, calls } = fakeConnector({ cache: { ttlMs: 50, staleWhileRevalidateMs: 0 } });
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    clock.advance(50);
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    const again = await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(calls).toHaveLength(2);
    expect(version(again, 'a')).toBe(2);
  });

  it("keeps a master-data entity's answers for its crosswalks' cacheTtlMs, never stale while revalidating; 0 keeps nothing", async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const { connector, calls } = fakeConnector({ cache: { ttlMs: 10_000, staleWhileRevalidateMs: 10_000 }, crosswalkTtlMs: 100 });
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    clock.advance(100);
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(calls).toHaveLength(1);
    clock.advance(1);
    // Past cacheTtlMs: the source's stale-while-revalidate window does not serve it; the lookup waits for a new answer.
    const again = await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(calls).toHaveLength(2);
    expect(version(again, 'a')).toBe(2);

    const uncached = fakeConnector({ cache: { ttlMs: 10_000 }, crosswalkTtlMs: 0 });
    await cache.lookup(uncached.connector, 'Thing', 'id', ['a']);
    await cache.lookup(uncached.connector, 'Thing', 'id', ['a']);
    expect(uncached.calls).toEqual([['a'], ['a']]);
  });

  it('answers at once, without waiting on anything, when every key is fresh or served stale', async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const { connector, release } = fakeConnector({ gated: true, cache: { ttlMs: 30, staleWhileRevalidateMs: 5_000 } });
    const first = cache.lookup(connector, 'Thing', 'id', ['a']);
    release();
    await first;
    // Settled on the next turn of the microtask queue: nothing in between it could have waited for.
    const settledNow = async (answer: Promise<unknown>) => {
      let settled = false;
      void answer.then(() => (settled = true));
      await Promise.resolve();
      return settled;
    };
    expect(await settledNow(cache.lookup(connector, 'Thing', 'id', ['a']))).toBe(true);
    clock.advance(31);
    // Stale while the refresh is held in flight: answered all the same.
    expect(await settledNow(cache.lookup(connector, 'Thing', 'id', ['a']))).toBe(true);
    // A key never fetched waits for its call.
    expect(await settledNow(cache.lookup(connector, 'Thing', 'id', ['a', 'b']))).toBe(false);
    release();
  });

  it('serves a stale value at once within the stale-while-revalidate window, and refreshes it once in the background', async () => {
    const { metrics, counts } = counting();
    const cache = new UpstreamCache(defaults, { clock, metrics });
    const { connector, calls, release } = fakeConnector({ gated: true, cache: { ttlMs: 30, staleWhileRevalidateMs: 5_000 } });
    const first = cache.lookup(connector, 'Thing', 'id', ['a']);
    release();
    await first;
    clock.advance(50);
    const observed: UpstreamCall[] = [];
    // The refresh is held in flight: both lookups are answered with the stale value regardless.
    const [stale, alsoStale] = await Promise.all([
      cache.lookup(connector, 'Thing', 'id', ['a'], (call) => observed.push(call)),
      cache.lookup(connector, 'Thing', 'id', ['a']),
    ]);
    expect(version(stale, 'a')).toBe(1);
    expect(version(alsoStale, 'a')).toBe(1);
    expect(observed).toEqual([expect.objectContaining({ cacheHit: true, ageMs: 50 })]);
    expect(counts.filter((c) => c === 'stale')).toHaveLength(2);
    // One background refresh for both.
    expect(calls).toHaveLength(2);
    release();
    await cache.idle();
    const fresh = await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(version(fresh, 'a')).toBe(2);
    expect(calls).toHaveLength(2);
  });

  it('past both windows, a lookup waits for the source', async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const { connector, calls } = fakeConnector({ cache: { ttlMs: 30, staleWhileRevalidateMs: 100 } });
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    clock.advance(130);
    expect(version(await cache.lookup(connector, 'Thing', 'id', ['a']), 'a')).toBe(1);
    // The background refresh stored version 2; past its freshness and the window again, a lookup waits.
    await cache.idle();
    clock.advance(131);
    expect(version(await cache.lookup(connector, 'Thing', 'id', ['a']), 'a')).toBe(3);
    expect(calls).toHaveLength(3);
  });

  it('never stores a failure', async () => {
    let failing = true;
    const cache = new UpstreamCache(defaults, { clock });
    const { connector, calls } = fakeConnector({ fail: () => failing });
    const first = await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(first.get('a')).toBeInstanceOf(Error);
    failing = false;
    const second = await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(second.get('a')).toEqual([expect.objectContaining({ id: 'a' })]);
    expect(calls).toHaveLength(2);
  });

  it('serves a value past its freshness when the source fails, within staleIfErrorMs, and says so', async () => {
    let failing = false;
    const { metrics, counts } = counting();
    const cache = new UpstreamCache(defaults, { clock, metrics });
    const { connector, calls } = fakeConnector({ fail: () => failing, cache: { ttlMs: 30, staleWhileRevalidateMs: 0, staleIfErrorMs: 200 } });
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    clock.advance(60);
    failing = true;
    const observed: UpstreamCall[] = [];
    const rescued = await cache.lookup(connector, 'Thing', 'id', ['a', 'b'], (call) => observed.push(call));
    // The source was asked (and failed); the kept value answers, the value never fetched is the error.
    expect(calls).toEqual([['a'], ['a', 'b']]);
    expect((rescued.get('a') as CanonicalRecord[])[0]).toMatchObject({ id: 'a', version: 1 });
    expect(rescued.get('b')).toBeInstanceOf(Error);
    expect(observed).toEqual([expect.objectContaining({ cacheHit: true, staleIfError: true, batchSize: 1, ageMs: 60 })]);
    expect(counts).toContain('stale_if_error');
    // Still down: the value is kept for the next ask too, until the window ends.
    clock.advance(170);
    expect(version(await cache.lookup(connector, 'Thing', 'id', ['a']), 'a')).toBe(1);
    clock.advance(1);
    expect((await cache.lookup(connector, 'Thing', 'id', ['a'])).get('a')).toBeInstanceOf(Error);
  });

  it('stays within its byte bound under a flood of distinct keys, its tag index counted', async () => {
    const cache = new UpstreamCache({ ...defaults, maxBytes: 50_000 }, { clock });
    const { connector } = fakeConnector();
    await cache.lookup(connector, 'Thing', 'id', ['one']);
    // One entry: its key, its records and its two tags (the key's value, the record's id).
    const entryBytes = cache.bytes;
    const recordsBytes = 2 * JSON.stringify([{ id: 'one', version: 1, padding: 'x'.repeat(100) }]).length;
    expect(entryBytes).toBeGreaterThan(recordsBytes + 2 * 2 * 'one'.length + 64);
    for (let i = 0; i < 200; i++) {
      await cache.lookup(connector, 'Thing', 'id', Array.from({ length: 50 }, (_, j) => `key-${i}-${j}`));
      expect(cache.bytes).toBeLessThanOrEqual(50_000);
    }
    expect(cache.size).toBeGreaterThan(10);
    expect(cache.size).toBeLessThan(10_000);
  });

  it('invalidates every entry asked by, or holding, a value', async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const { connector, calls } = fakeConnector();
    await cache.lookup(connector, 'Thing', 'id', ['a', 'b']);
    expect(cache.invalidateValues(['a'])).toBe(1);
    await cache.lookup(connector, 'Thing', 'id', ['a', 'b']);
    expect(calls).toEqual([['a', 'b'], ['a']]);
  });

  it('an invalidation during a refresh answers the lookups waiting for it, and keeps nothing', async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const { connector, calls, release } = fakeConnector({ gated: true, cache: { ttlMs: 30 } });
    const first = cache.lookup(connector, 'Thing', 'id', ['a']);
    release();
    await first;
    clock.advance(31);
    const waiting = cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(cache.invalidateValues(['a'])).toBe(1);
    release();
    expect(version(await waiting, 'a')).toBe(2);
    const next = cache.lookup(connector, 'Thing', 'id', ['a']);
    release();
    expect(version(await next, 'a')).toBe(3);
    expect(calls).toHaveLength(3);
  });

  it("keeps a value no fresher than the source's Cache-Control says, and nothing on no-store", async () => {
    const cache = new UpstreamCache({ ...defaults, staleWhileRevalidateMs: 0 }, { clock });
    const short = fakeConnector({ maxAgeMs: 40 });
    await cache.lookup(short.connector, 'Thing', 'id', ['a']);
    clock.advance(40);
    await cache.lookup(short.connector, 'Thing', 'id', ['a']);
    expect(short.calls).toHaveLength(1);
    clock.advance(1);
    const refreshed = await cache.lookup(short.connector, 'Thing', 'id', ['a']);
    expect(short.calls).toHaveLength(2);
    // No stale-while-revalidate window: the lookup waited for the new value.
    expect(version(refreshed, 'a')).toBe(2);

    const none = fakeConnector({ maxAgeMs: 0 });
    const first = await cache.lookup(none.connector, 'Thing', 'id', ['b']);
    expect(first.get('b')).toEqual([expect.objectContaining({ id: 'b' })]);
    await cache.lookup(none.connector, 'Thing', 'id', ['b']);
    expect(none.calls).toHaveLength(2);
    expect(cache.size).toBe(1);
  });

  it('keeps nothing when a background refresh comes back no-store', async () => {
    const cache = new UpstreamCache(defaults, { clock });
    const options: Parameters<typeof fakeConnector>[0] = { cache: { ttlMs: 30, staleWhileRevalidateMs: 5_000 } };
    const { connector, calls } = fakeConnector(options);
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    clock.advance(31);
    options.maxAgeMs = 0;
    expect(version(await cache.lookup(connector, 'Thing', 'id', ['a']), 'a')).toBe(1);
    await cache.idle();
    expect(calls).toHaveLength(2);
    expect(cache.size).toBe(0);
    expect(version(await cache.lookup(connector, 'Thing', 'id', ['a']), 'a')).toBe(3);
  });

  it('takes what the shared tier holds fresh, for what is left of its freshness, and writes what the source answered', async () => {
    const { metrics, counts } = counting();
    const written: Array<{ key: string; entry: SharedEntry; ttlMs: number; tags: readonly string[] }> = [];
    // Another replica fetched `a` 20 s ago (wall clock, as replicas share it).
    const fetchedElsewhere = clock.wallNow() - 20_000;
    const shared: SharedTier = {
      getMany: async (keys) => keys.map((key) => (key.endsWith('\u0000a') ? { records: [{ id: 'a', version: 0 }], fetchedAt: fetchedElsewhere } : undefined)),
      setMany: async (entries) => void written.push(...entries),
      invalidate: async () => undefined,
      onInvalidate: () => undefined,
      close: async () => undefined,
    };
    const cache = new UpstreamCache({ ...defaults, staleIfErrorMs: 5_000 }, { clock, metrics, shared });
    const { connector, calls } = fakeConnector();
    const first = await cache.lookup(connector, 'Thing', 'id', ['a', 'b']);
    expect(calls).toEqual([['b']]);
    expect(version(first, 'a')).toBe(0);
    expect(counts).toEqual(['miss', 'miss', 'hit', 'miss']);
    expect(written).toEqual([expect.objectContaining({ entry: expect.objectContaining({ fetchedAt: clock.wallNow() }), ttlMs: 65_000, tags: expect.arrayContaining(['b']) })]);
    const observed: UpstreamCall[] = [];
    await cache.lookup(connector, 'Thing', 'id', ['a'], (call) => observed.push(call));
    expect(observed).toEqual([expect.objectContaining({ cacheHit: true, ageMs: 20_000 })]);
    // Fresh for the 40 s left of its 60, not for 60 more.
    clock.advance(40_000);
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(calls).toEqual([['b']]);
    clock.advance(1);
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(calls).toEqual([['b'], ['a']]);
  });
});

describe('Cache-Control', () => {
  it('reads max-age, s-maxage and the directives that keep nothing', () => {
    expect(maxAgeOf(undefined)).toBeUndefined();
    expect(maxAgeOf('public')).toBeUndefined();
    expect(maxAgeOf('public, max-age=30')).toBe(30_000);
    expect(maxAgeOf('s-maxage=5, max-age=30')).toBe(5_000);
    expect(maxAgeOf('max-age=30, s-maxage=5')).toBe(5_000);
    expect(maxAgeOf('no-store')).toBe(0);
    expect(maxAgeOf('private, max-age=60')).toBe(0);
  });
});
