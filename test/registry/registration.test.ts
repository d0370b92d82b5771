/**
 * Registering the billing system at run time through the admin API: a dry run first, refusals
 * that report every problem and change nothing, then register, update and remove, each one
 * audited with its diff and live at once.
 */
import { billingDataset } from '../../sources/billing/data';
import { billingDocument } from '../support/billing';
import { CHANGE, startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

let h: RegistryHarness;
beforeAll(async () => {
  h = await startRegistryHarness();
});
afterAll(() => h?.close());

interface Report {
  ok: boolean;
  problems: Array<{ path: string; message: string; expected: string | null; found: string | null; stage: string }>;
  warnings: Array<{ path: string; message: string; stage: string }>;
  samples: Array<{ source: string; entity: string; endpoint: string; ok: boolean; records: number; rejected: number; note: string | null }>;
  fieldsAdded: string[];
  fieldsRemoved: string[];
}
interface Change {
  ok: boolean;
  schemaVersion: number;
  report: Report;
  audit: { revision: number; actor: string; action: string; summary: string; diff: Array<{ op: string; path: string; before: unknown; after: unknown }> } | null;
}

const VALIDATE = `mutation($definition: JSON!, $sample: Boolean) { validateDefinition(definition: $definition, sample: $sample) { ok problems { path message expected found stage } warnings { path message stage } samples { source entity endpoint ok records rejected note } fieldsAdded fieldsRemoved } }`;
const REGISTER = `mutation($definition: JSON!, $sample: Boolean) { registerSource(definition: $definition, sample: $sample) { ${CHANGE} } }`;
const UPDATE = `mutation($definition: JSON!) { updateSource(definition: $definition) { ${CHANGE} } }`;

async function validate(definition: unknown, sample = true): Promise<Report> {
  const answer = await h.admin<{ validateDefinition: Report }>(VALIDATE, { definition, sample });
  expect(answer.errors).toBeUndefined();
  return answer.data!.validateDefinition;
}

async function register(definition: unknown): Promise<Change> {
  const answer = await h.admin<{ registerSource: Change }>(REGISTER, { definition });
  expect(answer.errors).toBeUndefined();
  return answer.data!.registerSource;
}

/** A minimal valid source whose only notable trait is where it points. */
function sourceAt(baseUrl: string, entity: string) {
  return { baseUrl, entities: { [entity]: { key: 'id', fields: { id: 'id' }, lookups: { id: { path: '/things/{value}', unique: true } }, query: { one: false as const, many: false as const, list: false as const } } } };
}

async function schemaVersionNow(): Promise<number> {
  const response = await fetch(`${h.origin}/readyz`);
  return ((await response.json()) as { schemaVersion: number }).schemaVersion;
}

describe('registering a source at run time', () => {
  it('dry run: resolves, compiles and samples the definition, reports what the schema would gain, and changes nothing', async () => {
    const report = await validate(billingDocument());
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.samples.map((s) => [s.endpoint, s.ok, s.records])).toEqual([
      ['list', true, 3],
      ['lookup by id', true, 3],
      ['lookup by customerNumber', true, 3],
      ['mapping customerInvoices', true, 0],
    ]);
    expect(report.warnings).toEqual([expect.objectContaining({ path: 'mappings.customerInvoices', message: expect.stringContaining('import the crosswalk') })]);
    expect(report.fieldsAdded).toEqual(expect.arrayContaining(['Customer.invoices', 'Customer.openBalance', 'Invoice.customer', 'Query.invoice', 'Query.invoices']));
    expect(report.fieldsRemoved).toEqual([]);
    expect(await schemaVersionNow()).toBe(0);
    expect((await h.graphql('{ invoice(id: "INV-2024-000001") { id } }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('reports every problem of a broken definition together, from every check, and refuses it without changing anything', async () => {
    const document = billingDocument();
    const billing = document.sources.billing!;
    const invoice = billing.entities.Invoice!;
    (invoice.lookups.id as { method: string }).method = 'PUT';
    invoice.fields.amountDue = { from: 'properties.amount_due', transform: 'minorUnits', description: 'x' };
    (document.mappings!.customerInvoices!.forward as { orderBy: unknown }).orderBy = { field: 'issuedAt', direction: 'desc' };
    const shape = await register(document);
    expect(shape.ok).toBe(false);
    expect(shape.report.problems).toEqual([expect.objectContaining({ path: 'sources.billing.entities.Invoice.lookups.id.method', stage: 'shape', expected: 'one of "GET", "POST"', found: 'the string "PUT"' })]);

    const fixed = billingDocument();
    fixed.sources.billing!.auth = { type: 'header', header: 'x-billing-key', value: { env: 'BILLING_KEY_NOT_SET' } };
    (fixed.mappings!.customerInvoices!.forward as { orderBy: unknown }).orderBy = { field: 'issuedAt', direction: 'desc' };
    fixed.sources.ledger = sourceAt('http://169.254.169.254/latest', 'LedgerEntry');
    const several = await register(fixed);
    expect(several.ok).toBe(false);
    expect(several.report.problems).toEqual([expect.objectContaining({ path: 'mappings.customerInvoices.forward.orderBy.field', stage: 'references', message: '"issuedAt" is not a mapped field of Invoice' })]);

    (fixed.mappings!.customerInvoices!.forward as { orderBy: unknown }).orderBy = { field: 'issuedOn', direction: 'desc' };
    const late = await register(fixed);
    expect(late.report.problems.map((p) => [p.stage, p.path])).toEqual([
      ['environment', 'sources.billing.auth.value'],
      ['egress', 'sources.ledger.baseUrl'],
    ]);
    expect(late.report.problems[0]!.message).toContain('BILLING_KEY_NOT_SET is not set');
    expect(late.report.problems[1]!.message).toContain('169.254.169.254 is a link-local');
    expect(late.schemaVersion).toBe(0);
    expect(await schemaVersionNow()).toBe(0);
    // Nothing changed; the refusals (and the dry run before them) are in the audit trail, as changes of no revision.
    const audit = await h.admin<{ audit: Array<{ revision: number | null; action: string; summary: string }> }>('{ audit { revision action summary } }');
    expect(audit.data!.audit.filter((entry) => entry.revision !== null)).toEqual([]);
    expect(audit.data!.audit[0]).toEqual({ revision: null, action: 'register', summary: 'register source billing, source ledger, mapping customerInvoices refused: 2 problems' });
  });

  it('calls the source once with a sample: wrong credentials and a wrong envelope are problems at the parts that caused them', async () => {
    const document = billingDocument();
    document.sources.billing!.auth = { type: 'header', header: 'x-billing-key', value: { env: 'BILLING_WRONG_KEY' } };
    h.env.BILLING_WRONG_KEY = 'not-the-key';
    const report = await validate(document);
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      expect.objectContaining({ stage: 'sample', path: 'sources.billing.entities.Invoice.list', found: 'HTTP 401', message: expect.stringContaining('authentication failed: check auth and the value of BILLING_WRONG_KEY') }),
    ]);
    const envelope = billingDocument();
    envelope.sources.billing!.entities.Invoice!.lookups.customerNumber!.resultPath = 'data';
    const wrongEnvelope = await validate(envelope);
    expect(wrongEnvelope.problems).toEqual([
      expect.objectContaining({ stage: 'sample', path: 'sources.billing.entities.Invoice.lookups.customerNumber', message: expect.stringContaining('sent no records at "data"') }),
    ]);
  });

  it('refuses what a registration must not do: call internal addresses, store secrets, read host files, change the configuration file', async () => {
    const ssrf = {
      sources: {
        metadata: sourceAt('http://169.254.169.254/latest/meta-data', 'MetaThing'),
        intranet: sourceAt('http://10.1.2.3/api', 'IntranetThing'),
        itself: sourceAt(`${h.origin}/admin`, 'SelfThing'),
        named: sourceAt('http://localhost:6379/', 'RedisThing'),
        mapped: sourceAt('http://[::ffff:127.0.0.1]:22/', 'MappedThing'),
        userinfo: sourceAt('http://user:pass@api.example.com/', 'UserThing'),
        scheme: sourceAt('file:///etc/passwd', 'FileThing'),
      },
    };
    const report = await validate(ssrf, false);
    const byPath = Object.fromEntries(report.problems.map((p) => [p.path, `${p.stage}: ${p.message}`]));
    expect(byPath).toEqual({
      'sources.metadata.baseUrl': expect.stringMatching(/^egress: 169\.254\.169\.254 is a link-local/),
      'sources.intranet.baseUrl': expect.stringMatching(/^egress: 10\.1\.2\.3 is a private address/),
      'sources.itself.baseUrl': expect.stringMatching(/^egress: 127\.0\.0\.1 is a loopback address/),
      'sources.named.baseUrl': expect.stringMatching(/^egress: localhost resolves to .*, a loopback address/),
      'sources.mapped.baseUrl': expect.stringMatching(/^egress: ::ffff:7f00:1 is a loopback \(127\.0\.0\.1 in IPv6 form\) address/),
      'sources.userinfo.baseUrl': 'egress: credentials do not belong in a base URL: declare auth with an environment reference',
      'sources.scheme.baseUrl': 'egress: only http and https sources can be registered, not file:',
    });

    const secrets = billingDocument();
    secrets.sources.billing!.auth = { type: 'bearer', token: { env: 'BILLING_API_KEY', default: 'hunter2' } };
    secrets.sources.billing!.entities.Invoice!.list!.query = { properties: '{properties}', api_key: 'hunter2' };
    secrets.mappings!.customerInvoices!.via = { kind: 'crosswalk', file: '/etc/passwd', columns: ['a', 'b'] };
    secrets.sources.crm = secrets.sources.billing!;
    delete secrets.sources.billing;
    const rules = await validate(secrets, false);
    expect(rules.problems.map((p) => [p.stage, p.path])).toEqual([
      ['rules', 'sources.crm'],
      ['rules', 'sources.crm.auth.token.default'],
      ['rules', 'sources.crm.entities.Invoice.list.query.api_key'],
      ['rules', 'mappings.customerInvoices.via.file'],
      // The configuration's crm stays in force, so nothing serves Invoice any more.
      ['references', 'mappings.customerInvoices.to.entity'],
    ]);
    expect(rules.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('declared in virtualization.config.ts and cannot be changed at run time'),
      expect.stringContaining('a default would store the secret in the registry in clear'),
      expect.stringContaining('looks like a credential written in clear'),
      expect.stringContaining('cannot name a file on the gateway host'),
      expect.stringContaining('no source serves an entity named Invoice'),
    ]);

    // OAuth client credentials: the client secret is a secret like any other, the token URL a URL like any other.
    const withOAuth = (clientSecret: { env: string; default?: string }) => {
      const document = billingDocument();
      document.sources.billing!.auth = { type: 'oauth2ClientCredentials', tokenUrl: 'http://169.254.169.254/token', clientId: 'billing', clientSecret };
      return document;
    };
    expect((await validate(withOAuth({ env: 'BILLING_API_KEY', default: 'hunter2' }), false)).problems.map((p) => [p.stage, p.path])).toEqual([['rules', 'sources.billing.auth.clientSecret.default']]);
    expect((await validate(withOAuth({ env: 'BILLING_API_KEY' }), false)).problems.map((p) => `${p.stage} ${p.path}: ${p.message}`)).toEqual([
      expect.stringMatching(/^egress sources\.billing\.auth\.tokenUrl: 169\.254\.169\.254 is a link-local/),
    ]);
  });

  it('registers the billing system: audited with its diff, live at once, versioned in readiness and in every response', async () => {
    const change = await register(billingDocument());
    expect(change.report.problems).toEqual([]);
    expect(change).toMatchObject({ ok: true, schemaVersion: 1, audit: { revision: 1, actor: 'admin', action: 'register', summary: 'register source billing, mapping customerInvoices' } });
    expect(change.audit!.diff.map((d) => [d.op, d.path])).toEqual([
      ['add', 'sources.billing'],
      ['add', 'mappings.customerInvoices'],
    ]);
    expect(await schemaVersionNow()).toBe(1);
    const invoice = billingDataset().invoices[7]!;
    const answer = await h.graphql<{ invoice: { id: string; amountDue: number; status: string } }>(`{ invoice(id: "${invoice.id}") { id amountDue status } }`);
    expect(answer.data).toEqual({ invoice: { id: invoice.id, amountDue: invoice.properties.amount_due / 100, status: invoice.properties.status.toUpperCase() } });
    expect(answer.extensions?.schemaVersion).toBe(1);
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'schema swapped', version: 1, previous: 0, trigger: 'register', actor: 'admin', buildMs: expect.any(Number) }));
    const again = await h.admin<{ registerSource: Change }>(REGISTER, { definition: billingDocument() });
    expect(again.errors?.[0]).toMatchObject({ message: expect.stringContaining('already registered: billing, customerInvoices'), extensions: { code: 'CONFLICT' } });
    expect(again.status).toBe(409);
  });

  it('updates a registered source: the audit entry holds exactly what changed', async () => {
    const document = billingDocument();
    document.sources.billing!.limits = { timeoutMs: 4_000, connectTimeoutMs: 2_000, maxConcurrency: 8 };
    document.sources.billing!.entities.Invoice!.fields.currency = { from: 'properties.currency', description: 'ISO 4217 code of the amount.' };
    delete document.mappings;
    const answer = await h.admin<{ updateSource: Change }>(UPDATE, { definition: document });
    const change = answer.data!.updateSource;
    expect(change).toMatchObject({ ok: true, schemaVersion: 2 });
    expect(change.audit!.diff).toEqual([
      { op: 'replace', path: 'sources.billing.entities.Invoice.fields.currency.description', before: 'ISO 4217 currency code.', after: 'ISO 4217 code of the amount.' },
      { op: 'replace', path: 'sources.billing.limits.timeoutMs', before: 5000, after: 4000 },
    ]);
    const missing = await h.admin(UPDATE, { definition: { sources: { ledger: sourceAt('https://ledger.example.com', 'LedgerEntry') } } });
    expect(missing.errors?.[0]).toMatchObject({ message: expect.stringContaining('not registered: ledger'), extensions: { code: 'NOT_FOUND' } });
  });

  it('removes a source only with the mappings that join it, and keeps the trail of who did what', async () => {
    const refused = await h.admin<{ removeSource: Change }>(`mutation { removeSource(name: "billing") { ${CHANGE} } }`);
    expect(refused.errors?.[0]).toMatchObject({ message: expect.stringContaining('registered mappings join source billing: customerInvoices'), extensions: { code: 'CONFLICT' } });
    const builtIn = await h.admin(`mutation { removeSource(name: "crm") { ok } }`);
    expect(builtIn.errors?.[0]?.message).toContain('declared in virtualization.config.ts');
    const removed = await h.admin<{ removeSource: Change }>(`mutation { removeSource(name: "billing", withMappings: true) { ${CHANGE} } }`);
    expect(removed.data!.removeSource).toMatchObject({ ok: true, schemaVersion: 3, audit: { summary: 'remove source billing (removed), mapping customerInvoices (removed)' } });
    expect(removed.data!.removeSource.report.fieldsRemoved).toEqual(expect.arrayContaining(['Customer.invoices', 'Query.invoice']));
    expect((await h.graphql('{ invoice(id: "INV-2024-000001") { id } }')).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const audit = await h.admin<{ audit: Array<{ revision: number | null; at: string; actor: string; action: string }> }>('{ audit(limit: 100) { revision at actor action } }');
    expect(audit.data!.audit.filter((entry) => entry.revision !== null).map((entry) => [entry.revision, entry.actor, entry.action])).toEqual([
      [3, 'admin', 'remove'],
      [2, 'admin', 'update'],
      [1, 'admin', 'register'],
    ]);
    expect(Date.parse(audit.data!.audit[0]!.at)).toBeGreaterThan(Date.now() - 60_000);
  });
});
