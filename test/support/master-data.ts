/**
 * A master-data service over the sandbox systems, on an ephemeral loopback port: for each golden
 * record (`MasterRecord`) the CRM contacts it merges (`crm_ids`), the order accounts it owns
 * (`shop_accounts`) and the support requesters it is (`desk_emails`), all lists; and account links
 * (`AccountLink`): the order accounts of each CRM contact, a list. Lists hold 0, 1, 2 and more
 * elements, some repeat an element (the same account twice, the same email in another case), and
 * some name accounts and requesters that no CRM contact is linked to. Every call is counted by
 * route with the number of values it carried.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normalizeEmail, sandboxDataset } from '../../sources/sandbox';
import type { SourceDefinitionInput } from '../../src/config/definition';

export interface RawMaster {
  master_id: string;
  crm_ids: string[];
  shop_accounts: number[];
  desk_emails: string[];
}

export interface RawLink {
  crm_id: string;
  accounts: number[];
}

export interface MasterData {
  readonly masters: readonly RawMaster[];
  readonly links: readonly RawLink[];
  /** The master record of each CRM id that has one. */
  readonly masterOfCrm: ReadonlyMap<string, RawMaster>;
}

/** The golden records, derived from the sandbox's own data so that the joins have partners (and some have none). */
export function masterData(data = sandboxDataset()): MasterData {
  const refsOf = new Map<string, number[]>();
  for (const pair of data.crosswalk) refsOf.set(pair.crmCustomerId, [...(refsOf.get(pair.crmCustomerId) ?? []), pair.orderCustomerRef]);
  const linkedRefs = new Set(data.crosswalk.map((pair) => pair.orderCustomerRef));
  // Accounts and requesters of nobody in the CRM: each is given to one golden record at most.
  const spareRefs = [...data.orders.ordersByRef.keys()].filter((ref) => !linkedRefs.has(ref) && (data.orders.ordersByRef.get(ref)?.length ?? 0) > 0);
  const spareEmails = [...new Set(data.support.tickets.map((t) => normalizeEmail(t.requester.email)))].filter((email) => !data.crm.byEmail.has(email));
  const masters: RawMaster[] = [];
  const contacts = data.crm.contacts;
  for (let i = 0; i < contacts.length; ) {
    // Every 13th contact has no golden record; every 40th merges three contacts, every 9th two.
    if (i % 13 === 5) {
      i++;
      continue;
    }
    const size = i % 40 === 7 ? 3 : i % 9 === 2 ? 2 : 1;
    const merged = contacts.slice(i, i + size);
    i += size;
    const n = masters.length;
    const shop = merged.flatMap((c) => refsOf.get(c.Id) ?? []);
    if (n % 6 === 1 && spareRefs.length > 0) shop.push(spareRefs.pop()!);
    if (n % 10 === 3 && shop.length > 0) shop.push(shop[0]!);
    const desk = merged.map((c) => (n % 4 === 0 ? c.Email.toUpperCase() : c.Email));
    if (n % 8 === 2 && spareEmails.length > 0) desk.push(spareEmails.pop()!);
    if (n % 7 === 4) desk.push(` ${merged[0]!.Email.toUpperCase()}`);
    masters.push({ master_id: `M-${String(n + 1).padStart(5, '0')}`, crm_ids: merged.map((c) => c.Id), shop_accounts: shop, desk_emails: desk });
  }
  // One golden record with nothing linked yet: every list empty.
  masters.push({ master_id: 'M-99999', crm_ids: [], shop_accounts: [], desk_emails: [] });
  const masterOfCrm = new Map(masters.flatMap((m) => m.crm_ids.map((id) => [id, m] as const)));
  const links: RawLink[] = contacts.flatMap((c, i) => {
    const accounts = [...(refsOf.get(c.Id) ?? [])];
    if (i % 11 === 4 && spareRefs.length > 0) accounts.push(spareRefs.pop()!);
    return accounts.length > 0 || i % 2 === 0 ? [{ crm_id: c.Id, accounts }] : [];
  });
  return { masters, links, masterOfCrm };
}

export interface MasterDataService {
  readonly url: string;
  /** Calls by route (`POST /mdm/masters/by-shop`), with the number of values each carried. */
  readonly calls: Array<{ route: string; size: number }>;
  count(route?: string): number;
  close(): Promise<void>;
}

/** Answers batch lookups by POST with `{ values: [...] }`, records under `records`, unmatched values left out. */
export async function startMasterDataService(mdm: MasterData): Promise<MasterDataService> {
  const calls: Array<{ route: string; size: number }> = [];
  const byValue = <T>(records: readonly T[], values: (record: T) => readonly unknown[]) => {
    const index = new Map<string, T[]>();
    for (const record of records) for (const value of new Set(values(record).map(String))) index.set(value, [...(index.get(value) ?? []), record]);
    return index;
  };
  const routes: Record<string, Map<string, unknown[]>> = {
    '/mdm/masters/by-id': byValue(mdm.masters, (m) => [m.master_id]),
    '/mdm/masters/by-crm': byValue(mdm.masters, (m) => m.crm_ids),
    '/mdm/masters/by-shop': byValue(mdm.masters, (m) => m.shop_accounts),
    '/mdm/masters/by-desk': byValue(mdm.masters, (m) => m.desk_emails.map(normalizeEmail)),
    '/mdm/links/by-crm': byValue(mdm.links, (l) => [l.crm_id]),
    '/mdm/links/by-account': byValue(mdm.links, (l) => l.accounts),
  };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const path = request.url ?? '';
      const index = routes[path];
      if (request.method !== 'POST' || !index) return void response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such route"}');
      const values = ((JSON.parse(body || '{}') as { values?: unknown[] }).values ?? []).map(String);
      calls.push({ route: `POST ${path}`, size: values.length });
      const found = [...new Set(values.flatMap((value) => index.get(value) ?? []))];
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ records: found }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mdm`,
    calls,
    count: (route) => calls.filter((call) => route === undefined || call.route === route).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const batch = (path: string, valueType: 'string' | 'number' = 'string') =>
  ({ method: 'POST', path, body: { values: '{values}' }, resultPath: 'records', unique: true, valueType, batch: { maxSize: 100 } }) as const;

/** The service as a source: golden records with list-valued key fields, and account links. */
export function masterDataSource(url: string): SourceDefinitionInput {
  return {
    description: 'Master data: the golden record of each customer, and the systems it is known in.',
    baseUrl: url,
    limits: { maxCallsPerRequest: 100 },
    entities: {
      MasterRecord: {
        description: 'A golden customer record.',
        key: 'id',
        fields: {
          id: { from: 'master_id', type: 'ID' },
          crmIds: { from: 'crm_ids', type: '[ID!]', description: 'The CRM contacts this record merges.' },
          shop: { from: 'shop_accounts', type: '[ID!]', transform: 'id', description: 'The order accounts of this customer.' },
          desk: { from: 'desk_emails', type: '[String!]', description: 'The support requester emails of this customer, as typed.' },
        },
        lookups: {
          id: batch('/masters/by-id'),
          crmIds: batch('/masters/by-crm'),
          shop: batch('/masters/by-shop', 'number'),
          desk: batch('/masters/by-desk'),
        },
        query: { one: 'masterRecord', many: 'masterRecords', list: false },
      },
      AccountLink: {
        key: 'crmId',
        fields: { crmId: { from: 'crm_id', type: 'ID' }, accounts: { from: 'accounts', type: '[ID!]' } },
        lookups: { crmId: batch('/links/by-crm'), accounts: batch('/links/by-account', 'number') },
        query: { one: false, many: false, list: false },
      },
    },
  };
}
