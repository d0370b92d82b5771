import { ordersDataset, type Order } from '../../sources/orders/data';
import { ORDERS_BASE_PATH, startOrders } from '../../sources/orders/server';
import type { SandboxHandle } from '../../sources/sandbox/server';
import { ManualClock } from '../support/manual-clock';
import { expectDelay } from './delays';
import { fetchJson, postJson } from './http';

const data = ordersDataset();
const firstOrder = data.orders[0] as Order;
/** 50 account refs, enough orders to break a few of them. */
const refs = [...data.ordersByRef.keys()].slice(0, 50);

describe('sandbox fault knobs', () => {
  let orders: SandboxHandle;
  let base: string;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock();
    orders = await startOrders({ clock });
    base = `${orders.url}${ORDERS_BASE_PATH}`;
  });
  afterEach(() => orders.close());

  const status = async (): Promise<number> => {
    const response = await fetch(`${base}/orders/${firstOrder.id}`);
    await response.text();
    return response.status;
  };

  it('answers exactly every n-th request with errorStatus, in the system\'s own error format', async () => {
    await orders.setKnobs({ errorRate: { every: 3 }, errorStatus: 502 });
    const statuses = [];
    for (let i = 0; i < 6; i += 1) statuses.push(await status());
    expect(statuses).toEqual([200, 200, 502, 200, 200, 502]);
    await orders.setKnobs({ errorRate: { every: 1 } });
    expect((await fetchJson(`${base}/orders/${firstOrder.id}`)).body).toEqual({ error: 'unavailable', message: 'orders is failing on purpose (errorRate knob)' });
  });

  it('draws a share of requests from a seeded stream: the same seed strikes the same requests', async () => {
    const run = async (seed: number) => {
      await orders.setKnobs({ errorRate: 0.5, seed });
      const statuses = [];
      for (let i = 0; i < 40; i += 1) statuses.push(await status());
      return statuses;
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(await run(8)).not.toEqual(first);
    const failed = first.filter((s) => s === 503).length;
    expect(failed).toBeGreaterThan(8);
    expect(failed).toBeLessThan(32);
  });

  it('answers 429 with Retry-After', async () => {
    await orders.setKnobs({ rateLimitRate: 1, retryAfterSeconds: 2 });
    const response = await fetch(`${base}/orders/${firstOrder.id}`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(await response.json()).toMatchObject({ error: 'rate_limited' });
  });

  it('adds latency spikes, slow bodies and malformed JSON', async () => {
    const text = () => fetch(`${base}/orders/${firstOrder.id}`).then((response) => response.text());
    await orders.setKnobs({ spikeRate: { every: 2 }, spikeMs: 300 });
    expect(JSON.parse(await text())).toEqual(firstOrder); // calm: answered without waiting on the clock
    const spiked = text();
    await expectDelay(clock, 300);
    expect(JSON.parse(await spiked)).toEqual(firstOrder);

    // A slow body comes in ten pieces, a tenth of slowBodyMs apart.
    await orders.setKnobs({ spikeRate: 0, slowBodyMs: 300 });
    const slow = text();
    for (let piece = 0; piece < 10; piece += 1) await expectDelay(clock, 30);
    expect(JSON.parse(await slow)).toEqual(firstOrder);

    await orders.setKnobs({ slowBodyMs: 0, malformedRate: { every: 1 } });
    const malformed = await fetch(`${base}/orders/${firstOrder.id}`);
    expect(malformed.status).toBe(200);
    await expect(malformed.json()).rejects.toThrow();
  });

  it('breaks every n-th record served, in turn without a key, with a bad date, with an unknown enum value, and never the dataset', async () => {
    await orders.setKnobs({ badRecordRate: { every: 10 } });
    const reply = await fetchJson<{ data: Array<Record<string, unknown>> }>(`${base}/orders?customer_refs=${refs.join(',')}`);
    const served = reply.body.data;
    const broken = served.filter((_order, i) => (i + 1) % 10 === 0);
    expect(broken.length).toBe(Math.floor(served.length / 10));
    expect(broken[0]).not.toHaveProperty('id');
    expect(broken[1]).toMatchObject({ created_at: 'not a date' });
    expect(broken[2]).toMatchObject({ status: 'NOT_IN_THE_CONTRACT' });
    for (const order of served.filter((_order, i) => (i + 1) % 10 !== 0)) expect(order).toEqual(data.orderById.get(order.id as number));

    await orders.setKnobs({ badRecordRate: 0 });
    const clean = await fetchJson<{ data: Order[] }>(`${base}/orders?customer_refs=${refs.join(',')}`);
    expect(clean.body.data).toEqual(refs.flatMap((ref) => data.ordersByRef.get(ref) ?? []).sort((a, b) => a.id - b.id));
  });

  it('refuses connections during an outage set through the handle, and listens on the same port when it ends', async () => {
    const port = orders.port;
    await orders.setKnobs({ outageMs: 60_000 });
    await expect(fetch(`${base}/orders/${firstOrder.id}`)).rejects.toThrow();
    clock.advance(1_000);
    expect(orders.knobs().outageMs).toBe(59_000);
    await orders.setKnobs({ outageMs: 0 });
    expect(orders.port).toBe(port);
    expect(await status()).toBe(200);
  });

  it('takes the same knobs through the control endpoint; an outage set there answers first and ends by itself', async () => {
    const set = await postJson(`${orders.url}/_sandbox/knobs`, { errorRate: { every: 2 } });
    expect(set.body).toMatchObject({ errorRate: { every: 2 } });
    expect([await status(), await status()]).toEqual([200, 503]);

    const down = await postJson(`${orders.url}/_sandbox/knobs`, { errorRate: 0, outageMs: 300 });
    expect(down).toMatchObject({ status: 200, body: { outageMs: 300 } });
    await clock.untilTimers(1); // the outage began once the answer had left
    await expect(fetch(`${base}/orders/${firstOrder.id}`)).rejects.toThrow();
    clock.advance(299);
    await expect(fetch(`${base}/orders/${firstOrder.id}`)).rejects.toThrow();
    clock.advance(1);
    await orders.listening();
    expect(orders.knobs().outageMs).toBe(0);
    expect(await status()).toBe(200);
  });
});
