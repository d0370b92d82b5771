/**
 * A join through a lookup by a non-unique key that spans pages, through the gateway: a buyer's
 * purchases from a Shopify-shaped orders.json?customer_id= with Link paging (600 for one buyer).
 * Declared paging: every purchase served, calls counted at the source, predicted by maxPages.
 * Undeclared: SOURCE_PAGE_LIMIT at the join's path, never a short list.
 */
import type { MappingDefinitionInput, SourceDefinitionInput } from '../../src/config/definition';
import { startHarness, type Harness } from '../support/harness';
import { startFakeSource, type Answer, type FakeSource, type SeenRequest } from '../support/fake-source';

const BUYERS = ['7', '8'];
/** 600 purchases of buyer 7, 2 of buyer 8. */
const PURCHASES = [...Array.from({ length: 600 }, (_, i) => ({ id: String(5000 + i), customer_id: '7' })), { id: '9000', customer_id: '8' }, { id: '9001', customer_id: '8' }];
const LIMIT = 250;

let origin = '';
function shop(request: SeenRequest): Answer {
  const url = new URL(request.path, 'http://x');
  const buyer = /^\/customers\/([^/.]+)\.json$/.exec(url.pathname);
  if (buyer) return BUYERS.includes(buyer[1]!) ? { body: JSON.stringify({ customer: { id: buyer[1] } }) } : { status: 404, body: '{"errors":"Not Found"}' };
  if (url.pathname !== '/orders.json') return { status: 404, body: '{"errors":"no route"}' };
  const pageInfo = url.searchParams.get('page_info');
  if (pageInfo && [...url.searchParams.keys()].some((key) => key !== 'page_info' && key !== 'limit')) return { status: 400, body: '{"errors":"page_info takes only limit"}' };
  const [customer, startText] = pageInfo ? pageInfo.split(':') : [url.searchParams.get('customer_id'), '0'];
  const limit = Math.min(Number(url.searchParams.get('limit') ?? '50'), LIMIT);
  const all = PURCHASES.filter((p) => p.customer_id === customer);
  const start = Number(startText);
  const rows = all.slice(start, start + limit);
  const end = start + rows.length;
  const link = end < all.length ? `<${origin}/orders.json?limit=${limit}&page_info=${customer}:${end}>; rel="next"` : undefined;
  return { body: JSON.stringify({ orders: rows }), ...(link ? { headers: { link } } : {}) };
}

/** The same shop as two entity pairs: one whose orders lookup declares its paging, one that does not. */
function source(baseUrl: string): SourceDefinitionInput {
  const orders = (paged: boolean) => ({
    path: '/orders.json', query: { customer_id: '{value}', status: 'any', limit: String(LIMIT) }, resultPath: 'orders', unique: false,
    ...(paged ? { paging: { type: 'link', limitParam: 'limit', maxPageSize: LIMIT }, maxPages: 5 } : {}),
  });
  const pair = (buyer: string, purchase: string, root: string, paged: boolean) => ({
    [buyer]: { key: 'id', fields: { id: 'id' }, lookups: { id: { path: '/customers/{value}.json', resultPath: 'customer', unique: true } }, query: { one: root, many: false, list: false } },
    [purchase]: { key: 'id', fields: { id: 'id', buyerId: 'customer_id' }, lookups: { id: { path: '/orders/{value}.json', resultPath: 'order', unique: true }, buyerId: orders(paged) }, query: { one: false, many: false, list: false } },
  });
  return { baseUrl, limits: { timeoutMs: 2_000, maxCallsPerRequest: 50 }, entities: { ...pair('Buyer', 'Purchase', 'buyer', true), ...pair('Client', 'Sale', 'client', false) } } as SourceDefinitionInput;
}

const join = (from: string, to: string, field: string): MappingDefinitionInput => ({ from: { entity: from, field: 'id' }, to: { entity: to, field: 'buyerId' }, via: { kind: 'fieldKey' }, forward: { field } }) as MappingDefinitionInput;

type Cost = { upstreamCalls: Record<string, { predicted: number; actual: number }> };

let server: FakeSource;
let h: Harness;
beforeAll(async () => {
  server = await startFakeSource(shop);
  origin = server.origin;
  const definition = JSON.parse(JSON.stringify(source(server.origin))) as SourceDefinitionInput;
  const mappings = { buyerPurchases: join('Buyer', 'Purchase', 'purchases'), clientSales: join('Client', 'Sale', 'sales') };
  h = await startHarness({ configure: (config) => ({ ...config, sources: { ...config.sources, shopfix: definition }, mappings: { ...config.mappings, ...mappings } }) });
}, 60_000);
afterAll(async () => {
  await h?.close();
  await server?.close();
});
beforeEach(() => {
  server.requests.length = 0;
});

const orderCalls = () => server.requests.filter((r) => r.path.startsWith('/orders.json')).length;

describe('a join through a paged lookup', () => {
  it('declared Link paging: all 600 purchases of buyer 7 in 3 calls, predicted at maxPages (5) per key', async () => {
    const answer = await h.query<{ buyer: { id: string; purchases: Array<{ id: string }> } }>('{ buyer(id: "7") { id purchases { id } } }');
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.buyer.purchases.map((p) => p.id).sort()).toEqual(PURCHASES.filter((p) => p.customer_id === '7').map((p) => p.id).sort());
    expect(orderCalls()).toBe(3);
    // The buyer, then the purchases: 1 + 3 made; 1 + maxPages predicted, what the lookup may read at most.
    expect((answer.extensions?.cost as Cost).upstreamCalls.shopfix).toEqual({ predicted: 6, actual: 4 });
  });

  it('undeclared paging: SOURCE_PAGE_LIMIT at ["client", "sales"] after one call, never 250 of 600; a buyer with one page is served', async () => {
    const answer = await h.query<{ client: { id: string; sales: Array<{ id: string }> | null } }>('{ client(id: "7") { id sales { id } } }');
    expect(answer.data?.client).toEqual({ id: '7', sales: null });
    expect((answer.errors ?? []).map((e) => [e.path, e.extensions?.code])).toEqual([[['client', 'sales'], 'SOURCE_PAGE_LIMIT']]);
    expect(orderCalls()).toBe(1);
    const whole = await h.query<{ client: { id: string; sales: Array<{ id: string }> } }>('{ client(id: "8") { id sales { id } } }');
    expect(whole.errors).toBeUndefined();
    expect(whole.data!.client.sales.map((s) => s.id).sort()).toEqual(['9000', '9001']);
  });
});
