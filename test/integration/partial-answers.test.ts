/**
 * One failing source nulls only the fields it serves. A query reads the three systems from
 * separate roots (a page of customers and customers by id from the CRM, an order from the order
 * system, a ticket from the support desk) and each system fails in turn: every other root, and
 * every field the other systems serve below a failed root's siblings, comes back and equals the
 * ground truth; each failed field is null with one error at its exact path carrying the failing
 * source's code. Before, the list roots were non-null and a CRM failure answered `data: null`.
 */
import { startBilling, type BillingSandboxHandle } from '../../sources/billing/server';
import type { Knobs } from '../../sources/sandbox/faults';
import { errorPaths, expectNothingLeaked, startChaos, type Chaos } from '../chaos/chaos';
import { billingDocument, billingEnv } from '../support/billing';
import { startHarness, type GraphQLResponse, type Harness } from '../support/harness';
import { CUSTOMER_360, expectCustomers, type CustomerView } from './compare';
import {
  customerIdOfRef,
  customerIdOfRequesterEmail,
  customersWithTwoAccounts,
  data,
  expectedCustomer,
  expectedOrder,
  expectedTicket,
  type ExpectedOrder,
  type ExpectedTicket,
} from './ground-truth';

const PAGE = data.crm.contacts.slice(0, 3).map((c) => c.Id);
const BY_IDS = [customersWithTwoAccounts[0]!, data.crm.contacts[10]!.Id];
const ORDER = data.orders.orders.find((o) => customerIdOfRef(o.customer_ref) !== undefined)!;
const TICKET = data.support.tickets.find((t) => customerIdOfRequesterEmail(t.requester.email) !== undefined)!;

const QUERY = `query ThreeSystems($ids: [ID!]!, $order: ID!, $ticket: ID!) {
  customers(first: ${PAGE.length}) { nodes { ${CUSTOMER_360} } }
  customersByIds(ids: $ids) { id name email segment }
  order(id: $order) { id number total currency status placedAt customer { id name } }
  ticket(id: $ticket) { id subject status priority openedAt customer { id name } }
}`;
const VARIABLES = { ids: BY_IDS, order: String(ORDER.id), ticket: String(TICKET.id) };

interface Answer {
  customers: { nodes: CustomerView[] } | null;
  customersByIds: Array<{ id: string; name: string; email: string; segment: string } | null> | null;
  order: (ExpectedOrder & { customer: { id: string; name: string } | null }) | null;
  ticket: (ExpectedTicket & { customer: { id: string; name: string } | null }) | null;
}

const customerRef = (id: string) => ({ id, name: expectedCustomer(id).name });
const byIdView = (id: string) => {
  const { name, email, segment } = expectedCustomer(id);
  return { id, name, email, segment };
};
const nodePaths = (fields: string[]) => PAGE.flatMap((_, i) => fields.map((field) => `customers.nodes.${i}.${field}`));

interface Case {
  source: 'crm' | 'orders' | 'support';
  fault: Partial<Knobs>;
  code: string;
  /** The error paths this failure must produce, and nothing else. */
  paths: string[];
  /** What every other source still gives. */
  check(answer: Answer): void;
}

const cases: Case[] = [
  {
    source: 'crm',
    fault: { outageMs: 600_000 },
    code: 'SOURCE_UNAVAILABLE',
    paths: ['customers', ...BY_IDS.map((_, i) => `customersByIds.${i}`), 'order.customer', 'ticket.customer'],
    check(answer) {
      expect(answer.customers).toBeNull();
      expect(answer.customersByIds).toEqual(BY_IDS.map(() => null));
      // The order and the ticket are whole; only their CRM customer is missing.
      expect(answer.order).toEqual({ ...expectedOrder(ORDER), customer: null });
      expect(answer.ticket).toEqual({ ...expectedTicket(TICKET), customer: null });
    },
  },
  {
    source: 'orders',
    fault: { malformedRate: 1 },
    code: 'SOURCE_BAD_RESPONSE',
    paths: ['order', ...nodePaths(['orderSummary', 'orders'])],
    check(answer) {
      expect(answer.order).toBeNull();
      // The CRM's and the support desk's parts of each customer are whole.
      expectCustomers(
        answer.customers!.nodes.map((node) => ({ ...node, orders: [], orderSummary: { count: 0, totalSpent: null, currency: null, lastOrderAt: null } })),
        PAGE.map((id) => ({ ...expectedCustomer(id), orders: [], orderSummary: { count: 0, totalSpent: null, currency: null, lastOrderAt: null } })),
      );
      for (const node of answer.customers!.nodes) expect([node.orders, node.orderSummary]).toEqual([null, null]);
      expect(answer.customersByIds).toEqual(BY_IDS.map(byIdView));
      expect(answer.ticket).toEqual({ ...expectedTicket(TICKET), customer: customerRef(customerIdOfRequesterEmail(TICKET.requester.email)!) });
    },
  },
  {
    source: 'support',
    fault: { errorRate: 1, errorStatus: 503 },
    code: 'SOURCE_UNAVAILABLE',
    paths: ['ticket', ...nodePaths(['openTicketCount', 'tickets'])],
    check(answer) {
      expect(answer.ticket).toBeNull();
      expectCustomers(
        answer.customers!.nodes.map((node) => ({ ...node, tickets: [], openTicketCount: 0 })),
        PAGE.map((id) => ({ ...expectedCustomer(id), tickets: [], openTicketCount: 0 })),
      );
      for (const node of answer.customers!.nodes) expect([node.tickets, node.openTicketCount]).toEqual([null, null]);
      expect(answer.customersByIds).toEqual(BY_IDS.map(byIdView));
      expect(answer.order).toEqual({ ...expectedOrder(ORDER), customer: customerRef(customerIdOfRef(ORDER.customer_ref)!) });
    },
  },
];

describe.each(cases)('when $source fails', ({ source, fault, code, paths, check }) => {
  let chaos: Chaos;
  beforeAll(async () => {
    chaos = await startChaos();
    // Healthy first: the same query answers whole, so what follows is the failure's doing.
    const healthy = await chaos.h.query<Answer>(QUERY, VARIABLES);
    expect(healthy.errors).toBeUndefined();
    expect(healthy.data!.customers!.nodes.map((node) => node.id)).toEqual(PAGE);
    await chaos.h.sandboxes[source].setKnobs(fault);
    chaos.h.resetUpstream();
  });

  it(`keeps what the other sources returned, equal to the ground truth, and nulls only ${source}'s fields`, async () => {
    const res: GraphQLResponse<Answer> = await chaos.h.query<Answer>(QUERY, VARIABLES);
    expect(res.status).toBe(200);
    expect(res.data).not.toBeNull();
    check(res.data!);
    expect(errorPaths(res)).toEqual([...paths].sort());
    for (const error of res.errors!) {
      expect(error.extensions).toEqual({ code, source, route: expect.stringMatching(/^(GET|POST) \//) });
    }
    expectNothingLeaked(res);
    // The other systems were called: their data came from them in this very answer.
    const upstream = chaos.h.upstream();
    for (const other of (['crm', 'orders', 'support'] as const).filter((name) => name !== source)) {
      expect(Object.values(upstream[other]).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
  });

  it('serves whole answers again once the source is back, and leaves nothing behind', async () => {
    await chaos.h.sandboxes[source].setKnobs({ outageMs: 0, malformedRate: 0, errorRate: 0 });
    expect((await fetch(`${chaos.h.server.url}/healthz`)).status).toBe(200);
    const { unhandledRejections, socketsOpen, socketsBefore } = await chaos.finish();
    expect(unhandledRejections).toEqual([]);
    expect(socketsOpen).toBeLessThanOrEqual(socketsBefore);
  });
});

// A source declared as data gets generated roots (`invoices`, `invoicesByIds`): they too are
// nullable, so that billing failing keeps the CRM's roots.
describe('when a source declared as data fails', () => {
  let billing: BillingSandboxHandle;
  let h: Harness;
  beforeAll(async () => {
    billing = await startBilling({ apiKey: 'billing-test-key' });
    h = await startHarness({
      configure: (config) => ({ ...config, sources: { ...config.sources, ...billingDocument().sources } }),
      env: billingEnv(billing),
    });
  });
  afterAll(async () => {
    await h?.close();
    await billing?.close();
  });

  it('nulls its generated list and batch roots alone, each with its error, and keeps the CRM page', async () => {
    const query = `query($ids: [ID!]!) { customers(first: 2) { nodes { id name } } invoices(first: 2) { nodes { id } } invoicesByIds(ids: $ids) { id } }`;
    const healthy = await h.query<{ invoices: { nodes: Array<{ id: string }> } }>(query, { ids: [] });
    expect(healthy.errors).toBeUndefined();
    const ids = healthy.data!.invoices.nodes.map((node) => node.id);
    expect(ids).toHaveLength(2);

    await billing.setKnobs({ outageMs: 600_000 });
    const res = await h.query<{ customers: { nodes: Array<{ id: string; name: string }> }; invoices: unknown; invoicesByIds: unknown }>(query, { ids });
    expect(res.status).toBe(200);
    expect(res.data!.customers.nodes).toEqual(PAGE.slice(0, 2).map(customerRef));
    expect(res.data!.invoices).toBeNull();
    expect(res.data!.invoicesByIds).toEqual([null, null]);
    expect(errorPaths(res)).toEqual(['invoices', 'invoicesByIds.0', 'invoicesByIds.1']);
    for (const error of res.errors!) expect(error.extensions).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'billing' });
    expectNothingLeaked(res);
    await billing.setKnobs({ outageMs: 0 });
    expect((await fetch(`${h.server.url}/healthz`)).status).toBe(200);
  });
});
