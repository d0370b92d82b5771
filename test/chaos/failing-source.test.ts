/**
 * The order system is up but answers 503 to everything. What the source sees is counted where it
 * lands: at most maxAttempts per call, nothing while the breaker is open, exactly one probe after
 * each open period; what the user sees is customers and tickets, with orders null and coded.
 */
import { ManualClock } from '../support/manual-clock';
import { CUSTOMER_360, expectNothingLeaked, FAST, startChaos, type Chaos, type Response360 } from './chaos';

const ORDERS = 'GET /api/orders';
const clock = new ManualClock();
let chaos: Chaos;
beforeAll(async () => {
  chaos = await startChaos({ gateway: { sourceClock: clock } });
  await chaos.h.sandboxes.orders.setKnobs({ errorRate: 1 });
});
afterAll(() => chaos.h.close());

async function query(): Promise<{ res: Response360; orderCalls: number }> {
  chaos.h.resetUpstream();
  const res: Response360 = await chaos.h.query(CUSTOMER_360);
  return { res, orderCalls: chaos.h.upstream().orders[ORDERS] ?? 0 };
}

it('makes maxAttempts attempts and no more; the answer keeps customers and tickets, orders null with SOURCE_UNAVAILABLE', async () => {
  const { res, orderCalls } = await query();
  expect(orderCalls).toBe(FAST.retry.maxAttempts);
  const failed = res.data!.customers.nodes.filter((node) => node.orders === null);
  expect(failed.length).toBeGreaterThan(0);
  for (const node of res.data!.customers.nodes) expect(node).toMatchObject({ name: expect.any(String), tickets: expect.any(Array) });
  for (const error of res.errors!) {
    expect(error.path?.join('.')).toMatch(/^customers\.nodes\.\d\.(orders|orderSummary)$/);
    expect(error.extensions).toEqual({ code: 'SOURCE_UNAVAILABLE', source: 'orders', route: 'GET /orders' });
    expect(error.message).toBe('Source orders failed (GET /orders answered 503 after 3 attempts)');
  }
  expectNothingLeaked(res);
});

it('opens the breaker at the fifth failed attempt in its window; while open the source sees nothing', async () => {
  const opening = await query();
  expect(opening.orderCalls).toBe(2); // attempts 4 and 5; the sixth is refused by the open breaker
  expect((await chaos.readiness()).sources.orders).toMatchObject({ state: 'failing', breaker: { state: 'open' }, lastError: { code: 'SOURCE_UNAVAILABLE' } });
  const metrics = await (await fetch(`${chaos.h.server.url}/metrics`)).text();
  expect(metrics).toMatch(/^virtualize_breaker_state\{source="orders"\} 2$/m);
  expect(metrics).toMatch(/^virtualize_breaker_state\{source="crm"\} 0$/m);
  for (let i = 0; i < 3; i += 1) {
    const { res, orderCalls } = await query();
    expect(orderCalls).toBe(0);
    expect(res.errors!.every((error) => error.message.includes('the circuit breaker of source orders is open'))).toBe(true);
  }
});

it('lets exactly one probe through after openMs; a failed probe opens it again', async () => {
  clock.advance(FAST.breaker.openMs - 1);
  expect((await query()).orderCalls).toBe(0);
  clock.advance(1);
  expect((await chaos.readiness()).sources.orders?.breaker?.state).toBe('halfOpen');
  const { orderCalls } = await query();
  expect(orderCalls).toBe(1);
  expect((await chaos.readiness()).sources.orders?.breaker?.state).toBe('open');
  expect((await query()).orderCalls).toBe(0);
});

it('recovers when the fault clears: the probe after openMs closes the breaker, the answer is complete', async () => {
  await chaos.h.sandboxes.orders.setKnobs({ errorRate: 0 });
  clock.advance(FAST.breaker.openMs);
  const { res, orderCalls } = await query();
  expect(orderCalls).toBe(1);
  expect(res.errors).toBeUndefined();
  expect((await chaos.readiness()).sources.orders).toMatchObject({ state: 'up', breaker: { state: 'closed' } });
});

it('leaves no unhandled rejection and no open socket', async () => {
  const { unhandledRejections, socketsOpen, socketsBefore } = await chaos.finish();
  expect(unhandledRejections).toEqual([]);
  expect(socketsOpen).toBeLessThanOrEqual(socketsBefore);
});
