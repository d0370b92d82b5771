/**
 * The order system is slow: past its timeout before it answers, or trickling its body past it.
 * Each attempt is cut at the timeout; a silent source is retried up to maxAttempts, an answer that
 * began is not repeated; the user gets customers and tickets with orders null and SOURCE_TIMEOUT.
 */
import type { UpstreamCall } from '../../src/connectors/upstream-call';
import { CUSTOMER_360, FAST, startChaos, type Chaos, type Response360 } from './chaos';

const ORDERS = 'GET /api/orders';
const TIMEOUT_MS = 300;
const calls: UpstreamCall[] = [];
let chaos: Chaos;
beforeAll(async () => {
  chaos = await startChaos({ limits: { orders: { ...FAST, timeoutMs: TIMEOUT_MS } }, gateway: { observe: (call) => calls.push(call) } });
});
afterAll(() => chaos.h.close());

/** The answer, the requests the order system saw, and the order calls as the gateway reports them. */
async function query(): Promise<{ res: Response360; orderCalls: number; reported: UpstreamCall[] }> {
  chaos.h.resetUpstream();
  calls.length = 0;
  const res: Response360 = await chaos.h.query(CUSTOMER_360);
  return { res, orderCalls: chaos.h.upstream().orders[ORDERS] ?? 0, reported: calls.filter((call) => call.source === 'orders') };
}

function expectTimedOut(res: Response360, message: string): void {
  expect(res.data!.customers.nodes.every((node) => typeof node.name === 'string' && Array.isArray(node.tickets))).toBe(true);
  expect(res.data!.customers.nodes.some((node) => node.orders === null)).toBe(true);
  for (const error of res.errors!) {
    expect(error.extensions).toEqual({ code: 'SOURCE_TIMEOUT', source: 'orders', route: 'GET /orders' });
    expect(error.message).toBe(message);
  }
}

it('cuts each attempt of a source slower than its timeout, retries it, and answers without its data', async () => {
  await chaos.h.sandboxes.orders.setKnobs({ latencyMs: 2 * TIMEOUT_MS });
  const { res, orderCalls, reported } = await query();
  expect(orderCalls).toBe(FAST.retry.maxAttempts);
  expectTimedOut(res, 'Source orders did not answer within 300 ms (GET /orders after 3 attempts)');
  // One call, its three attempts each cut by the timeout (none waited out the source's 600 ms and answered).
  expect(reported.map(({ attempts, status }) => ({ attempts, status }))).toEqual([{ attempts: FAST.retry.maxAttempts, status: 'error' }]);
});

it('cuts a body that trickles past the timeout, and does not repeat an answer that had begun', async () => {
  await chaos.h.sandboxes.orders.setKnobs({ latencyMs: 0, slowBodyMs: 3 * TIMEOUT_MS });
  const { res, orderCalls } = await query();
  expect(orderCalls).toBe(1);
  expectTimedOut(res, 'Source orders did not finish its answer within 300 ms (GET /orders)');
});

it('serves through latency spikes that stay within the timeout, and recovers when the source is fast again', async () => {
  await chaos.h.sandboxes.orders.setKnobs({ slowBodyMs: 0, spikeRate: 1, spikeMs: TIMEOUT_MS / 3 });
  expect((await query()).res.errors).toBeUndefined();
  await chaos.h.sandboxes.orders.setKnobs({ spikeRate: 0 });
  const { res, orderCalls } = await query();
  expect(res.errors).toBeUndefined();
  expect(orderCalls).toBe(1);
});

it('leaves no unhandled rejection and no open socket', async () => {
  const { unhandledRejections, socketsOpen, socketsBefore } = await chaos.finish();
  expect(unhandledRejections).toEqual([]);
  expect(socketsOpen).toBeLessThanOrEqual(socketsBefore);
});
