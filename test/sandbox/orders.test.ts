import { ordersDataset, type Order, type OrderAccount } from '../../sources/orders/data';
import { ORDERS_BASE_PATH, startOrders } from '../../sources/orders/server';
import type { SandboxHandle } from '../../sources/sandbox/server';
import { fetchJson, countsOf } from './http';

interface OrderList {
  data: Order[];
  count: number;
}
interface OrdersError {
  error: string;
  message: string;
}

const data = ordersDataset();
const order = (i: number): Order => data.orders[i] as Order;
const refsWith = (predicate: (n: number) => boolean): number[] =>
  [...data.ordersByRef].filter(([, list]) => predicate(list.length)).map(([ref]) => ref);

describe('orders sandbox', () => {
  let orders: SandboxHandle;
  let base: string;
  beforeAll(async () => {
    orders = await startOrders();
    base = `${orders.url}${ORDERS_BASE_PATH}`;
  });
  afterAll(() => orders.close());
  beforeEach(() => orders.resetStats());

  describe('GET /api/orders/{id}', () => {
    it('returns the raw order', async () => {
      const reply = await fetchJson<Order>(`${base}/orders/${order(4242).id}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(order(4242));
    });

    it('answers an unknown id with 404 order_not_found and a non-numeric one with 400', async () => {
      const missing = await fetchJson<OrdersError>(`${base}/orders/1`);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('order_not_found');
      const bad = await fetchJson<OrdersError>(`${base}/orders/SO-500001`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('invalid_id');
    });
  });

  describe('GET /api/orders?customer_refs=', () => {
    it('returns every order of the refs, flattened and sorted by id; unknown refs add nothing', async () => {
      const [a, b] = refsWith((n) => n >= 3);
      const [empty] = refsWith((n) => n === 0);
      const refs = [b, 999_999_999, a, empty, b] as number[];
      const reply = await fetchJson<OrderList>(`${base}/orders?customer_refs=${refs.join(',')}`);
      expect(reply.status).toBe(200);
      const expected = [...(data.ordersByRef.get(a as number) ?? []), ...(data.ordersByRef.get(b as number) ?? [])].sort((x, y) => x.id - y.id);
      expect(reply.body).toEqual({ data: expected, count: expected.length });
    });

    it('takes up to 50 refs and refuses more with too_many_refs', async () => {
      const refs = data.accounts.slice(0, 51).map((acc) => acc.ref);
      expect((await fetchJson(`${base}/orders?customer_refs=${refs.slice(0, 50).join(',')}`)).status).toBe(200);
      const tooMany = await fetchJson<OrdersError>(`${base}/orders?customer_refs=${refs.join(',')}`);
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error).toBe('too_many_refs');
    });

    it('refuses non-numeric refs and a missing list', async () => {
      const bad = await fetchJson<OrdersError>(`${base}/orders?customer_refs=123456,abc`);
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('invalid_ref');
      const missing = await fetchJson<OrdersError>(`${base}/orders`);
      expect(missing.status).toBe(400);
      expect(missing.body.error).toBe('missing_parameter');
    });
  });

  describe('GET /api/customers/{ref}', () => {
    it('returns the account', async () => {
      const account = data.accounts[17] as OrderAccount;
      const reply = await fetchJson<OrderAccount>(`${base}/customers/${account.ref}`);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(account);
    });

    it('answers unknown refs with 404 and non-numeric ones with 400', async () => {
      const missing = await fetchJson<OrdersError>(`${base}/customers/12`);
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('customer_not_found');
      expect((await fetchJson(`${base}/customers/x1`)).status).toBe(400);
    });
  });

  it('words unknown routes and wrong methods in its own error form', async () => {
    const missing = await fetchJson<OrdersError>(`${base}/invoices`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: 'not_found', message: 'no route for GET /api/invoices' });
    const wrong = await fetchJson<OrdersError>(`${base}/orders`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.body.error).toBe('method_not_allowed');
  });

  it('counts requests by route template, 4xx included', async () => {
    await fetchJson(`${base}/orders/${order(0).id}`);
    await fetchJson(`${base}/orders/nope`);
    await fetchJson(`${base}/orders?customer_refs=1`);
    await fetchJson(`${base}/customers/1`);
    await fetchJson(`${orders.url}/_sandbox/reset`, { method: 'POST' });
    expect(countsOf(orders)).toEqual({ total: 0, byRoute: {} });
    await fetchJson(`${base}/orders/${order(1).id}`);
    await fetchJson(`${base}/customers/1`);
    expect(countsOf(orders)).toEqual({
      total: 2,
      byRoute: { 'GET /api/orders/{id}': 1, 'GET /api/customers/{ref}': 1 },
    });
  });
});
