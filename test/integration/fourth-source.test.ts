/**
 * Adding a source needs no TypeScript beyond its declaration. A tiny billing system (its own field
 * names, envelopes, a batch endpoint by bill-to email with its own separator, accounts by id) is
 * declared as plain data, joined to the CRM by normalized email (invoices) and by a crosswalk file
 * written to a temp dir (billing accounts), and queried both ways through the gateway.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { normalizeEmail } from '../../sources/sandbox';
import type { MappingDefinitionInput, SourceDefinitionInput } from '../../src/config/definition';
import { startHarness, type Harness } from '../support/harness';
import { dataOf } from './compare';
import { data } from './ground-truth';

// ---------------------------------------------------------------------------------------------
// The billing system's data, derived from the CRM's customers so that joins have partners: the
// first 60 customers get 0 to 3 invoices each, billed to their email as the billing clerk typed
// it (upper case and padded for every third), and one bill-to address is nobody in the CRM.

interface RawInvoice {
  invoice_no: string;
  bill_to: { email: string; name: string };
  amount_cents: number;
  currency_code: string;
  issued_on: string;
  state: 'paid' | 'open' | 'void';
}

interface RawAccount {
  acct: number;
  plan_name: string;
  balance_cents: number;
}

const CUSTOMERS = data.crm.contacts.slice(0, 60);
const STATES = ['paid', 'open', 'void'] as const;
const ORPHAN_EMAIL = 'walk-in@cash-sale.example';

const invoices: RawInvoice[] = [];
CUSTOMERS.forEach((customer, i) => {
  const typed = i % 3 === 0 ? `  ${customer.Email.toUpperCase()} ` : customer.Email;
  for (let n = 0; n < i % 4; n++) {
    invoices.push({
      invoice_no: `INV-${String(invoices.length + 1).padStart(5, '0')}`,
      bill_to: { email: typed, name: customer.Name },
      amount_cents: 1_000 + ((i * 7_919 + n * 104_729) % 90_000),
      currency_code: 'EUR',
      issued_on: `2025-${String(1 + ((i + n * 5) % 12)).padStart(2, '0')}-${String(1 + ((i * 3 + n) % 28)).padStart(2, '0')}`,
      state: STATES[(i + n) % 3]!,
    });
  }
});
invoices.push({ invoice_no: 'INV-99999', bill_to: { email: ORPHAN_EMAIL, name: 'Walk-in' }, amount_cents: 4_200, currency_code: 'EUR', issued_on: '2025-06-01', state: 'paid' });

/** Billing accounts of every fifth customer (two for every tenth), and one account of nobody. */
const accounts: RawAccount[] = [];
const crosswalkRows: Array<[string, number]> = [];
CUSTOMERS.forEach((customer, i) => {
  if (i % 5 !== 0) return;
  for (let n = 0; n < (i % 10 === 0 ? 2 : 1); n++) {
    const acct = 70_000 + accounts.length;
    accounts.push({ acct, plan_name: n === 0 ? 'Standard' : 'Add-on', balance_cents: acct % 997 });
    crosswalkRows.push([customer.Id, acct]);
  }
});
const UNLINKED_ACCOUNT: RawAccount = { acct: 79_999, plan_name: 'Legacy', balance_cents: 0 };
accounts.push(UNLINKED_ACCOUNT);

// ---------------------------------------------------------------------------------------------
// The tiny billing server: its own routes and envelopes, and a count of calls per route.

const BATCH_LIMIT = 25;
const calls = new Map<string, number>();

function handle(url: URL): { status: number; body: unknown; route: string } {
  const one = /^\/billing\/v1\/invoices\/([^/]+)$/.exec(url.pathname);
  if (one) {
    const invoice = invoices.find((inv) => inv.invoice_no === decodeURIComponent(one[1]!));
    return { route: 'GET /invoices/{no}', status: invoice ? 200 : 404, body: invoice ? { data: { invoice } } : { error: 'no such invoice' } };
  }
  if (url.pathname === '/billing/v1/invoices') {
    const emails = (url.searchParams.get('bill_to') ?? '').split(';').filter(Boolean).map(normalizeEmail);
    if (emails.length === 0 || emails.length > BATCH_LIMIT) return { route: 'GET /invoices', status: 400, body: { error: `bill_to takes 1 to ${BATCH_LIMIT} emails` } };
    const found = invoices.filter((inv) => emails.includes(normalizeEmail(inv.bill_to.email)));
    return { route: 'GET /invoices', status: 200, body: { data: { invoices: found.reverse() }, meta: { count: found.length } } };
  }
  if (url.pathname === '/billing/v1/accounts') {
    const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean).map(Number);
    if (ids.length === 0 || ids.length > BATCH_LIMIT) return { route: 'GET /accounts', status: 400, body: { error: `ids takes 1 to ${BATCH_LIMIT} ids` } };
    return { route: 'GET /accounts', status: 200, body: { accounts: accounts.filter((a) => ids.includes(a.acct)) } };
  }
  return { route: '(unmatched)', status: 404, body: { error: 'no route' } };
}

let billing: Server;
let billingUrl: string;

function startBilling(): Promise<void> {
  billing = createServer((request, response) => {
    const { status, body, route } = handle(new URL(request.url ?? '/', 'http://billing'));
    calls.set(route, (calls.get(route) ?? 0) + 1);
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  return new Promise((resolve) => billing.listen(0, '127.0.0.1', () => {
    billingUrl = `http://127.0.0.1:${(billing.address() as AddressInfo).port}`;
    resolve();
  }));
}

// ---------------------------------------------------------------------------------------------
// The declaration: plain data, nothing else.

function billingSource(baseUrl: string): SourceDefinitionInput {
  return {
    description: 'The billing system: invoices by bill-to email, accounts by number.',
    baseUrl,
    limits: { timeoutMs: 2_000, connectTimeoutMs: 1_000, maxConcurrency: 4 },
    entities: {
      Invoice: {
        description: 'An invoice issued by billing.',
        key: 'id',
        fields: {
          id: { from: 'invoice_no', transform: 'id', description: 'The invoice number, e.g. INV-00042.' },
          billedTo: { from: 'bill_to.email', transform: 'email', description: 'Bill-to email, trimmed and lower-cased.' },
          billedName: { from: 'bill_to.name', description: 'Bill-to name as printed.' },
          amount: { from: 'amount_cents', transform: 'minorUnits', description: 'Amount due, as a decimal.' },
          currency: { from: 'currency_code', description: 'ISO 4217 code.' },
          issuedAt: { from: 'issued_on', transform: 'dateTime', description: 'Issue date.' },
          status: { from: 'state', transform: { enum: { paid: 'PAID', open: 'OPEN', void: 'VOID' } }, description: 'Payment state.' },
        },
        lookups: {
          id: { path: '/invoices/{value}', resultPath: 'data.invoice', unique: true, pattern: '^INV-[0-9]+$' },
          billedTo: { path: '/invoices', query: { bill_to: '{values}' }, resultPath: 'data.invoices', unique: false, batch: { maxSize: BATCH_LIMIT, separator: ';' } },
        },
        query: { one: 'invoice', many: false, list: false },
      },
      BillingAccount: {
        description: 'An account in billing.',
        key: 'id',
        fields: {
          id: { from: 'acct', transform: 'id', description: 'The account number.' },
          plan: { from: 'plan_name', description: 'Subscribed plan.' },
          balance: { from: 'balance_cents', transform: 'minorUnits', description: 'Open balance.' },
        },
        lookups: { id: { path: '/accounts', query: { ids: '{values}' }, resultPath: 'accounts', unique: true, batch: { maxSize: BATCH_LIMIT } } },
        query: { one: 'billingAccount', many: 'billingAccountsByIds', list: false },
      },
    },
  };
}

function billingMappings(crosswalkFile: string): Record<string, MappingDefinitionInput> {
  return {
    customerInvoices: {
      description: 'CRM email <-> billing bill-to email, compared trimmed and lower-cased.',
      from: { entity: 'Customer', field: 'email' },
      to: { entity: 'Invoice', field: 'billedTo' },
      via: { kind: 'fieldKey', normalize: 'email' },
      forward: {
        field: 'invoices',
        description: 'Invoices billed to this customer, newest first.',
        args: { status: { filter: 'status' } },
        orderBy: { field: 'issuedAt', direction: 'desc' },
        summaries: { amountInvoiced: { op: 'sum', field: 'amount', description: 'Sum of all invoices.' } },
      },
      inverse: { field: 'customer', description: 'The CRM customer billed.' },
    },
    customerBillingAccounts: {
      description: 'CRM customer id <-> billing account, through a crosswalk file.',
      from: { entity: 'Customer', field: 'id' },
      to: { entity: 'BillingAccount', field: 'id' },
      via: { kind: 'crosswalk', file: crosswalkFile, columns: ['crm_id', 'billing_account'] },
      forward: { field: 'billingAccounts', description: 'Billing accounts of this customer.' },
      inverse: { field: 'customer', description: 'The CRM customer owning the account.' },
    },
  };
}

// ---------------------------------------------------------------------------------------------

let h: Harness;
let tempDir: string;

beforeAll(async () => {
  await startBilling();
  tempDir = mkdtempSync(join(tmpdir(), 'virtualize-billing-'));
  const crosswalkFile = join(tempDir, 'billing-crosswalk.csv');
  writeFileSync(crosswalkFile, ['crm_id,billing_account', ...crosswalkRows.map(([id, acct]) => `${id},${acct}`)].join('\n') + '\n');
  // Through JSON on purpose: the declaration is data, as it would arrive from a file or the admin API.
  const source = JSON.parse(JSON.stringify(billingSource(`${billingUrl}/billing/v1`))) as SourceDefinitionInput;
  const mappings = JSON.parse(JSON.stringify(billingMappings(crosswalkFile))) as Record<string, MappingDefinitionInput>;
  h = await startHarness({
    configure: (config) => ({ ...config, sources: { ...config.sources, billing: source }, mappings: { ...config.mappings, ...mappings } }),
  });
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => billing.close(resolve));
  rmSync(tempDir, { recursive: true, force: true });
});

beforeEach(() => {
  calls.clear();
  h.resetUpstream();
});

// Ground truth, from the billing data above and the CRM dataset.
const iso = (day: string) => new Date(`${day}T00:00:00Z`).toISOString();
const expectedInvoice = (inv: RawInvoice) => ({ id: inv.invoice_no, amount: inv.amount_cents / 100, currency: inv.currency_code, status: inv.state.toUpperCase(), issuedAt: iso(inv.issued_on) });
function invoicesOf(customerId: string) {
  const email = normalizeEmail(data.crm.byId.get(customerId)!.Email);
  return invoices
    .filter((inv) => normalizeEmail(inv.bill_to.email) === email)
    .sort((a, b) => (a.issued_on < b.issued_on ? 1 : a.issued_on > b.issued_on ? -1 : 0))
    .map(expectedInvoice);
}
const accountsOf = (customerId: string) =>
  crosswalkRows.filter(([id]) => id === customerId).map(([, acct]) => accounts.find((a) => a.acct === acct)!).map((a) => ({ id: String(a.acct), plan: a.plan_name, balance: a.balance_cents / 100 }));
const customerOfEmail = (email: string) => data.crm.byEmail.get(normalizeEmail(email));

type InvoiceView = ReturnType<typeof expectedInvoice>;
type AccountView = ReturnType<typeof accountsOf>[number];

it('customer(id) { invoices billingAccounts } joins the declared source, messy bill-to emails and two accounts included', async () => {
  const picks = [0, 3, 4, 10, 7, 1, 11, 15].map((i) => CUSTOMERS[i]!.Id);
  for (const id of picks) {
    const { customer } = dataOf(
      await h.query<{ customer: { id: string; invoices: InvoiceView[]; amountInvoiced: number | null; paid: Array<{ id: string }>; billingAccounts: AccountView[] } }>(
        `query($id: ID!) { customer(id: $id) {
          id invoices { id amount currency status issuedAt } amountInvoiced paid: invoices(status: PAID) { id }
          billingAccounts { id plan balance }
        } }`,
        { id },
      ),
    );
    const expected = invoicesOf(id);
    expect(customer.invoices).toEqual(expected);
    expect(customer.paid.map((inv) => inv.id)).toEqual(expected.filter((inv) => inv.status === 'PAID').map((inv) => inv.id));
    if (expected.length === 0) expect(customer.amountInvoiced).toBeNull();
    else expect(customer.amountInvoiced).toBeCloseTo(expected.reduce((sum, inv) => sum + inv.amount, 0), 2);
    expect(customer.billingAccounts).toEqual(accountsOf(id));
  }
  // The picks cover what they claim to.
  expect(picks.some((id) => invoicesOf(id).length > 0 && CUSTOMERS.findIndex((c) => c.Id === id) % 3 === 0)).toBe(true);
  expect(picks.some((id) => invoicesOf(id).length === 0)).toBe(true);
  expect(picks.some((id) => accountsOf(id).length === 2)).toBe(true);
  expect(picks.some((id) => accountsOf(id).length === 0)).toBe(true);
});

it('invoice(id) { customer } and billingAccount(id) { customer } join back, null where there is no customer', async () => {
  const sample = [...new Set([...invoices.filter((_, i) => i % 6 === 0), invoices[invoices.length - 1]!])];
  const invoiceAliases = sample.map((inv, i) => `i${i}: invoice(id: "${inv.invoice_no}") { id customer { id name } }`);
  const accountAliases = accounts.map((a, i) => `a${i}: billingAccount(id: "${a.acct}") { id customer { id name } }`);
  const result = dataOf(await h.query<Record<string, { id: string; customer: { id: string; name: string } | null }>>(`{ ${[...invoiceAliases, ...accountAliases].join('\n')} }`));
  sample.forEach((inv, i) => {
    const owner = customerOfEmail(inv.bill_to.email);
    expect(result[`i${i}`]).toEqual({ id: inv.invoice_no, customer: owner ? { id: owner.Id, name: owner.Name } : null });
  });
  expect(result[`i${sample.length - 1}`]!.customer).toBeNull();
  accounts.forEach((account, i) => {
    const ownerId = crosswalkRows.find(([, acct]) => acct === account.acct)?.[0];
    expect(result[`a${i}`]).toEqual({ id: String(account.acct), customer: ownerId ? { id: ownerId, name: data.crm.byId.get(ownerId)!.Name } : null });
  });
  // No batch endpoint for invoices by number: one call each; accounts come in one batch.
  expect(Object.fromEntries(calls)).toEqual({ 'GET /invoices/{no}': sample.length, 'GET /accounts': Math.ceil(accounts.length / BATCH_LIMIT) });
});

it('an invoice number that cannot exist is null without a call; an unknown one is null after one', async () => {
  const result = dataOf(await h.query<{ a: null; b: null }>(`{ a: invoice(id: "../accounts") { id } b: invoice(id: "INV-00000") { id } }`));
  expect(result).toEqual({ a: null, b: null });
  expect(Object.fromEntries(calls)).toEqual({ 'GET /invoices/{no}': 1 });
});

it('a page of customers fetches invoices in batches of the declared size, and the back-join costs nothing', async () => {
  const { customers } = dataOf(
    await h.query<{ customers: { nodes: Array<{ id: string; invoices: Array<{ id: string; customer: { id: string } }>; billingAccounts: Array<{ id: string }> }> } }>(
      `{ customers(first: 60) { nodes { id invoices { id customer { id } } billingAccounts { id } } } }`,
    ),
  );
  expect(customers.nodes.map((c) => c.id)).toEqual(CUSTOMERS.map((c) => c.Id));
  for (const customer of customers.nodes) {
    expect(customer.invoices.map((inv) => inv.id)).toEqual(invoicesOf(customer.id).map((inv) => inv.id));
    expect(customer.invoices.every((inv) => inv.customer.id === customer.id)).toBe(true);
    expect(customer.billingAccounts.map((a) => a.id)).toEqual(accountsOf(customer.id).map((a) => a.id));
  }
  const linkedAccounts = new Set(crosswalkRows.map(([, acct]) => acct)).size;
  expect(Object.fromEntries(calls)).toEqual({
    'GET /invoices': Math.ceil(CUSTOMERS.length / BATCH_LIMIT),
    'GET /accounts': Math.ceil(linkedAccounts / BATCH_LIMIT),
  });
  expect(h.upstream().crm).toEqual({ 'GET /services/data/v58.0/query/Contact': 1 });
});

it('publishes the declared types with their descriptions', async () => {
  const { __type } = dataOf(
    await h.query<{ __type: { description: string; fields: Array<{ name: string; description: string }> } }>(`{ __type(name: "Invoice") { description fields { name description } } }`),
  );
  expect(__type.description).toBe('An invoice issued by billing.');
  expect(__type.fields.find((f) => f.name === 'amount')?.description).toBe('Amount due, as a decimal.');
  expect(__type.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['id', 'billedTo', 'amount', 'currency', 'issuedAt', 'status', 'customer']));
});

it('is priced by the guard with no cost directive written for it: joins at guard.listSizes.join items, calls by its batch size', async () => {
  const query = `{ customers(first: 60) { nodes { invoices { id } amountInvoiced billingAccounts { plan } } } }`;
  const dryRun = await h.query(query, undefined, { 'x-virtualize-dry-run': '1' });
  // 1 page + 60 customers, each with 20 assumed invoices and 20 assumed accounts (listSizes.join).
  expect(dryRun.extensions?.cost).toMatchObject({
    requestedQueryCost: 1 + 60 + 60 * 20 + 60 * 20,
    upstreamCalls: { crm: { predicted: 1 }, billing: { predicted: 2 * Math.ceil(60 / BATCH_LIMIT) } },
  });
  expect(calls.size).toBe(0);

  const ran = await h.query(query);
  dataOf(ran);
  const made = [...calls.values()].reduce((a, b) => a + b, 0);
  // Invoices by the 60 emails as predicted (amountInvoiced shares them); accounts only for the customers that have one.
  expect(made).toBe(Math.ceil(60 / BATCH_LIMIT) + 1);
  expect(ran.extensions?.cost).toMatchObject({ upstreamCalls: { billing: { predicted: 6, actual: made } } });
});
