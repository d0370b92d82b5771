/**
 * Prices of generated types (no `schema/`: every type comes from the source declarations): items
 * that arrive inside their parent's payload weigh 0, a join finding one partner at most is sized 1,
 * an `assumedSize` declared in the definition sizes its field, and the defaults let a page of 50
 * customer 360s run under `maxCost` and four of them at once within one client's budget.
 */
import baseConfig from '../../virtualization.config';
import type { FieldMapping, VirtualizationConfigInput } from '../../src/config/definition';
import { validateConfig } from '../../src/config/validate';
import type { Gateway } from '../../src/federation/gateway';
import { priceDocument } from '../../src/guard/price-document';
import { QueryCostGuard } from '../../src/guard/query-cost-guard';
import { createGeneration } from '../../src/runtime/generations';
import { PROJECT_ROOT } from '../support/harness';

/** The customer 360 of a dashboard: customers with their orders, the orders' lines, and tickets. */
const CUSTOMER_360 = `query($first: Int) { customers(first: $first) { nodes { id name email orders { number total lines { sku quantity } } tickets { subject status } } } }`;

function generated(change: (config: VirtualizationConfigInput) => VirtualizationConfigInput = (c) => c): VirtualizationConfigInput {
  return change({ ...structuredClone(baseConfig), schemaDir: false });
}

async function guardOf(input: VirtualizationConfigInput) {
  const config = validateConfig(input);
  const gateway: Gateway = await createGeneration(config, { baseDir: PROJECT_ROOT, env: process.env });
  return { config, gateway, guard: QueryCostGuard.forGateway(gateway) };
}

function priced(g: Awaited<ReturnType<typeof guardOf>>, query: string, variables?: Record<string, unknown>) {
  const result = priceDocument(g.guard, g.config.guard.limits, query, { variables });
  if (!result.estimate) throw new Error(`not priced: ${result.errors.map((e) => e.message).join('; ')}`);
  return { ...result.estimate, errors: result.errors };
}

describe('generated types at the defaults', () => {
  let g: Awaited<ReturnType<typeof guardOf>>;
  beforeAll(async () => {
    g = await guardOf(generated());
  });
  afterAll(() => g.gateway.close());

  it('order lines arrive inside the order: they weigh 0, however many there are', () => {
    const withLines = priced(g, '{ customers(first: 10) { nodes { orders { number lines { sku quantity unitPrice } } } } }');
    const without = priced(g, '{ customers(first: 10) { nodes { orders { number } } } }');
    expect(withLines.cost).toBe(without.cost);
    // 1 connection + 10 customers + 10 × 20 orders (guard.listSizes.join).
    expect(without.cost).toBe(1 + 10 + 10 * 20);
    expect(withLines.upstreamCalls).toEqual(without.upstreamCalls);
  });

  it('a page of 50 customer 360s is priced under maxCost, and four at once fit one client budget', () => {
    const page = priced(g, CUSTOMER_360, { first: 50 });
    // 1 connection + 50 customers + 50 × 20 orders (their lines 0) + 50 × 20 tickets.
    expect(page.cost).toBe(1 + 50 + 50 * 20 + 50 * 20);
    expect(page.errors).toEqual([]);
    expect(page.cost).toBeLessThanOrEqual(g.config.guard.maxCost);
    expect(4 * page.cost).toBeLessThanOrEqual(g.config.guard.budget.capacity);
  });

  it('a hostile page is still refused: 1,000 customers with their orders and tickets', () => {
    const result = priceDocument(g.guard, g.config.guard.limits, CUSTOMER_360, { variables: { first: 1_000 } });
    expect(result.errors.map((e) => e.extensions?.code)).toEqual(['COST_LIMIT_EXCEEDED']);
  });
});

describe('sizes the definition declares', () => {
  let g: Awaited<ReturnType<typeof guardOf>>;
  beforeAll(async () => {
    g = await guardOf(
      generated((config) => {
        const mappings = config.mappings!;
        const orders = config.sources.orders!.entities.Order!;
        const lines = orders.fields.lines as Exclude<FieldMapping, string>;
        return {
          ...config,
          sources: { ...config.sources, orders: { ...config.sources.orders!, entities: { Order: { ...orders, fields: { ...orders.fields, lines: { ...lines, assumedSize: 3 } } } } } },
          mappings: {
            ...mappings,
            customerOrders: { ...mappings.customerOrders!, forward: { ...mappings.customerOrders!.forward, assumedSize: 4 } },
            // Customers by their email, unique in the CRM: one partner at most per ticket.
            ticketRequester: {
              from: { entity: 'Ticket', field: 'requesterEmail' },
              to: { entity: 'Customer', field: 'email' },
              via: { kind: 'fieldKey', normalize: 'email' },
              forward: { field: 'requesters' },
            },
          },
        };
      }),
    );
  });
  afterAll(() => g.gateway.close());

  it('assumedSize on a mapping\'s forward side sizes its join', () => {
    expect(priced(g, '{ customers(first: 10) { nodes { orders { number } } } }').cost).toBe(1 + 10 + 10 * 4);
  });

  it('a slicing argument still wins over the declared size', () => {
    expect(priced(g, '{ customers(first: 10) { nodes { orders(first: 2) { number } } } }').cost).toBe(1 + 10 + 10 * 2);
  });

  it('a field-key join to a unique lookup is sized 1: the orders below it are asked for one customer', () => {
    const estimate = priced(g, '{ ticket(id: "1") { requesters { id orders { number } } } }');
    // The ticket, its one requester, their 4 orders.
    expect(estimate.cost).toBe(1 + 1 + 4);
  });

  it('assumedSize on an entity\'s list field sizes it; its items still weigh 0 until they hold an object', () => {
    const model = g.guard.model.field('Order', 'lines')!;
    expect(model.listSize?.assumedSize).toBe(3);
    expect(model.weight).toBe(0);
  });
});
