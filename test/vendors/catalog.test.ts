/**
 * The vendor catalog (examples/): each definition registered through the admin API, as written,
 * against a fixture server that answers as the vendor documents its API (test/support/vendors/),
 * credentials from the environment; queried through the gateway and compared with the fixture's
 * data, calls counted at the fixture.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/harness';
import { ManualClock } from '../support/manual-clock';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';
import type { VendorFixture } from '../support/vendors/fixture';
import { HUBSPOT_TOKEN, hubspotContacts, startHubSpot, type HubSpotFixture } from '../support/vendors/hubspot';
import { SALESFORCE_TOKEN, startSalesforce, type SalesforceFixture } from '../support/vendors/salesforce';
import { SHOPIFY_TOKEN, shopifyOrders, startShopify, type ShopifyFixture } from '../support/vendors/shopify';
import { STRIPE_KEY, startStripe, type StripeFixture } from '../support/vendors/stripe';
import { ZENDESK_RETRY_AFTER_SECONDS, ZENDESK_TOKEN, startZendesk, zendeskTickets, zendeskUsers, type ZendeskFixture } from '../support/vendors/zendesk';

const definition = (vendor: string): unknown => JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', vendor, 'definition.json'), 'utf8'));

const clock = new ManualClock();
let hubspot: HubSpotFixture;
let salesforce: SalesforceFixture;
let shopify: ShopifyFixture;
let zendesk: ZendeskFixture;
let stripe: StripeFixture;
let h: RegistryHarness;
let fixtures: VendorFixture[];

const SHOP_CUSTOMERS = Array.from({ length: 40 }, (_, i) => String(7_100_000_000 + i * 11));
const DESK_USERS = zendeskUsers(Array.from({ length: 150 }, (_, i) => String(900_000 + i * 3)));

beforeAll(async () => {
  hubspot = await startHubSpot(hubspotContacts(350));
  salesforce = await startSalesforce();
  shopify = await startShopify(shopifyOrders(SHOP_CUSTOMERS));
  zendesk = await startZendesk(DESK_USERS, zendeskTickets(DESK_USERS));
  stripe = await startStripe();
  fixtures = [hubspot, salesforce, shopify, zendesk, stripe];
  h = await startRegistryHarness({
    allowPrivate: fixtures.map((f) => `127.0.0.1:${f.port}`),
    allowEnv: ['HUBSPOT_*', 'SALESFORCE_*', 'SHOPIFY_*', 'ZENDESK_*', 'STRIPE_*'],
    sourceClock: clock,
    env: {
      HUBSPOT_URL: hubspot.origin,
      HUBSPOT_TOKEN,
      SALESFORCE_URL: `${salesforce.origin}/services/data/v59.0`,
      SALESFORCE_ACCESS_TOKEN: SALESFORCE_TOKEN,
      SHOPIFY_URL: `${shopify.origin}/admin/api/2024-01`,
      SHOPIFY_ACCESS_TOKEN: SHOPIFY_TOKEN,
      ZENDESK_URL: `${zendesk.origin}/api/v2`,
      ZENDESK_OAUTH_TOKEN: ZENDESK_TOKEN,
      STRIPE_URL: `${stripe.origin}/v1`,
      STRIPE_SECRET_KEY: STRIPE_KEY,
    },
  });
  for (const vendor of ['hubspot', 'salesforce', 'shopify', 'zendesk', 'stripe']) {
    const answer = await h.admin<{ registerSource: { ok: boolean; report: unknown } }>(
      `mutation($definition: JSON!) { registerSource(definition: $definition, sample: false) { ${CHANGE} } }`,
      { definition: definition(vendor) },
    );
    if (!answer.data?.registerSource.ok) throw new Error(`${vendor} was refused: ${JSON.stringify(answer)}`);
  }
}, 60_000);
afterAll(async () => {
  await h?.close();
  for (const fixture of fixtures ?? []) await fixture.close();
});
beforeEach(() => {
  for (const fixture of fixtures) fixture.reset();
});

describe('HubSpot CRM v3', () => {
  it('lists contacts across pages of 100 by paging.next.after, with the properties asked for by name', async () => {
    const first = await h.graphql<{ hubspotContacts: { nodes: Array<Record<string, unknown>>; pageInfo: { hasNextPage: boolean; endCursor: string } } }>(
      '{ hubspotContacts(first: 230) { nodes { id email firstName lastName lifecycleStage createdAt } pageInfo { hasNextPage endCursor } } }',
    );
    expect(first.errors).toBeUndefined();
    expect(first.data!.hubspotContacts.nodes).toEqual(
      hubspot.contacts.slice(0, 230).map((c) => ({ id: c.id, email: c.properties.email, firstName: c.properties.firstname, lastName: c.properties.lastname, lifecycleStage: c.properties.lifecyclestage, createdAt: c.createdAt })),
    );
    expect(first.data!.hubspotContacts.pageInfo.hasNextPage).toBe(true);
    expect(hubspot.calls()).toEqual({ 'GET /crm/v3/objects/contacts': 3 });
    expect(hubspot.log.map((call) => new URL(call.url, hubspot.origin).searchParams.get('limit'))).toEqual(['100', '100', '30']);
    expect(hubspot.log.every((call) => new URL(call.url, hubspot.origin).searchParams.get('properties')?.split(',').includes('lifecyclestage'))).toBe(true);
  });

  it('finds one contact by id through batch read, and null for an id HubSpot does not know (207 OBJECT_NOT_FOUND)', async () => {
    const contact = hubspot.contacts[17]!;
    const answer = await h.graphql<{ a: Record<string, unknown> | null; b: Record<string, unknown> | null }>(`{ a: hubspotContact(id: "${contact.id}") { id email } b: hubspotContact(id: "999999") { id } }`);
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ a: { id: contact.id, email: contact.properties.email }, b: null });
  });

  it('reads 300 contacts by ids through batch read in 3 calls of 100 inputs; an id the 207 names OBJECT_NOT_FOUND is null', async () => {
    const ids = [...hubspot.contacts.slice(0, 300).map((c) => c.id), '999999'];
    const answer = await h.graphql<{ hubspotContactsByIds: Array<Record<string, unknown> | null> }>('query($ids: [ID!]!) { hubspotContactsByIds(ids: $ids) { id email lastName } }', { ids });
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.hubspotContactsByIds).toEqual([...hubspot.contacts.slice(0, 300).map((c) => ({ id: c.id, email: c.properties.email, lastName: c.properties.lastname })), null]);
    expect(hubspot.calls()).toEqual({ 'POST /crm/v3/objects/contacts/batch/read': 4 });
    const sent = hubspot.log.map((call) => (JSON.parse(call.body ?? '{}') as { inputs: unknown[] }).inputs.length).sort((a, b) => b - a);
    expect(sent).toEqual([100, 100, 100, 1]);
  });

  it('fails an id the 207 refuses with another category with SOURCE_PARTIAL_FAILURE at its path, the others served', async () => {
    const [a, b, c] = hubspot.contacts.slice(0, 3);
    hubspot.refused.add(b!.id);
    try {
      const answer = await h.graphql<{ hubspotContactsByIds: Array<Record<string, unknown> | null> }>('query($ids: [ID!]!) { hubspotContactsByIds(ids: $ids) { id } }', { ids: [a!.id, b!.id, c!.id] });
      expect(answer.data!.hubspotContactsByIds).toEqual([{ id: a!.id }, null, { id: c!.id }]);
      expect(answer.errors).toEqual([expect.objectContaining({ path: ['hubspotContactsByIds', 1], extensions: expect.objectContaining({ code: 'SOURCE_PARTIAL_FAILURE' }) })]);
      expect(hubspot.calls()).toEqual({ 'POST /crm/v3/objects/contacts/batch/read': 1 });
    } finally {
      hubspot.refused.clear();
    }
  });

  it('retries a 429 RATE_LIMITS (no Retry-After) after its own backoff on the injected clock', async () => {
    hubspot.throttleNext(1);
    const pending = h.graphql<{ hubspotContacts: { nodes: Array<{ id: string }> } }>('{ hubspotContacts(first: 5) { nodes { id } } }');
    await clock.untilTimers(1);
    clock.advance(2_000);
    const answer = await pending;
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.hubspotContacts.nodes.map((n) => n.id)).toEqual(hubspot.contacts.slice(0, 5).map((c) => c.id));
    expect(hubspot.log.map((call) => call.status)).toEqual([429, 200]);
  });
});

describe('Salesforce REST v59.0', () => {
  it('reads contacts through sObject Collections, 200 ids per call, the fields asked for by name; a null position finds nothing', async () => {
    const wanted = salesforce.contacts.slice(0, 450);
    const ids = [...wanted.map((c) => c.Id), '0035e0000ZZZZZZAAU'];
    const answer = await h.graphql<{ salesforceContactsByIds: Array<Record<string, unknown> | null> }>('query($ids: [ID!]!) { salesforceContactsByIds(ids: $ids) { id email firstName createdAt } }', { ids });
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.salesforceContactsByIds).toEqual([
      ...wanted.map((c) => ({ id: c.Id, email: c.Email, firstName: c.FirstName, createdAt: new Date(c.CreatedDate!.replace('+0000', 'Z')).toISOString() })),
      null,
    ]);
    expect(salesforce.calls()).toEqual({ 'GET /services/data/v59.0/composite/sobjects/Contact': 3 });
    expect(salesforce.log.every((call) => call.url.includes('fields='))).toBe(true);
  });

  it('a 403 REQUEST_LIMIT_EXCEEDED (Salesforce answers no 429) fails the field with a coded source error, not retried', async () => {
    salesforce.throttleNext(1);
    const contact = salesforce.contacts[3]!;
    const answer = await h.graphql(`{ salesforceContact(id: "${contact.Id}") { id } }`);
    expect(answer.data).toEqual({ salesforceContact: null });
    expect(answer.errors).toEqual([expect.objectContaining({ path: ['salesforceContact'], extensions: expect.objectContaining({ code: 'SOURCE_REJECTED_REQUEST', source: 'salesforce' }) })]);
    expect(salesforce.total()).toBe(1);
  });
});

describe('Shopify Admin REST 2024-01', () => {
  it('reads orders by ids (status=any, so closed and cancelled ones too) with their line items, in one call', async () => {
    const wanted = shopify.orders.slice(0, 60);
    const answer = await h.graphql<{ shopifyOrdersByIds: Array<Record<string, unknown> | null> }>(
      'query($ids: [ID!]!) { shopifyOrdersByIds(ids: $ids) { id name customerId total closedAt cancelledAt lineItems { sku quantity price } } }',
      { ids: wanted.map((o) => String(o.id)) },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.shopifyOrdersByIds).toEqual(
      wanted.map((o) => ({
        id: String(o.id),
        name: o.name,
        customerId: String(o.customer.id),
        total: Number(o.total_price),
        closedAt: o.closed_at,
        cancelledAt: o.cancelled_at,
        lineItems: o.line_items.map((line) => ({ sku: line.sku, quantity: line.quantity, price: Number(line.price) })),
      })),
    );
    expect(wanted.some((o) => o.closed_at !== null) && wanted.some((o) => o.cancelled_at !== null)).toBe(true);
    expect(shopify.calls()).toEqual({ 'GET /admin/api/2024-01/orders.json': 1 });
  });

  it('retries a 429 after its Retry-After: 2.0 on the injected clock', async () => {
    shopify.throttleNext(1);
    const order = shopify.orders[5]!;
    let answered = false;
    const pending = h.graphql<{ shopifyOrder: { id: string } | null }>(`{ shopifyOrder(id: "${order.id}") { id } }`).finally(() => (answered = true));
    await clock.untilTimers(1);
    clock.advance(1_999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    clock.advance(1);
    const answer = await pending;
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ shopifyOrder: { id: String(order.id) } });
    expect(shopify.log.map((call) => call.status)).toEqual([429, 200]);
  });
});

describe('Zendesk Support v2', () => {
  it('reads users by show_many, 100 ids per call, ids it does not know null', async () => {
    const users = DESK_USERS.slice(0, 120);
    const answer = await h.graphql<{ zendeskUsersByIds: Array<{ id: string; email: string; name: string } | null> }>(
      'query($ids: [ID!]!) { zendeskUsersByIds(ids: $ids) { id email name } }',
      { ids: [...users.map((u) => String(u.id)), '1'] },
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.zendeskUsersByIds).toEqual([...users.map((u) => ({ id: String(u.id), email: u.email, name: u.name })), null]);
    expect(zendesk.calls()).toEqual({ 'GET /api/v2/users/show_many.json': 2 });
  });

  it('retries a 429 after its Retry-After seconds on the injected clock', async () => {
    zendesk.throttleNext(1);
    const ticket = zendesk.tickets[0]!;
    const pending = h.graphql<{ zendeskTicket: { id: string } | null }>(`{ zendeskTicket(id: "${ticket.id}") { id subject } }`);
    await clock.untilTimers(1);
    clock.advance(ZENDESK_RETRY_AFTER_SECONDS * 1_000);
    const answer = await pending;
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ zendeskTicket: { id: String(ticket.id), subject: ticket.subject } });
    expect(zendesk.log.map((call) => call.status)).toEqual([429, 200]);
  });
});

describe('Stripe', () => {
  it('finds a customer and a charge by id, amounts from minor units, times from epoch seconds', async () => {
    const charge = stripe.charges[4]!;
    const customer = stripe.customers.find((c) => c.id === charge.customer)!;
    const answer = await h.graphql(`{ stripeCustomer(id: "${customer.id}") { id email createdAt } stripeCharge(id: "${charge.id}") { id amount status customerId customerEmail } }`);
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({
      stripeCustomer: { id: customer.id, email: customer.email, createdAt: new Date(customer.created * 1000).toISOString() },
      stripeCharge: { id: charge.id, amount: charge.amount / 100, status: charge.status.toUpperCase(), customerId: customer.id, customerEmail: customer.email },
    });
    expect(stripe.calls()).toEqual({ 'GET /v1/customers/{id}': 1, 'GET /v1/charges/{id}': 1 });
  });

  it('an unknown customer is null (404 resource_missing), and its error envelope reaches no client', async () => {
    const answer = await h.graphql(`{ stripeCustomer(id: "cus_doesnotexist") { id } }`);
    expect(answer).toMatchObject({ data: { stripeCustomer: null } });
    expect(answer.errors).toBeUndefined();
  });
});

describe('lists as each vendor pages them', () => {
  const ids = async (root: string, first: number) => {
    const answer = await h.graphql<Record<string, { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean } }>>(`{ ${root}(first: ${first}) { nodes { id } pageInfo { hasNextPage } } }`);
    expect(answer.errors).toBeUndefined();
    return answer.data![root]!;
  };

  it('Stripe: starting_after the last record id while has_more, newest first', async () => {
    const page = await ids('stripeCustomers', 230);
    expect(page.nodes.map((n) => n.id)).toEqual(stripe.customers.slice(0, 230).map((c) => c.id));
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(stripe.calls()).toEqual({ 'GET /v1/customers': 3 });
  });

  it('Zendesk: links.next while meta.has_more (links.next is there on the last page too)', async () => {
    const page = await ids('zendeskUsers', 500);
    expect(page.nodes.map((n) => n.id)).toEqual(DESK_USERS.map((u) => String(u.id)));
    expect(page.pageInfo.hasNextPage).toBe(false);
    expect(zendesk.calls()).toEqual({ 'GET /api/v2/users.json': 2 });
  });

  it('Salesforce: SOQL batches of 2,000 behind nextRecordsUrl until done, read by clients 1,000 at a time', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 6; page++) {
      const answer: { errors?: unknown; data?: { salesforceContacts: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string } } } | null } = await h.graphql(
        'query($after: String) { salesforceContacts(first: 1000, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      expect(answer.errors).toBeUndefined();
      seen.push(...answer.data!.salesforceContacts.nodes.map((n) => n.id));
      if (!answer.data!.salesforceContacts.pageInfo.hasNextPage) break;
      after = answer.data!.salesforceContacts.pageInfo.endCursor;
    }
    expect(seen).toEqual(salesforce.contacts.map((c) => c.Id));
    // 5 client pages over 3 SOQL batches: one call per client page, a batch read again where a
    // client page starts inside it (the query itself twice: 5 calls where the API needs 3).
    expect(salesforce.calls()).toEqual({ 'GET /services/data/v59.0/query': 2, 'GET /services/data/v59.0/query/{cursor}': 3 });
  });

  it('Shopify: the Link header, later calls carrying only page_info and limit', async () => {
    const page = await ids('shopifyOrders', shopify.orders.length);
    expect(page.nodes.map((n) => n.id)).toEqual(shopify.orders.map((o) => String(o.id)));
    expect(shopify.log.slice(1).every((call) => /^[^?]+\?limit=\d+&page_info=/.test(call.url) && !call.url.includes('status='))).toBe(true);
  });
});
