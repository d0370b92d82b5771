/**
 * Authorization against a real gateway and its sandboxes, counting upstream calls at the
 * sandboxes: what a caller may not see is refused whole (reject) or nulled field by field
 * (filter) before the guard prices it, whatever path the document takes to it (aliases,
 * fragments, inline fragments, back-joins); policies decide once per request, an undecided one
 * denies; a masked field is masked by every path and in the response tier; introspection shows
 * only what the caller may see, and is refused when off.
 */
import type { VirtualizationConfigInput } from '../../src/config/definition';
import type { PolicyCaller } from '../../src/config/definition/client-auth';
import { EXPLAIN_HEADER } from '../../src/server/explain';
import { contact, customerIdOfRef, data, expectedOrder, expectedTicket } from '../integration/ground-truth';
import { DEMO_LIMITED_KEY, startHarness, testKeys, type GraphQLResponse, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const LIMITED = { 'x-api-key': DEMO_LIMITED_KEY };
const ALL_SCOPES = ['customers:read', 'orders:read', 'tickets:read', 'pii:read', 'billing:read'];

const customerId = data.crm.contacts.find((c) => c.Email && data.support.tickets.some((t) => t.requester.email.trim().toLowerCase() === c.Email!.trim().toLowerCase()))!.Id;
const rawEmail = contact(customerId).Email!.trim().toLowerCase();
const linkedOrder = data.orders.orders.find((o) => customerIdOfRef(o.customer_ref) === customerId) ?? data.orders.orders.find((o) => customerIdOfRef(o.customer_ref) !== undefined)!;
const orderId = expectedOrder(linkedOrder).id;
const orderCustomer = contact(customerIdOfRef(linkedOrder.customer_ref)!);
const ticketId = expectedTicket(data.support.tickets[0]!).id;

const masked = (email: string) => `${email[0]}***${email.slice(email.lastIndexOf('@'))}`;

/** Order.total needs (finance:read and orders:read) or admin; Ticket.priority the escalations policy; Ticket.openedAt a policy no function decides. */
function guardedConfig(config: VirtualizationConfigInput, decided: { count: number }, mode: 'reject' | 'filter'): VirtualizationConfigInput {
  const sources = structuredClone(config.sources) as Record<string, { entities: Record<string, { fields: Record<string, unknown> }> }>;
  const withAccess = (field: unknown, access: unknown) => (typeof field === 'string' ? { from: field, access } : { ...(field as object), access });
  const order = sources.orders!.entities.Order!.fields;
  order.total = withAccess(order.total, { requiresScopes: [['finance:read', 'orders:read'], ['admin']] });
  const ticket = sources.support!.entities.Ticket!.fields;
  ticket.priority = withAccess(ticket.priority, { policies: [['escalations']] });
  ticket.openedAt = withAccess(ticket.openedAt, { policies: [['nobodyDecidesThis']] });
  return {
    ...config,
    sources: sources as VirtualizationConfigInput['sources'],
    cache: { upstream: { enabled: false }, responses: { admitAfter: 1, windowMs: 60_000, ttlMs: 60_000 } },
    auth: {
      ...config.auth,
      authorization: {
        mode,
        policies: {
          escalations: (caller: PolicyCaller) => {
            decided.count += 1;
            return caller.scopes.has('tickets:escalate');
          },
        },
      },
      introspection: mode === 'filter' ? { enabled: false, scope: 'schema:read' } : {},
    },
  };
}

const callsTo = (h: Harness) => h.upstream();
const codes = (response: GraphQLResponse) => (response.errors ?? []).map((error) => (error.extensions as { code?: string } | undefined)?.code);

describe('reject mode', () => {
  const decided = { count: 0 };
  const keys = testKeys({
    finance: ['orders:read', 'finance:read'],
    admin: ['orders:read', 'admin'],
    ordersOnly: ['orders:read'],
    escalator: [...ALL_SCOPES, 'tickets:escalate'],
    limitedTwin: ['customers:read', 'orders:read'],
    supportDesk: ['customers:read', 'tickets:read'],
  });
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ cache: true, clock: new ManualClock(), env: keys.env, configure: (config) => guardedConfig(keys.configure(config), decided, 'reject') });
  });
  afterAll(() => h?.close());

  async function refused(query: string, headers: Record<string, string>, variables?: Record<string, unknown>) {
    h.resetUpstream();
    const response = await h.query(query, variables, headers);
    expect(response.status).toBe(403);
    expect(codes(response)).toEqual(['FORBIDDEN']);
    expect(response.data ?? null).toBeNull();
    expect(callsTo(h).total).toBe(0);
    expect((response.extensions?.cost as { requestedQueryCost: number }).requestedQueryCost).toBe(0);
    return response.errors![0]!.extensions as { denied: Array<{ coordinate: string; paths: string[]; needs: string }> };
  }

  it('refuses a type the caller lacks the scope for, naming the fields, their paths and the scope, with no upstream call', async () => {
    const refusal = await refused(`{ ticket(id: "${ticketId}") { subject } }`, LIMITED);
    expect(refusal.denied).toEqual([
      { coordinate: 'Query.ticket', paths: ['ticket'], needs: 'scope tickets:read' },
      { coordinate: 'Ticket.subject', paths: ['ticket.subject'], needs: 'scope tickets:read' },
    ]);
    const allowed = await h.query(`{ ticket(id: "${ticketId}") { subject } }`);
    expect(allowed.data).toEqual({ ticket: { subject: data.support.tickets[0]!.subject } });
  });

  it('refuses the same field through aliases, fragments, inline fragments and back-joins', async () => {
    const attempts = [
      `{ c: customer(id: "${customerId}") { name t: tickets { subject } } }`,
      `{ customer(id: "${customerId}") { ...Support } } fragment Support on Customer { tickets { subject } }`,
      `{ customer(id: "${customerId}") { ... on Customer { tickets { subject } } } }`,
      `{ order(id: "${orderId}") { id customer { tickets { subject } } } }`,
      `query { customers(first: 2) { nodes { ...A } } } fragment A on Customer { ...B } fragment B on Customer { ... on Customer { tickets { id } } }`,
    ];
    for (const query of attempts) {
      const refusal = await refused(query, LIMITED);
      expect(refusal.denied.map((field) => field.coordinate)).toContain('Customer.tickets');
    }
    // A back-join reaches the customer from an order: it needs what a customer needs.
    const backJoin = await refused(`{ order(id: "${orderId}") { id customer { name } } }`, keys.headers('ordersOnly'));
    expect(backJoin.denied.map((field) => field.coordinate)).toEqual(['Order.customer', 'Customer.name']);
    const direct = await h.query(`{ order(id: "${orderId}") { id } }`, undefined, keys.headers('ordersOnly'));
    expect(direct.data).toEqual({ order: { id: orderId } });
  });

  it('reads requiresScopes as OR of ANDs', async () => {
    const query = `{ order(id: "${orderId}") { total } }`;
    for (const key of ['finance', 'admin']) expect((await h.query(query, undefined, keys.headers(key))).data).toEqual({ order: { total: expectedOrder(linkedOrder).total } });
    const refusal = await refused(query, keys.headers('ordersOnly'));
    expect(refusal.denied).toEqual([{ coordinate: 'Order.total', paths: ['order.total'], needs: '(scope finance:read and scope orders:read or scope admin)' }]);
  });

  it('lets a policy decide, once per request however often the document names it; an undecided policy denies', async () => {
    const query = `{ a: ticket(id: "${ticketId}") { priority } b: ticket(id: "${ticketId}") { p: priority } }`;
    decided.count = 0;
    const escalated = await h.query(query, undefined, keys.headers('escalator'));
    expect(escalated.errors).toBeUndefined();
    expect(escalated.data).toEqual({ a: { priority: expectedTicket(data.support.tickets[0]!).priority }, b: { p: expectedTicket(data.support.tickets[0]!).priority } });
    expect(decided.count).toBe(1);
    const refusal = await refused(query, {});
    expect(refusal.denied[0]).toMatchObject({ coordinate: 'Ticket.priority', needs: 'policy escalations' });
    // No function decides this policy: it denies even the caller with every scope.
    const undecided = await refused(`{ ticket(id: "${ticketId}") { openedAt } }`, keys.headers('escalator'));
    expect(undecided.denied).toEqual([{ coordinate: 'Ticket.openedAt', paths: ['ticket.openedAt'], needs: 'policy nobodyDecidesThis' }]);
  });

  it('masks the email without pii:read, by the direct path and through a back-join, and in no extension', async () => {
    const direct = `{ customer(id: "${customerId}") { email } }`;
    const limited = await h.query(direct, undefined, { ...LIMITED, [EXPLAIN_HEADER]: '1' });
    expect(limited.data).toEqual({ customer: { email: masked(rawEmail) } });
    expect(JSON.stringify(limited)).not.toContain(rawEmail);
    const viaOrder = await h.query(`{ order(id: "${orderId}") { customer { email } } }`, undefined, LIMITED);
    const orderEmail = orderCustomer.Email!.trim().toLowerCase();
    expect(viaOrder.data).toEqual({ order: { customer: { email: masked(orderEmail) } } });
    expect((await h.query(direct)).data).toEqual({ customer: { email: rawEmail } });
  });

  it('joins on the raw email for a caller who sees it masked: the mask is on the answer, not on the join key', async () => {
    const query = `{ customer(id: "${customerId}") { email tickets { id } } }`;
    const desk = await h.query<{ customer: { email: string; tickets: Array<{ id: string }> } }>(query, undefined, keys.headers('supportDesk'));
    const full = await h.query<{ customer: { email: string; tickets: Array<{ id: string }> } }>(query);
    expect(desk.errors).toBeUndefined();
    expect(desk.data!.customer.email).toBe(masked(rawEmail));
    expect(desk.data!.customer.tickets.length).toBeGreaterThan(0);
    expect(desk.data!.customer.tickets).toEqual(full.data!.customer.tickets);
    // Nor does the raw value reach the operation or audit lines.
    const lines = [...h.logs.app.entries(), ...h.logs.audit.entries()].map((line) => JSON.stringify(line));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((line) => line.includes(rawEmail))).toBe(false);
  });

  it('keys the response tier by the authorization partition: a masked caller never gets the unmasked answer, two alike callers share', async () => {
    h.server.responseCache.clear();
    const query = `query Contact($id: ID!) { customer(id: $id) { name email } }`;
    const variables = { id: customerId };
    const unmasked = await h.query(query, variables);
    expect((await h.query(query, variables)).extensions?.responseCache).toMatchObject({ hit: true });
    expect(unmasked.data).toEqual({ customer: { name: contact(customerId).Name ?? expect.anything(), email: rawEmail } });

    h.resetUpstream();
    const first = await h.query(query, variables, LIMITED);
    expect(first.extensions?.responseCache).toBeUndefined();
    expect(first.data).toEqual({ customer: { name: unmasked.data!.customer && (unmasked.data!.customer as { name: string }).name, email: masked(rawEmail) } });
    expect(callsTo(h).total).toBeGreaterThan(0);

    // Another key with the same rights is the same partition: it shares the masked answer, with no call.
    h.resetUpstream();
    const twin = await h.query(query, variables, keys.headers('limitedTwin'));
    expect(twin.extensions?.responseCache).toMatchObject({ hit: true });
    expect(twin.data).toEqual(first.data);
    expect(callsTo(h).total).toBe(0);
  });

  it('introspects only what the caller may see', async () => {
    const type = await h.query<{ __type: { name: string } | null }>('{ __type(name: "Ticket") { name } }', undefined, LIMITED);
    expect(type.data).toEqual({ __type: null });
    expect((await h.query('{ __type(name: "Ticket") { name } }')).data).toEqual({ __type: { name: 'Ticket' } });
    const roots = async (headers: Record<string, string>) => {
      const response = await h.query<{ __schema: { queryType: { fields: Array<{ name: string }> } } }>('{ __schema { queryType { fields { name } } } }', undefined, headers);
      return response.data!.__schema.queryType.fields.map((field) => field.name);
    };
    expect(await roots(LIMITED)).toEqual(expect.arrayContaining(['customer', 'customers', 'order']));
    expect(await roots(LIMITED)).not.toContain('ticket');
    expect(await roots({})).toContain('ticket');
    const customerFields = await h.query<{ __type: { fields: Array<{ name: string }> } }>('{ __type(name: "Customer") { fields { name } } }', undefined, LIMITED);
    expect(customerFields.data!.__type.fields.map((field) => field.name)).not.toContain('tickets');
  });
});

describe('filter mode', () => {
  const decided = { count: 0 };
  const keys = testKeys({ introspector: [...ALL_SCOPES, 'schema:read'] });
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ cache: true, clock: new ManualClock(), env: keys.env, configure: (config) => guardedConfig(keys.configure(config), decided, 'filter') });
  });
  afterAll(() => h?.close());

  type Cost = { requestedQueryCost: number; upstreamCalls: Record<string, { predicted: number; actual: number }> };

  it('nulls each denied field at its path, keeps selection order, and neither prices nor fetches it', async () => {
    h.resetUpstream();
    const query = `{ customer(id: "${customerId}") { name tickets { subject } email orders(first: 2) { id } } }`;
    const response = await h.query<{ customer: Record<string, unknown> }>(query, undefined, LIMITED);
    expect(response.status).toBe(200);
    expect(Object.keys(response.data!.customer)).toEqual(['name', 'tickets', 'email', 'orders']);
    expect(response.data!.customer.tickets).toBeNull();
    expect(response.data!.customer.email).toBe(masked(rawEmail));
    expect(response.errors).toEqual([expect.objectContaining({ path: ['customer', 'tickets'], extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })]);
    expect(callsTo(h).support).toEqual({});
    const cost = response.extensions!.cost as Cost;
    expect(cost.upstreamCalls.support).toBeUndefined();
    // The denied selection costs nothing: the same price as the query without it.
    const without = await h.query(`{ customer(id: "${customerId}") { name email orders(first: 2) { id } } }`, undefined, LIMITED);
    expect(cost.requestedQueryCost).toBe((without.extensions!.cost as Cost).requestedQueryCost);
  });

  it('puts an error at every list element, through fragments and back-joins, and respects @skip', async () => {
    h.resetUpstream();
    const response = await h.query<{ customers: { nodes: Array<Record<string, unknown>> } }>(
      `query($hide: Boolean!) { customers(first: 3) { nodes { id ...T } } } fragment T on Customer { tickets { id } openTicketCount @skip(if: $hide) }`,
      { hide: true },
      LIMITED,
    );
    expect(response.data!.customers.nodes.map((node) => Object.keys(node))).toEqual([
      ['id', 'tickets'],
      ['id', 'tickets'],
      ['id', 'tickets'],
    ]);
    expect(response.errors!.map((error) => error.path)).toEqual([0, 1, 2].map((i) => ['customers', 'nodes', i, 'tickets']));
    expect(callsTo(h).support).toEqual({});

    const backJoin = await h.query<{ order: { customer: Record<string, unknown> } }>(`{ order(id: "${orderId}") { customer { ...C } } } fragment C on Customer { name tickets { id } }`, undefined, LIMITED);
    expect(backJoin.data!.order.customer).toEqual({ name: expect.any(String), tickets: null });
    expect(backJoin.errors!.map((error) => error.path)).toEqual([['order', 'customer', 'tickets']]);
  });

  it('keeps __typename where every field of a selection was denied', async () => {
    h.resetUpstream();
    const response = await h.query(`{ ticket(id: "${ticketId}") { subject } customer(id: "${customerId}") { name } }`, undefined, LIMITED);
    expect(response.data).toEqual({ ticket: null, customer: { name: expect.any(String) } });
    expect(codes(response)).toEqual(['FORBIDDEN']);
    expect(callsTo(h).support).toEqual({});
  });

  it('refuses introspection when it is off, saying how to turn it on, unless the caller holds the scope', async () => {
    const refused = await h.query('{ __schema { queryType { name } } }');
    expect(refused.status).toBe(403);
    expect(codes(refused)).toEqual(['FORBIDDEN']);
    expect(refused.errors![0]!.message).toContain('auth.introspection.enabled');
    expect(refused.errors![0]!.message).toContain('schema:read');
    const allowed = await h.query('{ __schema { queryType { name } } }', undefined, keys.headers('introspector'));
    expect(allowed.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });
});
