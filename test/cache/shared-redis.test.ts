/**
 * The shared tier in Redis, with two gateway processes on the same sandboxes and the same Redis
 * (two replicas): a fill on one is a hit on the other, and an invalidation applied on one reaches
 * the other's local memory, its hot answers included. Runs only when REDIS_URL is set.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signedDelivery } from '../../sources/sandbox';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { data, orderRefsOf } from '../integration/ground-truth';
import { startGatewayProcess, writeTestConfig, type GatewayProcess } from '../support/gateway-process';
import { DEMO_HEADERS, sandboxEnv, startHarness, type Harness } from '../support/harness';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('shared-redis.test.ts: skipped, REDIS_URL is not set');

const SECRET = 'shared-tier-secret';
const CUSTOMER_360 = `query($id: ID!) { customer(id: $id) { id name orders(first: 20) { number } tickets { subject } } }`;

(REDIS_URL ? describe : describe.skip)('shared tier in Redis, two gateway processes', () => {
  let h: Harness;
  let replica: GatewayProcess;
  let config: ReturnType<typeof writeTestConfig>;
  let registryDir: string;
  const customer = data.crm.contacts.find((contact) => orderRefsOf(contact.Id).length === 1)!;
  const ref = orderRefsOf(customer.Id)[0]!;
  const keyPrefix = `virtualize-test:${randomUUID()}:`;
  const cache: VirtualizationConfigInput['cache'] = {
    upstream: { ttlMs: 600_000 },
    responses: { admitAfter: 1, ttlMs: 600_000 },
    shared: { kind: 'redis', url: REDIS_URL!, keyPrefix },
    webhooks: { secrets: { orders: SECRET } },
  };

  beforeAll(async () => {
    h = await startHarness({ cache: true, configure: (base) => ({ ...base, cache }) });
    config = writeTestConfig([], { cache });
    registryDir = mkdtempSync(join(tmpdir(), 'virtualize-replica-'));
    replica = await startGatewayProcess(['--config', config.file], { ...sandboxEnv(h.sandboxes), VIRTUALIZE_REGISTRY_DIR: registryDir, VIRTUALIZE_AUDIT_LOG: 'off' });
  }, 30_000);
  afterAll(async () => {
    expect(await replica?.stop()).toBe(0);
    await h?.close();
    config?.cleanup();
    if (registryDir) rmSync(registryDir, { recursive: true, force: true });
  });

  async function askReplica(): Promise<{ data: unknown; extensions?: Record<string, unknown> }> {
    const response = await fetch(`${replica.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify({ query: CUSTOMER_360, variables: { id: customer.Id } }),
    });
    const body = (await response.json()) as { data?: unknown; errors?: unknown; extensions?: Record<string, unknown> };
    expect(body.errors).toBeUndefined();
    return { data: body.data, extensions: body.extensions };
  }

  it('a fill on one replica is a hit on the other', async () => {
    h.resetUpstream();
    const first = await h.query(CUSTOMER_360, { id: customer.Id });
    expect(h.upstream().total).toBeGreaterThan(0);
    h.resetUpstream();
    expect((await askReplica()).data).toEqual(first.data);
    expect(h.upstream().total).toBe(0);
  });

  it('an invalidation applied on one replica reaches the other, its hot answers included', async () => {
    await askReplica();
    const hot = await askReplica();
    expect(hot.extensions?.responseCache).toMatchObject({ hit: true });

    const delivery = signedDelivery(SECRET, { type: 'order.created', entity: 'Order', field: 'customerRef', key: String(ref) });
    const response = await fetch(`${h.server.url}/webhooks/orders`, { method: 'POST', headers: { 'x-virtualize-signature': delivery.signature }, body: delivery.body });
    expect(response.status).toBe(202);
    // The broadcast travels through Redis pub/sub to the other process, which says so once applied.
    await replica.logged((entry) => entry.msg === 'shared invalidation applied');
    h.resetUpstream();
    const after = await askReplica();
    expect(after.extensions?.responseCache).toBeUndefined();
    // That answer asked all three systems again: the replica's local entries and Redis's were dropped.
    const calls = h.upstream();
    expect(Object.keys(calls.crm).length).toBeGreaterThan(0);
    expect(Object.keys(calls.orders).length).toBeGreaterThan(0);
    expect(Object.keys(calls.support).length).toBeGreaterThan(0);
  });
});
