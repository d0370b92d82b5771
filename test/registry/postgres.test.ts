/**
 * The registry of a fleet, against the real PostgreSQL (DATABASE_URL): two gateway processes
 * share one registry; a registration on one is live on the other within seconds; the crosswalk
 * lives in an indexed table that both serve; a replica that cannot apply a revision keeps its
 * schema and says why. Each run uses a schema of its own, dropped at the end.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { startSandboxes } from '../../sources/sandbox';
import { billingDataset } from '../../sources/billing/data';
import { BILLING_BASE_PATH, startBilling, type BillingSandboxHandle } from '../../sources/billing/server';
import { PostgresMappingStore } from '../../src/mapping/postgres-mapping-store';
import { PostgresRegistryStore } from '../../src/registry/postgres-registry-store';
import { billingDocument } from '../support/billing';
import { startGatewayProcess, writeTestConfig, type GatewayProcess } from '../support/gateway-process';
import { DEMO_HEADERS, PROJECT_ROOT, sandboxEnv, type Sandboxes } from '../support/harness';
import { ADMIN_TOKEN, BILLING_KEY, CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) console.warn('PostgreSQL registry tests skipped: set DATABASE_URL (CI sets postgres://postgres@127.0.0.1:5432/test) to run them.');
const describeWithPostgres = DATABASE_URL ? describe : describe.skip;

const SCHEMA = `vt_registry_${process.pid}_${Date.now().toString(36)}`;
const billing = billingDataset();

describeWithPostgres('the PostgreSQL registry, shared by a fleet', () => {
  let pool: Pool;
  let sandboxes: Sandboxes;
  let billingSandbox: BillingSandboxHandle;
  let config: ReturnType<typeof writeTestConfig>;
  let a: GatewayProcess;
  let b: GatewayProcess;
  let c: RegistryHarness;

  const admin = async <T,>(gateway: GatewayProcess, query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${gateway.origin}/admin/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ query, variables }) });
    return (await response.json()) as { data?: T; errors?: Array<{ message: string }> };
  };
  const graphql = async <T,>(origin: string, query: string) => {
    const response = await fetch(`${origin}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...DEMO_HEADERS }, body: JSON.stringify({ query }) });
    return (await response.json()) as { data?: T; errors?: Array<{ message: string }>; extensions?: { schemaVersion?: number } };
  };
  const readiness = async (origin: string) => (await (await fetch(`${origin}/readyz`)).json()) as { schemaVersion: number; registry: { registryRevision: number; lastReload?: { ok: boolean; message?: string } } };
  /** A replica's log line saying that `version` went live. */
  const swappedTo = (version: number) => (entry: Record<string, unknown>) => entry.msg === 'schema swapped' && entry.version === version;

  beforeAll(async () => {
    pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
    sandboxes = await startSandboxes({ ports: { crm: 0, orders: 0, support: 0 } });
    billingSandbox = await startBilling({ apiKey: BILLING_KEY });
    config = writeTestConfig([`127.0.0.1:${billingSandbox.port}`]);
    const env = {
      ...sandboxEnv(sandboxes),
      DATABASE_URL,
      VIRTUALIZE_PG_SCHEMA: SCHEMA,
      VIRTUALIZE_ADMIN_TOKEN: ADMIN_TOKEN,
      BILLING_URL: `${billingSandbox.url}${BILLING_BASE_PATH}`,
      BILLING_API_KEY: BILLING_KEY,
    };
    [a, b] = await Promise.all([startGatewayProcess(['--config', config.file], env), startGatewayProcess(['--config', config.file], env)]);
    // A third replica, in this process, whose environment lacks the billing key.
    c = await startRegistryHarness({ store: { kind: 'postgres', url: DATABASE_URL!, schema: SCHEMA, pollIntervalMs: 30_000 }, sandboxes, billing: billingSandbox, env: { BILLING_API_KEY: undefined } });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), c?.close()]);
    await sandboxes?.close();
    await billingSandbox?.close();
    config?.cleanup();
    await pool?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await pool?.end();
  });

  it('creates its tables by migrations, once, however many replicas start together', async () => {
    const { rows } = await pool.query<{ version: number }>(`SELECT version FROM ${SCHEMA}.schema_migrations ORDER BY version`);
    expect(rows.map((row) => row.version)).toEqual([1, 2, 3, 4]);
    const stores = await Promise.all([1, 2].map(() => PostgresRegistryStore.open({ url: DATABASE_URL!, schema: SCHEMA, pollIntervalMs: 60_000 })));
    await Promise.all(stores.map((store) => store.close()));
    const indexes = await pool.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'crosswalk_pairs' ORDER BY indexname`, [SCHEMA]);
    expect(indexes.rows.map((row) => row.indexname)).toEqual(['crosswalk_pairs_pkey', 'crosswalk_pairs_reverse']);
  });

  it('puts a registration on one replica live on the other within seconds; one that cannot apply it keeps its schema and says why', async () => {
    const registered = await admin<{ registerSource: { ok: boolean; schemaVersion: number } }>(a, `mutation($d: JSON!) { registerSource(definition: $d) { ${CHANGE} } }`, { d: billingDocument() });
    expect(registered.data?.registerSource).toMatchObject({ ok: true, schemaVersion: 1 });
    // Told by the store's notification: within seconds, where the poll comes every 30.
    await b.logged(swappedTo(1));
    expect((await readiness(b.origin)).schemaVersion).toBe(1);
    const invoice = billing.invoices[42]!;
    const onB = await graphql<{ invoice: { id: string; status: string } }>(b.origin, `{ invoice(id: "${invoice.id}") { id status } }`);
    expect(onB).toMatchObject({ data: { invoice: { id: invoice.id, status: invoice.properties.status.toUpperCase() } }, extensions: { schemaVersion: 1 } });
    expect(onB.errors).toBeUndefined();

    await c.logged((event) => event.msg === 'registry revision not applied; the previous schema stays live' && event.revision === 1);
    const value = await readiness(c.origin);
    expect(value.registry.registryRevision).toBe(1);
    expect(value.schemaVersion).toBe(0);
    expect(value.registry.lastReload).toMatchObject({ ok: false, message: expect.stringContaining('BILLING_API_KEY is not set') });
    expect((await c.graphql('{ customers(first: 1) { nodes { id } } }')).extensions?.schemaVersion).toBe(0);
  });

  it('keeps the crosswalk in one indexed table: imported through one replica, served by every one', async () => {
    const csv = readFileSync(join(PROJECT_ROOT, 'sources/billing/crosswalk.csv'), 'utf8');
    const response = await fetch(`${a.origin}/admin/crosswalks/customerInvoices`, { method: 'POST', headers: { 'content-type': 'text/csv', authorization: `Bearer ${ADMIN_TOKEN}` }, body: csv });
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ type: 'result', applied: true, added: billing.crosswalk.length });

    const pair = billing.crosswalk.find((p) => !billing.customerByNumber.get(p.billingCustomerNumber)!.locked && (billing.invoicesByCustomer.get(p.billingCustomerNumber)?.length ?? 0) > 0)!;
    const numbers = billing.crosswalk.filter((p) => p.crmCustomerId === pair.crmCustomerId).map((p) => p.billingCustomerNumber);
    const expected = numbers.flatMap((n) => billing.invoicesByCustomer.get(n)!.map((i) => i.id)).sort();
    const onB = await graphql<{ customer: { invoices: Array<{ id: string }> } }>(b.origin, `{ customer(id: "${pair.crmCustomerId}") { invoices { id } } }`);
    expect(onB.data!.customer.invoices.map((i) => i.id).sort()).toEqual(expected);
  });

  it('streams hundreds of thousands of rows into PostgreSQL in one transaction, and answers a batch of keys with one indexed query', async () => {
    const rows = 250_000;
    const body = (async function* () {
      yield 'crm_customer_id,billing_customer_number\n';
      for (let start = 0; start < rows; start += 10_000) {
        yield Array.from({ length: 10_000 }, (_, i) => `0035z${String(start + i).padStart(13, '0')},${1_000_000 + start + i}\n`).join('');
      }
    })();
    const response = await fetch(`${a.origin}/admin/crosswalks/customerInvoices`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: body as unknown as BodyInit,
      duplex: 'half',
    } as RequestInit);
    const lines = (await response.text()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ type: 'result', rows, added: rows, rejected: 0, applied: true });
    expect(lines.filter((line) => line.type === 'progress').length).toBeGreaterThanOrEqual(rows / 10_000);

    const store = new PostgresMappingStore(pool, SCHEMA);
    const keys = Array.from({ length: 1_000 }, (_, i) => `0035z${String(i * 211).padStart(13, '0')}`);
    const found = await store.forward('customerInvoices', keys);
    expect([...found.values()].every((partners) => partners.length === 1)).toBe(true);
    expect(found.get(keys[5]!)).toEqual([String(1_000_000 + 5 * 211)]);
    const back = await store.reverse('customerInvoices', ['1000211', 'nobody']);
    expect(Object.fromEntries(back)).toEqual({ 1000211: ['0035z0000000000211'], nobody: [] });
    const plan = await pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT to_value FROM ${SCHEMA}.crosswalk_pairs WHERE mapping = 'customerInvoices' AND from_value = ANY($1::text[])`, [keys]);
    expect(plan.rows.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index/);
  }, 120_000);

  it('puts a removal on the other replica live too, and both read one audit trail', async () => {
    const removed = await admin<{ removeSource: { ok: boolean; schemaVersion: number } }>(b, `mutation { removeSource(name: "billing", withMappings: true) { ${CHANGE} } }`);
    expect(removed.data?.removeSource).toMatchObject({ ok: true, schemaVersion: 2 });
    await a.logged(swappedTo(2));
    expect((await graphql(a.origin, '{ invoice(id: "INV-2024-000001") { id } }')).errors?.[0]?.message).toContain('Cannot query field "invoice"');
    // C could not apply revision 1, but revision 2 (without billing) builds here: it catches up.
    await c.logged(swappedTo(2));
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${SCHEMA}.crosswalk_pairs WHERE mapping = 'customerInvoices'`);
    expect(Number(rows[0]!.n)).toBe(0);
    const audit = await admin<{ audit: Array<{ revision: number | null; action: string }> }>(a, '{ audit(limit: 10) { revision action } }');
    expect(audit.data!.audit.map((entry) => [entry.revision, entry.action])).toEqual([
      [2, 'remove'],
      [null, 'importCrosswalk'],
      [null, 'importCrosswalk'],
      [1, 'register'],
    ]);
  });
});
