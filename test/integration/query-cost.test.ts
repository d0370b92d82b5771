/**
 * What clients see of the guard: `extensions.cost` on every response, the dry run, per-client
 * budgets (charged the estimate, refunded to the actual cost, THROTTLED with HTTP 429 and
 * Retry-After when spent), in memory and in Redis shared by two replicas. The dashboard queries of
 * the configuration and the README pass.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import baseConfig from '../../virtualization.config';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import type { Runtime } from '../../src/runtime/create-runtime';
import { memoryLoggers, PROJECT_ROOT, sandboxEnv, startHarness, startTestRuntime, testKeys, withDemoKey, type GraphQLResponse, type Harness } from '../support/harness';
import { dataOf } from './compare';

interface Cost {
  requestedQueryCost: number;
  actualQueryCost: number;
  upstreamCalls: Record<string, { predicted: number; actual: number }>;
  throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
}

const costOf = (response: GraphQLResponse) => response.extensions?.cost as Cost;

/** How a README block that needs the billing system registered first begins. */
const README_AFTER_BILLING = '# After registering billing';

/** Upstream calls per source as the sandboxes counted them. */
function counted(h: Harness): Record<string, number> {
  const calls = h.upstream();
  const sum = (routes: Record<string, number>) => Object.values(routes).reduce((a, b) => a + b, 0);
  return Object.fromEntries((['crm', 'orders', 'support'] as const).map((source) => [source, sum(calls[source])]).filter(([, n]) => n !== 0));
}

async function post(url: string, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...withDemoKey(headers) },
    body: JSON.stringify({ query, variables }),
  });
  return { response, body: (await response.json()) as Omit<GraphQLResponse, 'status'> };
}

describe('extensions.cost and the dry run', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());
  beforeEach(() => h.resetUpstream());

  it('every answer carries the requested and actual cost, the calls per source predicted and made, and the bucket', async () => {
    const response = await h.query(baseConfig.examples![0]!.query, { first: 20 });
    dataOf(response);
    const cost = costOf(response);
    expect(cost.requestedQueryCost).toBe(1 + 20 * (1 + 1 + 3 + 1 + 5));
    expect(cost.actualQueryCost).toBeGreaterThan(20);
    expect(cost.actualQueryCost).toBeLessThanOrEqual(cost.requestedQueryCost);
    const actual = Object.fromEntries(Object.entries(cost.upstreamCalls).map(([source, calls]) => [source, calls.actual]));
    expect(actual).toEqual(counted(h));
    expect(Object.fromEntries(Object.entries(cost.upstreamCalls).map(([source, calls]) => [source, calls.predicted]))).toEqual({ crm: 1, orders: 1, support: 20 });
    expect(cost.throttleStatus).toMatchObject({ maximumAvailable: 20_000, restoreRate: 2_000 });
    expect(cost.throttleStatus.currentlyAvailable).toBeGreaterThan(20_000 - cost.requestedQueryCost);
  });

  it('so do answers that never ran: a validation error costs nothing', async () => {
    const response = await h.query('{ customers { nope } }');
    expect(response.errors).toHaveLength(1);
    expect(costOf(response)).toMatchObject({ requestedQueryCost: 0, actualQueryCost: 0, upstreamCalls: {} });
    expect(costOf(response).throttleStatus.maximumAvailable).toBe(20_000);
  });

  it('x-virtualize-dry-run: 1 answers the estimate without running anything', async () => {
    const response = await h.query(baseConfig.examples![0]!.query, { first: 50 }, { 'x-virtualize-dry-run': '1' });
    expect(response.data).toBeUndefined();
    expect(response.errors).toBeUndefined();
    expect(response.extensions?.cost).toMatchObject({
      dryRun: true,
      requestedQueryCost: 551,
      maximumCost: 10_000,
      upstreamCalls: { crm: { predicted: 1, maximum: 20 }, orders: { predicted: 1, maximum: 100 }, support: { predicted: 50, maximum: 250 } },
      mostExpensive: [
        { path: 'customers.nodes.tickets', amount: 250 },
        { path: 'customers.nodes.orders', amount: 150 },
        { path: 'customers.nodes', amount: 50 },
      ],
    });
    expect(h.upstream().total).toBe(0);
  });

  it('a dry run of a query the guard would refuse answers the estimate and the refusal', async () => {
    const response = await h.query('{ customers(first: 1000) { nodes { orders { id } } } }', undefined, { 'x-virtualize-dry-run': '1' });
    expect(response.errors?.map((e) => e.extensions?.code)).toEqual(['COST_LIMIT_EXCEEDED']);
    expect(response.extensions?.cost).toMatchObject({ dryRun: true, requestedQueryCost: 16_001 });
    expect(h.upstream().total).toBe(0);
  });
});

describe('the dashboard queries', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const readmeQueries = [...readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8').matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);

  it('the README shows GraphQL operations to try', () => {
    expect(readmeQueries.length).toBeGreaterThanOrEqual(2);
  });

  it.each(readmeQueries.map((query) => [query.split('\n')[0]!.slice(0, 60), query]))('README: %s', async (_name, query) => {
    // The walkthrough of run-time registration runs in test/registry/hot-reload.test.ts, after it.
    if (query.includes(README_AFTER_BILLING)) return;
    const response = await h.query(query);
    // A README block may show a refusal on purpose; it says so in a comment.
    if (query.includes('# refused')) expect(response.errors?.length).toBeGreaterThan(0);
    else dataOf(response);
  });

  it.each((baseConfig.examples ?? []).map((example) => [example.name, example]))('virtualization.config.ts example: %s, for pages of 5 to 200 customers', async (_name, example) => {
    for (const first of [5, 50, 200]) dataOf(await h.query(example.query, { ...JSON.parse(example.variables ?? '{}'), first }));
  });
});

describe('generated types at the default prices (schemaDir: false)', () => {
  let h: Harness;
  const clients = testKeys({ dashboard: undefined });
  beforeAll(async () => {
    h = await startHarness({ configure: (config) => ({ ...clients.configure(config), schemaDir: false }), env: clients.env });
  });
  afterAll(() => h.close());
  beforeEach(() => h.resetUpstream());

  const PAGE = `query($first: Int) { customers(first: $first) { nodes { id orders { number lines { sku quantity } } tickets { subject } } } }`;

  it('a dashboard refreshing four pages of 50 customer 360s at once keeps its budget; each costs what was estimated or less', async () => {
    const key = clients.headers('dashboard');
    const answers = await Promise.all([1, 2, 3, 4].map(() => post(h.url, PAGE, { first: 50 }, key)));
    expect(answers.map((a) => a.response.status)).toEqual([200, 200, 200, 200]);
    for (const { body } of answers) {
      expect(body.errors).toBeUndefined();
      const cost = costOf({ status: 200, ...body });
      // 1 page + 50 customers + 50 × 20 orders (lines inside the order weigh 0) + 50 × 20 tickets.
      expect(cost.requestedQueryCost).toBe(2_051);
      expect(cost.actualQueryCost).toBeLessThanOrEqual(cost.requestedQueryCost);
      expect((body.data as { customers: { nodes: unknown[] } }).customers.nodes).toHaveLength(50);
    }
  });

  it('a hostile query is still refused before any call: a page of 1,000 with every join', async () => {
    const refused = await post(h.url, PAGE, { first: 1_000 }, clients.headers('dashboard'));
    expect(refused.body.errors?.map((e) => e.extensions?.code)).toEqual(['COST_LIMIT_EXCEEDED']);
    expect(h.upstream().total).toBe(0);
  });
});

describe('per-client budgets', () => {
  let h: Harness;
  // Separate clients are separate keys the gateway knows; anonymous callers are declared here so
  // that callers without a key can be seen sharing their address's bucket.
  const clients = testKeys({ refund: undefined, spender: undefined, other: undefined });
  // A bucket of 600 points refilling at 10 per second: one page of 500 customers spends it.
  const SMALL_BUDGET = (config: VirtualizationConfigInput): VirtualizationConfigInput => ({
    ...clients.configure(config),
    auth: { ...clients.configure(config).auth, anonymous: { scopes: ['customers:read'] } },
    guard: { ...config.guard, maxCost: 600, budget: { capacity: 600, restoreRate: 10, store: { kind: 'memory' } } },
  });
  beforeAll(async () => {
    h = await startHarness({ configure: SMALL_BUDGET, env: clients.env });
  });
  afterAll(() => h.close());
  beforeEach(() => h.resetUpstream());

  const PAGE = '{ customers(first: 500) { nodes { id } } }';
  const unknownIds = Array.from({ length: 300 }, (_, i) => `0035e00000ZZZ${String(i).padStart(5, '0')}`);

  it('charges the estimate up front and refunds what the answer did not use', async () => {
    // 300 ids that name nobody: priced 300, and 0 once the answer is all nulls.
    const response = await h.query('query($ids: [ID!]!) { customersByIds(ids: $ids) { id } }', { ids: unknownIds }, clients.headers('refund'));
    expect(costOf(response)).toMatchObject({ requestedQueryCost: 300, actualQueryCost: 0 });
    expect(costOf(response).throttleStatus.currentlyAvailable).toBeGreaterThan(599);
  });

  it('refuses a client whose bucket is spent with THROTTLED, HTTP 429 and Retry-After, before any call', async () => {
    const key = clients.headers('spender');
    const first = await post(h.url, PAGE, undefined, key);
    expect(first.response.status).toBe(200);
    expect(costOf({ status: 200, ...first.body })).toMatchObject({ requestedQueryCost: 501, actualQueryCost: 501 });
    h.resetUpstream();

    const second = await post(h.url, PAGE, undefined, key);
    expect(second.response.status).toBe(429);
    const retryAfter = Number(second.response.headers.get('retry-after'));
    // 501 points wanted, about 99 left, 10 back per second.
    expect(retryAfter).toBeGreaterThanOrEqual(39);
    expect(retryAfter).toBeLessThanOrEqual(41);
    const error = second.body.errors![0]!;
    expect(error.extensions).toMatchObject({ code: 'THROTTLED', requestedQueryCost: 501, retryAfterSeconds: retryAfter });
    expect(error.message).toMatch(/this query costs 501 points and \d+ are available\. 10 points come back every second: retry in \d+ s/);
    expect(second.body.extensions?.cost).toMatchObject({ actualQueryCost: 0 });
    expect(h.upstream().total).toBe(0);

    // Another real key has a bucket of its own.
    expect((await post(h.url, PAGE, undefined, clients.headers('other'))).response.status).toBe(200);
  });

  it('rotating to a key the gateway does not know escapes nothing: it is refused before it is priced', async () => {
    const made = await post(h.url, PAGE, undefined, { 'x-api-key': `rotated-${randomUUID()}` });
    expect(made.response.status).toBe(401);
    expect(made.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(h.upstream().total).toBe(0);
  });

  it('anonymous callers share one bucket per address', async () => {
    const first = await post(h.url, PAGE, undefined, { 'x-api-key': '' });
    const second = await post(h.url, PAGE, undefined, { 'x-api-key': '' });
    expect([first.response.status, second.response.status]).toEqual([200, 429]);
  });
});

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('Shared Redis budget test skipped: set REDIS_URL (for example redis://127.0.0.1:6379) to run it');

(REDIS_URL ? describe : describe.skip)('per-client budgets in Redis, shared by two replicas', () => {
  let h: Harness;
  let replica: Runtime;
  const prefix = randomUUID();
  const clients = testKeys({ replicated: undefined });
  const redisBudget = (keyPrefix: string) => (config: VirtualizationConfigInput): VirtualizationConfigInput => ({
    ...config,
    guard: { ...config.guard, maxCost: 600, budget: { capacity: 600, restoreRate: 10, store: { kind: 'redis', url: REDIS_URL!, keyPrefix } } },
  });
  beforeAll(async () => {
    const configure = (config: VirtualizationConfigInput) => redisBudget(`virtualize-test:${prefix}:`)(clients.configure(config));
    h = await startHarness({ configure, env: clients.env });
    replica = await startTestRuntime(configure(structuredClone(baseConfig)), { env: { ...sandboxEnv(h.sandboxes), ...clients.env }, logs: memoryLoggers() });
  });
  afterAll(async () => {
    await replica?.close();
    await h?.close();
  });

  it('a client that spends its budget on one replica is throttled on the other', async () => {
    const key = clients.headers('replicated');
    const page = '{ customers(first: 500) { nodes { id } } }';
    expect((await post(h.url, page, undefined, key)).response.status).toBe(200);
    const other = await post(`${replica.url}/graphql`, page, undefined, key);
    expect(other.response.status).toBe(429);
    expect(other.body.errors![0]!.extensions?.code).toBe('THROTTLED');
  });
});
