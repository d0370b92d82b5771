/**
 * The egress policy of registered sources at connect time, against a running gateway: a token URL
 * on a loopback port outside the allow-list is never sent the client credentials (not even by a
 * dry run), a name that resolves to a public address at registration and to 127.0.0.1 when the
 * gateway connects (DNS rebinding, through a resolver the test controls) reaches nothing, and a
 * next-page link to another origin is never followed. Requests are counted at the servers the
 * attacker aims at; the gateway keeps serving.
 */
import type { HostResolver } from '../../src/registry/egress-policy';
import { billingDocument } from '../support/billing';
import { startFakeSource, type FakeSource } from '../support/fake-source';
import { startRegistryHarness, type RegistryHarness } from '../support/registry-harness';

const VALIDATE = `mutation($definition: JSON!) { validateDefinition(definition: $definition, sample: true) { ok problems { path message stage } samples { endpoint ok } } }`;

interface Report {
  ok: boolean;
  problems: Array<{ path: string; message: string; stage: string }>;
  samples: Array<{ endpoint: string; ok: boolean }>;
}

/** Names the test's DNS knows: each answers its list of answers in turn, the last one from then on. */
const answers = new Map<string, string[]>();
const lookups: string[] = [];
const resolveHost: HostResolver = async (host) => {
  lookups.push(host);
  const queue = answers.get(host);
  if (!queue) throw Object.assign(new Error(`${host} not found`), { code: 'ENOTFOUND' });
  const address = queue.length > 1 ? queue.shift()! : queue[0]!;
  return [{ address, family: address.includes(':') ? 6 : 4 }];
};

let h: RegistryHarness;
/** Where an attacker wants the gateway to go: a loopback server that counts what reaches it. */
let internal: FakeSource;
/** A registered source that is allowed (allowPrivate), whose pages link to `internal`. */
let paged: FakeSource;

beforeAll(async () => {
  internal = await startFakeSource(() => ({ body: JSON.stringify({ access_token: 'stolen', token_type: 'Bearer', results: [] }) }));
  paged = await startFakeSource(({ path }) => {
    const url = new URL(path, 'http://paged');
    const page = url.searchParams.get('cursor') === null ? 1 : 2;
    const results = [1, 2].map((n) => ({ id: `INV-2024-00000${(page - 1) * 2 + n}`, properties: { customer_number: 7, amount_due: 100, currency: 'EUR', status: 'open' } }));
    return { body: JSON.stringify({ results, next: page === 1 ? `${internal.origin}/invoices?page=2` : '' }) };
  });
  h = await startRegistryHarness({ resolveHost, allowPrivate: [`127.0.0.1:${paged.port}`], env: { LEDGER_CLIENT_SECRET: 'ledger-client-secret-value' }, allowEnv: ['LEDGER_*'] });
});
afterAll(async () => {
  await h?.close();
  await internal?.close();
  await paged?.close();
});
beforeEach(() => {
  internal.requests.length = 0;
  lookups.length = 0;
});

function withOAuth(tokenUrl: string) {
  const document = billingDocument();
  document.sources.billing!.auth = { type: 'oauth2ClientCredentials', tokenUrl, clientId: 'gateway', clientSecret: { env: 'LEDGER_CLIENT_SECRET' } };
  delete document.mappings;
  return document;
}

async function validate(definition: unknown): Promise<Report> {
  const answer = await h.admin<{ validateDefinition: Report }>(VALIDATE, { definition });
  expect(answer.errors).toBeUndefined();
  return answer.data!.validateDefinition;
}

async function stillServing(): Promise<void> {
  expect((await fetch(`${h.origin}/healthz`)).status).toBe(200);
  const answer = await h.graphql<{ customers: { nodes: unknown[] } }>('{ customers(first: 1) { nodes { id } } }');
  expect(answer.errors).toBeUndefined();
  expect(answer.data?.customers.nodes).toHaveLength(1);
}

describe('egress at connect time', () => {
  it('never sends client credentials to a token URL on a loopback port outside the allow-list, not even in a dry run', async () => {
    const report = await validate(withOAuth(`${internal.origin}/oauth/token`));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      {
        stage: 'egress',
        path: 'sources.billing.auth.tokenUrl',
        message: '127.0.0.1 is a loopback address: registered sources may only call public addresses unless registry.egress.allowPrivate lists the host',
      },
    ]);
    expect(report.samples).toEqual([]);
    expect(internal.requests).toHaveLength(0);
    await stillServing();
  });

  it('refuses a token host that rebinds to loopback between the registration check and the connection', async () => {
    answers.set('login.rebind.test', ['93.184.216.34', '127.0.0.1']);
    const report = await validate(withOAuth(`http://login.rebind.test:${internal.port}/oauth/token`));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      {
        stage: 'sample',
        path: 'sources.billing.entities.Invoice.list',
        message: `Source billing was not called (GET /invoices): the connection to login.rebind.test:${internal.port} was refused by the egress policy: login.rebind.test resolves to 127.0.0.1, a loopback address: registered sources may only call public addresses unless registry.egress.allowPrivate lists the host`,
      },
    ]);
    // Checked at registration (public then), and again when the token endpoint's pool connected.
    expect(lookups).toEqual(['login.rebind.test', 'login.rebind.test']);
    expect(internal.requests).toHaveLength(0);
    await stillServing();
  });

  it('refuses a base URL whose name rebinds to loopback once registered: the field fails with SOURCE_EGRESS_REFUSED and nothing reaches the loopback server', async () => {
    answers.set('api.rebind.test', ['93.184.216.34', '127.0.0.1']);
    const document = billingDocument();
    document.sources.billing!.baseUrl = `http://api.rebind.test:${internal.port}/billing/v2`;
    delete document.mappings;
    // Registered without a sample call: the registration check saw a public address only.
    const change = await h.registry.register(document, 'admin', false);
    expect(change.report.problems).toEqual([]);
    expect(change.ok).toBe(true);

    const answer = await h.graphql<{ invoice: unknown }>('{ invoice(id: "INV-2024-000001") { id amountDue } }');
    expect(answer.data).toEqual({ invoice: null });
    expect(answer.errors).toEqual([
      expect.objectContaining({
        path: ['invoice'],
        message: expect.stringContaining(`the connection to api.rebind.test:${internal.port} was refused by the egress policy: api.rebind.test resolves to 127.0.0.1, a loopback address`),
        extensions: expect.objectContaining({ code: 'SOURCE_EGRESS_REFUSED', source: 'billing' }),
      }),
    ]);
    expect(internal.requests).toHaveLength(0);
    await stillServing();
    await h.registry.removeSource('billing', 'admin');
  });

  it('never follows a next-page link to another origin: the next page is asked of the source itself', async () => {
    const document = billingDocument();
    const invoice = document.sources.billing!.entities.Invoice!;
    document.sources.billing!.baseUrl = paged.origin;
    document.sources.billing!.auth = { type: 'none' };
    invoice.list = { path: '/invoices', resultPath: 'results', paging: { type: 'cursor', cursorParam: 'cursor', limitParam: 'limit', maxPageSize: 2, nextCursorPath: 'next' } };
    delete document.mappings;
    const change = await h.registry.register(document, 'admin', false);
    expect(change.report.problems).toEqual([]);

    const answer = await h.graphql<{ invoices: { nodes: Array<{ id: string }> } }>('{ invoices(first: 4) { nodes { id } } }');
    expect(answer.errors).toBeUndefined();
    expect(answer.data?.invoices.nodes.map((node) => node.id)).toEqual(['INV-2024-000001', 'INV-2024-000002', 'INV-2024-000003', 'INV-2024-000004']);
    // The link travelled as an opaque cursor to the source's own origin, and went nowhere else.
    expect(paged.requests.map((r) => new URL(r.path, paged.origin).searchParams.get('cursor'))).toEqual([null, `${internal.origin}/invoices?page=2`]);
    expect(paged.requests.every((r) => r.headers.host === `127.0.0.1:${paged.port}`)).toBe(true);
    expect(internal.requests).toHaveLength(0);
    await h.registry.removeSource('billing', 'admin');
  });
});
