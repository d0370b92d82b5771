/**
 * Freshness through the gateway, counted at the sandboxes: within the TTL no call; past it but
 * within the stale-while-revalidate window the stale answer comes at once (explain says how old)
 * and one background call refreshes it; past both, the answer waits for the sources.
 */
import { EXPLAIN_HEADER, type FanoutEntry } from '../../src/server/explain';
import { data } from '../integration/ground-truth';
import { startHarness, type Harness } from '../support/harness';

const QUERY = `query($id: ID!) { customer(id: $id) { id name } }`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    cache: true,
    configure: (config) => {
      config.sources.crm!.cache = { ttlMs: 150, staleWhileRevalidateMs: 400 };
      return { ...config, cache: { responses: { enabled: false } } };
    },
  });
});
afterAll(() => h?.close());

it('serves fresh, then stale while revalidating, then waits once both windows passed', async () => {
  const id = data.crm.contacts[11]!.Id;
  h.resetUpstream();
  await h.query(QUERY, { id });
  expect(h.upstream().total).toBe(1);

  await h.query(QUERY, { id });
  expect(h.upstream().total).toBe(1);

  await sleep(200);
  const stale = await h.query(QUERY, { id }, { [EXPLAIN_HEADER]: '1' });
  const [hit] = stale.extensions!.fanout as FanoutEntry[];
  expect(hit).toMatchObject({ source: 'crm', cacheHit: true });
  expect(hit!.ageMs).toBeGreaterThanOrEqual(150);
  // The refresh went out in the background.
  const deadline = Date.now() + 2_000;
  while (h.upstream().total < 2 && Date.now() < deadline) await sleep(10);
  expect(h.upstream().total).toBe(2);
  const fresh = await h.query(QUERY, { id }, { [EXPLAIN_HEADER]: '1' });
  expect((fresh.extensions!.fanout as FanoutEntry[])[0]!.ageMs).toBeLessThan(150);
  expect(h.upstream().total).toBe(2);

  await sleep(700);
  const expired = await h.query(QUERY, { id }, { [EXPLAIN_HEADER]: '1' });
  expect((expired.extensions!.fanout as FanoutEntry[])[0]).toMatchObject({ cacheHit: false, attempts: 1 });
  expect(h.upstream().total).toBe(3);
});
