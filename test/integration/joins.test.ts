/**
 * Customer.orders (crosswalk, one-to-many) and Customer.tickets (normalized email) joined for every
 * customer a client pages through, compared with the sandboxes' own data.
 */
import { normalizeEmail } from '../../sources/sandbox';
import { startHarness, type Harness } from '../support/harness';
import { CUSTOMER_360, dataOf, expectCustomers, expectNewest, expectNewestFirst, type CustomerView } from './compare';
import {
  contact,
  customersWithMessyEmail,
  customersWithTwoAccounts,
  customersWithoutAccount,
  customersWithoutRequester,
  data,
  expectedCustomer,
  orderRefsOf,
  rawOrdersOf,
  rawTicketsOf,
} from './ground-truth';

/** How many customers the full walk covers; the first pages of the CRM's own order. */
const WALK = 1_000;
const PAGE = 200;

interface Page {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: CustomerView[];
}

let h: Harness;
beforeAll(async () => {
  // These tests page quickly through thousands of customers: a budget that never throttles them,
  // since they are about joins (budgets have tests of their own).
  h = await startHarness({ configure: (config) => ({ ...config, guard: { ...config.guard, budget: { capacity: 10_000_000, restoreRate: 1_000_000 } } }) });
});
afterAll(() => h.close());

/** Pages through `customers` until `limit` customers or the end, checking the page info on the way. */
async function walk(limit: number, segment?: string): Promise<{ nodes: CustomerView[]; totalCount: number; pages: number }> {
  const nodes: CustomerView[] = [];
  let after: string | null = null;
  let totalCount = 0;
  let pages = 0;
  for (;;) {
    const page: Page = dataOf(
      await h.query<{ customers: Page }>(
        `query Walk($after: String, $segment: CustomerSegment) {
          customers(first: ${PAGE}, after: $after, segment: $segment) {
            totalCount pageInfo { hasNextPage endCursor } nodes { ${CUSTOMER_360} }
          }
        }`,
        { after, segment },
      ),
    ).customers;
    pages += 1;
    nodes.push(...page.nodes);
    totalCount = page.totalCount;
    if (page.pageInfo.hasNextPage) {
      expect(page.nodes).toHaveLength(PAGE);
      expect(page.pageInfo.endCursor).toEqual(expect.any(String));
    } else {
      expect(page.pageInfo.endCursor).toBeNull();
    }
    if (!page.pageInfo.hasNextPage || nodes.length >= limit) return { nodes, totalCount, pages };
    after = page.pageInfo.endCursor;
  }
}

describe('paging through customers', () => {
  let walked: CustomerView[];
  beforeAll(async () => {
    const result = await walk(WALK);
    walked = result.nodes;
    expect(result.totalCount).toBe(data.crm.contacts.length);
    expect(result.pages).toBe(WALK / PAGE);
  });

  it('returns the customers in CRM order, each once', () => {
    expect(walked.map((c) => c.id)).toEqual(data.crm.contacts.slice(0, WALK).map((c) => c.Id));
  });

  it('joins every customer with exactly their orders, tickets, summary and open ticket count', () => {
    expectCustomers(walked, walked.map((c) => expectedCustomer(c.id)));
  });

  it('covers the messy cases: two order accounts, no account, no requester, an email typed differently', () => {
    const ids = new Set(walked.map((c) => c.id));
    const covered = (group: readonly string[]) => group.filter((id) => ids.has(id));
    // Enough of each that a join bug hiding in one case cannot pass by luck.
    expect(covered(customersWithTwoAccounts).length).toBeGreaterThanOrEqual(10);
    expect(covered(customersWithoutAccount).length).toBeGreaterThanOrEqual(10);
    expect(covered(customersWithoutRequester).length).toBeGreaterThanOrEqual(10);
    expect(covered(customersWithMessyEmail).length).toBeGreaterThanOrEqual(10);
  });

  it('unions the orders of both accounts of a one-to-many customer', () => {
    const byId = new Map(walked.map((c) => [c.id, c]));
    const bothBusy = customersWithTwoAccounts.filter(
      (id) => byId.has(id) && orderRefsOf(id).every((ref) => (data.orders.ordersByRef.get(ref)?.length ?? 0) > 0),
    );
    expect(bothBusy.length).toBeGreaterThan(0);
    for (const id of bothBusy) {
      const got = new Set(byId.get(id)!.orders.map((o) => o.id));
      for (const ref of orderRefsOf(id)) {
        for (const order of data.orders.ordersByRef.get(ref)!) expect(got.has(String(order.id))).toBe(true);
      }
      expect(got.size).toBe(rawOrdersOf(id).length);
    }
  });

  it('finds the tickets of a requester whose email differs from the CRM one only in case or white space', () => {
    const byId = new Map(walked.map((c) => [c.id, c]));
    const messyWithTickets = customersWithMessyEmail.filter((id) => byId.has(id) && rawTicketsOf(id).length > 0);
    expect(messyWithTickets.length).toBeGreaterThan(0);
    for (const id of messyWithTickets) {
      const requester = data.support.requesterByEmail.get(normalizeEmail(contact(id).Email))!;
      expect(requester.email).not.toBe(contact(id).Email);
      expect(byId.get(id)!.tickets.map((t) => t.id).sort()).toEqual(rawTicketsOf(id).map((t) => String(t.id)).sort());
    }
  });
});

describe('first: 0', () => {
  it('answers the count and a cursor that resumes where it began, losing no customer', async () => {
    type Cursor = { customers: { totalCount: number; nodes: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const query = `query($after: String, $first: Int) { customers(first: $first, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`;
    const empty = dataOf(await h.query<Cursor>(query, { first: 0 })).customers;
    expect(empty).toMatchObject({ totalCount: data.crm.contacts.length, nodes: [], pageInfo: { hasNextPage: true } });
    const next = dataOf(await h.query<{ customers: { nodes: Array<{ id: string }>; pageInfo: { endCursor: string } } }>(query, { first: 3, after: empty.pageInfo.endCursor })).customers;
    expect(next.nodes.map((c) => c.id)).toEqual(data.crm.contacts.slice(0, 3).map((c) => c.Id));
    // And from the middle of the list.
    const later = dataOf(await h.query<Cursor>(query, { first: 0, after: next.pageInfo.endCursor })).customers;
    const resumed = dataOf(await h.query<{ customers: { nodes: Array<{ id: string }> } }>(query, { first: 2, after: later.pageInfo.endCursor })).customers;
    expect(resumed.nodes.map((c) => c.id)).toEqual(data.crm.contacts.slice(3, 5).map((c) => c.Id));
  });
});

describe('a segment filter', () => {
  it('pages through every ENTERPRISE customer and no other, to the last page, joined correctly', async () => {
    const expected = data.crm.contacts.filter((c) => c.Segment__c === 'ENT');
    const { nodes, totalCount, pages } = await walk(Infinity, 'ENTERPRISE');
    expect(totalCount).toBe(expected.length);
    expect(pages).toBe(Math.ceil(expected.length / PAGE));
    expect(nodes.map((c) => c.id)).toEqual(expected.map((c) => c.Id));
    expect(new Set(nodes.map((c) => c.segment))).toEqual(new Set(['ENTERPRISE']));
    expectCustomers(nodes, nodes.map((c) => expectedCustomer(c.id)));
  });
});

describe('slicing and filtering the joined lists', () => {
  /** Customers with many orders and tickets of several statuses, plus the one-to-many ones. */
  const busy = data.crm.contacts
    .map((c) => c.Id)
    .filter((id) => rawOrdersOf(id).length >= 8 && new Set(rawTicketsOf(id).map((t) => t.status)).size >= 2)
    .slice(0, 20)
    .concat(customersWithTwoAccounts.slice(0, 10));

  // `many` asks for more orders than any customer has (49 at most); first: 1000 for 30 customers
  // would be refused by the cost guard (30,000 points).
  it('orders(first: n) is the newest n orders, for n below, at and above the count', async () => {
    const result = dataOf(
      await h.query<{ customersByIds: Array<{ id: string; none: CustomerView['orders']; one: CustomerView['orders']; three: CustomerView['orders']; all: CustomerView['orders']; many: CustomerView['orders'] }> }>(
        `query($ids: [ID!]!) { customersByIds(ids: $ids) {
          id
          none: orders(first: 0) { id placedAt }
          one: orders(first: 1) { id placedAt }
          three: orders(first: 3) { id placedAt }
          all: orders { id placedAt }
          many: orders(first: 100) { id placedAt }
        } }`,
        { ids: busy },
      ),
    );
    expect(result.customersByIds.map((c) => c.id)).toEqual(busy);
    for (const customer of result.customersByIds) {
      const expected = expectedCustomer(customer.id).orders.map(({ id, placedAt }) => ({ id, placedAt }));
      expect(customer.none).toEqual([]);
      expectNewest(customer.one, expected, 'placedAt', 1);
      expectNewest(customer.three, expected, 'placedAt', 3);
      expectNewestFirst(customer.all, expected, 'placedAt');
      expectNewestFirst(customer.many, expected, 'placedAt');
    }
  });

  it('tickets(status:) keeps only the tickets in that status, newest first', async () => {
    const statuses = ['NEW', 'OPEN', 'PENDING', 'SOLVED', 'CLOSED'];
    const aliases = statuses.map((s) => `${s.toLowerCase()}: tickets(status: ${s}) { id status openedAt }`).join('\n');
    const result = dataOf(
      await h.query<{ customersByIds: Array<Record<string, Array<{ id: string; status: string; openedAt: string }>> & { id: string }> }>(
        `query($ids: [ID!]!) { customersByIds(ids: $ids) { id ${aliases} } }`,
        { ids: busy },
      ),
    );
    let nonEmpty = 0;
    for (const customer of result.customersByIds) {
      const tickets = expectedCustomer(customer.id).tickets;
      for (const status of statuses) {
        const got = customer[status.toLowerCase()]!;
        const expected = tickets.filter((t) => t.status === status).map(({ id, status: s, openedAt }) => ({ id, status: s, openedAt }));
        expectNewestFirst(got, expected, 'openedAt');
        if (got.length > 0) nonEmpty += 1;
      }
    }
    expect(nonEmpty).toBeGreaterThan(busy.length);
  });
});
