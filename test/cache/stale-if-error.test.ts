/**
 * Stale but labelled: when the order system is down, a customer 360 whose orders were fetched a
 * while ago answers with those orders (no error), says how old they are in `extensions.stale`,
 * and is never kept as a hot answer; past `staleIfErrorMs` the outage shows as the usual error.
 * Time is the cache tiers' manual clock, moved by the test.
 */
import { EXPLAIN_HEADER, type FanoutEntry } from '../../src/server/explain';
import type { StaleServed } from '../../src/server/stale-label';
import { data, orderRefsOf } from '../integration/ground-truth';
import { startHarness, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const QUERY = `query($id: ID!) { customer(id: $id) { id name orders(first: 5) { number } orderSummary { count } } }`;
type Answer = { customer: { orders: Array<{ number: string }> | null; orderSummary: { count: number } | null } };
// Short on purpose: the manual clock then stays behind the process clock, and the fan-out's order
// (the failed call, then the cache's answer) shows that cache entries sit on the process timeline.
const TTL_MS = 1;
const STALE_IF_ERROR_MS = 300_000;
const customer = data.crm.contacts.find((contact) => orderRefsOf(contact.Id).length === 1)!;

const clock = new ManualClock();
let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    cache: true,
    clock,
    configure: (config) => {
      config.sources.orders!.entities.Order!.cache = { ttlMs: TTL_MS, staleWhileRevalidateMs: 0, staleIfErrorMs: STALE_IF_ERROR_MS };
      config.sources.orders!.limits = { ...config.sources.orders!.limits, retry: { maxAttempts: 1 } };
      return { ...config, cache: { responses: { admitAfter: 1, ttlMs: 60_000 } } };
    },
  });
});
afterAll(async () => {
  await h?.sandboxes.orders.setKnobs({ outageMs: 0 });
  await h?.close();
});

it('answers with the orders kept past their freshness while the order system is down, labelled, and never stores that answer', async () => {
  const before = await h.query<Answer>(QUERY, { id: customer.Id });
  expect(before.errors).toBeUndefined();
  expect(before.extensions?.stale).toBeUndefined();
  await h.sandboxes.orders.setKnobs({ outageMs: 60_000 });
  clock.advance(TTL_MS + 1);
  h.server.responseCache.clear();

  const during = await h.query<Answer>(QUERY, { id: customer.Id }, { [EXPLAIN_HEADER]: '1' });
  expect(during.errors).toBeUndefined();
  expect(during.data).toEqual(before.data);
  // The order system was asked (and failed) before the kept orders answered.
  const orders = (during.extensions!.fanout as FanoutEntry[]).filter((call) => call.source === 'orders');
  expect(orders).toEqual([expect.objectContaining({ cacheHit: false, status: 'error' }), expect.objectContaining({ cacheHit: true, route: 'cache Order.customerRef' })]);
  const stale = during.extensions!.stale as StaleServed[];
  expect(stale).toEqual([expect.objectContaining({ source: 'orders', route: 'cache Order.customerRef', keys: 1 })]);
  expect(stale[0]!.ageMs).toBe(TTL_MS + 1);
  // A labelled answer is not kept: the next ask is computed again (and labelled again).
  expect(h.server.responseCache.size).toBe(0);
  const again = await h.query<Answer>(QUERY, { id: customer.Id });
  expect(again.extensions?.responseCache).toBeUndefined();
  expect(again.extensions?.stale).toBeDefined();

  clock.advance(STALE_IF_ERROR_MS);
  const late = await h.query<Answer>(QUERY, { id: customer.Id });
  expect(late.data!.customer.orders).toBeNull();
  expect(late.errors?.[0]?.extensions?.code).toMatch(/^SOURCE_/);
  expect(late.extensions?.stale).toBeUndefined();
});
