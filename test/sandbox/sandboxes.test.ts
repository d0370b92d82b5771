import { createServer } from 'node:net';
import { CRM_BASE_PATH } from '../../sources/crm/server';
import { sandboxDataset, startSandboxes, type Sandboxes } from '../../sources/sandbox/index';
import { ManualClock } from '../support/manual-clock';
import { expectDelay } from './delays';
import { CRM_KEY, fetchJson, sandboxToken } from './http';

/** A port that was free a moment ago (the OS hands out a fresh ephemeral one). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('startSandboxes', () => {
  let sandboxes: Sandboxes;
  afterEach(() => sandboxes?.close());

  it('starts the three systems on distinct ephemeral ports, serving the default dataset', async () => {
    sandboxes = await startSandboxes();
    const { crm, orders, support } = sandboxes;
    expect(new Set([crm.port, orders.port, support.port]).size).toBe(3);
    const { crm: crmData, orders: ordersData, support: supportData } = sandboxDataset();
    const contact = crmData.contacts[0];
    expect((await fetchJson(`${crm.url}${CRM_BASE_PATH}/sobjects/Contact/${contact?.Id}`, { headers: CRM_KEY })).body).toEqual(contact);
    expect((await fetchJson(`${orders.url}/api/orders/${ordersData.orders[0]?.id}`)).body).toEqual(ordersData.orders[0]);
    const bearer = { authorization: `Bearer ${await sandboxToken(support.url)}` };
    expect((await fetchJson(`${support.url}/api/v2/tickets/${supportData.tickets[0]?.id}`, { headers: bearer })).body).toEqual({ ticket: supportData.tickets[0] });
  });

  it('applies the latency option to every system', async () => {
    const clock = new ManualClock();
    sandboxes = await startSandboxes({ latencyMs: 40, clock });
    for (const handle of [sandboxes.crm, sandboxes.orders, sandboxes.support]) {
      expect((await fetchJson<{ latencyMs: number }>(`${handle.url}/_sandbox/knobs`)).body).toMatchObject({ latencyMs: 40 });
      const reply = fetchJson(`${handle.url}/openapi.json`);
      await expectDelay(clock, 40);
      expect((await reply).status).toBe(200);
    }
  });

  it('serves another seed when asked, the same one across systems', async () => {
    sandboxes = await startSandboxes({ seed: 7 });
    const other = sandboxDataset(7);
    const pair = other.crosswalk[0];
    const orders = other.orders.ordersByRef.get(pair?.orderCustomerRef as number) ?? [];
    const reply = await fetchJson<{ count: number }>(`${sandboxes.orders.url}/api/orders?customer_refs=${pair?.orderCustomerRef}`);
    expect(reply.body.count).toBe(orders.length);
    const contact = await fetchJson(`${sandboxes.crm.url}${CRM_BASE_PATH}/sobjects/Contact/${pair?.crmCustomerId}`, { headers: CRM_KEY });
    expect(contact.status).toBe(200);
  });

  it('listens on the requested ports', async () => {
    const port = await freePort();
    sandboxes = await startSandboxes({ ports: { orders: port } });
    expect(sandboxes.orders.port).toBe(port);
    expect(sandboxes.orders.url).toBe(`http://127.0.0.1:${port}`);
  });

  it('fails with the listen error when a port is taken, closing the systems that did start', async () => {
    sandboxes = await startSandboxes();
    await expect(startSandboxes({ ports: { support: sandboxes.crm.port } })).rejects.toThrow(/EADDRINUSE/);
    // Nothing of the failed attempt may linger: --detectOpenHandles would report its servers.
  });
});
