/**
 * Joins on key fields that hold a list. A master-data service keeps, for each golden record, the
 * CRM contacts it merges, the order accounts it owns and the support requesters it is, each a list
 * (0, 1, 2 and more elements, some repeated). Each element joins: the joined list is the union of
 * the partners of every element, once each, for a field key (`shop`, `desk`), a crosswalk table
 * (`crmIds` through the orders crosswalk) and a master-data service (`crmIds` through account
 * links); and back, from an order or a ticket to its golden record, and from a golden record to
 * every contact it merges. Answers are compared with the fixture's data, calls counted at each
 * source: one per batch of distinct keys per level.
 */
import { normalizeEmail } from '../../sources/sandbox';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { masterData, masterDataSource, startMasterDataService, type MasterDataService, type RawMaster } from '../support/master-data';
import { startHarness, type Harness } from '../support/harness';
import { dataOf, expectNewestFirst } from './compare';
import { customerIdOfRef, data, expectedOrder, expectedTicket, orderRefsOf, type ExpectedOrder, type ExpectedTicket } from './ground-truth';

const mdm = masterData();
const masterById = new Map(mdm.masters.map((m) => [m.master_id, m]));
const linksOf = new Map(mdm.links.map((l) => [l.crm_id, l.accounts]));
const masterOfShop = new Map(mdm.masters.flatMap((m) => m.shop_accounts.map((ref) => [ref, m] as const)));
const masterOfEmail = new Map(mdm.masters.flatMap((m) => m.desk_emails.map((email) => [normalizeEmail(email), m] as const)));
const crmOfLinkedAccount = new Map(mdm.links.flatMap((l) => l.accounts.map((ref) => [ref, l.crm_id] as const)));

/** The sizes of the calls that ask for `count` values, `max` per call. */
const batchesOf = (count: number, max: number) => Array.from({ length: Math.ceil(count / max) }, (_, i) => Math.min(max, count - i * max));
const distinct = <T>(values: readonly T[]) => [...new Set(values)];
const ordersOfRefs = (refs: readonly number[]): ExpectedOrder[] => distinct(refs).flatMap((ref) => (data.orders.ordersByRef.get(ref) ?? []).map(expectedOrder));
const emailsOf = (m: RawMaster) => distinct(m.desk_emails.map(normalizeEmail));
const ticketsOf = (m: RawMaster): ExpectedTicket[] =>
  emailsOf(m).flatMap((email) => {
    const requester = data.support.requesterByEmail.get(email);
    return requester ? (data.support.ticketsByRequester.get(requester.id) ?? []).map(expectedTicket) : [];
  });
const newestFirst = <T extends { placedAt: string } | { openedAt: string }>(items: T[]): T[] =>
  [...items].sort((a, b) => {
    const [x, y] = ['placedAt' in a ? a.placedAt : a.openedAt, 'placedAt' in b ? b.placedAt : b.openedAt];
    return x < y ? 1 : x > y ? -1 : 0;
  });

const MASTER_JOINS: VirtualizationConfigInput['mappings'] = {
  customerMasters: {
    description: 'A CRM contact is one of the contacts a golden record merges.',
    from: { entity: 'Customer', field: 'id' },
    to: { entity: 'MasterRecord', field: 'crmIds' },
    via: { kind: 'fieldKey' },
    forward: { field: 'masters' },
    inverse: { field: 'customers' },
  },
  masterOrders: {
    from: { entity: 'MasterRecord', field: 'shop' },
    to: { entity: 'Order', field: 'customerRef' },
    via: { kind: 'fieldKey' },
    forward: { field: 'orders', orderBy: { field: 'placedAt', direction: 'desc' }, summaries: { orderCount: { op: 'count' } } },
    inverse: { field: 'master' },
  },
  masterTickets: {
    from: { entity: 'MasterRecord', field: 'desk' },
    to: { entity: 'Ticket', field: 'requesterEmail' },
    via: { kind: 'fieldKey', normalize: 'email' },
    forward: { field: 'tickets', orderBy: { field: 'openedAt', direction: 'desc' } },
    inverse: { field: 'master' },
  },
  masterCrmOrders: {
    from: { entity: 'MasterRecord', field: 'crmIds' },
    to: { entity: 'Order', field: 'customerRef' },
    via: { kind: 'crosswalk', file: 'sources/orders/crosswalk.csv', columns: ['crm_customer_id', 'order_customer_ref'] },
    forward: { field: 'crmOrders', orderBy: { field: 'placedAt', direction: 'desc' } },
    inverse: { field: 'crmMaster' },
  },
  masterLinkedOrders: {
    from: { entity: 'MasterRecord', field: 'crmIds' },
    to: { entity: 'Order', field: 'customerRef' },
    via: { kind: 'service', entity: 'AccountLink', from: 'crmId', to: 'accounts', cacheTtlMs: 0 },
    forward: { field: 'linkedOrders', orderBy: { field: 'placedAt', direction: 'desc' } },
    inverse: { field: 'linkedMaster' },
  },
};

/** The most support calls one request may make here. */
const SUPPORT_CAP = 400;

/** The master-data source with the element counts its lists are declared to hold (what most golden records hold, at most). */
function sizedMasterData(url: string) {
  const source = masterDataSource(url);
  const sized = (entity: string, sizes: Record<string, number>) => {
    const fields = source.entities[entity]!.fields;
    for (const [field, assumedSize] of Object.entries(sizes)) {
      const mapping = fields[field];
      if (typeof mapping !== 'object') throw new Error(`${entity}.${field} is declared without a type`);
      fields[field] = { ...mapping, assumedSize };
    }
  };
  sized('MasterRecord', { crmIds: 3, shop: 3, desk: 3 });
  sized('AccountLink', { accounts: 2 });
  return source;
}

let service: MasterDataService;
let h: Harness;
beforeAll(async () => {
  service = await startMasterDataService(mdm);
  h = await startHarness({
    configure: (config) => ({
      ...config,
      // The guard predicts a desk call per requester a golden record lists (desk's assumedSize, 3): a page of 100 is 300.
      sources: { ...config.sources, support: { ...config.sources.support!, limits: { ...config.sources.support!.limits, maxCallsPerRequest: SUPPORT_CAP } }, mdm: sizedMasterData(service.url) },
      mappings: { ...config.mappings, ...MASTER_JOINS },
      // Pages of 100 customers with three joins each: priced far above the default limit, which these tests are not about.
      guard: { ...config.guard, maxCost: 10_000_000, budget: { capacity: 100_000_000, restoreRate: 10_000_000 } },
    }),
  });
});
afterAll(async () => {
  await h?.close();
  await service?.close();
});
beforeEach(() => {
  h.resetUpstream();
  service.calls.length = 0;
});

interface MasterView {
  id: string;
  shop: string[] | null;
  orders: ExpectedOrder[];
  orderCount: number;
  tickets: ExpectedTicket[];
}

const PAGE = 100;

async function customersPage(after: string | null): Promise<{ nodes: Array<{ id: string; masters: MasterView[] }>; endCursor: string | null }> {
  const answer = dataOf(
    await h.query<{ customers: { nodes: Array<{ id: string; masters: MasterView[] }>; pageInfo: { endCursor: string | null } } }>(
      `query($after: String) { customers(first: ${PAGE}, after: $after) { pageInfo { endCursor } nodes { id masters { id shop
        orders { id number total currency status placedAt } orderCount tickets { id subject status priority openedAt } } } } }`,
      { after },
    ),
  );
  return { nodes: answer.customers.nodes, endCursor: answer.customers.pageInfo.endCursor };
}

describe('forward joins on list-valued field keys: MasterRecord.shop and MasterRecord.desk', () => {
  it('joins every element: each contact -> its golden record -> the orders of every account and the tickets of every requester, as the fixture has them', async () => {
    let after: string | null = null;
    const sizes = new Map<number, number>();
    let wrong = 0;
    for (let page = 0; page < 4; page++) {
      const { nodes, endCursor } = await customersPage(after);
      after = endCursor;
      for (const node of nodes) {
        const master = mdm.masterOfCrm.get(node.id);
        expect(node.masters.map((m) => m.id)).toEqual(master ? [master.master_id] : []);
        if (!master) continue;
        const [view] = node.masters as [MasterView];
        const accounts = distinct(master.shop_accounts).length;
        sizes.set(accounts, (sizes.get(accounts) ?? 0) + 1);
        expect(view.shop).toEqual(master.shop_accounts.map(String));
        const orders = newestFirst(ordersOfRefs(master.shop_accounts));
        const tickets = newestFirst(ticketsOf(master));
        if (view.orders.length !== orders.length || view.tickets.length !== tickets.length) wrong++;
        expectNewestFirst(view.orders, orders, 'placedAt');
        expectNewestFirst(view.tickets, tickets, 'openedAt');
        expect(view.orderCount).toBe(orders.length);
      }
    }
    expect(wrong).toBe(0);
    // The walk met golden records with no account, one, two and more.
    expect([0, 1, 2, 3].map((n) => (sizes.get(n) ?? 0) > 0)).toEqual([true, true, true, true]);
  });

  it('asks each source once per batch of distinct keys per level: the service by CRM id, orders by account, support by requester', async () => {
    const { nodes } = await customersPage(null);
    const masters = distinct(nodes.flatMap((n) => mdm.masterOfCrm.get(n.id) ?? []));
    const accounts = distinct(masters.flatMap((m) => m.shop_accounts));
    const emails = distinct(masters.flatMap(emailsOf));
    expect(service.calls).toEqual([{ route: 'POST /mdm/masters/by-crm', size: PAGE }]);
    expect(h.upstream().orders).toEqual({ 'GET /api/orders': Math.ceil(accounts.length / 50) });
    // The desk has no batch endpoint: one call per distinct requester, whatever its case or repeats.
    expect(h.upstream().support['GET /api/v2/tickets']).toBe(emails.length);
    expect(emails.length).toBeLessThan(masters.flatMap((m) => m.desk_emails).length);
  });

  it('joins a list with no element to nothing, asking no source', async () => {
    const answer = dataOf(await h.query<{ masterRecord: MasterView }>(`{ masterRecord(id: "M-99999") { id shop orders { id } orderCount tickets { id } } }`));
    expect(answer.masterRecord).toEqual({ id: 'M-99999', shop: [], orders: [], orderCount: 0, tickets: [] });
    expect(h.upstream().orders).toEqual({});
    expect(h.upstream().support).toEqual({});
  });
});

describe('forward joins through a crosswalk and a master-data service from a list-valued key: MasterRecord.crmIds', () => {
  it('joins the partners of every CRM id a golden record merges, once each, with one call per batch', async () => {
    const masters = [...mdm.masters.filter((m) => m.crm_ids.length > 1).slice(0, 60), masterById.get('M-99999')!];
    expect(distinct(masters.map((m) => m.crm_ids.length)).sort()).toEqual([0, 2, 3]);
    const answer = dataOf(
      await h.query<{ masterRecords: Array<{ id: string; crmOrders: ExpectedOrder[]; linkedOrders: ExpectedOrder[] }> }>(
        `query($ids: [ID!]!) { masterRecords(ids: $ids) { id crmOrders { id number total currency status placedAt } linkedOrders { id number total currency status placedAt } } }`,
        { ids: masters.map((m) => m.master_id) },
      ),
    );
    for (const [i, master] of masters.entries()) {
      const view = answer.masterRecords[i]!;
      expect(view.id).toBe(master.master_id);
      expectNewestFirst(view.crmOrders, newestFirst(ordersOfRefs(master.crm_ids.flatMap(orderRefsOf))), 'placedAt');
      expectNewestFirst(view.linkedOrders, newestFirst(ordersOfRefs(master.crm_ids.flatMap((id) => linksOf.get(id) ?? []))), 'placedAt');
    }
    const crmIds = distinct(masters.flatMap((m) => m.crm_ids));
    const refs = distinct([...crmIds.flatMap(orderRefsOf), ...crmIds.flatMap((id) => linksOf.get(id) ?? [])]);
    // One call for the golden records, one for the links of every CRM id; both joins share one orders loader.
    expect(crmIds.length).toBeGreaterThan(100);
    expect(service.calls).toEqual([
      { route: 'POST /mdm/masters/by-id', size: masters.length },
      ...batchesOf(crmIds.length, 100).map((size) => ({ route: 'POST /mdm/links/by-crm', size })),
    ]);
    expect(h.upstream().orders).toEqual({ 'GET /api/orders': Math.ceil(refs.length / 50) });
  });
});

describe('inverse joins on list-valued keys', () => {
  it('finds the golden record that holds an order account, a requester email or a linked CRM id among its elements, and null for none', async () => {
    const orders = data.orders.orders.filter((_o, i) => i % 97 === 0).slice(0, 30);
    const tickets = data.support.tickets.filter((_t, i) => i % 89 === 0).slice(0, 30);
    const query = `{ ${orders.map((o, i) => `o${i}: order(id: "${o.id}") { master { id } crmMaster { id } linkedMaster { id } }`).join(' ')}
      ${tickets.map((t, i) => `t${i}: ticket(id: "${t.id}") { master { id } }`).join(' ')} }`;
    const answer = dataOf(await h.query<Record<string, { master: { id: string } | null; crmMaster?: { id: string } | null; linkedMaster?: { id: string } | null }>>(query));
    const idOf = (m: RawMaster | undefined) => (m ? { id: m.master_id } : null);
    const masterOfCrm = (id: string | undefined) => (id === undefined ? undefined : mdm.masterOfCrm.get(id));
    orders.forEach((o, i) => {
      expect(answer[`o${i}`]).toEqual({
        master: idOf(masterOfShop.get(o.customer_ref)),
        crmMaster: idOf(masterOfCrm(customerIdOfRef(o.customer_ref))),
        linkedMaster: idOf(masterOfCrm(crmOfLinkedAccount.get(o.customer_ref))),
      });
    });
    tickets.forEach((t, i) => expect(answer[`t${i}`]).toEqual({ master: idOf(masterOfEmail.get(normalizeEmail(t.requester.email))) }));
    const found = orders.filter((o) => masterOfShop.has(o.customer_ref)).length;
    expect(found).toBeGreaterThan(5);
    expect(found).toBeLessThan(orders.length);
  });

  it('goes back from the orders of a golden record to it without a call: the record is known by each of its accounts', async () => {
    const masters = mdm.masters.filter((m) => distinct(m.shop_accounts).length >= 2 && ordersOfRefs(m.shop_accounts).length >= 2).slice(0, 5);
    const answer = await h.query<{ masterRecords: Array<{ id: string; orders: Array<{ master: { id: string } }> }> }>(
      `query($ids: [ID!]!) { masterRecords(ids: $ids) { id orders { master { id } } } }`,
      { ids: masters.map((m) => m.master_id) },
    );
    for (const view of dataOf(answer).masterRecords) expect(view.orders.map((o) => o.master.id)).toEqual(view.orders.map(() => view.id));
    expect(service.calls).toEqual([{ route: 'POST /mdm/masters/by-id', size: masters.length }]);
    // As the guard predicted: the way back to records a forward join came from costs nothing.
    expect(answer.extensions?.cost).toMatchObject({ upstreamCalls: { mdm: { predicted: 1, actual: 1 } } });
  });

  it('joins a golden record back to every contact it merges, in the order it lists them, with one call per batch', async () => {
    const masters = [...mdm.masters.filter((m) => m.crm_ids.length >= 2).slice(0, 20), ...mdm.masters.filter((m) => m.crm_ids.length < 2).slice(0, 20)];
    const answer = dataOf(
      await h.query<{ masterRecords: Array<{ customers: Array<{ id: string; name: string }> }> }>(`query($ids: [ID!]!) { masterRecords(ids: $ids) { customers { id name } } }`, {
        ids: masters.map((m) => m.master_id),
      }),
    );
    expect(answer.masterRecords.map((m) => m.customers)).toEqual(masters.map((m) => m.crm_ids.map((id) => ({ id, name: data.crm.byId.get(id)!.Name }))));
    expect(h.upstream().crm).toEqual({ 'GET /services/data/v58.0/composite/sobjects/Contact': Math.ceil(distinct(masters.flatMap((m) => m.crm_ids)).length / 100) });
    expect(masterById.get('M-99999')!.crm_ids).toEqual([]);
  });
});

describe('the guard predicts every element of a list-valued key', () => {
  const query = `query($ids: [ID!]!) { masterRecords(ids: $ids) { id orders { id } tickets { id } } }`;
  const callsOf = (answer: { extensions?: Record<string, unknown> }) => (answer.extensions?.cost as { upstreamCalls: Record<string, { predicted: number; actual: number }> }).upstreamCalls;

  it('predicts at least the calls made for 60 golden records of 2 or 3 contacts (140 requesters, about 140 accounts), by the declared sizes', async () => {
    const masters = mdm.masters.filter((m) => m.crm_ids.length > 1).slice(0, 60);
    const answer = await h.query<{ masterRecords: MasterView[] }>(query, { ids: masters.map((m) => m.master_id) });
    dataOf(answer).masterRecords.forEach((view, i) => expect(view.tickets.map((t) => t.id).sort()).toEqual(ticketsOf(masters[i]!).map((t) => t.id).sort()));
    const emails = distinct(masters.flatMap(emailsOf));
    const accounts = distinct(masters.flatMap((m) => m.shop_accounts));
    expect(emails.length).toBe(140);
    const calls = callsOf(answer);
    // Made as the sources counted them; predicted as 60 golden records of 3 requesters and 3 accounts each.
    expect(calls.support).toEqual({ predicted: 60 * 3, actual: emails.length });
    expect(h.upstream().support['GET /api/v2/tickets']).toBe(emails.length);
    expect(calls.orders).toEqual({ predicted: Math.ceil((60 * 3) / 50), actual: Math.ceil(accounts.length / 50) });
    expect(calls.orders!.predicted).toBeGreaterThanOrEqual(calls.orders!.actual);
  });

  it('predicts exactly the calls made when the declared size is what the data holds: 60 golden records of 3 distinct requesters', async () => {
    const masters = mdm.masters.filter((m) => emailsOf(m).length === 3).slice(0, 60);
    expect(masters).toHaveLength(60);
    const answer = await h.query<{ masterRecords: MasterView[] }>(query, { ids: masters.map((m) => m.master_id) });
    dataOf(answer);
    expect(distinct(masters.flatMap(emailsOf))).toHaveLength(180);
    expect(callsOf(answer).support).toEqual({ predicted: 180, actual: 180 });
  });

  it('sizes the inverse from a list-valued key by the same elements: golden records back to the 3 contacts each merges', async () => {
    const masters = mdm.masters.filter((m) => m.crm_ids.length === 3).slice(0, 40);
    const answer = await h.query<{ masterRecords: Array<{ customers: Array<{ id: string }> }> }>(`query($ids: [ID!]!) { masterRecords(ids: $ids) { customers { id } } }`, {
      ids: masters.map((m) => m.master_id),
    });
    expect(dataOf(answer).masterRecords.map((m) => m.customers.map((c) => c.id))).toEqual(masters.map((m) => m.crm_ids));
    // 40 golden records and 3 contacts each (crmIds' assumedSize), asked 100 per call: as made.
    expect(answer.extensions?.cost).toMatchObject({ requestedQueryCost: 40 + 40 * 3, upstreamCalls: { crm: { predicted: 2, actual: 2 } } });
  });

  it('refuses before any call a request whose list-valued keys would make more calls than a source allows', async () => {
    const masters = mdm.masters.slice(0, 150);
    const answer = await h.query(query, { ids: masters.map((m) => m.master_id) });
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', source: 'support', predictedCalls: 150 * 3, maximumCalls: SUPPORT_CAP });
    expect(service.calls).toEqual([]);
    expect(h.upstream().support).toEqual({});
    expect(h.upstream().orders).toEqual({});
    // Fewer golden records, the same query: answered.
    dataOf(await h.query(query, { ids: masters.slice(0, 100).map((m) => m.master_id) }));
  });
});
