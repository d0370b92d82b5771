/**
 * A crosswalk served by a master-data service instead of a table: its batch endpoint answers, for
 * each CRM id, the billing customer numbers (one-to-many); fetched in batches like any entity,
 * cached, and used for joins exactly as an imported crosswalk is.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { billingDataset } from '../../sources/billing/data';
import { crmDataset } from '../../sources/crm/data';
import { billingDocument } from '../support/billing';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const billing = billingDataset();
const linksByCrm = new Map<string, number[]>();
for (const pair of billing.crosswalk) linksByCrm.set(pair.crmCustomerId, [...(linksByCrm.get(pair.crmCustomerId) ?? []), pair.billingCustomerNumber]);
const crmByNumber = new Map(billing.crosswalk.map((pair) => [pair.billingCustomerNumber, pair.crmCustomerId]));

/** The master-data service: links by CRM ids, and by billing numbers, in batches of up to 100. */
const calls: Array<{ path: string; size: number }> = [];
let mdm: Server;
let mdmPort: number;

function link(crmId: string) {
  return { crm_id: crmId, billing_customers: linksByCrm.get(crmId) ?? [] };
}

let h: RegistryHarness;
beforeAll(async () => {
  mdm = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const input = JSON.parse(body || '{}') as { crmIds?: string[]; billingNumbers?: number[] };
      const path = request.url ?? '';
      let links: unknown[] = [];
      if (path === '/mdm/links/by-crm') links = (input.crmIds ?? []).filter((id) => linksByCrm.has(id)).map(link);
      else if (path === '/mdm/links/by-billing') links = [...new Set((input.billingNumbers ?? []).flatMap((n) => crmByNumber.get(n) ?? []))].map(link);
      calls.push({ path, size: (input.crmIds ?? input.billingNumbers ?? []).length });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ links }));
    });
  });
  await new Promise<void>((resolve) => mdm.listen(0, '127.0.0.1', resolve));
  mdmPort = (mdm.address() as AddressInfo).port;
  // The upstream-call cache keeps the service's answers for the crosswalk's cacheTtlMs; whole answers are not kept.
  h = await startRegistryHarness({ allowPrivate: [`127.0.0.1:${mdmPort}`], cache: { upstream: { enabled: true }, responses: { enabled: false } } });

  const document = billingDocument();
  document.sources.mdm = {
    description: 'Master data: which records in other systems are the same customer.',
    baseUrl: `http://127.0.0.1:${mdmPort}/mdm`,
    entities: {
      CustomerLink: {
        key: 'crmId',
        fields: { crmId: { from: 'crm_id', transform: 'id' }, billingNumbers: { from: 'billing_customers', type: '[ID!]' } },
        lookups: {
          crmId: { method: 'POST', path: '/links/by-crm', body: { crmIds: '{values}' }, resultPath: 'links', unique: true, batch: { maxSize: 100 } },
          billingNumbers: { method: 'POST', path: '/links/by-billing', body: { billingNumbers: '{values}' }, valueType: 'number', resultPath: 'links', unique: false, batch: { maxSize: 100 } },
        },
        query: { one: false, many: false, list: false },
      },
    },
  };
  document.mappings!.customerInvoices!.via = { kind: 'service', entity: 'CustomerLink', from: 'crmId', to: 'billingNumbers', cacheTtlMs: 60_000 };
  const registered = await h.admin<{ registerSource: { ok: boolean; report: { problems: unknown[]; samples: Array<{ endpoint: string; note: string | null }> } } }>(
    `mutation($d: JSON!) { registerSource(definition: $d) { ${CHANGE} } }`,
    { d: document },
  );
  expect(registered.data?.registerSource.report.problems).toEqual([]);
  expect(registered.data?.registerSource.ok).toBe(true);
  expect(registered.data?.registerSource.report.samples).toContainEqual(expect.objectContaining({ endpoint: 'mapping customerInvoices', note: expect.stringMatching(/^20 Customer -> \d+ keys -> \d+ Invoice$/) }));
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => mdm?.close(resolve));
});

beforeEach(() => {
  calls.length = 0;
});

const expectedInvoices = (crmId: string) => (linksByCrm.get(crmId) ?? []).flatMap((n) => (billing.customerByNumber.get(n)!.locked ? [] : billing.invoicesByCustomer.get(n)!.map((i) => i.id))).sort();

describe('a crosswalk served by a master-data service', () => {
  it('joins a page of customers to their invoices with one batched call to the service, then from its cache', async () => {
    const query = '{ customers(first: 40) { nodes { id invoices { id } } } }';
    const unlocked = (id: string) => (linksByCrm.get(id) ?? []).every((n) => !billing.customerByNumber.get(n)!.locked);
    const first = await h.graphql<{ customers: { nodes: Array<{ id: string; invoices: Array<{ id: string }> | null }> } }>(query);
    for (const node of first.data!.customers.nodes) {
      if (unlocked(node.id)) expect(node.invoices!.map((i) => i.id).sort()).toEqual(expectedInvoices(node.id));
    }
    expect(first.data!.customers.nodes.filter((node) => (linksByCrm.get(node.id)?.length ?? 0) > 1).length).toBeGreaterThan(0);
    expect(calls).toEqual([{ path: '/mdm/links/by-crm', size: 40 }]);

    calls.length = 0;
    await h.graphql(query);
    expect(calls).toEqual([]);
  });

  it('joins back from an invoice to its customer through the service', async () => {
    const invoice = billing.invoices.find((i) => crmByNumber.has(i.properties.customer_number))!;
    const crmId = crmByNumber.get(invoice.properties.customer_number)!;
    const answer = await h.graphql<{ invoice: { customer: { id: string; name: string } } }>(`{ invoice(id: "${invoice.id}") { customer { id name } } }`);
    expect(answer.data!.invoice.customer).toEqual({ id: crmId, name: crmDataset().byId.get(crmId)!.Name });
    expect(calls).toEqual([{ path: '/mdm/links/by-billing', size: 1 }]);
  });
});
