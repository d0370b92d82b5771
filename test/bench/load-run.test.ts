/**
 * The benchmark's load generator: every answer is judged before it counts, so that a failure is
 * reported as one and never as a fast answer; ids are drawn in order from one cursor over all
 * connections; each request carries its client's API key.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseLoadAnswer, parseLoadMessage, type LoadSpec } from '../../bench/load-protocol';
import { judge, runLoad } from '../../bench/load-run';

/** Answers a customer query as its id says: well, with a status, with errors, about someone else, or not in JSON. */
function answer(id: string, response: ServerResponse): void {
  const send = (status: number, body: string) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(body);
  };
  if (id === 'status') return send(500, '{"errors":[{"message":"down"}]}');
  if (id === 'errors') return send(200, '{"errors":[{"message":"boom"}],"data":{"customer":null}}');
  if (id === 'other') return send(200, '{"data":{"customer":{"id":"someone-else"}}}');
  if (id === 'garbage') return send(200, 'not json');
  return send(200, JSON.stringify({ data: { customer: { id, name: `name of ${id}` } } }));
}

let server: Server;
let url: string;
const asked: string[] = [];
const keys: string[] = [];
const scopes = new Set<string | undefined>();

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { variables } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { variables: { id: string } };
      asked.push(variables.id);
      keys.push(String(request.headers['x-api-key']));
      scopes.add(request.headers['x-dashboard'] as string | undefined);
      answer(variables.id, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  asked.length = 0;
  keys.length = 0;
  scopes.clear();
});

const spec = (ids: string[], passes: number, connections: number): LoadSpec => ({
  url,
  query: 'query Q($id: ID!) { customer(id: $id) { id name } }',
  ids,
  passes,
  connections,
  headers: { 'x-dashboard': 'sales' },
  clientKeys: { header: 'x-api-key', prefix: 'client-', count: 3 },
  idPath: ['customer', 'id'],
  timeoutSeconds: 5,
});

describe('runLoad', () => {
  it('counts only whole, right answers; every failure is counted by kind', async () => {
    const ids = ['a', 'status', 'b', 'errors', 'other', 'garbage'];
    const result = await runLoad(spec(ids, 2, 3));
    expect(result.requests).toBe(12);
    expect(result.answers).toBe(4);
    expect(result.latencyMs?.n).toBe(4);
    expect(result.failures.count).toBe(8);
    expect(result.failures.byKind).toEqual({ status: 2, errors: 2, body: 4, transport: 0, lost: 0 });
    expect(result.failures.samples.length).toBeGreaterThan(0);
    expect(result.wallMs).toBeGreaterThan(0);
  });

  it('asks the ids in order, pass after pass, with the API keys in turn and the fixed headers', async () => {
    const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const result = await runLoad(spec(ids, 3, 4));
    expect(result.answers).toBe(30);
    expect(result.failures.count).toBe(0);
    // Requests leave in cursor order; with 4 connections in flight they may land a little out of it.
    expect([...asked].sort()).toEqual([...ids, ...ids, ...ids].sort());
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({ 'client-1': 10, 'client-2': 10, 'client-3': 10 });
    expect([...scopes]).toEqual(['sales']);
  });

  it('reports a gateway that is not there as transport failures, with no answers', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runLoad({ ...spec(['a', 'b'], 2, 2), url: `http://127.0.0.1:${port}/graphql` });
    expect(result.answers).toBe(0);
    expect(result.latencyMs).toBeNull();
    expect(result.failures.count).toBeGreaterThanOrEqual(result.requests);
    expect(result.failures.byKind.transport).toBeGreaterThan(0);
  });
});

describe('judge', () => {
  const path = ['customer', 'id'];
  it('accepts a 200 about the id asked and nothing else', () => {
    expect(judge(200, '{"data":{"customer":{"id":"7"}}}', '7', path)).toBe('ok');
    expect(judge(200, '{"data":{"customer":{"id":"8"}}}', '7', path)).toMatchObject({ kind: 'body' });
    expect(judge(200, '{"data":{"customer":null}}', '7', path)).toMatchObject({ kind: 'body' });
    expect(judge(200, '{"errors":[{"message":"x"}],"data":{"customer":{"id":"7"}}}', '7', path)).toMatchObject({ kind: 'errors' });
    expect(judge(429, '{"errors":[]}', '7', path)).toMatchObject({ kind: 'status' });
    expect(judge(200, '<html>', '7', path)).toMatchObject({ kind: 'body' });
  });
});

describe('the load generator protocol', () => {
  it('refuses a spec that is not loopback or not whole', () => {
    const good = { kind: 'run', spec: { ...spec(['a'], 1, 1), url: 'http://127.0.0.1:4000/graphql' } };
    expect(parseLoadMessage(good).spec.ids).toEqual(['a']);
    expect(() => parseLoadMessage({ ...good, spec: { ...good.spec, url: 'http://example.com/graphql' } })).toThrow(/loopback/);
    expect(() => parseLoadMessage({ ...good, spec: { ...good.spec, passes: 0 } })).toThrow(/passes/);
    expect(() => parseLoadMessage({ ...good, spec: { ...good.spec, connections: 2 } })).toThrow(/at least connections/);
  });

  it('refuses an answer that is not a result', () => {
    expect(parseLoadAnswer({ kind: 'error', message: 'no' })).toEqual({ kind: 'error', message: 'no' });
    expect(() => parseLoadAnswer({ kind: 'result', result: { answers: 3 } })).toThrow(/not a result/);
  });
});
