/**
 * The two halves of work bounded by the document: the count of an operation's selections with its
 * fragments spread (memoized per fragment, so a document that expands exponentially is counted at
 * the cost of its length), and the merged document execution runs on (the same answer as the
 * document sent, keys in the same order, with no fragment left to expand again).
 */
import { buildSchema, execute, Kind, NoUnusedVariablesRule, parse, print, specifiedRules, validate, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import { ExpandedSize } from '../../src/guard/expanded-size';
import { mergedDocument } from '../../src/guard/merged-selections';

const schema = buildSchema(`
  interface Node { id: ID! }
  type Customer implements Node { id: ID! name: String segment: String orders(first: Int): [Order!]! best: Item }
  type Order implements Node { id: ID! total: Float customer: Customer }
  type Ticket implements Node { id: ID! subject: String }
  union Item = Order | Ticket
  type Query { customer(id: ID!): Customer node(id: ID!): Node items: [Item!]! }
`);

const order = (id: string) => ({ __typename: 'Order', id, total: Number(id) / 10, customer: () => customer });
const customer = { id: 'c1', name: 'Ada', segment: 'ENTERPRISE', orders: ({ first }: { first?: number }) => [order('11'), order('12'), order('13')].slice(0, first ?? 3), best: { __typename: 'Ticket', id: 't1', subject: 'Late' } };
const rootValue = { customer: () => customer, node: ({ id }: { id: string }) => (id === 'c1' ? { ...customer, __typename: 'Customer' } : order(id)), items: () => [order('21'), { __typename: 'Ticket', id: 't2', subject: 'Lost' }] };

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  return new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
}

/** The expansion walked for real: only for documents small enough to expand. */
function naiveSize(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>): number {
  let size = 0;
  for (const selection of set.selections) {
    size += 1;
    if (selection.kind === Kind.FRAGMENT_SPREAD) size += naiveSize(fragments.get(selection.name.value)!.selectionSet, fragments);
    else if (selection.selectionSet) size += naiveSize(selection.selectionSet, fragments);
  }
  return size;
}

/** Levels of fragments on Customer, each spreading the one below `fan` times. */
function family(levels: number, fan: number, leaf = 'id name'): string {
  const fragments = [`fragment F1 on Customer { ${leaf} }`];
  for (let i = 2; i <= levels; i++) fragments.push(`fragment F${i} on Customer { ${Array.from({ length: fan }, () => `...F${i - 1}`).join(' ')} }`);
  return `{ customer(id: "c1") { ...F${levels} } } ${fragments.join(' ')}`;
}

const DOCUMENTS: Array<{ name: string; query: string; variables?: Record<string, unknown> }> = [
  { name: 'a fragment family', query: family(4, 3, 'id name orders(first: 2) { id }') },
  {
    name: 'aliases, nested spreads and inline fragments, fields asked twice with different subfields',
    query: `{ a: customer(id: "c1") { ...N orders(first: 1) { total } ... on Customer { name orders(first: 1) { id customer { ...N } } } } customer(id: "c1") { segment } }
            fragment N on Customer { name id }`,
  },
  {
    name: '@skip and @include by variables and literals, on fields, spreads and inline fragments',
    query: `query($yes: Boolean!, $no: Boolean = false) { customer(id: "c1") { id @skip(if: $yes) name @include(if: $yes) ...S @include(if: $no) ... on Customer @skip(if: $no) { segment } orders @include(if: true) { id } } }
            fragment S on Customer { best { ... on Ticket { subject } } }`,
    variables: { yes: true },
  },
  {
    name: 'abstract types: an interface and a union with fragments on each member',
    query: `{ node(id: "c1") { id __typename ...C ... on Order { total } } items { __typename ... on Node { id } ...O ... on Ticket { subject } } }
            fragment C on Customer { name best { ... on Item { __typename } ...O } }
            fragment O on Order { total id }`,
  },
];

describe('ExpandedSize', () => {
  it.each(DOCUMENTS.map((d) => [d.name, d.query] as const))('counts what a walk of the expansion visits: %s', (_name, query) => {
    const document = parse(query);
    const fragments = fragmentsOf(document);
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    expect(new ExpandedSize((name) => fragments.get(name)).of(operation.selectionSet)).toBe(naiveSize(operation.selectionSet, fragments));
  });

  it('counts a family describing 10^19 selections without expanding it (an expanding count would never end)', () => {
    const document = parse(family(20, 10));
    const fragments = fragmentsOf(document);
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    // customer + (spread + fan × ...) over 20 levels: about 1.1 × 10^19.
    expect(new ExpandedSize((name) => fragments.get(name)).of(operation.selectionSet)).toBeGreaterThan(1e19);
  });

  it('ends on a fragment cycle (the cycle rule reports it)', () => {
    const document = parse(`{ customer(id: "c1") { ...A } } fragment A on Customer { id ...B } fragment B on Customer { name ...A }`);
    const fragments = fragmentsOf(document);
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    expect(new ExpandedSize((name) => fragments.get(name)).of(operation.selectionSet)).toBe(6);
  });
});

describe('mergedDocument', () => {
  it.each(DOCUMENTS.map((d) => [d.name, d] as const))('answers exactly as the document sent, keys in the same order: %s', async (_name, { query, variables }) => {
    const document = parse(query);
    expect(validate(schema, document)).toEqual([]);
    const merged = mergedDocument(schema, document, undefined, variables);
    expect(merged).toBeDefined();
    expect(print(merged!)).not.toMatch(/\.\.\.\s*[A-Z]\w*\s*$|fragment /m);
    // Variables only a directive read stay declared: execution coerces every declared variable, as it would have.
    expect(validate(schema, merged!, specifiedRules.filter((rule) => rule !== NoUnusedVariablesRule))).toEqual([]);
    const sent = await execute({ schema, document, rootValue, variableValues: variables });
    const run = await execute({ schema, document: merged!, rootValue, variableValues: variables });
    expect(sent.errors).toBeUndefined();
    expect(JSON.stringify(run)).toBe(JSON.stringify(sent));
  });

  it('turns a fan-out family into the fields it asks for, once', () => {
    const merged = mergedDocument(schema, parse(family(6, 10, 'id name orders(first: 2) { id }')), undefined, {});
    expect(print(merged!).replace(/\s+/g, ' ')).toBe('{ customer(id: "c1") { id name orders(first: 2) { id } } }');
  });

  it('keeps variables the fields still read, and drops @skip and @include once applied', () => {
    const merged = mergedDocument(schema, parse(`query($n: Int, $x: Boolean!) { customer(id: "c1") { ...F } } fragment F on Customer { orders(first: $n) { id @include(if: $x) total } }`), undefined, { n: 1, x: false });
    expect(print(merged!).replace(/\s+/g, ' ')).toBe('query ($n: Int, $x: Boolean!) { customer(id: "c1") { orders(first: $n) { total } } }');
  });

  it('leaves alone what it cannot or need not rewrite: no fragments nor directives, a selection set the directives empty, variables that do not fit', () => {
    expect(mergedDocument(schema, parse(`{ customer(id: "c1") { id } }`), undefined, {})).toBeUndefined();
    expect(mergedDocument(schema, parse(`query($x: Boolean!) { customer(id: "c1") { id @include(if: $x) } }`), undefined, { x: false })).toBeUndefined();
    expect(mergedDocument(schema, parse(`query($x: Boolean!) { customer(id: "c1") { id @include(if: $x) } }`), undefined, { x: 'yes' })).toBeUndefined();
    expect(mergedDocument(schema, parse(`query A { customer(id: "c1") { ...F } } fragment F on Customer { id }`), 'B', {})).toBeUndefined();
  });
});
