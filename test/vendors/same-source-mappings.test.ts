/**
 * Mappings between two entities of one vendor, declared here over the catalog's definitions as
 * written: Zendesk users and the tickets they requested (`requester_id`), Stripe customers and
 * their charges (`customer`). Each definition is registered through the admin API against its
 * fixture, then the mapping; answers are compared with the fixture's data both ways, calls counted
 * at the fixture and compared with the guard's prediction.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/harness';
import { ManualClock } from '../support/manual-clock';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';
import { STRIPE_KEY, startStripe, type StripeFixture } from '../support/vendors/stripe';
import { ZENDESK_TOKEN, startZendesk, zendeskTickets, zendeskUsers, type ZendeskFixture } from '../support/vendors/zendesk';

const definition = (vendor: string): unknown => JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', vendor, 'definition.json'), 'utf8'));

const MAPPINGS = {
  zendeskRequests: {
    description: 'A Zendesk user is the requester of the tickets that name them.',
    from: { entity: 'ZendeskUser', field: 'id' },
    to: { entity: 'ZendeskTicket', field: 'requesterId' },
    via: { kind: 'fieldKey' },
    forward: { field: 'requestedTickets', orderBy: { field: 'id', direction: 'asc' }, summaries: { requestedCount: { op: 'count' } } },
    inverse: { field: 'requester' },
  },
  stripeCustomerCharges: {
    description: 'A Stripe charge names its customer.',
    from: { entity: 'StripeCustomer', field: 'id' },
    to: { entity: 'StripeCharge', field: 'customerId' },
    via: { kind: 'fieldKey' },
    forward: { field: 'charges' },
    inverse: { field: 'customer' },
  },
};

type Cost = { upstreamCalls: Record<string, { predicted: number; actual: number }> };

const clock = new ManualClock();
const USERS = zendeskUsers(Array.from({ length: 60 }, (_, i) => String(700_000 + i * 7)));
let zendesk: ZendeskFixture;
let stripe: StripeFixture;
let h: RegistryHarness;

beforeAll(async () => {
  zendesk = await startZendesk(USERS, zendeskTickets(USERS));
  stripe = await startStripe();
  h = await startRegistryHarness({
    allowPrivate: [zendesk, stripe].map((f) => `127.0.0.1:${f.port}`),
    allowEnv: ['ZENDESK_*', 'STRIPE_*'],
    sourceClock: clock,
    env: { ZENDESK_URL: `${zendesk.origin}/api/v2`, ZENDESK_OAUTH_TOKEN: ZENDESK_TOKEN, STRIPE_URL: `${stripe.origin}/v1`, STRIPE_SECRET_KEY: STRIPE_KEY },
  });
  for (const vendor of ['zendesk', 'stripe']) {
    const answer = await h.admin<{ registerSource: { ok: boolean } }>(`mutation($definition: JSON!) { registerSource(definition: $definition, sample: false) { ${CHANGE} } }`, { definition: definition(vendor) });
    if (!answer.data?.registerSource.ok) throw new Error(`${vendor} was refused: ${JSON.stringify(answer)}`);
  }
  for (const [name, mapping] of Object.entries(MAPPINGS)) {
    const answer = await h.admin<{ registerMapping: { ok: boolean } }>(`mutation($m: JSON!) { registerMapping(name: "${name}", mapping: $m, sample: false) { ${CHANGE} } }`, { m: mapping });
    if (!answer.data?.registerMapping.ok) throw new Error(`${name} was refused: ${JSON.stringify(answer)}`);
  }
}, 60_000);
afterAll(async () => {
  await h?.close();
  await zendesk?.close();
  await stripe?.close();
});
beforeEach(() => {
  // Stripe's rate limit (25 a second, burst 25) full again: no test waits for tokens.
  clock.advance(2_000);
  zendesk.reset();
  stripe.reset();
});

describe('Zendesk: users and the tickets they requested', () => {
  it("forward: each user's requested tickets, one requested.json call per user, as predicted", async () => {
    const users = USERS.slice(10, 40);
    const answer = await h.graphql<{ zendeskUsersByIds: Array<{ id: string; requestedCount: number; requestedTickets: Array<{ id: string; subject: string; requesterId: string }> }> }>(
      'query($ids: [ID!]!) { zendeskUsersByIds(ids: $ids) { id requestedCount requestedTickets { id subject requesterId } } }',
      { ids: users.map((u) => String(u.id)) },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.zendeskUsersByIds).toEqual(
      users.map((u) => {
        const tickets = zendesk.requestedBy(String(u.id)).map((t) => ({ id: String(t.id), subject: t.subject, requesterId: String(u.id) }));
        return { id: String(u.id), requestedCount: tickets.length, requestedTickets: tickets };
      }),
    );
    expect(new Set(users.map((u) => zendesk.requestedBy(String(u.id)).length)).size).toBeGreaterThan(2);
    expect(zendesk.calls()).toEqual({ 'GET /api/v2/users/show_many.json': 1, 'GET /api/v2/users/{id}/tickets/requested.json': 30 });
    expect((answer.extensions?.cost as Cost).upstreamCalls.zendesk).toEqual({ predicted: 31, actual: 31 });
  });

  it('inverse: each ticket with its requester, the requesters in one show_many call', async () => {
    const tickets = zendesk.tickets.slice(0, 40);
    const answer = await h.graphql<{ zendeskTicketsByIds: Array<{ id: string; requester: { id: string; name: string } | null }> }>(
      'query($ids: [ID!]!) { zendeskTicketsByIds(ids: $ids) { id requester { id name } } }',
      { ids: tickets.map((t) => String(t.id)) },
    );
    expect(answer.errors).toBeUndefined();
    const userById = new Map(USERS.map((u) => [u.id, u]));
    expect(answer.data!.zendeskTicketsByIds).toEqual(tickets.map((t) => ({ id: String(t.id), requester: { id: String(t.requester_id), name: userById.get(t.requester_id)!.name } })));
    expect(zendesk.calls()).toEqual({ 'GET /api/v2/tickets/show_many.json': 1, 'GET /api/v2/users/show_many.json': 1 });
    expect((answer.extensions?.cost as Cost).upstreamCalls.zendesk).toEqual({ predicted: 2, actual: 2 });
  });
});

describe('Stripe: customers and their charges', () => {
  it('forward: a page of customers, each with exactly its charges, one /v1/charges call per customer', async () => {
    const answer = await h.graphql<{ stripeCustomers: { nodes: Array<{ id: string; charges: Array<{ id: string; amount: number; customerId: string }> }> } }>(
      '{ stripeCustomers(first: 20) { nodes { id charges { id amount customerId } } } }',
    );
    expect(answer.errors).toBeUndefined();
    const nodes = answer.data!.stripeCustomers.nodes;
    expect(nodes.map((n) => n.id)).toEqual(stripe.customers.slice(0, 20).map((c) => c.id));
    for (const node of nodes) {
      const expected = stripe.chargesOf(node.id).map((c) => ({ id: c.id, amount: c.amount / 100, customerId: node.id }));
      expect([...node.charges].sort((a, b) => a.id.localeCompare(b.id))).toEqual(expected.sort((a, b) => a.id.localeCompare(b.id)));
    }
    expect(nodes.some((n) => n.charges.length > 1)).toBe(true);
    expect(stripe.calls()).toEqual({ 'GET /v1/customers': 1, 'GET /v1/charges': 20 });
    expect((answer.extensions?.cost as Cost).upstreamCalls.stripe).toEqual({ predicted: 21, actual: 21 });
  });

  it("inverse: a charge's customer, one call per charge's customer", async () => {
    const customers = stripe.customers.filter((c) => stripe.chargesOf(c.id).length > 0).slice(0, 5);
    const charges = customers.map((c) => stripe.chargesOf(c.id)[0]!);
    const query = `{ ${charges.map((c, i) => `c${i}: stripeCharge(id: "${c.id}") { id customer { id email } }`).join(' ')} }`;
    const answer = await h.graphql<Record<string, { id: string; customer: { id: string; email: string } | null }>>(query);
    expect(answer.errors).toBeUndefined();
    expect(Object.values(answer.data!)).toEqual(charges.map((c, i) => ({ id: c.id, customer: { id: customers[i]!.id, email: customers[i]!.email.trim().toLowerCase() } })));
    expect(stripe.calls()).toEqual({ 'GET /v1/charges/{id}': 5, 'GET /v1/customers/{id}': 5 });
    expect((answer.extensions?.cost as Cost).upstreamCalls.stripe).toEqual({ predicted: 10, actual: 10 });
  });
});
