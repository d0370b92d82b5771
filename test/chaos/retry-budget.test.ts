/**
 * What an outage costs the source: with every call failing, retries stay within the source's retry
 * budget (here 20% of the calls), instead of multiplying its load by maxAttempts. The breaker is
 * off here, so that only the budget is at work.
 */
import { CUSTOMER_360, FAST, startChaos, type Chaos } from './chaos';

const QUERY = CUSTOMER_360.replace('first: 3', 'first: 40');
const TICKETS = 'GET /api/v2/tickets';
let chaos: Chaos;
beforeAll(async () => {
  chaos = await startChaos({
    limits: { support: { ...FAST, breaker: false, retry: { ...FAST.retry, budget: { ratio: 0.2, minPerSecond: 0, windowMs: 10_000 } } } },
  });
});
afterAll(() => chaos.h.close());

it('adds at most ratio x calls in retries when every call fails', async () => {
  // One healthy page first: its 40 calls count in the budget's window, as real traffic would.
  expect((await chaos.h.query(QUERY)).errors).toBeUndefined();
  await chaos.h.sandboxes.support.setKnobs({ errorRate: 1 });
  chaos.h.resetUpstream();
  const res = await chaos.h.query(QUERY);
  const sent = chaos.h.upstream().support[TICKETS] ?? 0;
  // 40 calls: without a budget 120 requests (3 attempts each); within it at most 0.2 x 80 calls in the window.
  expect(sent).toBeGreaterThanOrEqual(40);
  expect(sent).toBeLessThanOrEqual(40 + 0.2 * 80);
  expect(res.errors!.some((error) => error.message.includes('not retried: the retry budget of the source is spent'))).toBe(true);
});

it('leaves no unhandled rejection and no open socket', async () => {
  const { unhandledRejections, socketsOpen, socketsBefore } = await chaos.finish();
  expect(unhandledRejections).toEqual([]);
  expect(socketsOpen).toBeLessThanOrEqual(socketsBefore);
});
