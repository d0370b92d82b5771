/**
 * The definition format against a modern vendor API (the billing sandbox): batch reads by POST
 * with numeric ids in a JSON body, envelopes, answers in any order, 207 partial answers with
 * per-id errors, properties returned only when asked for by name, page-number paging, and a
 * custom auth header.
 */
import { sourceDefinition } from '../../src/config/definition';
import { ForeignCursorError, isSourceError } from '../../src/connectors/errors';
import type { UpstreamCall } from '../../src/connectors/upstream-call';
import { SourceConnector } from '../../src/connectors/source-connector';
import { billingDataset } from '../../sources/billing/data';
import { startBilling, type BillingSandboxHandle } from '../../sources/billing/server';
import { billingDocument, billingEnv } from '../support/billing';

const data = billingDataset();
let billing: BillingSandboxHandle;
let connector: SourceConnector;
const calls: UpstreamCall[] = [];
const observe = (call: UpstreamCall) => calls.push(call);

function connect(edit: (definition: ReturnType<typeof billingDocument>['sources'][string]) => void = () => undefined, apiKey = 'billing-test-key'): SourceConnector {
  const definition = billingDocument().sources.billing!;
  edit(definition);
  return new SourceConnector('billing', sourceDefinition.parse(definition), { env: billingEnv(billing, apiKey) });
}

beforeAll(async () => {
  billing = await startBilling({ apiKey: 'billing-test-key' });
  connector = connect();
});
afterAll(async () => {
  await connector.close();
  await billing.close();
});
beforeEach(() => {
  calls.length = 0;
  billing.resetStats();
});

const iso = (day: string) => new Date(`${day}T00:00:00Z`).toISOString();

describe('a vendor API declared as data', () => {
  it('finds invoices by numeric customer numbers in one POST; a locked customer fails alone, an unknown one finds nothing', async () => {
    const withInvoices = data.customers.filter((c) => !c.locked && (data.invoicesByCustomer.get(c.number)?.length ?? 0) > 0).slice(0, 5);
    const locked = data.customers.find((c) => c.locked)!;
    const asked = [...withInvoices.map((c) => String(c.number)), String(locked.number), '999999', 'not-a-number'];
    const found = await connector.lookup('Invoice', 'customerNumber', asked, observe);
    for (const customer of withInvoices) {
      const expected = data.invoicesByCustomer.get(customer.number)!;
      const records = found.get(String(customer.number));
      expect(Array.isArray(records) && records.map((r) => r.id).sort()).toEqual(expected.map((i) => i.id).sort());
    }
    const failure = found.get(String(locked.number));
    expect(isSourceError(failure) && { code: failure.code, message: failure.message }).toEqual({
      code: 'SOURCE_PARTIAL_FAILURE',
      message: `Source billing reported an error for Invoice customerNumber "${locked.number}" (ACCOUNT_LOCKED: customer ${locked.number} is locked for an audit); the other values of the call were served`,
    });
    expect(found.get('999999')).toEqual([]);
    expect(found.get('not-a-number')).toEqual([]);
    // One call, the non-number never sent (the sandbox answers 400 to a string among the numbers).
    expect(calls.map((c) => [c.route, c.batchSize, c.status])).toEqual([['POST /invoices/search', 7, 207]]);
  });

  it('reads invoices by id in batches, matching an answer in any order by key, with every mapped property asked for', async () => {
    const invoices = data.invoices.slice(100, 230);
    const found = await connector.lookup('Invoice', 'id', [...invoices.map((i) => i.id), 'INV-1999-000001'], observe);
    for (const invoice of invoices) {
      expect(found.get(invoice.id)).toEqual([
        {
          id: invoice.id,
          customerNumber: String(invoice.properties.customer_number),
          amountDue: invoice.properties.amount_due / 100,
          currency: invoice.properties.currency,
          issuedOn: iso(invoice.properties.issued_on),
          dueOn: iso(invoice.properties.due_on),
          status: invoice.properties.status.toUpperCase(),
        },
      ]);
    }
    expect(found.get('INV-1999-000001')).toEqual([]);
    expect(calls.map((c) => c.batchSize)).toEqual([100, 31]);
  });

  it('gets nulls when it forgets to ask for properties by name (which a dry run warns about)', async () => {
    const forgetful = connect((definition) => {
      definition.entities.Invoice!.lookups.id!.body = { ids: '{values}' };
    });
    try {
      const invoice = data.invoices[0]!;
      const found = await forgetful.lookup('Invoice', 'id', [invoice.id]);
      expect(found.get(invoice.id)).toEqual([expect.objectContaining({ id: invoice.id, amountDue: null, status: null })]);
    } finally {
      await forgetful.close();
    }
  });

  it('pages by page number behind opaque cursors, across upstream pages, with the total', async () => {
    const first = await connector.list('Invoice', { first: 150 }, observe);
    expect(first.records.map((r) => r.id)).toEqual(data.invoices.slice(0, 150).map((i) => i.id));
    expect(first).toMatchObject({ hasNextPage: true, totalCount: data.invoices.length });
    const next = await connector.list('Invoice', { first: 75, after: first.nextCursor }, observe);
    expect(next.records.map((r) => r.id)).toEqual(data.invoices.slice(150, 225).map((i) => i.id));
    // pages 1 and 2 for the first 150, then page 2 again (records 150-199) and page 3.
    expect(billing.stats().byRoute).toEqual({ 'GET /billing/v2/invoices': 4 });
    const last = await connector.list('Invoice', { first: 20, after: Buffer.from(`offset:${data.invoices.length - 5}`).toString('base64url') });
    expect(last.records).toHaveLength(5);
    expect(last).toMatchObject({ hasNextPage: false, nextCursor: null });
  });

  it('refuses a cursor it did not issue as a foreign cursor, without a call', async () => {
    const before = billing.stats().total;
    const refusal = connector.list('Invoice', { first: 5, after: 'bm9wZQ' });
    await expect(refusal).rejects.toBeInstanceOf(ForeignCursorError);
    await expect(refusal).rejects.toMatchObject({ source: 'billing', route: 'GET /invoices', cursor: 'bm9wZQ' });
    expect(billing.stats().total).toBe(before);
  });

  it('sends its custom auth header from the environment; a wrong key is the source refusing the gateway', async () => {
    const wrong = connect(undefined, 'not-the-key');
    try {
      const id = data.invoices[0]!.id;
      const found = await wrong.lookup('Invoice', 'id', [id]);
      expect(found.get(id)).toMatchObject({ code: 'SOURCE_REJECTED_REQUEST', status: 401, message: expect.stringContaining('check BILLING_API_KEY') });
    } finally {
      await wrong.close();
    }
  });
});
