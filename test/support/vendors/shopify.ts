/**
 * Shopify Admin REST (2024-01) orders as Shopify documents them (shopify.dev/docs/api/admin-rest/2024-01/resources/order,
 * .../usage/pagination-rest, .../usage/rate-limits):
 *
 * - `GET /admin/api/2024-01/orders.json?customer_id=&status=any&limit=250` and `?ids=1,2,3`: `{ orders }`,
 *   each order carrying its `line_items`; `status` defaults to `open` (closed and cancelled orders
 *   are left out unless `status=any`); `limit` at most 250, default 50.
 * - paging by the `Link` header (`<...orders.json?limit=50&page_info=...>; rel="next"`, and
 *   `rel="previous"`); a request with `page_info` may carry only `limit` and `fields` (400 otherwise).
 * - `X-Shopify-Shop-Api-Call-Limit: n/40` on every answer; over the limit 429 `{ errors }` with
 *   `Retry-After: 2.0`; the access token in `X-Shopify-Access-Token` (401 `{ errors }` without it).
 * - money as decimal strings (`"19.99"`), times as ISO-8601 with the shop's offset.
 */
import { csv, intParam, seeded, startVendorFixture, type VendorFixture, type VendorReply } from './fixture';

export const SHOPIFY_TOKEN = 'shpat_fixture0000000000000000000000';
export const SHOPIFY_LIMIT_MAX = 250;
export const SHOPIFY_BUCKET = 40;
const API = '/admin/api/2024-01';

export interface ShopifyLineItem {
  id: number;
  sku: string;
  title: string;
  quantity: number;
  price: string;
}

export interface ShopifyOrder {
  id: number;
  name: string;
  email: string;
  created_at: string;
  closed_at: string | null;
  cancelled_at: string | null;
  financial_status: 'paid' | 'pending' | 'refunded';
  currency: string;
  total_price: string;
  customer: { id: number; email: string };
  line_items: ShopifyLineItem[];
}

export interface ShopifyFixture extends VendorFixture {
  readonly orders: readonly ShopifyOrder[];
  /** Every order of a customer id (all statuses), in id order. */
  ordersOf(customerId: string): ShopifyOrder[];
}

const PRODUCTS = [
  { sku: 'TEE-BLK-M', title: 'T-shirt', price: 1999 },
  { sku: 'MUG-WHT', title: 'Mug', price: 1250 },
  { sku: 'CAP-NVY', title: 'Cap', price: 2400 },
  { sku: 'HOOD-GRY-L', title: 'Hoodie', price: 5900 },
];

const money = (cents: number) => (cents / 100).toFixed(2);

/** 0 to `maxPerCustomer` orders for each customer id, ids ascending, a quarter closed and some cancelled. */
export function shopifyOrders(customerIds: readonly string[], maxPerCustomer = 4, seed = 23): ShopifyOrder[] {
  const random = seeded(seed);
  const orders: ShopifyOrder[] = [];
  let lineId = 11_000_000;
  for (const customerId of customerIds) {
    const count = Math.floor(random() * (maxPerCustomer + 1));
    for (let n = 0; n < count; n++) {
      const id = 5_500_000_000 + orders.length * 7;
      const lines = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
        const product = PRODUCTS[Math.floor(random() * PRODUCTS.length)]!;
        return { id: (lineId += 1), sku: product.sku, title: product.title, quantity: 1 + Math.floor(random() * 3), price: money(product.price) };
      });
      const total = lines.reduce((sum, line) => sum + Math.round(Number(line.price) * 100) * line.quantity, 0);
      const created = new Date(Date.UTC(2024, 0, 1) + Math.floor(random() * 300) * 86_400_000);
      const kind = orders.length % 8;
      orders.push({
        id,
        name: `#${1001 + orders.length}`,
        email: `customer-${customerId}@example.net`,
        created_at: created.toISOString().replace('.000Z', '-05:00'),
        closed_at: kind < 2 ? new Date(created.getTime() + 7 * 86_400_000).toISOString() : null,
        cancelled_at: kind === 2 ? new Date(created.getTime() + 86_400_000).toISOString() : null,
        financial_status: kind === 2 ? 'refunded' : kind === 3 ? 'pending' : 'paid',
        currency: 'USD',
        total_price: money(total),
        customer: { id: Number(customerId), email: `customer-${customerId}@example.net` },
        line_items: lines,
      });
    }
  }
  return orders;
}

const refusal = (status: number, errors: unknown, headers: Record<string, string> = {}): VendorReply => ({ status, body: { errors }, headers });

interface PageState {
  offset: number;
  ids: string[];
  customerId: string | null;
  status: string;
}

const STATUSES = ['open', 'closed', 'cancelled', 'any'];

function matches(order: ShopifyOrder, state: PageState): boolean {
  if (state.ids.length > 0 && !state.ids.includes(String(order.id))) return false;
  if (state.customerId !== null && String(order.customer.id) !== state.customerId) return false;
  switch (state.status) {
    case 'open':
      return order.closed_at === null && order.cancelled_at === null;
    case 'closed':
      return order.closed_at !== null;
    case 'cancelled':
      return order.cancelled_at !== null;
    default:
      return true;
  }
}

export async function startShopify(orders: readonly ShopifyOrder[]): Promise<ShopifyFixture> {
  let bucket = 0;
  const fixture = await startVendorFixture({
    authorize: (headers) => (headers['x-shopify-access-token'] === SHOPIFY_TOKEN ? undefined : refusal(401, '[API] Invalid API key or access token (unrecognized login or wrong password)')),
    throttled: () => refusal(429, 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.', { 'retry-after': '2.0' }),
    notFound: () => refusal(404, 'Not Found'),
    everyAnswer: () => ({ 'x-shopify-shop-api-call-limit': `${(bucket = (bucket % SHOPIFY_BUCKET) + 1)}/${SHOPIFY_BUCKET}` }),
    routes: [
      {
        template: `GET ${API}/orders.json`,
        handle(request) {
          const limit = intParam(request.query.get('limit'), 50, 1, SHOPIFY_LIMIT_MAX);
          if (limit === undefined) return refusal(400, { limit: [`must be between 1 and ${SHOPIFY_LIMIT_MAX}`] });
          const pageInfo = request.query.get('page_info');
          let state: PageState;
          if (pageInfo !== null) {
            const others = [...request.query.keys()].filter((name) => name !== 'page_info' && name !== 'limit' && name !== 'fields');
            if (others.length > 0) return refusal(400, { page_info: [`cannot be combined with ${others.join(', ')}: only limit and fields may accompany page_info`] });
            try {
              state = JSON.parse(Buffer.from(pageInfo, 'base64url').toString('utf8')) as PageState;
            } catch {
              return refusal(400, { page_info: ['Invalid value.'] });
            }
          } else {
            const status = request.query.get('status') ?? 'open';
            if (!STATUSES.includes(status)) return refusal(400, { status: [`must be one of ${STATUSES.join(', ')}`] });
            state = { offset: 0, ids: csv(request.query.get('ids')), customerId: request.query.get('customer_id'), status };
          }
          const all = orders.filter((order) => matches(order, state));
          const page = all.slice(state.offset, state.offset + limit);
          const link = (offset: number, rel: string) => `<${request.origin}${API}/orders.json?limit=${limit}&page_info=${Buffer.from(JSON.stringify({ ...state, offset })).toString('base64url')}>; rel="${rel}"`;
          const links = [
            ...(state.offset > 0 ? [link(Math.max(0, state.offset - limit), 'previous')] : []),
            ...(state.offset + limit < all.length ? [link(state.offset + limit, 'next')] : []),
          ];
          return { status: 200, body: { orders: page }, headers: links.length > 0 ? { link: links.join(', ') } : {} };
        },
      },
    ],
  });
  const byCustomer = new Map<string, ShopifyOrder[]>();
  for (const order of orders) {
    const key = String(order.customer.id);
    byCustomer.set(key, [...(byCustomer.get(key) ?? []), order]);
  }
  return Object.assign(fixture, { orders, ordersOf: (customerId: string) => byCustomer.get(customerId) ?? [] });
}
