/**
 * Invalidation by webhook: a signed change notification from a source drops everything cached
 * about the customer it names, in all three systems, so the next customer 360 shows the change.
 * A forged, replayed or late delivery is refused (or applied once) and changes nothing.
 */
import { signedDelivery, type WebhookTarget } from '../../sources/sandbox';
import { data, orderRefsOf } from '../integration/ground-truth';
import { startHarness, type Harness } from '../support/harness';

const SECRET = 'test-webhook-secret';
const CUSTOMER_360 = `query($id: ID!) { customer(id: $id) { id email orders(first: 100) { number } orderSummary { count } tickets { subject } } }`;
type Answer = { customer: { orders: Array<{ number: string }>; orderSummary: { count: number } } };

const target: WebhookTarget = { secret: SECRET };
let h: Harness;
const customer = data.crm.contacts.find((contact) => orderRefsOf(contact.Id).length === 1)!;
const ref = orderRefsOf(customer.Id)[0]!;

beforeAll(async () => {
  h = await startHarness({
    cache: true,
    webhooks: { orders: target },
    env: { ORDERS_WEBHOOK_SECRET: SECRET },
    configure: (config) => ({
      ...config,
      cache: { upstream: { ttlMs: 600_000 }, responses: { admitAfter: 1, ttlMs: 600_000 }, webhooks: { secrets: { orders: { env: 'ORDERS_WEBHOOK_SECRET' } } } },
    }),
  });
  target.url = `${h.server.url}/webhooks/orders`;
});
afterAll(() => h?.close());

async function deliver(body: string, signature: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${h.server.url}/webhooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-virtualize-signature': signature }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Asks twice (so the answer is cached in both tiers) and checks that a third ask costs no call. */
async function warm(): Promise<Answer> {
  await h.query(CUSTOMER_360, { id: customer.Id });
  const answer = await h.query<Answer>(CUSTOMER_360, { id: customer.Id });
  h.resetUpstream();
  await h.query(CUSTOMER_360, { id: customer.Id });
  expect(h.upstream().total).toBe(0);
  return answer.data!;
}

async function callsOfNextAsk(): Promise<number> {
  h.resetUpstream();
  await h.query(CUSTOMER_360, { id: customer.Id });
  return h.upstream().total;
}

const notice = { type: 'order.created', entity: 'Order', field: 'customerRef', key: String(ref) };

describe('webhook invalidation', () => {
  it('an order created in the order system shows in the next customer 360', async () => {
    const before = await warm();
    const created = await fetch(`${h.sandboxes.orders.url}/api/orders`, { method: 'POST', body: JSON.stringify({ customer_ref: ref }) });
    expect(created.status).toBe(201);
    const order = (await created.json()) as { number: string };
    const deadline = Date.now() + 5_000;
    while (!h.logs.app.entries().some((line) => line.msg === 'webhook applied') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    h.resetUpstream();
    const after = await h.query<Answer>(CUSTOMER_360, { id: customer.Id });
    const calls = h.upstream();
    // All three systems are asked again: the customer was invalidated everywhere.
    expect(Object.keys(calls.crm).length).toBeGreaterThan(0);
    expect(Object.keys(calls.orders).length).toBeGreaterThan(0);
    expect(Object.keys(calls.support).length).toBeGreaterThan(0);
    expect(after.data!.customer.orderSummary.count).toBe(before.customer.orderSummary.count + 1);
    expect(after.data!.customer.orders.map((o) => o.number)).toContain(order.number);
  });

  it('a forged signature is refused with 401, logged, and changes nothing', async () => {
    await warm();
    const { body } = signedDelivery(SECRET, notice);
    const forged = signedDelivery('not-the-secret', notice);
    expect((await deliver(body, forged.signature)).status).toBe(401);
    expect((await deliver(body, 'sha256=')).status).toBe(401);
    expect(h.logs.app.entries().filter((line) => line.msg === 'webhook refused').length).toBeGreaterThanOrEqual(2);
    expect(await callsOfNextAsk()).toBe(0);
  });

  it('a late delivery is refused and changes nothing', async () => {
    await warm();
    const late = signedDelivery(SECRET, notice, 'late-1', Date.now() - 60 * 60_000);
    expect((await deliver(late.body, late.signature)).status).toBe(401);
    expect(await callsOfNextAsk()).toBe(0);
  });

  it('a replayed delivery is applied once', async () => {
    await warm();
    const delivery = signedDelivery(SECRET, notice, 'replayed-1');
    expect((await deliver(delivery.body, delivery.signature)).status).toBe(202);
    expect(await callsOfNextAsk()).toBeGreaterThan(0);
    await warm();
    expect(await deliver(delivery.body, delivery.signature)).toEqual({ status: 200, body: { status: 'duplicate' } });
    expect(await callsOfNextAsk()).toBe(0);
  });
});
