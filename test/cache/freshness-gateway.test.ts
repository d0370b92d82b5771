/**
 * Freshness through the gateway, counted at the sandboxes, on a clock the test moves: within the
 * TTL no call; past it but within the stale-while-revalidate window the stale answer comes at once
 * (explain says how old) and one background call refreshes it; past both, the answer waits for
 * the sources.
 */
import { EXPLAIN_HEADER, type FanoutEntry } from '../../src/server/explain';
import { data } from '../integration/ground-truth';
import { startHarness, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const QUERY = `query($id: ID!) { customer(id: $id) { id name } }`;
const TTL_MS = 60_000;
const STALE_WHILE_REVALIDATE_MS = 120_000;

const clock = new ManualClock();
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    cache: true,
    clock,
    configure: (config) => {
      config.sources.crm!.cache = { ttlMs: TTL_MS, staleWhileRevalidateMs: STALE_WHILE_REVALIDATE_MS };
      return { ...config, cache: { responses: { enabled: false } } };
    },
  });
});
afterAll(() => h?.close());

const fanoutOf = async (id: string) => (await h.query(QUERY, { id }, { [EXPLAIN_HEADER]: '1' })).extensions!.fanout as FanoutEntry[];

it('serves fresh, then stale while revalidating, then waits once both windows passed', async () => {
  const id = data.crm.contacts[11]!.Id;
  h.resetUpstream();
  await h.query(QUERY, { id });
  expect(h.upstream().total).toBe(1);

  clock.advance(TTL_MS);
  const fresh = await fanoutOf(id);
  expect(fresh).toEqual([expect.objectContaining({ source: 'crm', cacheHit: true, ageMs: TTL_MS })]);
  expect(h.upstream().total).toBe(1);

  clock.advance(1);
  const [hit] = await fanoutOf(id);
  expect(hit).toMatchObject({ source: 'crm', cacheHit: true, ageMs: TTL_MS + 1 });
  // The refresh went out in the background, once.
  await h.gateway.upstreamCache.idle();
  expect(h.upstream().total).toBe(2);
  clock.advance(10);
  expect(await fanoutOf(id)).toEqual([expect.objectContaining({ cacheHit: true, ageMs: 10 })]);
  expect(h.upstream().total).toBe(2);

  clock.advance(TTL_MS + STALE_WHILE_REVALIDATE_MS);
  const expired = await fanoutOf(id);
  expect(expired).toEqual([expect.objectContaining({ source: 'crm', cacheHit: false, attempts: 1 })]);
  expect(h.upstream().total).toBe(3);
});
