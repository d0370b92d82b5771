/**
 * Invalidation by webhook: a signed change notification from a source drops everything cached
 * about the customer it names, in all three systems, so the next customer 360 shows the change.
 * A forged, replayed or late delivery is refused (or applied once) and changes nothing.
 */
import { createHmac } from 'node:crypto';
import { SANDBOX_CREDENTIALS, TOKEN_PATH, signedDelivery, type WebhookTarget } from '../../sources/sandbox';
import { data, orderRefsOf } from '../integration/ground-truth';
import { startHarness, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const SECRET = 'test-webhook-secret';
const CUSTOMER_360 = `query($id: ID!) { customer(id: $id) { id name email orders(first: 100) { number } orderSummary { count } tickets { id subject } } }`;
type Answer = { customer: { name: string; orders: Array<{ number: string }>; orderSummary: { count: number }; tickets: Array<{ id: string; subject: string }> } };

const target: WebhookTarget = { secret: SECRET };
const crmTarget: WebhookTarget = { secret: 'crm-secret' };
const supportTarget: WebhookTarget = { secret: 'support-secret' };
let h: Harness;
const customer = data.crm.contacts.find(
  (contact) => orderRefsOf(contact.Id).length === 1 && data.support.tickets.some((ticket) => ticket.requester.email.trim().toLowerCase() === contact.Email.trim().toLowerCase()),
)!;
const ref = orderRefsOf(customer.Id)[0]!;

beforeAll(async () => {
  h = await startHarness({
    cache: true,
    webhooks: { orders: target, crm: crmTarget, support: supportTarget },
    env: { ORDERS_WEBHOOK_SECRET: SECRET },
    configure: (config) => ({
      ...config,
      cache: { upstream: { ttlMs: 600_000 }, responses: { admitAfter: 1, ttlMs: 600_000 }, // Each event resolves its records itself: these tests send the same record again and
      // again on the process's clock, and coalescing (test/cache/webhook-flood.test.ts) would let
      // one test's resolution answer the next within cache.webhooks.coalesceMs.
      webhooks: { coalesceMs: 0, secrets: { orders: { env: 'ORDERS_WEBHOOK_SECRET' }, crm: 'crm-secret', support: 'support-secret' } } },
    }),
  });
  target.url = `${h.server.url}/webhooks/orders`;
  crmTarget.url = `${h.server.url}/webhooks/crm`;
  supportTarget.url = `${h.server.url}/webhooks/support`;
});
afterAll(() => h?.close());

async function deliver(body: string, signature: string, to: Harness = h): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${to.server.url}/webhooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-virtualize-signature': signature }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The codes of a refusal body, `{ errors: [{ message, extensions: { code } }] }`. */
function codesOf(body: unknown): unknown[] {
  return ((body as { errors?: Array<{ extensions?: { code?: unknown } }> }).errors ?? []).map((error) => error.extensions?.code);
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

/** Resolves once the gateway has logged `count` applied webhooks. */
function applied(count: number): Promise<void> {
  return h.logs.app.when((entries) => entries.filter((line) => line.msg === 'webhook applied').length >= count);
}
const appliedSoFar = () => h.logs.app.entries().filter((line) => line.msg === 'webhook applied').length;

const notice = { type: 'order.created', entity: 'Order', field: 'customerRef', key: String(ref) };

describe('webhook invalidation', () => {
  it('an order created in the order system shows in the next customer 360', async () => {
    const before = await warm();
    const created = await fetch(`${h.sandboxes.orders.url}/api/orders`, { method: 'POST', body: JSON.stringify({ customer_ref: ref }) });
    expect(created.status).toBe(201);
    const order = (await created.json()) as { number: string };
    await applied(1);
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
    for (const signature of [forged.signature, 'sha256=']) {
      const refused = await deliver(body, signature);
      expect(refused.status).toBe(401);
      expect(codesOf(refused.body)).toEqual(['WEBHOOK_SIGNATURE_INVALID']);
    }
    expect(h.logs.app.entries().filter((line) => line.msg === 'webhook refused').length).toBeGreaterThanOrEqual(2);
    expect(await callsOfNextAsk()).toBe(0);
  });

  it('a late delivery is refused and changes nothing', async () => {
    await warm();
    const late = signedDelivery(SECRET, notice, 'late-1', Date.now() - 60 * 60_000);
    const refused = await deliver(late.body, late.signature);
    expect(refused.status).toBe(401);
    expect(codesOf(refused.body)).toEqual(['WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE']);
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

  it('a ticket updated at the support desk shows in the next customer 360', async () => {
    const before = await warm();
    const ticket = before.customer.tickets[0]!;
    const token = (await (
      await fetch(`${h.sandboxes.support.url}${TOKEN_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=${SANDBOX_CREDENTIALS.support.clientId}&client_secret=${SANDBOX_CREDENTIALS.support.clientSecret}`,
      })
    ).json()) as { access_token: string };
    const count = appliedSoFar();
    const patched = await fetch(`${h.sandboxes.support.url}/api/v2/tickets/${ticket.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${token.access_token}` },
      body: JSON.stringify({ ticket: { subject: 'Changed at the desk' } }),
    });
    expect(patched.status).toBe(200);
    await applied(count + 1);
    const after = await h.query<Answer>(CUSTOMER_360, { id: customer.Id });
    expect(after.data!.customer.tickets.find((t) => t.id === ticket.id)?.subject).toBe('Changed at the desk');
  });

  it('a customer updated in the CRM shows in the next customer 360', async () => {
    await warm();
    const count = appliedSoFar();
    const patched = await fetch(`${h.sandboxes.crm.url}/services/data/v58.0/sobjects/Contact/${customer.Id}`, {
      method: 'PATCH',
      headers: { [SANDBOX_CREDENTIALS.crm.header]: SANDBOX_CREDENTIALS.crm.apiKey },
      body: JSON.stringify({ Name: 'Renamed Customer' }),
    });
    expect(patched.status).toBe(204);
    await applied(count + 1);
    const after = await h.query<Answer>(CUSTOMER_360, { id: customer.Id });
    expect(after.data!.customer.name).toContain('Renamed');
  });

  it('answers 404 for a source without a webhook secret, and 400 for a signed body that is no event or no JSON', async () => {
    const response = await fetch(`${h.server.url}/webhooks/nowhere`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
    expect(codesOf(await response.json())).toEqual(['NOT_FOUND']);
    for (const body of ['{"hello":"world"}', 'not json']) {
      const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
      const refused = await deliver(body, signature);
      expect(refused.status).toBe(400);
      expect(codesOf(refused.body)).toEqual(['WEBHOOK_EVENT_INVALID']);
    }
  });

  it('answers 413 REQUEST_TOO_LARGE for a body longer than a webhook reads', async () => {
    const body = JSON.stringify({ ...notice, id: 'large-1', occurredAt: Date.now(), padding: 'x'.repeat(64 * 1024) });
    const refused = await deliver(body, `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
    expect(refused.status).toBe(413);
    expect(codesOf(refused.body)).toEqual(['REQUEST_TOO_LARGE']);
    // Without a declared length (chunked), the body is read no further than the limit, and refused the same way.
    const chunked = await fetch(`${h.server.url}/webhooks/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([body]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(codesOf(await chunked.json())).toEqual(['REQUEST_TOO_LARGE']);
  });

  it('drops a cached answer that names the customer only in its arguments', async () => {
    const query = `{ customer(id: "${customer.Id}") { name } }`;
    h.server.responseCache.clear();
    await h.query(query);
    await h.query(query);
    // The tier asks for the id of every entity an answer shows, and indexes the answer by it.
    expect(h.server.responseCache.drop([{ typename: 'Customer', id: customer.Id }])).toBe(1);
  });
});

describe('webhook timestamp tolerance, on a clock the test moves', () => {
  const TOLERANCE_MS = 30_000;
  const clock = new ManualClock();
  let timed: Harness;
  beforeAll(async () => {
    // A gateway of its own: the sandboxes above sign their notices with the process's clock.
    timed = await startHarness({
      cache: true,
      clock,
      env: { ORDERS_WEBHOOK_SECRET: SECRET },
      configure: (config) => ({ ...config, cache: { webhooks: { toleranceMs: TOLERANCE_MS, secrets: { orders: { env: 'ORDERS_WEBHOOK_SECRET' } } } } }),
    });
  });
  afterAll(() => timed?.close());

  const refused = {
    status: 401,
    body: { errors: [{ message: expect.stringContaining(`${TOLERANCE_MS} ms`), extensions: { code: 'WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE', source: 'orders' } }] },
  };

  it('accepts an event exactly the tolerance old and refuses one a millisecond older', async () => {
    const occurredAt = clock.wallNow();
    const atEdge = signedDelivery(SECRET, notice, 'edge-old', occurredAt);
    const beyond = signedDelivery(SECRET, notice, 'beyond-old', occurredAt);
    clock.advance(TOLERANCE_MS);
    expect((await deliver(atEdge.body, atEdge.signature, timed)).status).toBe(202);
    clock.advance(1);
    expect(await deliver(beyond.body, beyond.signature, timed)).toEqual(refused);
  });

  it('accepts an event stamped the tolerance ahead of the clock and refuses one a millisecond further', async () => {
    const atEdge = signedDelivery(SECRET, notice, 'edge-ahead', clock.wallNow() + TOLERANCE_MS);
    const beyond = signedDelivery(SECRET, notice, 'beyond-ahead', clock.wallNow() + TOLERANCE_MS + 1);
    expect((await deliver(atEdge.body, atEdge.signature, timed)).status).toBe(202);
    expect(await deliver(beyond.body, beyond.signature, timed)).toEqual(refused);
    // The refused event is not remembered as applied: once the clock has caught up it is taken.
    clock.advance(1);
    expect((await deliver(beyond.body, beyond.signature, timed)).status).toBe(202);
  });
});

describe('a change whose records cannot be read', () => {
  it('answers 503 with the source code while the source is down, and applies the same delivery once it is back', async () => {
    const delivery = signedDelivery(SECRET, notice, 'source-down-1');
    await h.sandboxes.orders.setKnobs({ outageMs: 60_000 });
    try {
      const refused = await deliver(delivery.body, delivery.signature);
      expect(refused.status).toBe(503);
      expect(codesOf(refused.body)).toEqual(['SOURCE_UNAVAILABLE']);
    } finally {
      await h.sandboxes.orders.setKnobs({ outageMs: 0 });
      await h.sandboxes.orders.listening();
    }
    expect((await deliver(delivery.body, delivery.signature)).status).toBe(202);
  });
});
