/**
 * Lookups by a non-unique key that span pages, against fixture servers on loopback: a Shopify-shaped
 * orders.json?customer_id= with Link paging (600 orders for one customer) and a Zendesk-shaped
 * requested.json with next_page. Every record compared with the fixture's data, calls counted at
 * the server; an answer with more than was read is a coded error, never a short list.
 */
import { compileCatalog } from '../../src/catalog/compile-catalog';
import { sourceDefinition, type SourceDefinitionInput } from '../../src/config/definition';
import { SourceError } from '../../src/connectors/errors';
import { SourceConnector } from '../../src/connectors/source-connector';
import { CODES } from '../../src/errors';
import { startFakeSource, type FakeSource, type SeenRequest } from '../support/fake-source';

/** 600 orders of customer 7, 3 of customer 8, none of customer 9. */
const ORDERS = [
  ...Array.from({ length: 600 }, (_, i) => ({ id: 5000 + i, customer: { id: 7 }, name: `#${5000 + i}` })),
  ...Array.from({ length: 3 }, (_, i) => ({ id: 9000 + i, customer: { id: 8 }, name: `#${9000 + i}` })),
];
const LIMIT = 250;

let sources: FakeSource[] = [];
let connectors: SourceConnector[] = [];
afterEach(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await Promise.all(sources.map((s) => s.close()));
  sources = [];
  connectors = [];
});

const query = (request: SeenRequest) => new URL(request.path, 'http://x');

/** Shopify Admin REST orders: the first call filters by customer_id, later ones carry only page_info and limit (a 400 otherwise). */
async function shop(): Promise<FakeSource> {
  let origin = '';
  const source = await startFakeSource((request) => {
    const url = query(request);
    const pageInfo = url.searchParams.get('page_info');
    if (pageInfo && [...url.searchParams.keys()].some((key) => key !== 'page_info' && key !== 'limit')) return { status: 400, body: '{"errors":"page_info takes only limit"}' };
    const [customer, startText] = pageInfo ? pageInfo.split(':') : [url.searchParams.get('customer_id'), '0'];
    const limit = Math.min(Number(url.searchParams.get('limit') ?? '50'), LIMIT);
    const all = ORDERS.filter((order) => String(order.customer.id) === customer);
    const start = Number(startText);
    const rows = all.slice(start, start + limit);
    const end = start + rows.length;
    const link = end < all.length ? `<${origin}/admin/api/2024-01/orders.json?limit=${limit}&page_info=${customer}:${end}>; rel="next"` : undefined;
    return { body: JSON.stringify({ orders: rows }), ...(link ? { headers: { link } } : {}) };
  });
  origin = source.origin;
  sources.push(source);
  return source;
}

function shopDefinition(baseUrl: string, lookup: Record<string, unknown>): SourceDefinitionInput {
  return {
    baseUrl,
    entities: {
      Order: {
        key: 'id',
        fields: { id: { from: 'id', transform: 'id' }, customerId: { from: 'customer.id', transform: 'id' }, name: 'name' },
        lookups: {
          id: { path: '/admin/api/2024-01/orders/{value}.json', resultPath: 'order', unique: true },
          customerId: { path: '/admin/api/2024-01/orders.json', query: { customer_id: '{value}', status: 'any', limit: String(LIMIT) }, resultPath: 'orders', unique: false, ...lookup },
        },
      },
    },
  };
}

function connect(definition: SourceDefinitionInput): SourceConnector {
  const connector = new SourceConnector('shop', sourceDefinition.parse(definition));
  connectors.push(connector);
  return connector;
}

const idsOf = (customer: number) => ORDERS.filter((order) => order.customer.id === customer).map((order) => String(order.id));
const LINK_PAGING = { type: 'link', limitParam: 'limit', maxPageSize: LIMIT };

describe('a lookup by a non-unique key that spans pages', () => {
  it('follows the Link header of a declared paging: all 600 orders of one customer in 3 calls, later calls only page_info and limit', async () => {
    const source = await shop();
    const connector = connect(shopDefinition(source.origin, { paging: LINK_PAGING, maxPages: 5 }));
    const result = await connector.lookup('Order', 'customerId', ['7', '8', '9']);
    const records = result.get('7');
    expect(Array.isArray(records)).toBe(true);
    expect((records as Array<{ id: unknown }>).map((record) => record.id)).toEqual(idsOf(7));
    expect((result.get('8') as Array<{ id: unknown }>).map((record) => record.id)).toEqual(idsOf(8));
    expect(result.get('9')).toEqual([]);
    // 7: 250 + 250 + 100; 8: one page; 9: one empty page.
    expect(source.count()).toBe(5);
    const ofSeven = source.requests.filter((request) => query(request).searchParams.get('customer_id') === '7' || (query(request).searchParams.get('page_info') ?? '').startsWith('7:'));
    expect(ofSeven.map((request) => [...query(request).searchParams.keys()].sort().join())).toEqual(['customer_id,limit,status', 'limit,page_info', 'limit,page_info']);
  });

  it('fails the key with SOURCE_PAGE_LIMIT when maxPages is reached, after exactly maxPages calls, never a short list', async () => {
    const source = await shop();
    const connector = connect(shopDefinition(source.origin, { paging: LINK_PAGING, maxPages: 2 }));
    const result = await connector.lookup('Order', 'customerId', ['7', '8']);
    const failure = result.get('7');
    expect(failure).toBeInstanceOf(SourceError);
    expect((failure as SourceError).code).toBe(CODES.SOURCE_PAGE_LIMIT);
    expect((failure as SourceError).message).toContain('maxPages (2)');
    // The other customer's answer is whole and served.
    expect((result.get('8') as Array<{ id: unknown }>).map((record) => record.id)).toEqual(idsOf(8));
    expect(source.count()).toBe(2 + 1);
  });

  it('fails the key with SOURCE_PAGE_LIMIT when the lookup declares no paging and the answer links a next page', async () => {
    const source = await shop();
    const connector = connect(shopDefinition(source.origin, {}));
    const result = await connector.lookup('Order', 'customerId', ['7', '8']);
    const failure = result.get('7');
    expect(failure).toBeInstanceOf(SourceError);
    expect((failure as SourceError).code).toBe(CODES.SOURCE_PAGE_LIMIT);
    expect((failure as SourceError).message).toContain("declare the lookup's paging");
    // An answer with no next link is whole: served as before, one call per key.
    expect((result.get('8') as Array<{ id: unknown }>).map((record) => record.id)).toEqual(idsOf(8));
    expect(source.count()).toBe(2);
  });

  it('follows a Zendesk next_page on a one-value path, and a 404 for an unknown user finds nothing', async () => {
    const tickets = Array.from({ length: 45 }, (_, i) => ({ id: 100 + i, requester_id: 42, subject: `t${i}` }));
    let origin = '';
    const source = await startFakeSource((request) => {
      const url = query(request);
      if (!url.pathname.startsWith('/api/v2/users/42/')) return { status: 404, body: '{"error":"RecordNotFound"}' };
      const page = Number(url.searchParams.get('page') ?? '1');
      const size = Number(url.searchParams.get('per_page'));
      const rows = tickets.slice((page - 1) * size, page * size);
      const next = page * size < tickets.length ? `${origin}/api/v2/users/42/tickets/requested.json?page=${page + 1}&per_page=${size}` : null;
      return { body: JSON.stringify({ tickets: rows, next_page: next, count: tickets.length }) };
    });
    origin = source.origin;
    sources.push(source);
    const connector = connect({
      baseUrl: source.origin,
      entities: {
        Ticket: {
          key: 'id',
          fields: { id: { from: 'id', transform: 'id' }, requesterId: { from: 'requester_id', transform: 'id' }, subject: 'subject' },
          lookups: {
            id: { path: '/api/v2/tickets/{value}.json', resultPath: 'ticket', unique: true },
            requesterId: { path: '/api/v2/users/{value}/tickets/requested.json', resultPath: 'tickets', unique: false, paging: { type: 'nextUrl', nextUrlPath: 'next_page', limitParam: 'per_page', maxPageSize: 20 } },
          },
        },
      },
    });
    const result = await connector.lookup('Ticket', 'requesterId', ['42', '43']);
    expect((result.get('42') as Array<{ id: unknown }>).map((record) => record.id)).toEqual(tickets.map((ticket) => String(ticket.id)));
    expect(result.get('43')).toEqual([]);
    expect(source.count()).toBe(3 + 1);
  });

  it('refuses maxPages without paging, and paging on an answer matched by position, saying what to do', () => {
    const problems = (lookup: Record<string, unknown>) => {
      const parsed = sourceDefinition.safeParse(shopDefinition('http://127.0.0.1:1', lookup));
      return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    };
    expect(problems({ maxPages: 3 })).toEqual([expect.stringMatching(/^entities\.Order\.lookups\.customerId\.maxPages: maxPages bounds a paged lookup: declare its paging too/)]);
    expect(problems({ paging: LINK_PAGING, matchBy: 'position' })).toEqual([expect.stringMatching(/lookups\.customerId\.paging: a paged lookup is matched by key/)]);
    expect(problems({ paging: LINK_PAGING, maxPages: 101 })).toHaveLength(1);
    expect(problems({ paging: LINK_PAGING, maxPages: 100 })).toEqual([]);
  });

  it('tells the guard the pages a paged lookup may read per call: maxPages, 10 by default, 1 without paging', () => {
    const catalog = (lookup: Record<string, unknown>) => compileCatalog({ sources: { shop: sourceDefinition.parse(shopDefinition('http://127.0.0.1:1', lookup)) }, mappings: {} });
    const pagesOf = (lookup: Record<string, unknown>) => catalog(lookup).entity('Order').lookups.get('customerId')!.pagesPerCall;
    expect(pagesOf({ paging: LINK_PAGING, maxPages: 3 })).toBe(3);
    expect(pagesOf({ paging: LINK_PAGING })).toBe(10);
    expect(pagesOf({})).toBe(1);
  });
});
