/**
 * Crosswalks imported at run time: streamed, checked row by row, all or nothing unless asked
 * otherwise, kept by the file store across restarts; and the join they serve, live.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { billingDataset } from '../../sources/billing/data';
import { crmDataset } from '../../sources/crm/data';
import { billingDocument } from '../support/billing';
import { PROJECT_ROOT } from '../support/harness';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const billing = billingDataset();
const CSV = readFileSync(join(PROJECT_ROOT, 'sources/billing/crosswalk.csv'), 'utf8');
let dir: string;
let h: RegistryHarness;
/** Pairs the partial NDJSON import added. */
let imported = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'virtualize-file-store-'));
  h = await startRegistryHarness({ store: { kind: 'file', dir } });
  const registered = await h.admin<{ registerSource: { ok: boolean } }>(`mutation($d: JSON!) { registerSource(definition: $d, sample: false) { ${CHANGE} } }`, { d: billingDocument() });
  expect(registered.data?.registerSource.ok).toBe(true);
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function pairs(): Promise<number | undefined> {
  const answer = await h.admin<{ status: { mappings: Array<{ name: string; pairs: number | null }> } }>('{ status { mappings { name pairs } } }');
  return answer.data!.status.mappings.find((m) => m.name === 'customerInvoices')?.pairs ?? undefined;
}

/** A customer with invoices, whose billing account is not locked. */
function customerWithInvoices(skip = 0) {
  const pair = billing.crosswalk.filter((p) => !billing.customerByNumber.get(p.billingCustomerNumber)!.locked && (billing.invoicesByCustomer.get(p.billingCustomerNumber)?.length ?? 0) > 1)[skip]!;
  const numbers = billing.crosswalk.filter((p) => p.crmCustomerId === pair.crmCustomerId).map((p) => p.billingCustomerNumber);
  const invoices = numbers.flatMap((n) => billing.invoicesByCustomer.get(n) ?? []);
  return { id: pair.crmCustomerId, invoices: invoices.sort((a, b) => (a.properties.issued_on < b.properties.issued_on ? 1 : a.properties.issued_on > b.properties.issued_on ? -1 : 0)) };
}

describe('importing a crosswalk', () => {
  it('refuses a file with broken rows as a whole, naming each row and why, and imports nothing', async () => {
    const broken = [
      'crm_customer_id,billing_customer_number',
      '0035e0000002O61AAE,13263',
      '0035e00000030JgAAI,',
      '0035e00000031UKAAY,twelve',
      '"0035e0000003sMzAAI",11002',
      '',
      '0035e0000004FQMAA2,',
    ].join('\n');
    const answer = await h.upload('customerInvoices', broken);
    expect(answer.status).toBe(200);
    expect(answer.lines).toEqual([
      {
        type: 'result',
        mapping: 'customerInvoices',
        rows: 5,
        accepted: 2,
        added: 0,
        rejected: 3,
        applied: false,
        durationMs: expect.any(Number),
        rejectedRows: [
          { line: 3, reason: '"billing_customer_number" is empty' },
          { line: 4, reason: 'Invoice.customerNumber "twelve" is not a number, and that lookup sends numbers' },
          { line: 7, reason: '"billing_customer_number" is empty' },
        ],
      },
    ]);
    expect(await pairs()).toBe(0);
  });

  it('refuses a file with a broken quote whole, even with partial imports, since no row after it can be trusted', async () => {
    const broken = ['crm_customer_id,billing_customer_number', '0035e0000002O61AAE,13263', '"0035e0000003sMzAAI,11002', '0035e0000004FQMAA2,11003'].join('\n');
    const answer = await h.upload('customerInvoices', broken, { query: '?partial=true' });
    expect(answer).toEqual({ status: 400, lines: [{ errors: [{ message: 'a quoted field is still open where the input ends (line 4)', extensions: { code: 'BAD_USER_INPUT' } }] }] });
    expect(await pairs()).toBe(0);
  });

  it('refuses a CSV with a row of another width than its header whole, even with partial imports, naming the line', async () => {
    const shifted = ['crm_customer_id,billing_customer_number', '0035e0000002O61AAE,13263', '0035e0000004FQMAA2,11003,extra', '0035e00000031UKAAY,11004'].join('\n');
    const answer = await h.upload('customerInvoices', shifted, { query: '?partial=true' });
    expect(answer).toEqual({ status: 400, lines: [{ errors: [{ message: 'line 3: 3 fields where the header has 2; quote an id that holds a comma', extensions: { code: 'BAD_USER_INPUT' } }] }] });
    expect(await pairs()).toBe(0);
  });

  it('refuses imports it cannot take before reading a row: unknown mapping, a join without pairs, a file mapping, a wrong header', async () => {
    expect(await h.upload('nothingHere', 'a,b\n1,2\n')).toEqual({ status: 404, lines: [{ errors: [{ message: expect.stringContaining('no mapping nothingHere: register it first'), extensions: { code: 'NOT_FOUND' } }] }] });
    expect((await h.upload('customerTickets', 'a,b\n1,2\n')).lines[0]).toEqual({ errors: [{ message: expect.stringContaining('joins by a shared field: it has no pairs to import'), extensions: { code: 'BAD_USER_INPUT' } }] });
    expect((await h.upload('customerOrders', 'a,b\n1,2\n')).lines[0]).toEqual({ errors: [{ message: expect.stringContaining('is loaded from sources/orders/crosswalk.csv at start'), extensions: { code: 'BAD_USER_INPUT' } }] });
    const header = await h.upload('customerInvoices', 'crm,billing\n1,2\n', { query: '?columns=crm_customer_id,billing_customer_number' });
    expect(header).toEqual({ status: 400, lines: [{ errors: [{ message: 'the header has "crm", "billing"; the crosswalk needs "crm_customer_id" and "billing_customer_number" (pass the right columns)', extensions: { code: 'BAD_USER_INPUT' } }] }] });
    expect((await h.upload('customerInvoices', 'x', { contentType: 'application/pdf' })).status).toBe(415);
  });

  it('imports the good rows of NDJSON when partial imports are asked for', async () => {
    const customer = customerWithInvoices(0);
    const numbers = billing.crosswalk.filter((p) => p.crmCustomerId === customer.id).map((p) => p.billingCustomerNumber);
    const ndjson = [...numbers.map((n) => JSON.stringify({ crm: customer.id, billing: n })), '{"crm": "x"', JSON.stringify(['0035e000000A03zAAC', 'abc'])].join('\n');
    const answer = await h.upload('customerInvoices', ndjson, { contentType: 'application/x-ndjson', query: '?columns=crm,billing&partial=true' });
    expect(answer.lines).toEqual([
      expect.objectContaining({
        type: 'result',
        rows: numbers.length + 2,
        added: numbers.length,
        applied: true,
        rejectedRows: [
          { line: numbers.length + 1, reason: 'not valid JSON' },
          { line: numbers.length + 2, reason: 'Invoice.customerNumber "abc" is not a number, and that lookup sends numbers' },
        ],
      }),
    ]);
    imported = numbers.length;
    const { data } = await h.graphql<{ customer: { invoices: Array<{ id: string }> } }>(`{ customer(id: "${customer.id}") { invoices { id } } }`);
    expect(data!.customer.invoices.map((i) => i.id)).toEqual(customer.invoices.map((i) => i.id));
  });

  it('streams the whole crosswalk in, reporting progress, and the join answers for every customer at once', async () => {
    const rows = CSV.trimEnd().split('\n').length - 1;
    const big = `${CSV}${Array.from({ length: 12_000 }, (_, i) => `0035e9${String(i).padStart(12, '0')},${900_000 + i}`).join('\n')}\n`;
    const answer = await h.upload('customerInvoices', big);
    const result = answer.lines.at(-1)!;
    expect(result).toMatchObject({ type: 'result', rows: rows + 12_000, rejected: 0, applied: true });
    expect(result.added).toBe(rows + 12_000 - imported);
    const phases = answer.lines.filter((line) => line.type === 'progress').map((line) => line.phase);
    expect(phases.filter((phase, i) => phase !== phases[i - 1])).toEqual(['reading', 'loading', 'done']);
    expect(phases.length).toBeGreaterThanOrEqual(5);
    expect(await pairs()).toBe(rows + 12_000);

    const customer = customerWithInvoices(3);
    const { data, extensions } = await h.graphql<{ customer: { invoices: Array<{ id: string; amountDue: number }>; openBalance: number | null } }>(
      `{ customer(id: "${customer.id}") { invoices { id amountDue } openBalance } }`,
    );
    expect(data!.customer.invoices).toEqual(customer.invoices.map((i) => ({ id: i.id, amountDue: i.properties.amount_due / 100 })));
    expect(extensions?.schemaVersion).toBe(1);
    // The way back, through the same pairs.
    const invoice = customer.invoices[0]!;
    const back = await h.graphql<{ invoice: { customer: { id: string; name: string } } }>(`{ invoice(id: "${invoice.id}") { customer { id name } } }`);
    expect(back.data!.invoice.customer).toEqual({ id: customer.id, name: crmDataset().byId.get(customer.id)!.Name });
  });

  it('records each import in the audit trail, as a change of no definition', async () => {
    const answer = await h.admin<{ audit: Array<{ revision: number | null; actor: string; action: string; summary: string }> }>('{ audit(limit: 3) { revision actor action summary } }');
    expect(answer.data!.audit.slice(0, 2)).toEqual([
      { revision: null, actor: 'admin', action: 'importCrosswalk', summary: expect.stringMatching(/^importCrosswalk customerInvoices: 21,?\d+ rows, \d+ pairs added, 0 rejected$/) },
      { revision: null, actor: 'admin', action: 'importCrosswalk', summary: expect.stringContaining('2 rejected') },
    ]);
  });

  it('keeps registrations and pairs in files written atomically, and serves them again after a restart', async () => {
    const registry = JSON.parse(readFileSync(join(dir, 'registry.json'), 'utf8')) as { revision: number; sources: object; mappings: object };
    expect(registry.revision).toBe(1);
    expect(Object.keys(registry.sources)).toEqual(['billing']);
    expect(readdirSync(dir).sort()).toEqual(['audit.ndjson', 'crosswalks', 'registry.json']);
    expect(existsSync(join(dir, 'crosswalks', 'customerInvoices.ndjson'))).toBe(true);
    const before = await pairs();
    await h.close();

    h = await startRegistryHarness({ store: { kind: 'file', dir } });
    const customer = customerWithInvoices(5);
    const { data, errors, extensions } = await h.graphql<{ customer: { invoices: Array<{ id: string }> } }>(`{ customer(id: "${customer.id}") { invoices { id } } }`);
    expect(errors).toBeUndefined();
    expect(data!.customer.invoices.map((i) => i.id)).toEqual(customer.invoices.map((i) => i.id));
    expect(extensions?.schemaVersion).toBe(1);
    expect(await pairs()).toBe(before);
  });
});
