/**
 * A catalogue of abusive queries after the OWASP GraphQL cheat sheet (denial of service through
 * depth, aliases, large or missing slicing arguments, fragment cycles, directive overloading,
 * token floods, batching and circular joins). Each is refused with its own code and a message
 * that says how to get through, and not one request reaches any source: calls are counted where
 * they would land, at the sandboxes.
 */
import { DEMO_HEADERS, startHarness, type GraphQLResponse, type Harness } from '../support/harness';
import { data } from './ground-truth';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const CUSTOMER = data.crm.contacts[3]!.Id;
const repeat = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i)).join(' ');

/** customer -> orders -> customer -> ... `levels` times. */
function circling(levels: number, leaf = 'name'): string {
  let selection = leaf;
  for (let i = 0; i < levels; i++) selection = i % 2 === 0 ? `orders { customer { ${selection} } }` : `orders { id customer { ${selection} } }`;
  return selection;
}

interface Abuse {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
  code: string;
  /** What the message must say, to teach the caller. */
  says: RegExp;
}

const CATALOGUE: Abuse[] = [
  {
    name: 'deep nesting through circular joins (customer -> orders -> customer -> ...)',
    query: `{ customer(id: "${CUSTOMER}") { ${circling(6)} } }`,
    code: 'DEPTH_LIMIT_EXCEEDED',
    says: /depth limit of 10 exceeded, found \d+\. Nest fewer levels/,
  },
  {
    name: 'circular joins within the depth limit: the points multiply at every level',
    query: `{ customers(first: 50) { nodes { ${circling(3)} } } }`,
    code: 'COST_LIMIT_EXCEEDED',
    says: /estimated at \d+ points, above the limit of 10000 per request\. Most of it is customers\.nodes\.orders\.customer\.orders\.customer\.orders/,
  },
  {
    name: 'an alias bomb: one root field asked 150 times',
    query: `query($id: ID!) { ${repeat(150, (i) => `c${i}: customer(id: $id) { id }`)} }`,
    variables: { id: CUSTOMER },
    code: 'ALIAS_LIMIT_EXCEEDED',
    says: /Aliases limit of 100 exceeded, found 150\. Fetch many records through one list or ids field/,
  },
  {
    name: 'an alias bomb on a join, inside a fragment',
    query: `{ customers(first: 2) { nodes { ...T } } } fragment T on Customer { ${repeat(150, (i) => `t${i}: tickets { id }`)} }`,
    code: 'ALIAS_LIMIT_EXCEEDED',
    says: /Aliases limit of 100 exceeded, found 150/,
  },
  {
    name: 'a huge slicing argument on a join',
    query: `{ customers(first: 200) { nodes { orders(first: 100000) { id } } } }`,
    code: 'COST_LIMIT_EXCEEDED',
    says: /Most of it is customers\.nodes\.orders \(100%\)/,
  },
  {
    name: 'a huge list argument: 5,000 ids in one lookup',
    query: `query($ids: [ID!]!) { customersByIds(ids: $ids) { id } }`,
    variables: { ids: Array.from({ length: 5_000 }, (_, i) => `0035e00000${String(i).padStart(8, '0')}`) },
    code: 'COST_LIMIT_EXCEEDED',
    says: /about 50 calls to crm, above its limit of 20 per request \(sources\.crm\.limits\.maxCallsPerRequest\)/,
  },
  {
    name: 'a missing slicing argument: every order of 1,000 customers, priced at the assumed 15 each',
    query: `{ customers(first: 1000) { nodes { id orders { id total } } } }`,
    code: 'COST_LIMIT_EXCEEDED',
    says: /customers\.nodes\.orders has no "first", so it is priced at its assumed 15 items per parent: pass one/,
  },
  {
    name: 'a required slicing argument passed as null',
    query: `{ customers(first: null) { nodes { id } } }`,
    code: 'SLICING_ARGUMENT_REQUIRED',
    says: /customers \(Query\.customers\) needs exactly one of "first" to size it, got none/,
  },
  {
    name: 'one call per customer to a source without batch endpoints, for 300 customers',
    query: `{ customers(first: 300) { nodes { openTicketCount } } }`,
    code: 'COST_LIMIT_EXCEEDED',
    says: /about 300 calls to support, above its limit of 250 per request.*customers\.nodes\.openTicketCount/,
  },
  {
    name: 'a fragment cycle',
    query: `{ customers(first: 2) { nodes { ...A } } } fragment A on Customer { orders { customer { ...B } } } fragment B on Customer { ...A }`,
    code: 'FRAGMENT_CYCLE',
    says: /Cannot spread fragment "A" within itself via "B"\. A fragment must not spread itself/,
  },
  {
    name: 'a flood of fragments',
    query: `{ customer(id: "${CUSTOMER}") { ${repeat(25, (i) => `...F${i}`)} } } ${repeat(25, (i) => `fragment F${i} on Customer { id }`)}`,
    code: 'FRAGMENT_LIMIT_EXCEEDED',
    says: /Fragments limit of 20 exceeded, found 25/,
  },
  {
    name: 'directive overloading with unknown directives',
    query: `{ customer(id: "${CUSTOMER}") { id ${repeat(200, () => '@a')} } }`,
    code: 'DIRECTIVE_LIMIT_EXCEEDED',
    says: /Directives limit of 30 exceeded, found 200/,
  },
  {
    name: 'directive overloading with @include on every field',
    query: `{ customer(id: "${CUSTOMER}") { ${repeat(40, (i) => `f${i}: name @include(if: true)`)} } }`,
    code: 'DIRECTIVE_LIMIT_EXCEEDED',
    says: /Directives limit of 30 exceeded, found 40/,
  },
  {
    name: 'a token flood: one field repeated 5,000 times',
    query: `{ customer(id: "${CUSTOMER}") { ${repeat(5_000, () => 'name')} } }`,
    code: 'TOKEN_LIMIT_EXCEEDED',
    says: /Token limit of 2000 exceeded\. Shorten the document/,
  },
];

function expectRefused(response: GraphQLResponse, code: string, says: RegExp): void {
  expect(response.data ?? null).toBeNull();
  expect(response.errors?.map((e) => e.extensions?.code)).toEqual([code]);
  expect(response.errors![0]!.message).toMatch(says);
}

describe('abusive queries are refused before any source is called', () => {
  beforeEach(() => h.resetUpstream());

  it.each(CATALOGUE.map((abuse) => [abuse.name, abuse] as const))('%s', async (_name, abuse) => {
    const response = await h.query(abuse.query, abuse.variables);
    expectRefused(response, abuse.code, abuse.says);
    expect(response.extensions?.cost).toMatchObject({ actualQueryCost: 0 });
    expect(h.upstream().total).toBe(0);
  });

  it('a batch of more operations than allowed: BATCH_LIMIT_EXCEEDED with HTTP 413', async () => {
    const operation = { query: `{ customers(first: 5) { nodes { id orders { id } tickets { id } } } }` };
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify(Array.from({ length: 20 }, () => operation)),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
    expectRefused({ status: response.status, ...body }, 'BATCH_LIMIT_EXCEEDED', /Batching is limited to 5 operations per request, got 20\. Send the other operations in further requests/);
    expect(h.upstream().total).toBe(0);
  });

  it('a body over guard.limits.requestBytes: REQUEST_TOO_LARGE with HTTP 413, unread, connection closed', async () => {
    const ids = Array.from({ length: 60_000 }, (_, i) => `0035e00000${String(i).padStart(8, '0')}`);
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify({ query: 'query($ids: [ID!]!) { customersByIds(ids: $ids) { id } }', variables: { ids } }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
    expectRefused({ status: response.status, ...body }, 'REQUEST_TOO_LARGE', /at most 1000000 are read \(guard\.limits\.requestBytes\)\. Send fewer or shorter variables/);
    expect(h.upstream().total).toBe(0);
  });

  it('a body of unknown length (chunked): LENGTH_REQUIRED with HTTP 411', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: '{ __typename }' })));
        controller.close();
      },
    });
    const response = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', ...DEMO_HEADERS }, body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(411);
    const answer = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(answer.errors[0]).toMatchObject({ extensions: { code: 'LENGTH_REQUIRED' }, message: expect.stringMatching(/Content-Length/) });
  });

  it('a batch within the limit is priced operation by operation: the heavy ones are refused, none runs in part', async () => {
    const heavy = { query: `{ customers(first: 1000) { nodes { orders { id } } } }` };
    const response = await fetch(h.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify([heavy, heavy, { query: `{ customers(first: null) { totalCount } }` }]),
    });
    const results = (await response.json()) as Array<Omit<GraphQLResponse, 'status'>>;
    expect(results.map((r) => r.errors?.[0]?.extensions?.code)).toEqual(['COST_LIMIT_EXCEEDED', 'COST_LIMIT_EXCEEDED', 'SLICING_ARGUMENT_REQUIRED']);
    expect(h.upstream().total).toBe(0);
  });

  it('the same queries, sized sensibly, are priced within every limit', async () => {
    const sensible = [
      `{ customers(first: 50) { nodes { orders { customer { name } } } } }`,
      `{ customers(first: 50) { nodes { orders(first: 100) { id } } } }`,
      `{ customers(first: 1000) { nodes { id orders(first: 3) { id total } } } }`,
      `{ customers(first: 200) { nodes { openTicketCount } } }`,
    ];
    for (const query of sensible) {
      const response = await h.query(query, undefined, { 'x-virtualize-dry-run': '1' });
      expect(response.errors).toBeUndefined();
    }
    expect(h.upstream().total).toBe(0);
  });
});
