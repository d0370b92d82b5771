import { UpstreamCache } from '../../src/cache/upstream-cache';
import type { CacheDefinition, SourceDefinition } from '../../src/config/definition';
import { maxAgeOf } from '../../src/connectors/cache-control';
import type { UpstreamCall } from '../../src/connectors/upstream-call';
import type { CanonicalRecord } from '../../src/connectors/record-mapper';
import type { SourceConnector } from '../../src/connectors/source-connector';

const defaults: CacheDefinition['upstream'] = { enabled: true, maxBytes: 1_000_000, ttlMs: 60_000, staleWhileRevalidateMs: 0, staleIfErrorMs: 0 };

/** A connector that answers `{ id: value }` for each value after `delayMs`, and records every call. */
function fakeConnector(options: { delayMs?: number; fail?: (value: string) => boolean; cache?: SourceDefinition['cache']; maxAgeMs?: number } = {}) {
  const calls: string[][] = [];
  let version = 0;
  const connector = {
    name: 'fake',
    definition: { entities: { Thing: {} }, cache: options.cache } as unknown as SourceDefinition,
    async lookup(_entity: string, _field: string, values: readonly string[], _observe: unknown, _normalize: unknown, onMaxAge?: (values: readonly string[], maxAgeMs: number) => void) {
      calls.push([...values]);
      if (options.maxAgeMs !== undefined) onMaxAge?.(values, options.maxAgeMs);
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      version += 1;
      return new Map<string, CanonicalRecord[] | Error>(
        values.map((value) => [value, options.fail?.(value) ? new Error(`failed ${value}`) : [{ id: value, version, padding: 'x'.repeat(100) }]]),
      );
    },
  } as unknown as SourceConnector;
  return { connector, calls };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('upstream-call cache', () => {
  it('serves cached keys without a call and batches only the missing ones', async () => {
    const counts: string[] = [];
    const cache = new UpstreamCache(defaults, (_tier, result, n = 1) => counts.push(...Array<string>(n).fill(result)));
    const { connector, calls } = fakeConnector();
    await cache.lookup(connector, 'Thing', 'id', ['a', 'b']);
    const observed: UpstreamCall[] = [];
    const result = await cache.lookup(connector, 'Thing', 'id', ['a', 'b', 'c', 'd'], (call) => observed.push(call));
    expect(calls).toEqual([['a', 'b'], ['c', 'd']]);
    expect([...result.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect((result.get('a') as CanonicalRecord[])[0]).toMatchObject({ id: 'a' });
    expect(observed).toEqual([expect.objectContaining({ cacheHit: true, batchSize: 2, attempts: 0 })]);
    expect(counts.filter((c) => c === 'hit')).toHaveLength(2);
    expect(counts.filter((c) => c === 'miss')).toHaveLength(4);
  });

  it('never serves records mapped by another version of a source definition', async () => {
    const cache = new UpstreamCache(defaults);
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
    const cache = new UpstreamCache(defaults);
    const { connector, calls } = fakeConnector({ delayMs: 30 });
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.lookup(connector, 'Thing', 'id', ['k1', 'k2'])));
    expect(calls).toEqual([['k1', 'k2']]);
    for (const result of results) expect((result.get('k2') as CanonicalRecord[])[0]).toMatchObject({ id: 'k2', version: 1 });
  });

  it('expires values after their TTL (source policy over the default)', async () => {
    const cache = new UpstreamCache(defaults);
    const { connector, calls } = fakeConnector({ cache: { ttlMs: 50, staleWhileRevalidateMs: 0 } });
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(calls).toHaveLength(1);
    await sleep(80);
    const again = await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect(calls).toHaveLength(2);
    expect((again.get('a') as CanonicalRecord[])[0]).toMatchObject({ version: 2 });
  });

  it('serves a stale value at once within the stale-while-revalidate window, and refreshes it once in the background', async () => {
    const counts: string[] = [];
    const cache = new UpstreamCache(defaults, (_tier, result) => counts.push(result));
    const { connector, calls } = fakeConnector({ delayMs: 20, cache: { ttlMs: 30, staleWhileRevalidateMs: 5_000 } });
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    await sleep(50);
    const observed: UpstreamCall[] = [];
    const started = performance.now();
    const [stale, alsoStale] = await Promise.all([
      cache.lookup(connector, 'Thing', 'id', ['a'], (call) => observed.push(call)),
      cache.lookup(connector, 'Thing', 'id', ['a']),
    ]);
    expect(performance.now() - started).toBeLessThan(15);
    expect((stale.get('a') as CanonicalRecord[])[0]).toMatchObject({ version: 1 });
    expect((alsoStale.get('a') as CanonicalRecord[])[0]).toMatchObject({ version: 1 });
    expect(observed[0]).toMatchObject({ cacheHit: true });
    expect(observed[0]!.ageMs).toBeGreaterThanOrEqual(45);
    expect(counts).toContain('stale');
    await sleep(40);
    expect(calls).toHaveLength(2);
    const fresh = await cache.lookup(connector, 'Thing', 'id', ['a']);
    expect((fresh.get('a') as CanonicalRecord[])[0]).toMatchObject({ version: 2 });
    expect(calls).toHaveLength(2);
  });

  it('never stores a failure', async () => {
    let failing = true;
    const cache = new UpstreamCache(defaults);
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
    const counts: string[] = [];
    const cache = new UpstreamCache(defaults, (_tier, result, n = 1) => counts.push(...Array<string>(n).fill(result)));
    const { connector, calls } = fakeConnector({ fail: () => failing, cache: { ttlMs: 30, staleWhileRevalidateMs: 0, staleIfErrorMs: 200 } });
    await cache.lookup(connector, 'Thing', 'id', ['a']);
    await sleep(60);
    failing = true;
    const observed: UpstreamCall[] = [];
    const rescued = await cache.lookup(connector, 'Thing', 'id', ['a', 'b'], (call) => observed.push(call));
    // The source was asked (and failed); the kept value answers, the value never fetched is the error.
    expect(calls).toEqual([['a'], ['a', 'b']]);
    expect((rescued.get('a') as CanonicalRecord[])[0]).toMatchObject({ id: 'a', version: 1 });
    expect(rescued.get('b')).toBeInstanceOf(Error);
    expect(observed).toEqual([expect.objectContaining({ cacheHit: true, staleIfError: true, batchSize: 1 })]);
    expect(observed[0]!.ageMs).toBeGreaterThanOrEqual(55);
    expect(counts).toContain('stale_if_error');
    // Still down: the value is kept for the next ask too, until the window ends.
    expect(((await cache.lookup(connector, 'Thing', 'id', ['a'])).get('a') as CanonicalRecord[])[0]).toMatchObject({ version: 1 });
    await sleep(200);
    expect((await cache.lookup(connector, 'Thing', 'id', ['a'])).get('a')).toBeInstanceOf(Error);
  });

  it('stays within its byte bound under a flood of distinct keys', async () => {
    const cache = new UpstreamCache({ ...defaults, maxBytes: 50_000 });
    const { connector } = fakeConnector();
    for (let i = 0; i < 200; i++) {
      await cache.lookup(connector, 'Thing', 'id', Array.from({ length: 50 }, (_, j) => `key-${i}-${j}`));
      expect(cache.bytes).toBeLessThanOrEqual(50_000);
    }
    expect(cache.size).toBeGreaterThan(10);
    expect(cache.size).toBeLessThan(10_000);
  });

  it('invalidates every entry asked by, or holding, a value', async () => {
    const cache = new UpstreamCache(defaults);
    const { connector, calls } = fakeConnector();
    await cache.lookup(connector, 'Thing', 'id', ['a', 'b']);
    expect(cache.invalidateValues(['a'])).toBe(1);
    await cache.lookup(connector, 'Thing', 'id', ['a', 'b']);
    expect(calls).toEqual([['a', 'b'], ['a']]);
  });

  it("keeps a value no fresher than the source's Cache-Control says, and nothing on no-store", async () => {
    const cache = new UpstreamCache({ ...defaults, staleWhileRevalidateMs: 0 });
    const short = fakeConnector({ maxAgeMs: 40 });
    await cache.lookup(short.connector, 'Thing', 'id', ['a']);
    await cache.lookup(short.connector, 'Thing', 'id', ['a']);
    expect(short.calls).toHaveLength(1);
    await sleep(60);
    const refreshed = await cache.lookup(short.connector, 'Thing', 'id', ['a']);
    expect(short.calls).toHaveLength(2);
    // No stale-while-revalidate window: the lookup waited for the new value.
    expect((refreshed.get('a') as CanonicalRecord[])[0]).toMatchObject({ version: 2 });

    const none = fakeConnector({ maxAgeMs: 0 });
    const first = await cache.lookup(none.connector, 'Thing', 'id', ['b']);
    expect(first.get('b')).toEqual([expect.objectContaining({ id: 'b' })]);
    await sleep(5);
    await cache.lookup(none.connector, 'Thing', 'id', ['b']);
    expect(none.calls).toHaveLength(2);
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
