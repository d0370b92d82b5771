/**
 * A key with no partner in the other system is normal, not an error: the joined list is empty or
 * the joined record null, and the answer carries no errors at all.
 */
import { startHarness, type Harness } from '../support/harness';
import { dataOf } from './compare';
import {
  customerIdOfRef,
  customersWithoutAccount,
  customersWithoutRequester,
  data,
  expectedCustomer,
  ordersOfUnlinkedAccounts,
  rawOrdersOf,
  rawTicketsOf,
  ticketsOfOrphanRequesters,
} from './ground-truth';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

/** A spread of examples from a group, not only its first members. */
function sample<T>(items: readonly T[], n: number): T[] {
  const step = Math.max(1, Math.floor(items.length / n));
  return items.filter((_, i) => i % step === 0).slice(0, n);
}

interface Joined {
  id: string;
  orders: Array<{ id: string }>;
  orderSummary: { count: number; totalSpent: number | null; currency: string | null; lastOrderAt: string | null };
  tickets: Array<{ id: string }>;
  openTicketCount: number;
}

const JOINED = 'id orders { id } orderSummary { count totalSpent currency lastOrderAt } tickets { id } openTicketCount';

it('gives a customer with no order account no orders and an empty summary', async () => {
  const ids = sample(customersWithoutAccount, 25);
  expect(ids.every((id) => rawOrdersOf(id).length === 0)).toBe(true);
  const { customersByIds } = dataOf(await h.query<{ customersByIds: Joined[] }>(`query($ids: [ID!]!) { customersByIds(ids: $ids) { ${JOINED} } }`, { ids }));
  expect(customersByIds.map((c) => c.id)).toEqual(ids);
  for (const customer of customersByIds) {
    expect(customer.orders).toEqual([]);
    expect(customer.orderSummary).toEqual({ count: 0, totalSpent: null, currency: null, lastOrderAt: null });
    // The other join of the same customer is unaffected.
    expect(customer.tickets.map((t) => t.id).sort()).toEqual(expectedCustomer(customer.id).tickets.map((t) => t.id).sort());
  }
});

it('gives a customer no support requester matches no tickets and no open tickets', async () => {
  const ids = sample(customersWithoutRequester, 25);
  expect(ids.every((id) => rawTicketsOf(id).length === 0)).toBe(true);
  const { customersByIds } = dataOf(await h.query<{ customersByIds: Joined[] }>(`query($ids: [ID!]!) { customersByIds(ids: $ids) { ${JOINED} } }`, { ids }));
  expect(customersByIds.map((c) => c.id)).toEqual(ids);
  for (const customer of customersByIds) {
    expect(customer.tickets).toEqual([]);
    expect(customer.openTicketCount).toBe(0);
    expect(customer.orders.map((o) => o.id).sort()).toEqual(expectedCustomer(customer.id).orders.map((o) => o.id).sort());
  }
});

it('gives a customer missing from both other systems empty joins, through customer(id) too', async () => {
  const lonely = customersWithoutAccount.find((id) => customersWithoutRequester.includes(id));
  expect(lonely).toBeDefined();
  const { customer } = dataOf(await h.query<{ customer: Joined }>(`query($id: ID!) { customer(id: $id) { ${JOINED} } }`, { id: lonely }));
  expect(customer).toEqual({
    id: lonely,
    orders: [],
    orderSummary: { count: 0, totalSpent: null, currency: null, lastOrderAt: null },
    tickets: [],
    openTicketCount: 0,
  });
});

it('gives an order of an account linked to no CRM customer a null customer', async () => {
  const orders = sample(ordersOfUnlinkedAccounts, 10);
  expect(orders.length).toBe(10);
  const aliases = orders.map((o, i) => `o${i}: order(id: "${o.id}") { id number customer { id name } }`).join('\n');
  const result = dataOf(await h.query<Record<string, { id: string; number: string; customer: null }>>(`{ ${aliases} }`));
  orders.forEach((order, i) => {
    expect(result[`o${i}`]).toEqual({ id: String(order.id), number: order.number, customer: null });
  });
});

it('gives a ticket of a requester who is no CRM customer a null customer', async () => {
  const tickets = sample(ticketsOfOrphanRequesters, 10);
  expect(tickets.length).toBe(10);
  const aliases = tickets.map((t, i) => `t${i}: ticket(id: "${t.id}") { id subject customer { id name } }`).join('\n');
  const result = dataOf(await h.query<Record<string, { id: string; subject: string; customer: null }>>(`{ ${aliases} }`));
  tickets.forEach((ticket, i) => {
    expect(result[`t${i}`]).toEqual({ id: String(ticket.id), subject: ticket.subject, customer: null });
  });
});

it('mixes linked and unlinked records in one answer without errors', async () => {
  const linkedOrder = data.orders.orders.find((o) => customerIdOfRef(o.customer_ref) !== undefined)!;
  const unlinkedOrder = ordersOfUnlinkedAccounts[0]!;
  const orphanTicket = ticketsOfOrphanRequesters[0]!;
  const result = dataOf(
    await h.query<{ a: { customer: { id: string } | null }; b: { customer: null }; c: { customer: null }; d: Joined }>(
      `query($a: ID!, $b: ID!, $c: ID!, $d: ID!) {
        a: order(id: $a) { customer { id } }
        b: order(id: $b) { customer { id } }
        c: ticket(id: $c) { customer { id } }
        d: customer(id: $d) { ${JOINED} }
      }`,
      { a: String(linkedOrder.id), b: String(unlinkedOrder.id), c: String(orphanTicket.id), d: customersWithoutAccount[0] },
    ),
  );
  expect(result.a.customer).toEqual({ id: customerIdOfRef(linkedOrder.customer_ref) });
  expect(result.b.customer).toBeNull();
  expect(result.c.customer).toBeNull();
  expect(result.d.orders).toEqual([]);
});
