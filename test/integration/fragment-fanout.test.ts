/**
 * Work bounded by the document, not its bytes. Fragments that spread each other multiply: seven
 * levels, each spreading the one below ten times, are a 600-byte document asking for a million
 * fields, priced at one point (the estimate collects fields as execution does, and they merge),
 * which stitching's selection-set checks used to walk in full (seconds of event loop, ten more
 * for each further level). The guard counts selections with fragments spread, memoized per
 * fragment, and refuses the family before anything runs; what it accepts runs merged, so every
 * delegation walks what the operation asks for, once. Calls are counted at the sandboxes.
 */
import { buildClientSchema, getIntrospectionQuery, introspectionFromSchema, Kind, lexicographicSortSchema, parse, printSchema, type FragmentDefinitionNode, type IntrospectionQuery } from 'graphql';
import { ExpandedSize } from '../../src/guard/expanded-size';
import { startHarness, type Harness } from '../support/harness';
import { data } from './ground-truth';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());
beforeEach(() => h.resetUpstream());

const CUSTOMER = data.crm.contacts[3]!.Id;
const LIMIT = 5_000;

/**
 * `levels` fragments on Customer, each spreading the one below `fan` times; with `wrap`, the i-th
 * spread of a level sits in i % 3 nested inline fragments, which no de-duplication of spreads sees through.
 */
function fragments(levels: number, fan: number, leaf: string, wrap = false): string {
  const defined = [`fragment F1 on Customer { ${leaf} }`];
  for (let level = 2; level <= levels; level++) {
    const spreads = Array.from({ length: fan }, (_, i) => (wrap ? `${'... on Customer { '.repeat(i % 3)}...F${level - 1}${' }'.repeat(i % 3)}` : `...F${level - 1}`));
    defined.push(`fragment F${level} on Customer { ${spreads.join(' ')} }`);
  }
  return defined.join(' ');
}

function expandedSize(query: string): number {
  const document = parse(query);
  const byName = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
  return new ExpandedSize((name) => byName.get(name)).of(operation.selectionSet);
}

async function expectServing(): Promise<void> {
  const live = await fetch(`${h.server.url}/healthz`);
  expect(live.status).toBe(200);
  const answer = await h.query<{ customer: { id: string } }>(`{ customer(id: "${CUSTOMER}") { id } }`);
  expect(answer.data?.customer.id).toBe(CUSTOMER);
}

describe('fragment fan-out', () => {
  it.each([
    ['seven levels of ten spreads on one customer (the 615-byte family)', `{ customer(id: "${CUSTOMER}") { ...F7 } } ${fragments(7, 10, 'id name')}`, /has 3111112 selections once its fragments are spread, above the limit of 5000\. Spread each fragment/],
    ['twenty levels of ten (10^19 selections: counting them by walking would never end)', `{ customer(id: "${CUSTOMER}") { ...F20 } } ${fragments(20, 10, 'id')}`, /has about 10\^19 selections once its fragments are spread/],
    ['spreads hidden in nested inline fragments', `{ customer(id: "${CUSTOMER}") { ...F6 } } ${fragments(6, 10, 'id name', true)}`, /selections once its fragments are spread, above the limit of 5000/],
    ['a family under a list, with a join', `{ customers(first: 50) { nodes { ...F5 } } } ${fragments(5, 10, 'id orders(first: 2) { id total }')}`, /selections once its fragments are spread, above the limit of 5000/],
  ])('%s: EXPANDED_SELECTION_LIMIT_EXCEEDED before anything runs, 0 upstream calls', async (_name, query, says) => {
    const response = await h.query(query);
    expect(response.data ?? null).toBeNull();
    expect(response.errors?.map((e) => e.extensions?.code)).toEqual(['EXPANDED_SELECTION_LIMIT_EXCEEDED']);
    expect(response.errors![0]!.message).toMatch(says);
    expect(response.errors![0]!.extensions).toMatchObject({ limit: LIMIT });
    expect(response.extensions?.cost).toMatchObject({ requestedQueryCost: 0, actualQueryCost: 0 });
    expect(h.upstream().total).toBe(0);
    await expectServing();
  });

  it('the 615-byte family is no longer than the issue says', () => {
    expect(`{ customer(id: "${CUSTOMER}") { ...F7 } } ${fragments(7, 10, 'id name')}`.length).toBeLessThanOrEqual(615);
  });

  it('a family just under the limit is answered as the fields it asks for, with the calls they need', async () => {
    const family = `{ customer(id: "${CUSTOMER}") { ...F4 } } ${fragments(4, 9, 'id name segment', true)}`;
    const size = expandedSize(family);
    expect(size).toBeGreaterThan(LIMIT * 0.75);
    expect(size).toBeLessThanOrEqual(LIMIT);
    const answer = await h.query(family);
    const familyCalls = h.upstream();
    h.resetUpstream();
    const plain = await h.query(`{ customer(id: "${CUSTOMER}") { id name segment } }`);
    expect(answer.errors).toBeUndefined();
    expect(JSON.stringify(answer.data)).toBe(JSON.stringify(plain.data));
    expect(familyCalls).toEqual(h.upstream());
    expect(familyCalls.total).toBe(1);
    await expectServing();
  });

  it('a family under a list with a join, just under the limit: the same answer and calls as the plain query', async () => {
    const family = `{ customers(first: 20) { nodes { ...F5 } } } ${fragments(5, 5, 'id name orders(first: 2) { id total }', true)}`;
    const size = expandedSize(family);
    expect(size).toBeGreaterThan(LIMIT * 0.9);
    expect(size).toBeLessThanOrEqual(LIMIT);
    const answer = await h.query(family);
    const familyCalls = h.upstream();
    h.resetUpstream();
    const plain = await h.query(`{ customers(first: 20) { nodes { id name orders(first: 2) { id total } } } }`);
    expect(answer.errors).toBeUndefined();
    expect(JSON.stringify(answer.data)).toBe(JSON.stringify(plain.data));
    expect(familyCalls).toEqual(h.upstream());
    expect(answer.extensions?.cost).toMatchObject({ requestedQueryCost: (plain.extensions?.cost as { requestedQueryCost: number }).requestedQueryCost });
  });

  it("GraphiQL's introspection query, built of fragments, runs merged and describes the schema served", async () => {
    const answer = await h.query<IntrospectionQuery>(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true }));
    expect(answer.errors).toBeUndefined();
    const pinned = h.gateway.pin();
    try {
      const served = printSchema(lexicographicSortSchema(buildClientSchema(introspectionFromSchema(pinned.gateway.schema))));
      expect(printSchema(lexicographicSortSchema(buildClientSchema(answer.data!)))).toBe(served);
    } finally {
      pinned.release();
    }
    expect(h.upstream().total).toBe(0);
  });
});
