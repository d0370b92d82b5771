/**
 * Explain: with `x-virtualize-explain: 1` an answer lists every upstream call it made (checked
 * against the sandboxes' own counts) and which source served each top-level field and each join;
 * without the header an answer is unchanged.
 */
import baseConfig from '../../virtualization.config';
import { EXPLAIN_HEADER, type FanoutEntry } from '../../src/server/explain';
import type { FieldProvenance } from '../../src/federation/provenance';
import { data, orderRefsOf } from '../integration/ground-truth';
import { startHarness, type Harness } from '../support/harness';

const QUERY = baseConfig.examples![0]!.query;

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe('explain', () => {
  it('adds nothing without the header', async () => {
    const response = await h.query(QUERY, { first: 3 });
    expect(response.errors).toBeUndefined();
    expect(response.extensions?.fanout).toBeUndefined();
    expect(response.extensions?.provenance).toBeUndefined();
  });

  it('lists every upstream call of the customer 360, in the order they started', async () => {
    h.resetUpstream();
    const response = await h.query(QUERY, { first: 30 }, { [EXPLAIN_HEADER]: '1' });
    expect(response.errors).toBeUndefined();
    const fanout = response.extensions!.fanout as FanoutEntry[];
    expect(fanout).toHaveLength(h.upstream().total);

    const ids = data.crm.contacts.slice(0, 30).map((contact) => contact.Id);
    const refs = new Set(ids.flatMap(orderRefsOf));
    const bySource = (source: string) => fanout.filter((call) => call.source === source);
    expect(bySource('crm')).toEqual([expect.objectContaining({ route: 'GET /query/Contact', batchSize: 30 })]);
    expect(bySource('orders')).toEqual([expect.objectContaining({ route: 'GET /orders', batchSize: refs.size })]);
    expect(bySource('support')).toHaveLength(30);
    expect(bySource('support').every((call) => call.route === 'GET /tickets' && call.batchSize === 1)).toBe(true);

    for (const call of fanout) {
      expect(call).toMatchObject({ status: 200, cacheHit: false, attempts: 1 });
      expect(call.startMs).toBeGreaterThanOrEqual(0);
      expect(call.durationMs).toBeGreaterThan(0);
    }
    expect(fanout.map((call) => call.startMs)).toEqual([...fanout.map((call) => call.startMs)].sort((a, b) => a - b));
    // The joins start after the page of customers has come back.
    const page = bySource('crm')[0]!;
    expect(fanout.filter((call) => call.source !== 'crm').every((call) => call.startMs >= page.startMs + page.durationMs - 0.2)).toBe(true);
  });

  it('says which source served each top-level field and each join', async () => {
    const response = await h.query(QUERY, { first: 2 }, { [EXPLAIN_HEADER]: '1' });
    expect(response.extensions!.provenance).toEqual<FieldProvenance[]>([
      { path: 'customers', type: 'CustomerConnection', source: 'crm', cachedAgeMs: null },
      { path: 'customers.nodes.orderSummary', type: 'OrderSummary', source: 'orders', cachedAgeMs: null },
      { path: 'customers.nodes.orders', type: 'Order', source: 'orders', cachedAgeMs: null },
      { path: 'customers.nodes.openTicketCount', type: 'Int', source: 'support', cachedAgeMs: null },
      { path: 'customers.nodes.tickets', type: 'Ticket', source: 'support', cachedAgeMs: null },
    ]);
  });

  it('follows aliases, fragments and joins back to the first source', async () => {
    const order = data.orders.orders[0]!;
    const response = await h.query(
      `query { first: order(id: "${order.id}") { ...Detail } }
       fragment Detail on Order { number customer { name ... on Customer { open: tickets(status: OPEN) { subject } } } }`,
      undefined,
      { [EXPLAIN_HEADER]: '1' },
    );
    expect(response.errors).toBeUndefined();
    expect((response.extensions!.provenance as FieldProvenance[]).map(({ path, source }) => `${path} ${source}`)).toEqual([
      'first orders',
      'first.customer crm',
      'first.customer.open support',
    ]);
  });
});
