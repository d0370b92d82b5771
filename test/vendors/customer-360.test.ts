/**
 * A customer 360 across vendors: HubSpot contacts, the golden record of each from a master-data
 * service (its Shopify customer ids and Zendesk user ids: none, one or two), then the Shopify
 * orders and Zendesk tickets of every linked account. The catalog definitions are registered as
 * written (only their limits raised for the size of the test) with the master-data source and the
 * two service mappings; answers are compared with the fixtures' data, and calls are counted per
 * vendor against the fewest that vendor's API allows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../support/harness';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';
import type { VendorFixture } from '../support/vendors/fixture';
import { seeded } from '../support/vendors/fixture';
import { HUBSPOT_PAGE_MAX, HUBSPOT_TOKEN, hubspotContacts, startHubSpot, type HubSpotFixture } from '../support/vendors/hubspot';
import { MDM_BATCH_MAX, MDM_KEY, startMasterData, type MasterDataFixture, type MasterLink } from '../support/vendors/master-data';
import { SHOPIFY_TOKEN, shopifyOrders, startShopify, type ShopifyFixture } from '../support/vendors/shopify';
import { ZENDESK_TOKEN, startZendesk, zendeskTickets, zendeskUsers, type ZendeskFixture } from '../support/vendors/zendesk';

const CONTACTS = 500;
const PAGE = 100;
const definition = (vendor: string): { sources: Record<string, { limits?: Record<string, unknown> }> } =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'examples', vendor, 'definition.json'), 'utf8'));

// The golden records: every contact but every tenth is linked; a sixth have two shop accounts,
// a fifth two desk identities.
const contacts = hubspotContacts(CONTACTS);
const random = seeded(97);
const links: MasterLink[] = [];
let shopSeq = 0;
let deskSeq = 0;
contacts.forEach((contact, i) => {
  if (i % 10 === 9) return;
  const shops = random() < 0.17 ? 2 : random() < 0.85 ? 1 : 0;
  const desks = random() < 0.2 ? 2 : random() < 0.8 ? 1 : 0;
  links.push({
    crm_id: contact.id,
    shopify_customer_ids: Array.from({ length: shops }, () => String(7_200_000_000 + (shopSeq += 1) * 13)),
    zendesk_user_ids: Array.from({ length: desks }, () => String(800_000 + (deskSeq += 1) * 7)),
  });
});
const shopIds = links.flatMap((link) => link.shopify_customer_ids);
const deskIds = links.flatMap((link) => link.zendesk_user_ids);

let hubspot: HubSpotFixture;
let mdm: MasterDataFixture;
let shopify: ShopifyFixture;
let zendesk: ZendeskFixture;
let h: RegistryHarness;
let fixtures: VendorFixture[];

const MASTER_DATA = {
  sources: {
    mdm: {
      description: 'The master-data service: golden records linking CRM contacts to shop and desk accounts.',
      baseUrl: { env: 'MDM_URL' },
      auth: { type: 'header', header: 'x-api-key', value: { env: 'MDM_API_KEY' } },
      entities: {
        MasterLink: {
          key: 'crmId',
          fields: {
            crmId: { from: 'crm_id', transform: 'id' },
            shopifyCustomerIds: { from: 'shopify_customer_ids', transform: 'id', type: '[ID!]' },
            zendeskUserIds: { from: 'zendesk_user_ids', transform: 'id', type: '[ID!]' },
          },
          lookups: { crmId: { path: '/mdm/v1/links', query: { crm_ids: '{values}' }, resultPath: 'links', unique: true, batch: { maxSize: MDM_BATCH_MAX } } },
          query: { one: false, many: false, list: false },
        },
      },
    },
  },
  mappings: {
    contactOrders: {
      from: { entity: 'HubSpotContact', field: 'id' },
      to: { entity: 'ShopifyOrder', field: 'customerId' },
      via: { kind: 'service', entity: 'MasterLink', from: 'crmId', to: 'shopifyCustomerIds', cacheTtlMs: 0 },
      forward: { field: 'orders', orderBy: { field: 'placedAt', direction: 'asc' } },
    },
    contactTickets: {
      from: { entity: 'HubSpotContact', field: 'id' },
      to: { entity: 'ZendeskTicket', field: 'requesterId' },
      via: { kind: 'service', entity: 'MasterLink', from: 'crmId', to: 'zendeskUserIds', cacheTtlMs: 0 },
      forward: { field: 'tickets', orderBy: { field: 'openedAt', direction: 'asc' } },
    },
  },
};

beforeAll(async () => {
  hubspot = await startHubSpot(contacts);
  mdm = await startMasterData(links);
  shopify = await startShopify(shopifyOrders(shopIds));
  const users = zendeskUsers(deskIds);
  zendesk = await startZendesk(users, zendeskTickets(users));
  fixtures = [hubspot, mdm, shopify, zendesk];
  h = await startRegistryHarness({
    allowPrivate: fixtures.map((f) => `127.0.0.1:${f.port}`),
    allowEnv: ['HUBSPOT_*', 'SHOPIFY_*', 'ZENDESK_*', 'MDM_*'],
    env: {
      HUBSPOT_URL: hubspot.origin,
      HUBSPOT_TOKEN,
      SHOPIFY_URL: `${shopify.origin}/admin/api/2024-01`,
      SHOPIFY_ACCESS_TOKEN: SHOPIFY_TOKEN,
      ZENDESK_URL: `${zendesk.origin}/api/v2`,
      ZENDESK_OAUTH_TOKEN: ZENDESK_TOKEN,
      MDM_URL: mdm.origin,
      MDM_API_KEY: MDM_KEY,
    },
  });
  const documents = ['hubspot', 'shopify', 'zendesk'].map((vendor) => {
    const document = definition(vendor);
    // The size of this test, not the vendors' own limits: a page of 100 contacts joins ~150 accounts each way.
    for (const source of Object.values(document.sources)) source.limits = { ...source.limits, maxCallsPerRequest: 1_000, rateLimit: undefined, maxConcurrency: 16 };
    return document;
  });
  for (const document of [...documents, MASTER_DATA]) {
    const answer = await h.admin<{ registerSource: { ok: boolean } }>(`mutation($definition: JSON!) { registerSource(definition: $definition, sample: false) { ${CHANGE} } }`, { definition: JSON.parse(JSON.stringify(document)) });
    if (!answer.data?.registerSource.ok) throw new Error(`refused: ${JSON.stringify(answer)}`);
  }
}, 60_000);
afterAll(async () => {
  await h?.close();
  for (const fixture of fixtures ?? []) await fixture.close();
});

it('joins every contact to the orders and tickets of all its linked accounts, with calls per vendor at the minimum each API allows', async () => {
  for (const fixture of fixtures) fixture.reset();
  type Node = { id: string; orders: Array<{ id: string }>; tickets: Array<{ id: string }> };
  const nodes: Node[] = [];
  let after: string | null = null;
  for (let page = 0; page < CONTACTS / PAGE + 1; page++) {
    const answer: { errors?: unknown; data?: { hubspotContacts: { nodes: Node[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } | null } = await h.graphql(
      'query($after: String) { hubspotContacts(first: 100, after: $after) { nodes { id orders { id } tickets { id } } pageInfo { hasNextPage endCursor } } }',
      { after },
    );
    expect(answer.errors).toBeUndefined();
    nodes.push(...answer.data!.hubspotContacts.nodes);
    if (!answer.data!.hubspotContacts.pageInfo.hasNextPage) break;
    after = answer.data!.hubspotContacts.pageInfo.endCursor;
  }
  const linkOf = new Map(links.map((link) => [link.crm_id, link]));
  const byTime = <T>(items: T[], at: (item: T) => string) => items.slice().sort((a, b) => Date.parse(at(a)) - Date.parse(at(b)));
  const expected = contacts.map((contact) => {
    const link = linkOf.get(contact.id);
    return {
      id: contact.id,
      orders: byTime((link?.shopify_customer_ids ?? []).flatMap((id) => shopify.ordersOf(id)), (o) => o.created_at).map((o) => String(o.id)).sort(),
      tickets: byTime((link?.zendesk_user_ids ?? []).flatMap((id) => zendesk.requestedBy(id)), (t) => t.created_at).map((t) => String(t.id)).sort(),
    };
  });
  expect(nodes.map((n) => ({ id: n.id, orders: n.orders.map((o) => o.id).sort(), tickets: n.tickets.map((t) => t.id).sort() }))).toEqual(expected);
  expect(links.some((link) => link.shopify_customer_ids.length === 2) && links.some((link) => link.zendesk_user_ids.length === 2)).toBe(true);

  // The fewest calls each API allows for this answer: HubSpot lists 100 contacts per call, the
  // master-data service reads 100 ids per call, Shopify takes one customer_id per call (no batch
  // form) and Zendesk one user per requested-tickets call.
  const minimum = {
    hubspot: Math.ceil(CONTACTS / HUBSPOT_PAGE_MAX),
    mdm: Math.ceil(CONTACTS / MDM_BATCH_MAX),
    shopify: new Set(shopIds).size,
    zendesk: new Set(deskIds).size,
  };
  const made = { hubspot: hubspot.total(), mdm: mdm.total(), shopify: shopify.total(), zendesk: zendesk.total() };
  const table = Object.keys(minimum).map((vendor) => `${vendor.padEnd(8)} ${String(made[vendor as keyof typeof made]).padStart(5)} ${String(minimum[vendor as keyof typeof minimum]).padStart(7)}`);
  process.stdout.write(`vendor    made minimum\n${table.join('\n')}\n`);
  expect(made).toEqual(minimum);
});
