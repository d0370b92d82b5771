/**
 * A join fetches the key fields it needs whatever the client selected. A gateway that forgets it
 * answers `orders: []` with no error; so each query without the keys is compared with the same
 * query that selects them, and both with ground truth.
 */
import { startHarness, type Harness } from '../support/harness';
import { dataOf } from './compare';
import { customersWithMessyEmail, customersWithTwoAccounts, customerIdOfRef, customerIdOfRequesterEmail, data, rawOrdersOf, rawTicketsOf } from './ground-truth';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

interface Joins {
  orders: Array<{ id: string }>;
  tickets: Array<{ id: string }>;
}

const sortedIds = (items: ReadonlyArray<{ id: string | number }>) => items.map((item) => String(item.id)).sort();
const joinsOf = (customer: Joins) => ({ orders: sortedIds(customer.orders), tickets: sortedIds(customer.tickets) });

it('customers { nodes { orders { id } tickets { id } } } joins exactly as the query that selects id and email', async () => {
  const bare = dataOf(await h.query<{ customers: { nodes: Joins[] } }>(`{ customers(first: 200) { nodes { orders { id } tickets { id } } } }`));
  const keyed = dataOf(
    await h.query<{ customers: { nodes: Array<Joins & { id: string; email: string }> } }>(
      `{ customers(first: 200) { nodes { id email orders { id } tickets { id } } } }`,
    ),
  );
  expect(bare.customers.nodes.map(joinsOf)).toEqual(keyed.customers.nodes.map(joinsOf));
  // Equal and right: not two empty answers.
  const expected = data.crm.contacts.slice(0, 200).map((c) => ({ orders: sortedIds(rawOrdersOf(c.Id)), tickets: sortedIds(rawTicketsOf(c.Id)) }));
  expect(bare.customers.nodes.map(joinsOf)).toEqual(expected);
  expect(expected.filter((c) => c.orders.length > 0).length).toBeGreaterThan(150);
  expect(expected.filter((c) => c.tickets.length > 0).length).toBeGreaterThan(100);
});

it('summaries alone still join: orderSummary and openTicketCount without any key selected', async () => {
  const { customers } = dataOf(
    await h.query<{ customers: { nodes: Array<{ orderSummary: { count: number }; openTicketCount: number }> } }>(
      `{ customers(first: 100, segment: ENTERPRISE) { nodes { orderSummary { count } openTicketCount } } }`,
    ),
  );
  const expected = data.crm.contacts
    .filter((c) => c.Segment__c === 'ENT')
    .slice(0, 100)
    .map((c) => ({
      orderSummary: { count: rawOrdersOf(c.Id).length },
      openTicketCount: rawTicketsOf(c.Id).filter((t) => ['new', 'open', 'pending'].includes(t.status)).length,
    }));
  expect(customers.nodes).toEqual(expected);
});

it('customersByIds of one-to-many and messy-email customers joins without the keys selected', async () => {
  const ids = [...customersWithTwoAccounts.slice(0, 10), ...customersWithMessyEmail.slice(0, 10)];
  const bare = dataOf(await h.query<{ customersByIds: Joins[] }>(`query($ids: [ID!]!) { customersByIds(ids: $ids) { orders { id } tickets { id } } }`, { ids }));
  expect(bare.customersByIds.map(joinsOf)).toEqual(ids.map((id) => ({ orders: sortedIds(rawOrdersOf(id)), tickets: sortedIds(rawTicketsOf(id)) })));
});

it('order { customer } and ticket { customer } join without customerRef or the requester email being selectable', async () => {
  const order = data.orders.orders.find((o) => customerIdOfRef(o.customer_ref) !== undefined && o.id % 7 === 3)!;
  const ticket = data.support.tickets.find((t) => customerIdOfRequesterEmail(t.requester.email) !== undefined && t.id % 7 === 3)!;
  const result = dataOf(
    await h.query<{ order: { customer: { name: string } }; ticket: { customer: { name: string } } }>(
      `query($o: ID!, $t: ID!) { order(id: $o) { customer { name } } ticket(id: $t) { customer { name } } }`,
      { o: String(order.id), t: String(ticket.id) },
    ),
  );
  expect(result.order.customer.name).toBe(data.crm.byId.get(customerIdOfRef(order.customer_ref)!)!.Name);
  expect(result.ticket.customer.name).toBe(data.crm.byId.get(customerIdOfRequesterEmail(ticket.requester.email)!)!.Name);
});

it('a back-join selecting only a nested join still joins: order { customer { tickets { id } } }', async () => {
  const order = data.orders.orders.find((o) => {
    const id = customerIdOfRef(o.customer_ref);
    return id !== undefined && rawTicketsOf(id).length > 1;
  })!;
  const { order: answer } = dataOf(
    await h.query<{ order: { customer: { tickets: Array<{ id: string }> } } }>(`query($id: ID!) { order(id: $id) { customer { tickets { id } } } }`, {
      id: String(order.id),
    }),
  );
  expect(sortedIds(answer.customer.tickets)).toEqual(sortedIds(rawTicketsOf(customerIdOfRef(order.customer_ref)!)));
});
