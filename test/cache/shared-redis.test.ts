/**
 * The shared tier in Redis, with two gateways on the same sandboxes and the same Redis (as two
 * replicas): a fill on one is a hit on the other, and an invalidation applied on one reaches the
 * other's local memory. Runs only when REDIS_URL is set.
 */
import { randomUUID } from 'node:crypto';
import baseConfig from '../../virtualization.config';
import { signedDelivery } from '../../sources/sandbox';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { validateConfig } from '../../src/config/validate';
import { createGateway } from '../../src/federation/gateway';
import { startGatewayServer, type GatewayServer } from '../../src/server/gateway-server';
import { data, orderRefsOf } from '../integration/ground-truth';
import { createLogger } from '../../src/telemetry/logger';
import { MemoryLog, PROJECT_ROOT, sandboxEnv, startHarness, type Harness } from '../support/harness';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.log('shared-redis.test.ts: skipped, REDIS_URL is not set');

const SECRET = 'shared-tier-secret';
const CUSTOMER_360 = `query($id: ID!) { customer(id: $id) { id name orders(first: 20) { number } tickets { subject } } }`;

(REDIS_URL ? describe : describe.skip)('shared tier in Redis, two replicas', () => {
  let h: Harness;
  let replica: GatewayServer;
  const customer = data.crm.contacts.find((contact) => orderRefsOf(contact.Id).length === 1)!;
  const ref = orderRefsOf(customer.Id)[0]!;
  const withSharedCache = (keyPrefix: string) => (config: VirtualizationConfigInput): VirtualizationConfigInput => ({
    ...config,
    cache: {
      upstream: { ttlMs: 600_000 },
      responses: { enabled: false },
      shared: { kind: 'redis', url: REDIS_URL!, keyPrefix },
      webhooks: { secrets: { orders: SECRET } },
    },
  });

  beforeAll(async () => {
    const configure = withSharedCache(`virtualize-test:${randomUUID()}:`);
    h = await startHarness({ cache: true, configure });
    const config = validateConfig({ ...configure(structuredClone(baseConfig)), server: { port: 0, host: '127.0.0.1' } });
    const gateway = await createGateway(config, { baseDir: PROJECT_ROOT, env: sandboxEnv(h.sandboxes) });
    replica = await startGatewayServer(gateway, {
      port: 0,
      host: '127.0.0.1',
      logs: { app: createLogger('app', new MemoryLog().destination), audit: createLogger('audit', new MemoryLog().destination) },
    });
  });
  afterAll(async () => {
    await replica?.close();
    await h?.close();
  });

  async function askReplica(): Promise<unknown> {
    const response = await fetch(`${replica.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: CUSTOMER_360, variables: { id: customer.Id } }),
    });
    const body = (await response.json()) as { data?: unknown; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data;
  }

  it('a fill on one replica is a hit on the other', async () => {
    h.resetUpstream();
    const first = await h.query(CUSTOMER_360, { id: customer.Id });
    expect(h.upstream().total).toBeGreaterThan(0);
    h.resetUpstream();
    expect(await askReplica()).toEqual(first.data);
    expect(h.upstream().total).toBe(0);
  });

  it('an invalidation applied on one replica reaches the other', async () => {
    await askReplica();
    h.resetUpstream();
    await askReplica();
    expect(h.upstream().total).toBe(0);

    const delivery = signedDelivery(SECRET, { type: 'order.created', entity: 'Order', field: 'customerRef', key: String(ref) });
    const response = await fetch(`${h.server.url}/webhooks/orders`, { method: 'POST', headers: { 'x-virtualize-signature': delivery.signature }, body: delivery.body });
    expect(response.status).toBe(202);
    // The broadcast travels through Redis pub/sub; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    h.resetUpstream();
    await askReplica();
    const calls = h.upstream();
    expect(Object.keys(calls.crm).length).toBeGreaterThan(0);
    expect(Object.keys(calls.orders).length).toBeGreaterThan(0);
    expect(Object.keys(calls.support).length).toBeGreaterThan(0);
  });
});
