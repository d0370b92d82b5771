/**
 * Hot responses: a combination asked often is answered whole from memory, with zero upstream
 * calls (counted at the sandboxes); one-off queries are not admitted (test/auth/authorization.test.ts shows
 * which callers share an answer); answers with errors are never stored.
 */
import baseConfig from '../../virtualization.config';
import { ResponseStore, ttlPerTypeOf } from '../../src/cache/response-cache';
import { compileCatalog } from '../../src/catalog/compile-catalog';
import { validateConfig } from '../../src/config/validate';
import type { FieldProvenance } from '../../src/federation/provenance';
import { EXPLAIN_HEADER, type FanoutEntry } from '../../src/server/explain';
import { startHarness, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const QUERY = baseConfig.examples![0]!.query;

const clock = new ManualClock();
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    cache: true,
    clock,
    configure: (config) => ({ ...config, cache: { upstream: { enabled: false }, responses: { admitAfter: 2, windowMs: 60_000, ttlMs: 60_000 } } }),
  });
});
afterAll(() => h?.close());

describe('hot responses', () => {
  it('serves a hot combination with zero upstream calls, once it was asked twice', async () => {
    h.server.responseCache.clear();
    const variables = { first: 4 };
    h.resetUpstream();
    const first = await h.query(QUERY, variables);
    expect(first.errors).toBeUndefined();
    const perAnswer = h.upstream().total;
    expect(perAnswer).toBeGreaterThan(0);
    await h.query(QUERY, variables);
    expect(h.upstream().total).toBe(2 * perAnswer);
    expect(h.server.responseCache.size).toBe(1);

    h.resetUpstream();
    const hot = await h.query(QUERY, variables);
    expect(h.upstream().total).toBe(0);
    expect(hot.data).toEqual(first.data);
    expect(hot.extensions?.responseCache).toMatchObject({ hit: true });
  });

  it('explains an answer served whole: one response-cache entry with its age, no upstream call', async () => {
    h.server.responseCache.clear();
    const variables = { first: 2 };
    await h.query(QUERY, variables);
    await h.query(QUERY, variables);
    clock.advance(30);
    h.resetUpstream();
    const hot = await h.query(QUERY, variables, { [EXPLAIN_HEADER]: '1' });
    expect(h.upstream().total).toBe(0);
    const fanout = hot.extensions!.fanout as FanoutEntry[];
    expect(fanout).toEqual([expect.objectContaining({ source: 'virtualize', route: 'response cache', cacheHit: true })]);
    expect(fanout[0]!.ageMs).toBe(30);
    const provenance = hot.extensions!.provenance as FieldProvenance[];
    expect(provenance.length).toBeGreaterThan(0);
    expect(provenance.every((field) => field.cachedAgeMs === fanout[0]!.ageMs)).toBe(true);
  });

  it('does not admit a query asked once', async () => {
    h.server.responseCache.clear();
    await h.query(QUERY, { first: 2 });
    expect(h.server.responseCache.size).toBe(0);
  });

  it('never stores an answer with errors, and stays within its byte bound', () => {
    const store = new ResponseStore({ enabled: true, maxBytes: 20_000, ttlMs: 60_000, admitAfter: 1, windowMs: 60_000 });
    expect(store.get('k')).toBeNull();
    store.set('k', { data: { customer: null }, errors: [{ message: 'source down' } as never] }, [], 60_000);
    expect(store.size).toBe(0);
    for (let i = 0; i < 2_000; i++) {
      store.get(`k${i}`);
      store.set(`k${i}`, { data: { customer: { id: `c-${i}`, name: 'n'.repeat(100) } } }, [{ typename: 'Customer', id: `c-${i}` }], 60_000);
      expect(store.bytes).toBeLessThanOrEqual(20_000);
    }
    expect(store.size).toBeGreaterThan(5);
    expect(store.drop([{ typename: 'Customer', id: 'c-1998' }, { typename: 'Order', id: 'c-1999' }])).toBe(1);
    expect(store.get('k1999')).not.toBeNull();
    expect(store.get('k1998')).toBeNull();
  });

  it('keeps a combination only once it was asked admitAfter times within the window', () => {
    const store = new ResponseStore({ enabled: true, maxBytes: 1_000_000, ttlMs: 60_000, admitAfter: 3, windowMs: 60_000 }, { clock });
    const answer = { data: { customer: { id: 'c' } } };
    for (let asked = 1; asked <= 3; asked++) {
      expect(store.get('k')).toBeNull();
      store.set('k', answer, [], 60_000);
      expect(store.size).toBe(asked === 3 ? 1 : 0);
    }
    clock.advance(1_000);
    expect(store.get('k')).toMatchObject({ data: answer.data, extensions: { responseCache: { hit: true, ageMs: 1_000 } } });
  });

  it('forgets asks older than the window, and drops an answer past its TTL', () => {
    const store = new ResponseStore({ enabled: true, maxBytes: 1_000_000, ttlMs: 60_000, admitAfter: 2, windowMs: 10_000 }, { clock });
    const answer = { data: { customer: { id: 'c' } } };
    expect(store.get('k')).toBeNull();
    clock.advance(10_000);
    // The first ask is out of the window: this one alone does not admit the answer.
    expect(store.get('k')).toBeNull();
    store.set('k', answer, [], 60_000);
    expect(store.size).toBe(0);
    expect(store.get('k')).toBeNull();
    store.set('k', answer, [], 30_000);
    expect(store.size).toBe(1);
    clock.advance(30_000);
    expect(store.get('k')).not.toBeNull();
    clock.advance(1);
    expect(store.get('k')).toBeNull();
  });

  it('keeps an answer no longer than the freshness declared for the types it shows', () => {
    const config = validateConfig({ ...baseConfig, cache: { responses: { ttlMs: 30_000 } } });
    // Tickets are fresh for 10 s at the desk, orders 15 s; customers 60 s, capped by the tier's 30 s.
    expect(ttlPerTypeOf(config.cache, compileCatalog(config))).toMatchObject({ Ticket: 10_000, Order: 15_000, Customer: 30_000 });
  });
});
