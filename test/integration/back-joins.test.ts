/**
 * Joins go both ways: Order.customer back through the crosswalk, Ticket.customer back through the
 * normalized email, and round trips customer -> orders/tickets -> customer land where they started.
 */
import { startHarness, type Harness } from '../support/harness';
import { dataOf } from './compare';
import {
  contact,
  customerIdOfRef,
  customerIdOfRequesterEmail,
  customersWithMessyEmail,
  customersWithTwoAccounts,
  data,
  expectedCustomer,
  orderRefsOf,
  rawOrdersOf,
  rawTicketsOf,
} from './ground-truth';
import { normalizeEmail } from '../../sources/sandbox';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

interface CustomerRef {
  id: string;
  name: string;
  email: string;
}

function customerRef(id: string): CustomerRef {
  const c = contact(id);
  return { id: c.Id, name: c.Name, email: normalizeEmail(c.Email) };
}

/** Orders whose customer is known: every 997th order, plus one order of each account of one-to-many customers. */
const linkedOrders = [
  ...data.orders.orders.filter((o, i) => i % 997 === 0 && customerIdOfRef(o.customer_ref) !== undefined),
  ...customersWithTwoAccounts
    .slice(0, 15)
    .flatMap((id) => orderRefsOf(id).flatMap((ref) => data.orders.ordersByRef.get(ref)?.slice(0, 1) ?? [])),
];

/** Tickets whose requester is a customer, half of them typed with a different email. */
const linkedTickets = [
  ...data.support.tickets.filter((t, i) => i % 499 === 0 && customerIdOfRequesterEmail(t.requester.email) !== undefined),
  ...customersWithMessyEmail.slice(0, 40).flatMap((id) => rawTicketsOf(id).slice(0, 1)),
];

it('order(id) { customer } is the CRM customer of the order account, one-to-many accounts included', async () => {
  expect(linkedOrders.length).toBeGreaterThan(50);
  const aliases = linkedOrders.map((o, i) => `o${i}: order(id: "${o.id}") { id customer { id name email } }`).join('\n');
  const result = dataOf(await h.query<Record<string, { id: string; customer: CustomerRef }>>(`{ ${aliases} }`));
  const actual = linkedOrders.map((_, i) => result[`o${i}`]);
  const expected = linkedOrders.map((o) => ({ id: String(o.id), customer: customerRef(customerIdOfRef(o.customer_ref)!) }));
  expect(actual).toEqual(expected);
});

it('ticket(id) { customer } is the CRM customer whose email matches the requester, trimmed and lower-cased', async () => {
  const messy = linkedTickets.filter((t) => t.requester.email !== contact(customerIdOfRequesterEmail(t.requester.email)!).Email);
  expect(messy.length).toBeGreaterThan(20);
  const aliases = linkedTickets.map((t, i) => `t${i}: ticket(id: "${t.id}") { id customer { id name email } }`).join('\n');
  const result = dataOf(await h.query<Record<string, { id: string; customer: CustomerRef }>>(`{ ${aliases} }`));
  const actual = linkedTickets.map((_, i) => result[`t${i}`]);
  const expected = linkedTickets.map((t) => ({ id: String(t.id), customer: customerRef(customerIdOfRequesterEmail(t.requester.email)!) }));
  expect(actual).toEqual(expected);
});

it('customer(id) { orders { customer } tickets { customer } } leads back to the same customer', async () => {
  const ids = [...customersWithTwoAccounts.slice(0, 5), ...customersWithMessyEmail.slice(0, 5)].filter(
    (id) => rawOrdersOf(id).length > 0 || rawTicketsOf(id).length > 0,
  );
  for (const id of ids) {
    const { customer } = dataOf(
      await h.query<{ customer: { id: string; orders: Array<{ id: string; customer: { id: string } }>; tickets: Array<{ id: string; customer: { id: string } }> } }>(
        `query($id: ID!) { customer(id: $id) { id orders { id customer { id } } tickets { id customer { id } } } }`,
        { id },
      ),
    );
    const expected = expectedCustomer(id);
    expect(customer.orders.map((o) => o.id).sort()).toEqual(expected.orders.map((o) => o.id).sort());
    expect(customer.tickets.map((t) => t.id).sort()).toEqual(expected.tickets.map((t) => t.id).sort());
    expect(customer.orders.every((o) => o.customer?.id === id)).toBe(true);
    expect(customer.tickets.every((t) => t.customer?.id === id)).toBe(true);
  }
});

it('every order and ticket on a page of customers points back to its own customer', async () => {
  const { customers } = dataOf(
    await h.query<{ customers: { nodes: Array<{ id: string; orders: Array<{ customer: { id: string } | null }>; tickets: Array<{ customer: { id: string } | null }> }> } }>(
      `{ customers(first: 150) { nodes { id orders { customer { id } } tickets { customer { id } } } } }`,
    ),
  );
  const actual = customers.nodes.map((c) => ({ id: c.id, orders: c.orders.map((o) => o.customer?.id), tickets: c.tickets.map((t) => t.customer?.id) }));
  const expected = data.crm.contacts.slice(0, 150).map((c) => ({
    id: c.Id,
    orders: rawOrdersOf(c.Id).map(() => c.Id),
    tickets: rawTicketsOf(c.Id).map(() => c.Id),
  }));
  expect(actual).toEqual(expected);
});

it('order -> customer -> orders and tickets gives that customer\'s full 360', async () => {
  const order = data.orders.orderById.get(Number(linkedOrders[3]!.id))!;
  const customerId = customerIdOfRef(order.customer_ref)!;
  const { order: answer } = dataOf(
    await h.query<{ order: { customer: { id: string; orders: Array<{ id: string }>; tickets: Array<{ id: string }>; orderSummary: { count: number } } } }>(
      `query($id: ID!) { order(id: $id) { customer { id orders { id } tickets { id } orderSummary { count } } } }`,
      { id: String(order.id) },
    ),
  );
  const expected = expectedCustomer(customerId);
  expect(answer.customer.id).toBe(customerId);
  expect(answer.customer.orders.map((o) => o.id)).toEqual(expected.orders.map((o) => o.id));
  expect(answer.customer.orders.map((o) => o.id)).toContain(String(order.id));
  expect(answer.customer.tickets.map((t) => t.id)).toEqual(expected.tickets.map((t) => t.id));
  expect(answer.customer.orderSummary.count).toBe(expected.orderSummary.count);
});
