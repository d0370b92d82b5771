import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { billingCrosswalkCsv, writeBillingCrosswalkCsv, BILLING_CROSSWALK_HEADER } from '../../sources/billing/crosswalk';
import { billingDataset } from '../../sources/billing/data';
import { BILLING_BASE_PATH, startBilling, type BillingSandboxHandle } from '../../sources/billing/server';
import { crmDataset } from '../../sources/crm/data';
import { PROJECT_ROOT } from '../support/harness';
import { fetchJson } from './http';

const CROSSWALK = join(PROJECT_ROOT, 'sources/billing/crosswalk.csv');
// After changing the generators: UPDATE_CROSSWALK=1 npx jest test/sandbox/billing
if (process.env.UPDATE_CROSSWALK === '1') writeBillingCrosswalkCsv(CROSSWALK);

const KEY = 'test-key';
const data = billingDataset();
let billing: BillingSandboxHandle;
let api: string;

beforeAll(async () => {
  billing = await startBilling({ apiKey: KEY });
  api = `${billing.url}${BILLING_BASE_PATH}`;
});
afterAll(() => billing.close());

const post = (path: string, body: unknown, key = KEY) =>
  fetchJson<{ results: Array<{ id: string; properties: Record<string, unknown> }>; errors?: Array<Record<string, unknown>> }>(`${api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-billing-key': key },
    body: JSON.stringify(body),
  });

describe('billing sandbox', () => {
  it('keeps its crosswalk to the CRM in sources/billing/crosswalk.csv (regenerate with UPDATE_CROSSWALK=1)', () => {
    const text = readFileSync(CROSSWALK, 'utf8');
    expect(text).toBe(billingCrosswalkCsv());
    expect(text.split('\n')[0]).toBe(BILLING_CROSSWALK_HEADER);
    const crm = crmDataset();
    expect(data.crosswalk.every((pair) => crm.byId.has(pair.crmCustomerId) && data.customerByNumber.has(pair.billingCustomerNumber))).toBe(true);
    expect(new Set(data.crosswalk.map((pair) => pair.crmCustomerId)).size).toBeLessThan(data.crosswalk.length);
  });

  it('refuses calls without its key', async () => {
    expect((await post('/invoices/batch-read', { ids: [data.invoices[0]!.id] }, 'wrong')).status).toBe(401);
    expect((await fetchJson(`${api}/invoices`)).status).toBe(401);
  });

  it('answers a batch read by POST with only the properties asked for, and 207 with an error per unknown id', async () => {
    const [a, b] = data.invoices;
    const answer = await post('/invoices/batch-read', { ids: [a!.id, 'INV-1999-000000', b!.id], properties: ['amount_due'] });
    expect(answer.status).toBe(207);
    expect(answer.body.results).toEqual([{ id: b!.id, properties: { amount_due: b!.properties.amount_due } }, { id: a!.id, properties: { amount_due: a!.properties.amount_due } }]);
    expect(answer.body.errors).toEqual([{ id: 'INV-1999-000000', code: 'NOT_FOUND', message: 'no invoice INV-1999-000000' }]);
  });

  it('searches by customer numbers that must be JSON numbers, reporting unknown and locked customers per number', async () => {
    const locked = data.customers.find((c) => c.locked)!;
    const open = data.customers.find((c) => !c.locked && (data.invoicesByCustomer.get(c.number)?.length ?? 0) > 1)!;
    expect((await post('/invoices/search', { customerNumbers: [String(open.number)] })).status).toBe(400);
    const answer = await post('/invoices/search', { customerNumbers: [open.number, locked.number, 1], properties: ['customer_number'] });
    expect(answer.status).toBe(207);
    expect(answer.body.results.map((r) => r.id).sort()).toEqual(data.invoicesByCustomer.get(open.number)!.map((i) => i.id).sort());
    expect(answer.body.errors!.map((e) => e.code)).toEqual(['ACCOUNT_LOCKED', 'UNKNOWN_CUSTOMER']);
  });

  it('pages by page number with the total', async () => {
    const page = await fetchJson<{ results: Array<{ id: string }>; paging: { total: number } }>(`${api}/invoices?page=3&per_page=7`, { headers: { 'x-billing-key': KEY } });
    expect(page.body.results.map((r) => r.id)).toEqual(data.invoices.slice(14, 21).map((i) => i.id));
    expect(page.body.paging.total).toBe(data.invoices.length);
  });

  it('documents every route it serves in its openapi.json', async () => {
    const file = JSON.parse(readFileSync(join(PROJECT_ROOT, 'sources/billing/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
    const served = await fetchJson(`${billing.url}/openapi.json`);
    expect(served.body).toEqual(file);
    const documented = Object.entries(file.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual([...billing.routes].sort());
  });
});
