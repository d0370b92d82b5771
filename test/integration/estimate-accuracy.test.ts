/**
 * How close the static estimate comes to what really happens, on realistic queries: the upstream
 * calls it predicts per source against those the sandboxes counted, and the points it charges up
 * front against the points of the answer. The calls must match within a batch (crosswalk accounts
 * with two partners and customers without an email move the real count a little); the points are
 * an upper bound, since assumed list sizes are chosen above the typical length.
 */
import baseConfig from '../../virtualization.config';
import { startHarness, type Harness } from '../support/harness';
import { dataOf } from './compare';
import { customerIdOfRef, data } from './ground-truth';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const CUSTOMER_360 = baseConfig.examples![0]!.query;
const someIds = data.crm.contacts.filter((_, i) => i % 41 === 3).slice(0, 180).map((c) => c.Id);
const linkedOrders = data.orders.orders.filter((o, i) => i % 1_013 === 0 && customerIdOfRef(o.customer_ref) !== undefined).slice(0, 40);
const ticket = data.support.tickets[123]!;

const REALISTIC: Array<{ name: string; query: string; variables?: Record<string, unknown> }> = [
  { name: 'customer 360, 5 customers', query: CUSTOMER_360, variables: { first: 5 } },
  { name: 'customer 360, 50 customers', query: CUSTOMER_360, variables: { first: 50 } },
  { name: 'customer 360, 200 customers', query: CUSTOMER_360, variables: { first: 200 } },
  {
    name: 'enterprise page with order lines and open tickets',
    query: `{ customers(first: 40, segment: ENTERPRISE) { nodes { name orders(first: 5) { number lines { sku quantity } } tickets(status: OPEN) { subject } } } }`,
  },
  { name: 'summaries only, 150 small businesses', query: `{ customers(first: 150, segment: SMALL_BUSINESS) { nodes { orderSummary { count totalSpent } openTicketCount } } }` },
  { name: 'back-joins on a page of 100', query: `{ customers(first: 100) { nodes { orders { customer { name } } tickets { customer { email } } } } }` },
  { name: '180 customers by id with their orders', query: `query($ids: [ID!]!) { customersByIds(ids: $ids) { name orders(first: 3) { total } } }`, variables: { ids: someIds } },
  { name: '40 orders by id with their customers', query: `{ ${linkedOrders.map((o, i) => `o${i}: order(id: "${o.id}") { number customer { name segment } }`).join(' ')} }` },
  {
    name: 'a ticket, its customer and their other orders and tickets',
    query: `query($id: ID!) { ticket(id: $id) { subject customer { name orders(first: 10) { number status } tickets { subject status } } } }`,
    variables: { id: String(ticket.id) },
  },
];

interface Row {
  name: string;
  predicted: Record<string, number>;
  actual: Record<string, number>;
  requested: number;
  actualCost: number;
}

const rows: Row[] = [];

afterAll(() => {
  const total = (pick: (row: Row) => Record<string, number>) => rows.reduce((sum, row) => sum + Object.values(pick(row)).reduce((a, b) => a + b, 0), 0);
  const sameCalls = (row: Row) => Object.keys({ ...row.predicted, ...row.actual }).every((source) => row.predicted[source] === row.actual[source]);
  const exact = rows.filter(sameCalls).length;
  const lines = rows.map((row) => {
    const calls = Object.keys({ ...row.predicted, ...row.actual })
      .map((source) => `${source} ${row.predicted[source] ?? 0}/${row.actual[source] ?? 0}`)
      .join(', ');
    return `  ${row.name}: calls predicted/actual ${calls}; points ${row.requested}/${row.actualCost}`;
  });
  console.log(
    `Estimate against what ran (${rows.length} queries): upstream calls ${total((r) => r.predicted)} predicted / ${total((r) => r.actual)} made, ` +
      `exact for ${exact} of ${rows.length}; points ${rows.reduce((s, r) => s + r.requested, 0)} charged up front / ${rows.reduce((s, r) => s + r.actualCost, 0)} used\n${lines.join('\n')}`,
  );
});

it.each(REALISTIC.map((q) => [q.name, q] as const))('%s: calls per source within one batch of the prediction, points an upper bound', async (name, { query, variables }) => {
  h.resetUpstream();
  const response = await h.query(query, variables);
  dataOf(response);
  const cost = response.extensions!.cost as { requestedQueryCost: number; actualQueryCost: number; upstreamCalls: Record<string, { predicted: number; actual: number }> };
  const calls = h.upstream();
  const counted: Record<string, number> = {};
  for (const source of ['crm', 'orders', 'support'] as const) {
    const n = Object.values(calls[source]).reduce((a, b) => a + b, 0);
    if (n > 0) counted[source] = n;
  }
  const predicted = Object.fromEntries(Object.entries(cost.upstreamCalls).filter(([, c]) => c.predicted > 0).map(([source, c]) => [source, c.predicted]));
  rows.push({ name, predicted, actual: counted, requested: cost.requestedQueryCost, actualCost: cost.actualQueryCost });

  for (const source of new Set([...Object.keys(predicted), ...Object.keys(counted)])) {
    const p = predicted[source] ?? 0;
    const a = counted[source] ?? 0;
    // Within one call, or 10% for sources called once per record.
    expect(Math.abs(p - a)).toBeLessThanOrEqual(Math.max(1, Math.ceil(a * 0.1)));
  }
  expect(cost.actualQueryCost).toBeLessThanOrEqual(cost.requestedQueryCost);
});
