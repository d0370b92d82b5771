/**
 * The fan-out of a query, counted where it lands: at the sandboxes, per route template. Batching
 * must reach the minimum each source allows: one CRM page call, order lookups by 50 account refs,
 * one support call per distinct email (the desk has no batch endpoint), CRM lookups by 100 ids, and
 * nothing at all for a back-join to records the request already holds.
 */
import { normalizeEmail } from '../../sources/sandbox';
import { startHarness, type Harness } from '../support/harness';
import { dataOf } from './compare';
import { contact, customerIdOfRef, data, orderRefsOf } from './ground-truth';

const CRM_LIST = 'GET /services/data/v58.0/query/Contact';
const CRM_BY_IDS = 'GET /services/data/v58.0/composite/sobjects/Contact';
const ORDERS_BY_REFS = 'GET /api/orders';
const ORDER_BY_ID = 'GET /api/orders/{id}';
const TICKETS_BY_EMAIL = 'GET /api/v2/tickets';

/** Batch limits of the sandbox systems, as the config declares them. */
const CRM_PAGE = 200;
const CRM_BATCH = 100;
const ORDERS_BATCH = 50;

let h: Harness;
beforeAll(async () => {
  // The largest page here joins 450 customers' tickets: above the support desk's default cap of
  // calls per request, which this file is not about.
  h = await startHarness({
    configure: (config) => {
      config.sources.support!.limits = { ...config.sources.support!.limits, maxCallsPerRequest: 1_000 };
      return config;
    },
  });
});
afterAll(() => h.close());

/** Runs a query (which must succeed) and returns what it cost upstream. */
async function measure<T>(query: string, variables?: Record<string, unknown>): Promise<{ result: T; calls: Calls }> {
  h.resetUpstream();
  const result = dataOf(await h.query<T>(query, variables));
  return { result, calls: h.upstream() };
}

type Calls = ReturnType<Harness['upstream']>;

/** Exactly these calls per system and route: no extra route, no extra call. */
function expectCalls(calls: Calls, expected: Pick<Calls, 'crm' | 'orders' | 'support'>): void {
  expect({ crm: calls.crm, orders: calls.orders, support: calls.support }).toEqual(expected);
}

/** The minimal calls for orders and tickets of these customers. */
function minimalJoinCalls(customerIds: readonly string[]): { orders: Record<string, number>; support: Record<string, number> } {
  const refs = new Set(customerIds.flatMap(orderRefsOf));
  const emails = new Set(customerIds.map((id) => normalizeEmail(contact(id).Email)));
  return {
    orders: refs.size === 0 ? {} : { [ORDERS_BY_REFS]: Math.ceil(refs.size / ORDERS_BATCH) },
    support: emails.size === 0 ? {} : { [TICKETS_BY_EMAIL]: emails.size },
  };
}

type Nodes = { customers: { nodes: Array<{ id: string }>; pageInfo: { endCursor: string } } };

describe('a page of customers with orders and tickets', () => {
  it.each([200, 137, 1])('first: %i makes one CRM call, ceil(refs / 50) order calls and one support call per email', async (n) => {
    const { result, calls } = await measure<Nodes>(`{ customers(first: ${n}) { nodes { id orders { id } tickets { id } } } }`);
    const ids = data.crm.contacts.slice(0, n).map((c) => c.Id);
    expect(result.customers.nodes.map((c) => c.id)).toEqual(ids);
    expectCalls(calls, { crm: { [CRM_LIST]: 1 }, ...minimalJoinCalls(ids) });
    if (n === 200) expect(calls.orders[ORDERS_BY_REFS]).toBeGreaterThan(1);
  });

  it('counts the same when the client selects no key at all', async () => {
    const { calls } = await measure(`{ customers(first: 200) { nodes { orders { id } tickets { id } } } }`);
    const ids = data.crm.contacts.slice(0, 200).map((c) => c.Id);
    expectCalls(calls, { crm: { [CRM_LIST]: 1 }, ...minimalJoinCalls(ids) });
  });

  it('counts the same for a later page of a segment', async () => {
    const first = await measure<Nodes>(`{ customers(first: 50, segment: SMALL_BUSINESS) { nodes { id } pageInfo { endCursor } } }`);
    const { result, calls } = await measure<Nodes>(
      `query($after: String) { customers(first: 180, after: $after, segment: SMALL_BUSINESS) { nodes { id orders { id } tickets { id } } } }`,
      { after: first.result.customers.pageInfo.endCursor },
    );
    const ids = data.crm.contacts.filter((c) => c.Segment__c === 'SMB').slice(50, 230).map((c) => c.Id);
    expect(result.customers.nodes.map((c) => c.id)).toEqual(ids);
    expectCalls(calls, { crm: { [CRM_LIST]: 1 }, ...minimalJoinCalls(ids) });
  });

  it('serves orders, orderSummary, tickets, tickets(status:) and openTicketCount from the same calls', async () => {
    const { calls } = await measure(`{ customers(first: 200) { nodes {
      orders(first: 2) { id } all: orders { total } orderSummary { count totalSpent currency lastOrderAt }
      tickets { id } open: tickets(status: OPEN) { id } openTicketCount
    } } }`);
    const ids = data.crm.contacts.slice(0, 200).map((c) => c.Id);
    expectCalls(calls, { crm: { [CRM_LIST]: 1 }, ...minimalJoinCalls(ids) });
  });

  it('pages the CRM by its maximum page size when first exceeds it', async () => {
    const { calls } = await measure(`{ customers(first: 450) { nodes { orders { id } tickets { id } } } }`);
    const ids = data.crm.contacts.slice(0, 450).map((c) => c.Id);
    expectCalls(calls, { crm: { [CRM_LIST]: Math.ceil(450 / CRM_PAGE) }, ...minimalJoinCalls(ids) });
  });
});

describe('back-joins', () => {
  it('orders { customer } and tickets { customer } add no CRM call when the page already holds the customers', async () => {
    const { result, calls } = await measure<{ customers: { nodes: Array<{ id: string; orders: Array<{ customer: { name: string } }>; tickets: Array<{ customer: { name: string } }> }> } }>(
      `{ customers(first: 200) { nodes { id orders { id customer { name } } tickets { id customer { name } } } } }`,
    );
    const ids = data.crm.contacts.slice(0, 200).map((c) => c.Id);
    expectCalls(calls, { crm: { [CRM_LIST]: 1 }, ...minimalJoinCalls(ids) });
    for (const customer of result.customers.nodes) {
      const name = contact(customer.id).Name;
      expect([...customer.orders, ...customer.tickets].every((item) => item.customer.name === name)).toBe(true);
    }
  });

  it('customer(id) { orders { customer } } costs one CRM call in all', async () => {
    const id = data.crm.contacts.find((c) => orderRefsOf(c.Id).length === 2)!.Id;
    const { calls } = await measure(`query($id: ID!) { customer(id: $id) { orders { id customer { id name } } } }`, { id });
    expectCalls(calls, { crm: { [CRM_BY_IDS]: 1 }, orders: { [ORDERS_BY_REFS]: 1 }, support: {} });
  });

  it('order(id) { customer } for many orders adds one batched CRM call for all their customers', async () => {
    const orders = data.orders.orders.filter((o, i) => i % 1_000 === 0 && customerIdOfRef(o.customer_ref) !== undefined).slice(0, 30);
    const aliases = orders.map((o, i) => `o${i}: order(id: "${o.id}") { id customer { id } }`).join('\n');
    const { result, calls } = await measure<Record<string, { customer: { id: string } }>>(`{ ${aliases} }`);
    orders.forEach((o, i) => expect(result[`o${i}`]!.customer.id).toBe(customerIdOfRef(o.customer_ref)));
    const customers = new Set(orders.map((o) => customerIdOfRef(o.customer_ref)));
    // The order system has no batch endpoint by id: one call per order, but one CRM call for all.
    expectCalls(calls, { crm: { [CRM_BY_IDS]: Math.ceil(customers.size / CRM_BATCH) }, orders: { [ORDER_BY_ID]: orders.length }, support: {} });
  });
});

describe('lookups by id', () => {
  it('customersByIds with 250 ids makes ceil(250 / 100) CRM calls and answers in the order asked, null for unknown ids', async () => {
    // Known ids out of CRM order, with well-formed ids that name no contact in between.
    const known = data.crm.contacts.filter((_, i) => i % 37 === 5).slice(0, 240).map((c) => c.Id).reverse();
    const unknown = Array.from({ length: 10 }, (_, i) => `0035e00000ZZZZZ${String(i).padStart(2, '0')}X`);
    expect(unknown.some((id) => data.crm.byId.has(id))).toBe(false);
    const ids = [...known];
    unknown.forEach((id, i) => ids.splice(i * 25 + 3, 0, id));
    expect(new Set(ids).size).toBe(250);

    const { result, calls } = await measure<{ customersByIds: Array<{ id: string; name: string } | null> }>(
      `query($ids: [ID!]!) { customersByIds(ids: $ids) { id name } }`,
      { ids },
    );
    expect(result.customersByIds).toEqual(ids.map((id) => (data.crm.byId.has(id) ? { id, name: contact(id).Name } : null)));
    expectCalls(calls, { crm: { [CRM_BY_IDS]: Math.ceil(250 / CRM_BATCH) }, orders: {}, support: {} });
  });

  it('customer(id) of an unknown id is null with no error, after one CRM call', async () => {
    const { result, calls } = await measure<{ customer: null }>(`{ customer(id: "0035e00000ZZZZZZZZ") { id name orders { id } } }`);
    expect(result.customer).toBeNull();
    expectCalls(calls, { crm: { [CRM_BY_IDS]: 1 }, orders: {}, support: {} });
  });

  it('the same customer asked twice in one request is fetched once', async () => {
    const id = data.crm.contacts[42]!.Id;
    const { result, calls } = await measure<{ a: { name: string }; b: { name: string }; c: Array<{ name: string }> }>(
      `query($id: ID!) { a: customer(id: $id) { name } b: customer(id: $id) { name } c: customersByIds(ids: [$id, $id]) { name } }`,
      { id },
    );
    expect(result.a.name).toBe(contact(id).Name);
    expect(result.c).toEqual([result.a, result.a]);
    expectCalls(calls, { crm: { [CRM_BY_IDS]: 1 }, orders: {}, support: {} });
  });
});
