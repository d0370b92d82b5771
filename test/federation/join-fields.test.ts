/**
 * Join fields of the source subschemas, executed on their own (no HTTP, no stitching): the
 * arguments of a forward join (`first` slices after ordering, a filter argument keeps matching
 * records), its summaries (count, sum, single, max, a count with a condition), keys without
 * partners, and the inverse join. The request's loaders are stand-ins that hand out records by key
 * and count what they are asked; crosswalk pairs sit in a memory store behind the real loaders.
 */
import { RejectionTally } from '../../src/connectors/record-rejections';
import { join } from 'node:path';
import { execute, parse, type ExecutionResult, type GraphQLSchema } from 'graphql';
import baseConfig from '../../virtualization.config';
import { compileCatalog } from '../../src/catalog/compile-catalog';
import { validateConfig } from '../../src/config/validate';
import type { CanonicalRecord } from '../../src/connectors/record-mapper';
import type { RequestLoaders } from '../../src/connectors/request-loaders';
import { CanonicalSchema } from '../../src/federation/canonical-schema';
import type { FederationContext } from '../../src/federation/request-context';
import { buildSourceSubschemas } from '../../src/federation/source-subschemas';
import { CrosswalkLoaders } from '../../src/mapping/join-keys';
import { MemoryMappingStore } from '../../src/mapping/mapping-store';

const config = validateConfig(baseConfig);
const { subschemas } = buildSourceSubschemas(compileCatalog(config), CanonicalSchema.fromDirectory(join(__dirname, '../../schema')));
const schemaOf = (source: string): GraphQLSchema => subschemas.find((subschema) => subschema.name === source)!.schema;

interface Asked {
  source: string;
  entity: string;
  field: string;
  keys: readonly string[];
  normalize: string | undefined;
}

/** A request context whose loaders answer from `records` (by key) and record every call. */
async function contextWith(records: Record<string, CanonicalRecord[]>, pairs: Array<[string, string]> = []): Promise<{ context: FederationContext; asked: Asked[] }> {
  const asked: Asked[] = [];
  const store = new MemoryMappingStore();
  await store.add('customerOrders', pairs);
  const loaders: Pick<RequestLoaders, 'loadMany' | 'loadOne'> = {
    loadMany: async ({ lookup: { source, entity, field }, normalize }, keys) => {
      asked.push({ source, entity, field, keys, normalize });
      return keys.map((key) => records[key] ?? []);
    },
    loadOne: async ({ lookup: { source, entity, field }, normalize }, key) => {
      asked.push({ source, entity, field, keys: [key], normalize });
      return records[key]?.[0] ?? null;
    },
  };
  // Only the two loader methods join fields call are stood in for.
  return { context: { loaders: loaders as RequestLoaders, crosswalks: new CrosswalkLoaders(store), upstreamCalls: [], rejected: new RejectionTally() }, asked };
}

async function run(source: string, document: string, context: FederationContext): Promise<ExecutionResult> {
  return execute({ schema: schemaOf(source), document: parse(document), contextValue: context });
}

/** The merge entry point stitching calls with the key fields of `typeName` records. */
const keys = (...values: Array<Record<string, unknown>>) => JSON.stringify(values.map((value) => JSON.stringify(value)));

const order = (number: string, placedAt: string, total: number, currency = 'EUR', status = 'PAID'): CanonicalRecord => ({ id: `o-${number}`, number, placedAt, total, currency, status });

describe('a forward join with arguments: Customer.orders', () => {
  const pairs: Array<[string, string]> = [
    ['C1', 'R1'],
    ['C1', 'R2'],
    ['C2', 'R3'],
  ];
  const records = {
    R1: [order('1', '2024-03-01T10:00:00Z', 10), order('2', '2024-05-01T10:00:00Z', 20)],
    R2: [order('3', '2024-04-01T10:00:00Z', 30)],
    R3: [order('4', '2023-01-01T00:00:00Z', 5)],
  };

  it('orders the records of every partner by placedAt, newest first, and slices to `first` after ordering', async () => {
    const { context, asked } = await contextWith(records, pairs);
    const result = await run('orders', `{ _orders_Customer(keys: ${keys({ id: 'C1' })}) { all: orders { number } two: orders(first: 2) { number } none: orders(first: 0) { number } } }`, context);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ _orders_Customer: [{ all: [{ number: '2' }, { number: '3' }, { number: '1' }], two: [{ number: '2' }, { number: '3' }], none: [] }] });
    // Every field of the parent read one lookup, by the customer's partners in the crosswalk.
    expect(asked).toEqual([{ source: 'orders', entity: 'Order', field: 'customerRef', keys: ['R1', 'R2'], normalize: 'none' }]);
  });

  it('refuses a negative `first` as BAD_USER_INPUT naming the argument, on that field alone', async () => {
    const { context } = await contextWith(records, pairs);
    const result = await run('orders', `{ _orders_Customer(keys: ${keys({ id: 'C1' })}) { orders(first: -1) { number } orderSummary { count } } }`, context);
    expect(result.errors?.map((error) => [error.message, error.path, error.extensions.code, error.extensions.argument])).toEqual([
      ['"first" must not be negative (got -1)', ['_orders_Customer', 0, 'orders'], 'BAD_USER_INPUT', 'first'],
    ]);
    expect(result.data).toEqual({ _orders_Customer: [{ orders: null, orderSummary: { count: 3 } }] });
  });

  it('answers a customer without partners (or without a key) with an empty list and an empty summary, asking for no key', async () => {
    const { context, asked } = await contextWith(records, pairs);
    const result = await run('orders', `{ _orders_Customer(keys: ${keys({ id: 'C9' }, { id: null })}) { orders { number } orderSummary { count totalSpent currency lastOrderAt } } }`, context);
    expect(result.errors).toBeUndefined();
    const empty = { orders: [], orderSummary: { count: 0, totalSpent: null, currency: null, lastOrderAt: null } };
    expect(result.data).toEqual({ _orders_Customer: [empty, empty] });
    expect(asked.flatMap((call) => call.keys)).toEqual([]);
  });
});

describe('summaries of a forward join: Customer.orderSummary', () => {
  async function summary(orders: CanonicalRecord[]): Promise<unknown> {
    const { context } = await contextWith({ R1: orders }, [['C1', 'R1']]);
    const result = await run('orders', `{ _orders_Customer(keys: ${keys({ id: 'C1' })}) { orderSummary { count totalSpent currency lastOrderAt } } }`, context);
    expect(result.errors).toBeUndefined();
    return (result.data as { _orders_Customer: Array<{ orderSummary: unknown }> })._orders_Customer[0]!.orderSummary;
  }

  it('counts, sums without floating-point noise, takes the one currency and the newest date', async () => {
    expect(await summary([order('1', '2024-03-01T10:00:00Z', 0.1), order('2', '2024-12-24T08:30:00Z', 0.2), order('3', '2024-11-30T23:59:59Z', 1)])).toEqual({
      count: 3,
      totalSpent: 1.3,
      currency: 'EUR',
      lastOrderAt: '2024-12-24T08:30:00Z',
    });
  });

  it('says no currency and no total when the orders have several currencies (10 EUR and 5 USD are not 15 of anything)', async () => {
    const noTotal: CanonicalRecord = { ...order('3', '2025-01-01T00:00:00Z', 0), total: null };
    expect(await summary([order('1', '2024-03-01T10:00:00Z', 10, 'EUR'), order('2', '2024-04-01T10:00:00Z', 5, 'USD'), noTotal])).toMatchObject({
      count: 3,
      totalSpent: null,
      currency: null,
      lastOrderAt: '2025-01-01T00:00:00Z',
    });
  });

  it('sums the orders that have a total when they share one currency, leaving out values that are missing', async () => {
    const noTotal: CanonicalRecord = { ...order('3', '2025-01-01T00:00:00Z', 0), total: null };
    expect(await summary([order('1', '2024-03-01T10:00:00Z', 10, 'EUR'), order('2', '2024-04-01T10:00:00Z', 5, 'EUR'), noTotal])).toMatchObject({
      count: 3,
      totalSpent: 15,
      currency: 'EUR',
      lastOrderAt: '2025-01-01T00:00:00Z',
    });
  });
});

describe('a join on a normalized shared field: Customer.tickets and openTicketCount', () => {
  const ticket = (id: string, status: string, openedAt: string): CanonicalRecord => ({ id, subject: `subject ${id}`, status, openedAt });
  const records = {
    'ann@example.com': [ticket('t1', 'SOLVED', '2024-01-01T00:00:00Z'), ticket('t2', 'OPEN', '2024-03-01T00:00:00Z'), ticket('t3', 'NEW', '2024-02-01T00:00:00Z'), ticket('t4', 'PENDING', '2023-01-01T00:00:00Z')],
  };

  it('looks the tickets up by the email trimmed and lower-cased, filters by `status`, and counts the open ones', async () => {
    const { context, asked } = await contextWith(records);
    const result = await run('support', `{ _support_Customer(keys: ${keys({ email: '  Ann@Example.COM ' })}) { tickets { id } open: tickets(status: OPEN) { id } openTicketCount } }`, context);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ _support_Customer: [{ tickets: [{ id: 't2' }, { id: 't3' }, { id: 't1' }, { id: 't4' }], open: [{ id: 't2' }], openTicketCount: 3 }] });
    expect(asked).toEqual([{ source: 'support', entity: 'Ticket', field: 'requesterEmail', keys: ['ann@example.com'], normalize: expect.any(String) }]);
  });
});

describe('an inverse join: Order.customer', () => {
  it('finds the one customer through the crosswalk backwards, and null for an order without a partner', async () => {
    const { context, asked } = await contextWith({ C1: [{ id: 'C1', name: 'Ann' }] }, [['C1', 'R1']]);
    const result = await run('crm', `{ _crm_Order(keys: ${keys({ customerRef: 'R1' }, { customerRef: 'R9' })}) { customer { id name } } }`, context);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ _crm_Order: [{ customer: { id: 'C1', name: 'Ann' } }, { customer: null }] });
    expect(asked.map((call) => [call.source, call.entity, call.field, call.keys])).toEqual([['crm', 'Customer', 'id', ['C1']]]);
  });
});
