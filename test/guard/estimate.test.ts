/**
 * The static estimate, without a server: points after the IBM cost directive rules as `schema/`
 * declares them, and upstream calls per source after batching and the loaders' de-duplication.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getNullableType, isListType, isObjectType, parse, Kind, type ObjectTypeDefinitionNode } from 'graphql';
import baseConfig from '../../virtualization.config';
import { validateConfig } from '../../src/config/validate';
import type { Gateway } from '../../src/federation/gateway';
import { createGeneration } from '../../src/runtime/generations';
import { CanonicalSchema } from '../../src/federation/canonical-schema';
import { CostDirectiveError, readCostDirectives } from '../../src/guard/cost-directives';
import { CostModel } from '../../src/guard/cost-model';
import { buildFetchPlan } from '../../src/guard/fetch-plan';
import { priceDocument } from '../../src/guard/price-document';
import { QueryCostGuard } from '../../src/guard/query-cost-guard';
import { formatPrice } from '../../src/cli/cost-report';
import { PROJECT_ROOT } from '../support/harness';

let gateway: Gateway;
let guard: QueryCostGuard;
const config = validateConfig(baseConfig);

beforeAll(async () => {
  gateway = await createGeneration(config, { baseDir: PROJECT_ROOT, env: process.env });
  guard = QueryCostGuard.forGateway(gateway);
});
afterAll(() => gateway.close());

function price(query: string, variables?: Record<string, unknown>) {
  const result = priceDocument(guard, config.guard.limits, query, { variables });
  if (!result.estimate) throw new Error(`not priced: ${result.errors.map((e) => e.message).join('; ')}`);
  return { ...result.estimate, errors: result.errors };
}

describe('the cost directives in schema/', () => {
  const canonical = CanonicalSchema.fromDirectory(join(PROJECT_ROOT, 'schema'));

  it('size every list field of the canonical schema', () => {
    const declared = readCostDirectives(canonical.document);
    const unsized: string[] = [];
    for (const type of canonical.objectTypes()) {
      for (const field of type.fields ?? []) {
        const served = gateway.schema.getType(type.name.value);
        const fieldType = isObjectType(served) ? served.getFields()[field.name.value]!.type : undefined;
        if (fieldType && isListType(getNullableType(fieldType)) && !declared.listSizes.has(`${type.name.value}.${field.name.value}`)) {
          unsized.push(`${type.name.value}.${field.name.value}`);
        }
      }
    }
    expect(unsized).toEqual([]);
    // The connection's page size comes from `first` on the root field.
    expect(declared.listSizes.get('Query.customers')).toMatchObject({ slicingArguments: ['first'], sizedFields: ['nodes'], requireOneSlicingArgument: true });
  });

  it('are read by the guard but left out of the subschemas the sources build', () => {
    expect(canonical.document.definitions.some((d) => d.kind === Kind.DIRECTIVE_DEFINITION && d.name.value === 'listSize')).toBe(true);
    const customer = canonical.object('Customer')!;
    expect(customer.fields!.every((field) => (field.directives ?? []).length === 0)).toBe(true);
    const source = readFileSync(join(PROJECT_ROOT, 'schema/canonical.graphql'), 'utf8');
    const written = parse(source).definitions.find((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Customer')!;
    expect(written.fields!.some((field) => (field.directives ?? []).length > 0)).toBe(true);
  });

  it('refuse to start with a directive that names a missing argument or a malformed weight, saying where', () => {
    const plan = buildFetchPlan(gateway.catalog, () => 'id');
    const broken = parse(`type Customer { orders(first: Int): [Order!] @listSize(slicingArguments: ["last"]) } type Order { id: ID! @cost(weight: "heavy") }`);
    expect(() => readCostDirectives(broken)).toThrow(/Order\.id: @cost\(weight: "heavy"\) needs weight as a string holding a number/);
    const wrongArgument = parse(`type Customer { orders(first: Int): [Order!] @listSize(slicingArguments: ["last"]) }`);
    expect(() => new CostModel(gateway.schema, readCostDirectives(wrongArgument), plan, config.guard.listSizes)).toThrow(CostDirectiveError);
    expect(() => new CostModel(gateway.schema, readCostDirectives(wrongArgument), plan, config.guard.listSizes)).toThrow(/Customer\.orders: @listSize names slicing argument "last"/);
  });
});

describe('points', () => {
  it('objects cost 1, scalars and enums 0, lists multiply by their slicing argument or assumed size', () => {
    expect(price('{ customer(id: "x") { id name segment } }').cost).toBe(1);
    // 1 connection + 7 customers; pageInfo is declared free (@cost(weight: "0")).
    expect(price('{ customers(first: 7) { totalCount pageInfo { hasNextPage } nodes { id } } }').cost).toBe(8);
    // orders without first: its assumed 15; tickets: 5; lines are free, openTicketCount weighs 1.
    expect(price('{ customer(id: "x") { orders { id lines { sku } } tickets { id } openTicketCount } }').cost).toBe(1 + 15 + 5 + 1);
    expect(price('{ customer(id: "x") { orders(first: 2) { id } } }').cost).toBe(3);
    expect(price('query($ids: [ID!]!) { customersByIds(ids: $ids) { id } }', { ids: ['a', 'b', 'c'] }).cost).toBe(3);
  });

  it('price fragments, inline fragments, aliases and variables as the plain query', () => {
    const plain = price('{ customers(first: 50) { nodes { id orders(first: 3) { number } tickets { subject } } } }');
    const variants = [
      ['query($n: Int) { customers(first: $n) { nodes { id orders(first: 3) { number } tickets { subject } } } }', { n: 50 }],
      ['{ customers(first: 50) { ...Page } } fragment Page on CustomerConnection { nodes { ...C } } fragment C on Customer { id orders(first: 3) { number } tickets { subject } }', undefined],
      ['{ customers(first: 50) { nodes { ... on Customer { id orders(first: 3) { number } } ... { tickets { subject } } } } }', undefined],
      ['{ customers(first: 50) { nodes { id orders(first: 3) { number } tickets { subject } tickets { subject } } } }', undefined],
      ['query($skip: Boolean!) { customers(first: 50) { nodes { id orders(first: 3) { number } tickets { subject } name @skip(if: $skip) } } }', { skip: true }],
    ] as const;
    for (const [query, variables] of variants) {
      const estimate = price(query, variables);
      expect({ cost: estimate.cost, calls: estimate.upstreamCalls }).toEqual({ cost: plain.cost, calls: plain.upstreamCalls });
    }
    // An alias is another field: it is priced again (its calls are shared, see below).
    expect(price('{ customers(first: 50) { nodes { id a: tickets { subject } b: tickets { subject } } } }').cost).toBe(1 + 50 + 2 * 250);
    expect(price('query($skip: Boolean!) { customers(first: 50) { nodes { tickets @skip(if: $skip) { id } } } }', { skip: true }).upstreamCalls).toEqual({ crm: 1 });
  });

  it('names the three most expensive paths with their share, and lists priced at an assumed size', () => {
    const estimate = price('{ customers(first: 100) { nodes { orders { id } tickets { id } } } }');
    expect(estimate.paths.slice(0, 3).map((p) => [p.path, p.amount])).toEqual([
      ['customers.nodes.orders', 1_500],
      ['customers.nodes.tickets', 500],
      ['customers.nodes', 100],
    ]);
    expect(estimate.paths[0]!.share).toBeCloseTo(1_500 / 2_101, 5);
    expect(estimate.unsliced.map((u) => [u.path, u.assumedSize])).toEqual([['customers.nodes.orders', 15]]);
  });

  it('needs exactly one slicing argument where the schema requires one: an explicit null is none', () => {
    const { errors } = price('{ customers(first: null) { nodes { id } } }');
    expect(errors.map((e) => e.extensions.code)).toEqual(['SLICING_ARGUMENT_REQUIRED']);
    expect(price('{ customers { nodes { id } } }').errors).toEqual([]);
  });

  it('prices a list root at most at the largest first it accepts (a larger one is refused as bad input)', () => {
    expect(price('{ customers(first: 5000) { nodes { id } } }').cost).toBe(1 + 1_000);
  });
});

describe('upstream calls', () => {
  it('the customer 360: one CRM page, order lookups by 50 accounts, one support call per customer', () => {
    for (const first of [5, 50, 200, 450]) {
      const { upstreamCalls } = price(config.examples[0]!.query, { first });
      expect(upstreamCalls).toEqual({ crm: Math.ceil(first / 200), orders: Math.ceil(first / 50), support: first });
    }
  });

  it('fields served by the same lookup of the same records share its calls', () => {
    const estimate = price('{ customers(first: 120) { nodes { orders(first: 2) { id } all: orders { id } orderSummary { count } tickets { id } open: tickets(status: OPEN) { id } openTicketCount } } }');
    expect(estimate.upstreamCalls).toEqual({ crm: 1, orders: 3, support: 120 });
    expect(estimate.callPaths.support![0]!.path).toBe('customers.nodes.tickets + customers.nodes.open + customers.nodes.openTicketCount');
  });

  it('a join back to the records a join came from costs nothing, however deep it circles', () => {
    const once = price('{ customers(first: 100) { nodes { orders { id } tickets { id } } } }').upstreamCalls;
    const circling = price(`{ customers(first: 100) { nodes { orders { customer { orders { customer { name tickets { id } } } } } tickets { customer { name } } } } }`);
    expect(circling.upstreamCalls).toEqual(once);
    // ...while its points grow with every level.
    expect(circling.cost).toBeGreaterThan(10_000);
  });

  it('lookups without a batch endpoint cost one call per distinct value; with one, one call per batch', () => {
    const orders = Array.from({ length: 30 }, (_, i) => `o${i}: order(id: "${500_000 + (i % 20)}") { id customer { id } }`).join('\n');
    expect(price(`{ ${orders} }`).upstreamCalls).toEqual({ orders: 20, crm: 1 });
    const ids = Array.from({ length: 250 }, (_, i) => `id${i}`);
    expect(price('query($ids: [ID!]!) { customersByIds(ids: $ids) { id } }', { ids: [...ids, ...ids.slice(0, 10)] }).upstreamCalls).toEqual({ crm: 3 });
    expect(price('query($ids: [ID!]!) { customersByIds(ids: $ids) { id } }', { ids }).cost).toBe(250);
  });
});

describe('upstream calls through a master-data service', () => {
  /** Both joins of the customer through one master-data entity, its lookup by CRM id batched by `batchSize`. */
  async function serviceGuard(batchSize: number, orderRefsSize?: number) {
    const input = structuredClone(baseConfig);
    input.sources.mdm = {
      baseUrl: 'http://127.0.0.1:1/mdm',
      entities: {
        CustomerLink: {
          key: 'crmId',
          fields: { crmId: 'crm_id', orderRefs: { from: 'order_refs', type: '[ID!]', assumedSize: orderRefsSize }, emails: { from: 'emails', type: '[String!]' } },
          lookups: {
            crmId: { method: 'POST', path: '/by-crm', body: { ids: '{values}' }, unique: true, batch: { maxSize: batchSize } },
            orderRefs: { method: 'POST', path: '/by-ref', body: { refs: '{values}' }, unique: false, batch: { maxSize: 100 } },
            emails: { method: 'POST', path: '/by-email', body: { emails: '{values}' }, unique: false, batch: { maxSize: 100 } },
          },
          query: { one: false, many: false, list: false },
        },
      },
    };
    input.mappings!.customerOrders!.via = { kind: 'service', entity: 'CustomerLink', from: 'crmId', to: 'orderRefs', cacheTtlMs: 0 };
    input.mappings!.customerTickets = { ...input.mappings!.customerTickets!, from: { entity: 'Customer', field: 'id' }, via: { kind: 'service', entity: 'CustomerLink', from: 'crmId', to: 'emails', cacheTtlMs: 0 } };
    const serviceConfig = validateConfig(input);
    const generation = await createGeneration(serviceConfig, { baseDir: PROJECT_ROOT, env: process.env });
    const serviceGuard = QueryCostGuard.forGateway(generation);
    const estimate = (query: string) => priceDocument(serviceGuard, serviceConfig.guard.limits, query, {}).estimate!;
    const printed = (query: string) => formatPrice(serviceGuard, priceDocument(serviceGuard, serviceConfig.guard.limits, query, {}));
    return { generation, estimate, printed };
  }

  it('counts one set of calls for every crosswalk over the entity, by its catalog loader: a batch size moves the prediction', async () => {
    for (const [batchSize, calls] of [[100, 1], [25, 4]] as const) {
      const { generation, estimate, printed } = await serviceGuard(batchSize, 1);
      try {
        const both = estimate('{ customers(first: 100) { nodes { orders { id } tickets { id } } } }');
        expect(both.upstreamCalls.mdm).toBe(calls);
        // What `virtualize cost` prints names the service's calls beside the others.
        expect(printed('{ customers(first: 100) { nodes { orders { id } tickets { id } } } }')).toMatch(new RegExp(`^upstream calls: .*\\bmdm ${calls}\\b`, 'm'));
        expect(both.upstreamCalls.orders).toBe(2);
        expect(estimate('{ customers(first: 100) { nodes { orders { id } } } }').upstreamCalls.mdm).toBe(calls);
        // The way back asks the service by the 100 orders' refs (not unique: not held), then finds the customer already fetched.
        const back = estimate('{ customers(first: 100) { nodes { orders(first: 1) { customer { id } } } } }');
        expect(back.upstreamCalls.mdm).toBe(calls + 1);
        expect(back.upstreamCalls.crm).toBe(1);
      } finally {
        await generation.close();
      }
    }
  });

  it('asks for every order account a link lists: its declared assumedSize, else guard.listSizes.list', async () => {
    for (const [orderRefsSize, calls] of [[3, 6], [undefined, 20]] as const) {
      const { generation, estimate } = await serviceGuard(100, orderRefsSize);
      try {
        // 100 customers, one link each by CRM id, each listing orderRefsSize accounts (10 undeclared), asked 50 per call.
        expect(estimate('{ customers(first: 100) { nodes { orders { id } } } }').upstreamCalls).toMatchObject({ mdm: 1, orders: calls });
      } finally {
        await generation.close();
      }
    }
  });
});
