/**
 * List paging as vendors document it, against fixture servers on loopback shaped like each vendor:
 * records compared with the ground truth across pages, calls counted at the server, and the
 * URLs the source and the client hand back checked before anything is followed.
 */
import { sourceDefinition, type SourceDefinitionInput } from '../../src/config/definition';
import { ForeignCursorError, SourceError } from '../../src/connectors/errors';
import { SourceConnector } from '../../src/connectors/source-connector';
import { CODES } from '../../src/errors';
import { startFakeSource, type Answer, type FakeSource, type SeenRequest } from '../support/fake-source';

const TRUTH = Array.from({ length: 23 }, (_, i) => ({ id: 1000 + i, name: `r${i}`, status: i % 2 === 0 ? 'open' : 'any' }));

function definition(baseUrl: string, list: Record<string, unknown>): SourceDefinitionInput {
  return {
    baseUrl,
    entities: {
      Order: {
        key: 'id',
        fields: { id: { from: 'id', transform: 'id' }, name: 'name' },
        lookups: { id: { path: '/orders/{value}', unique: true } },
        list: list as never,
      },
    },
  };
}

const json = (body: unknown, headers?: Record<string, string>): Answer => ({ body: JSON.stringify(body), ...(headers ? { headers } : {}) });
const query = (request: SeenRequest) => new URL(request.path, 'http://x');

let sources: FakeSource[] = [];
let connectors: SourceConnector[] = [];
afterEach(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await Promise.all(sources.map((s) => s.close()));
  sources = [];
  connectors = [];
});

async function serve(script: (request: SeenRequest, origin: () => string) => Answer): Promise<FakeSource> {
  let origin = '';
  const source = await startFakeSource((request) => script(request, () => origin));
  origin = source.origin;
  sources.push(source);
  return source;
}

function connect(baseUrl: string, list: Record<string, unknown>): SourceConnector {
  const connector = new SourceConnector('shop', sourceDefinition.parse(definition(baseUrl, list)));
  connectors.push(connector);
  return connector;
}

/** Every record, page after page of `first`, as a client pages with endCursor (bounded). */
async function pageAll(connector: SourceConnector, first: number, filters?: Record<string, string>): Promise<unknown[]> {
  const ids: unknown[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page += 1) {
    const result = await connector.list('Order', { first, after, ...(filters ? { filters } : {}) });
    ids.push(...result.records.map((record) => record.id));
    if (!result.hasNextPage) return ids;
    after = result.nextCursor;
  }
  throw new Error('more than 50 pages');
}

const ids = (records: typeof TRUTH) => records.map((record) => String(record.id));

describe('list paging as vendors do it', () => {
  it('follows a Shopify Link header: the first call carries limit and filters, later ones only page_info and limit', async () => {
    const seen: string[][] = [];
    const source = await serve((request, origin) => {
      const url = query(request);
      seen.push([...url.searchParams.keys()].sort());
      const pageInfo = url.searchParams.get('page_info');
      if (pageInfo && [...url.searchParams.keys()].some((key) => key !== 'page_info' && key !== 'limit')) return { status: 400, body: '{"errors":"page_info takes only limit"}' };
      const start = pageInfo ? Number(pageInfo.slice(1)) : 0;
      const limit = Number(url.searchParams.get('limit'));
      const rows = TRUTH.slice(start, start + limit);
      const end = start + rows.length;
      const link = end < TRUTH.length ? `<${origin()}/admin/api/2024-01/orders.json?limit=${limit}&page_info=p${end}>; rel="next"` : undefined;
      return json({ orders: rows }, link ? { link } : undefined);
    });
    const connector = connect(source.origin, { path: '/admin/api/2024-01/orders.json', resultPath: 'orders', filters: { status: { param: 'status', field: 'name' } }, paging: { type: 'link', limitParam: 'limit', maxPageSize: 5 } });
    expect(await pageAll(connector, 7, { status: 'any' })).toEqual(ids(TRUTH));
    // 4 client pages of 7 (7, 7, 7, 2): 2 + 2 + 2 + 1 calls of at most 5 records.
    expect(source.count()).toBe(7);
    expect(seen[0]).toEqual(['limit', 'status']);
    expect(seen.slice(1).every((keys) => keys.join() === 'limit,page_info')).toBe(true);
  });

  it('follows Zendesk next_page (an absolute URL, null at the end) and tells the count', async () => {
    const source = await serve((request, origin) => {
      const url = query(request);
      const page = Number(url.searchParams.get('page') ?? '1');
      const size = Number(url.searchParams.get('per_page'));
      const rows = TRUTH.slice((page - 1) * size, page * size);
      // next_page keeps the page size of the first call: a page number is an offset only at one size.
      const next = page * size < TRUTH.length ? `${origin()}/api/v2/users.json?page=${page + 1}&per_page=${size}` : null;
      return json({ users: rows, next_page: next, count: TRUTH.length });
    });
    const connector = connect(source.origin, { path: '/api/v2/users.json', resultPath: 'users', paging: { type: 'nextUrl', nextUrlPath: 'next_page', limitParam: 'per_page', maxPageSize: 10, totalPath: 'count' } });
    const first = await connector.list('Order', { first: 23 });
    expect(first.records.map((r) => r.id)).toEqual(ids(TRUTH));
    expect(first).toMatchObject({ hasNextPage: false, totalCount: 23 });
    expect(source.count()).toBe(3);
    expect(source.requests.every((request) => query(request).searchParams.get('per_page') === '10')).toBe(true);
    expect(await pageAll(connector, 7)).toEqual(ids(TRUTH));
  });

  it('follows Zendesk cursor paging (links.next while meta.has_more)', async () => {
    const source = await serve((request, origin) => {
      const url = query(request);
      const after = url.searchParams.get('page[after]');
      const size = Number(url.searchParams.get('page[size]'));
      const start = after ? Number(after) : 0;
      const rows = TRUTH.slice(start, start + size);
      const end = start + rows.length;
      // Zendesk keeps a links.next on the last page: meta.has_more tells the end.
      return json({ tickets: rows, meta: { has_more: end < TRUTH.length, after_cursor: String(end) }, links: { next: `${origin()}/api/v2/tickets.json?page[size]=${size}&page[after]=${end}` } });
    });
    const connector = connect(source.origin, { path: '/api/v2/tickets.json', resultPath: 'tickets', paging: { type: 'nextUrl', nextUrlPath: 'links.next', hasMorePath: 'meta.has_more', limitParam: 'page[size]', maxPageSize: 4 } });
    expect(await pageAll(connector, 9)).toEqual(ids(TRUTH));
    // Client pages of 9, 9, 5 at 4 records a call, each resuming inside a source page: 3 + 3 + 2.
    expect(source.count()).toBe(8);
  });

  it('follows Salesforce nextRecordsUrl until done, resuming inside a batch the source sized', async () => {
    const batch = 10;
    const source = await serve((request) => {
      const url = query(request);
      const locator = /\/query\/01gxx-(\d+)$/.exec(url.pathname);
      const start = locator ? Number(locator[1]) : 0;
      if (!locator && !url.searchParams.get('q')) return { status: 400, body: '[{"errorCode":"MALFORMED_QUERY"}]' };
      const rows = TRUTH.slice(start, start + batch);
      const done = start + rows.length >= TRUTH.length;
      return json({ totalSize: TRUTH.length, done, records: rows, ...(done ? {} : { nextRecordsUrl: `/services/data/v59.0/query/01gxx-${start + batch}` }) });
    });
    const connector = connect(source.origin, { path: '/services/data/v59.0/query', query: { q: 'SELECT Id FROM Order' }, resultPath: 'records', paging: { type: 'nextUrl', nextUrlPath: 'nextRecordsUrl', donePath: 'done', maxPageSize: batch, totalPath: 'totalSize' } });
    const page = await connector.list('Order', { first: 15 });
    expect(page.records.map((r) => r.id)).toEqual(ids(TRUTH.slice(0, 15)));
    expect(page.totalCount).toBe(23);
    expect(await pageAll(connector, 15)).toEqual(ids(TRUTH));
    // 2 calls for the first page; pageAll: 2 (0-14), then 15-23 starts inside batch 2: 1 + 1.
    expect(source.count()).toBe(6);
  });

  it('pages Stripe lists by the last record id (starting_after) while has_more', async () => {
    const source = await serve((request) => {
      const url = query(request);
      const after = url.searchParams.get('starting_after');
      const limit = Number(url.searchParams.get('limit'));
      const start = after ? TRUTH.findIndex((r) => String(r.id) === after) + 1 : 0;
      const rows = TRUTH.slice(start, start + limit);
      return json({ object: 'list', data: rows, has_more: start + rows.length < TRUTH.length });
    });
    const connector = connect(source.origin, { path: '/v1/customers', resultPath: 'data', paging: { type: 'cursor', cursorParam: 'starting_after', limitParam: 'limit', maxPageSize: 10, hasMorePath: 'has_more', lastRecordCursorPath: 'id' } });
    expect(await pageAll(connector, 6)).toEqual(ids(TRUTH));
    expect(source.count()).toBe(4);
  });

  it('pages by offset and limit with a total', async () => {
    const source = await serve((request) => {
      const url = query(request);
      const offset = Number(url.searchParams.get('offset'));
      const limit = Number(url.searchParams.get('limit'));
      return json({ items: TRUTH.slice(offset, offset + limit), total: TRUTH.length });
    });
    const connector = connect(source.origin, { path: '/items', resultPath: 'items', paging: { type: 'offset', offsetParam: 'offset', limitParam: 'limit', maxPageSize: 10, totalPath: 'total' } });
    expect(await pageAll(connector, 12)).toEqual(ids(TRUTH));
    // Pages of 12 and 11: 2 + 2 calls.
    expect(source.count()).toBe(4);
    await expect(connector.list('Order', { first: 2, after: 'bm90LWFuLW9mZnNldA' })).rejects.toBeInstanceOf(ForeignCursorError);
  });

  it('refuses a next link off the source origin, naming the source, and never follows it', async () => {
    const elsewhere = await serve(() => json({ orders: TRUTH }));
    const source = await serve((request) => {
      const url = query(request);
      const limit = Number(url.searchParams.get('limit'));
      return json({ orders: TRUTH.slice(0, limit) }, { link: `<${elsewhere.origin}/admin/api/2024-01/orders.json?page_info=x>; rel="next"` });
    });
    const connector = connect(source.origin, { path: '/admin/api/2024-01/orders.json', resultPath: 'orders', paging: { type: 'link', limitParam: 'limit', maxPageSize: 5 } });
    const failure = await connector.list('Order', { first: 8 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SourceError);
    expect(failure).toMatchObject({ code: CODES.SOURCE_BAD_RESPONSE, source: 'shop' });
    expect(source.count()).toBe(1);
    expect(elsewhere.count()).toBe(0);
  });

  it('refuses a client cursor that names another path or host, calling nothing', async () => {
    const source = await serve((request, origin) => {
      const url = query(request);
      const limit = Number(url.searchParams.get('limit'));
      const start = Number(url.searchParams.get('page_info')?.slice(1) ?? '0');
      return json({ orders: TRUTH.slice(start, start + limit) }, { link: `<${origin()}/admin/api/2024-01/orders.json?limit=${limit}&page_info=p${start + limit}>; rel="next"` });
    });
    const connector = connect(source.origin, { path: '/admin/api/2024-01/orders.json', resultPath: 'orders', paging: { type: 'link', limitParam: 'limit', maxPageSize: 5 } });
    const page = await connector.list('Order', { first: 2 });
    expect(page.hasNextPage).toBe(true);
    const decoded = JSON.parse(Buffer.from(page.nextCursor!, 'base64url').toString('utf8')) as { u: string; s: number };
    expect(decoded.u).toContain('page_info=p2');
    const tampered = [
      { ...decoded, u: '/admin/api/2024-01/customers.json?page_info=p2' },
      { ...decoded, u: '//evil.example/admin/api/2024-01/orders.json' },
      { ...decoded, u: 'http://evil.example/admin/api/2024-01/orders.json' },
      { ...decoded, s: -1 },
    ].map((cursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url'));
    for (const after of [...tampered, 'not-a-cursor']) {
      await expect(connector.list('Order', { first: 2, after })).rejects.toBeInstanceOf(ForeignCursorError);
    }
    expect(source.count()).toBe(1);
    const next = await connector.list('Order', { first: 2, after: page.nextCursor });
    expect(next.records.map((r) => r.id)).toEqual(ids(TRUTH.slice(2, 4)));
  });
});
