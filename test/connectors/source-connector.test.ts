import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sourceDefinition, type SourceDefinitionInput } from '../../src/config/definition';
import { ForeignCursorError } from '../../src/connectors/errors';
import { SourceConnector, type RejectionListener } from '../../src/connectors/source-connector';
import type { UpstreamCall } from '../../src/connectors/upstream-call';

/** A source answering from a handler; counts requests as the sandboxes do. */
async function fakeSource(handle: (url: URL) => { status: number; body: string }): Promise<{ url: string; requests: URL[]; close(): Promise<void>; server: Server }> {
  const requests: URL[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    requests.push(url);
    const { status, body } = handle(url);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    server,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

function definition(baseUrl: string): SourceDefinitionInput {
  return {
    baseUrl,
    entities: {
      Widget: {
        key: 'id',
        fields: { id: { from: 'widget_id', transform: 'id' }, madeAt: { from: 'made', transform: 'dateTime' }, size: { from: 'size', transform: 'int' } },
        lookups: {
          id: { path: '/widgets', query: { ids: '{values}' }, resultPath: 'items', unique: true, batch: { maxSize: 250 } },
          size: { path: '/widgets/by-size/{value}', resultPath: 'items', unique: false },
        },
      },
    },
  };
}

describe('source connector', () => {
  it('serves 997 of 1,000 records when 3 break the contract, and reports each rejected one', async () => {
    const bad = new Map<number, Record<string, unknown>>([
      [10, { made: '2024-01-01T00:00:00Z', size: 1 }], // no key
      [500, { widget_id: 500, made: 'last tuesday', size: 1 }], // bad date
      [900, { widget_id: 900, made: '2024-01-01T00:00:00Z', size: 'large' }], // wrong type
    ]);
    const source = await fakeSource((url) => {
      const ids = (url.searchParams.get('ids') ?? '').split(',').map(Number);
      const items = ids.map((id) => bad.get(id) ?? { widget_id: id, made: '2024-01-01 10:00:00', size: id % 7 });
      return { status: 200, body: JSON.stringify({ items: items.reverse() }) };
    });
    const rejected: Parameters<RejectionListener>[0][] = [];
    const calls: UpstreamCall[] = [];
    const connector = new SourceConnector('widgets', sourceDefinition.parse(definition(source.url)), { onReject: (event) => rejected.push(event) });
    try {
      const ids = Array.from({ length: 1000 }, (_, i) => String(i + 1));
      const told: Array<{ reason: string; count: number; value?: string }> = [];
      const groups = await connector.lookup('Widget', 'id', ids, (call) => calls.push(call), 'none', undefined, undefined, (rejection, count, value) =>
        told.push({ reason: rejection.reason, count, ...(value === undefined ? {} : { value }) }),
      );
      const served = [...groups.values()].filter((records) => Array.isArray(records) && records.length === 1);
      expect(served).toHaveLength(997);
      expect(groups.get('10')).toEqual([]);
      expect(groups.get('11')).toEqual([{ id: '11', madeAt: '2024-01-01T10:00:00.000Z', size: 4 }]);
      expect(calls.map((call) => call.batchSize)).toEqual([250, 250, 250, 250]);
      expect(source.requests).toHaveLength(4);
      expect(rejected.map(({ key, field, reason }) => ({ key, field, reason }))).toEqual(
        expect.arrayContaining([
          { key: undefined, field: 'id', reason: 'is required but missing' },
          { key: 500, field: 'madeAt', reason: 'expected an ISO-8601 date-time, found a string of 12 characters' },
          { key: 900, field: 'size', reason: 'expected an integer, found a string of 5 characters' },
        ]),
      );
      expect(rejected.every((event) => event.source === 'widgets' && event.entity === 'Widget')).toBe(true);
      // The request is told too, each record under the asked value its raw key holds (none without a key).
      expect(told).toEqual(
        expect.arrayContaining([
          { reason: 'id: required but missing', count: 1 },
          { reason: 'madeAt: expected an ISO-8601 date-time, found a string', count: 1, value: '500' },
          { reason: 'size: expected an integer, found a string', count: 1, value: '900' },
        ]),
      );
      expect(told).toHaveLength(3);
    } finally {
      await connector.close();
      await source.close();
    }
  });

  it('calls a source without batch endpoints once per value, and reads 404 as no record', async () => {
    const source = await fakeSource((url) => {
      const size = url.pathname.split('/').pop();
      if (size === '3') return { status: 404, body: '{"error":"none"}' };
      return { status: 200, body: JSON.stringify({ items: [{ widget_id: Number(size) * 10, size: Number(size) }] }) };
    });
    const connector = new SourceConnector('widgets', sourceDefinition.parse(definition(source.url)));
    try {
      const groups = await connector.lookup('Widget', 'size', ['1', '2', '3']);
      expect(source.requests.map((url) => url.pathname).sort()).toEqual(['/widgets/by-size/1', '/widgets/by-size/2', '/widgets/by-size/3']);
      expect(groups.get('3')).toEqual([]);
      expect(groups.get('2')).toEqual([{ id: '20', madeAt: null, size: 2 }]);
    } finally {
      await connector.close();
      await source.close();
    }
  });

  it('names the source and route, never the URL, when a payload has no records where the definition says', async () => {
    const source = await fakeSource(() => ({ status: 200, body: JSON.stringify({ data: [] }) }));
    const connector = new SourceConnector('widgets', sourceDefinition.parse(definition(`${source.url}/secret-path`)));
    try {
      const failure = (await connector.lookup('Widget', 'id', ['1'])).get('1');
      expect(failure).toMatchObject({ code: 'SOURCE_BAD_RESPONSE', source: 'widgets', route: 'GET /widgets' });
      expect((failure as Error).message).toBe('Source widgets sent no records at "items" for GET /widgets; check the source definition\'s resultPath');
    } finally {
      await connector.close();
      await source.close();
    }
  });

  it('gives SOURCE_UNAVAILABLE when nothing listens, and SOURCE_TIMEOUT past the timeout, as the value of each key', async () => {
    const closed = await fakeSource(() => ({ status: 200, body: '{}' }));
    await closed.close();
    const down = new SourceConnector('widgets', sourceDefinition.parse(definition(closed.url)));
    expect((await down.lookup('Widget', 'id', ['1'])).get('1')).toMatchObject({ code: 'SOURCE_UNAVAILABLE', source: 'widgets' });
    await down.close();

    const slow = createServer(() => undefined); // never answers
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
    const timed = new SourceConnector('widgets', sourceDefinition.parse({ ...definition(url), limits: { timeoutMs: 100 } }));
    try {
      expect((await timed.lookup('Widget', 'id', ['1'])).get('1')).toMatchObject({ code: 'SOURCE_TIMEOUT', message: 'Source widgets did not answer within 100 ms (GET /widgets after 3 attempts)' });
    } finally {
      await timed.close().catch(() => undefined);
      slow.closeAllConnections();
      await new Promise((resolve) => slow.close(resolve));
    }
  });

  it('hears a 400 to a call carrying the caller\'s cursor as a foreign cursor, and any other 400 as the source refusing the call', async () => {
    const source = await fakeSource((url) => {
      const cursor = url.searchParams.get('cursor');
      if (url.searchParams.has('size') || (cursor !== null && cursor !== 'c2')) return { status: 400, body: '{"error":"bad request"}' };
      return { status: 200, body: JSON.stringify({ items: [{ widget_id: cursor === null ? 1 : 2, made: '2024-01-01T00:00:00Z', size: 1 }], next: cursor === null ? 'c2' : null }) };
    });
    const listed = definition(source.url);
    listed.entities.Widget!.list = { path: '/widgets', resultPath: 'items', paging: { type: 'cursor', cursorParam: 'cursor', limitParam: 'limit', maxPageSize: 1, nextCursorPath: 'next' }, filters: { size: { param: 'size', field: 'size' } } };
    const connector = new SourceConnector('widgets', sourceDefinition.parse(listed));
    try {
      const first = await connector.list('Widget', { first: 1 });
      expect(first).toMatchObject({ nextCursor: 'c2', hasNextPage: true });
      expect((await connector.list('Widget', { first: 1, after: first.nextCursor })).records).toEqual([expect.objectContaining({ id: '2' })]);

      const foreign = await connector.list('Widget', { first: 1, after: 'forged' }).catch((error: unknown) => error);
      expect(foreign).toBeInstanceOf(ForeignCursorError);
      expect(foreign).toMatchObject({ source: 'widgets', route: 'GET /widgets', cursor: 'forged', cause: { code: 'SOURCE_REJECTED_REQUEST', status: 400 } });

      // Without a cursor of the caller's, a 400 is the source refusing what the definition built.
      const refused = await connector.list('Widget', { first: 1, filters: { size: '1' } }).catch((error: unknown) => error);
      expect(refused).not.toBeInstanceOf(ForeignCursorError);
      expect(refused).toMatchObject({ code: 'SOURCE_REJECTED_REQUEST', status: 400 });
    } finally {
      await connector.close();
      await source.close();
    }
  });
});
