/**
 * Join fields on list-valued keys, executed on their own subschema (no HTTP, no stitching): the
 * joined list is the union of the partners of every element, each record once, in the order of
 * the elements and then of each key's records; keys are asked once each, in one batch. The
 * request's loaders are stand-ins that hand out records by key and count what they are asked;
 * crosswalk pairs sit in a memory store behind the real crosswalk loaders.
 */
import { join } from 'node:path';
import { execute, parse, type ExecutionResult } from 'graphql';
import baseConfig from '../../virtualization.config';
import { compileCatalog } from '../../src/catalog/compile-catalog';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { validateConfig } from '../../src/config/validate';
import type { CanonicalRecord } from '../../src/connectors/record-mapper';
import type { RequestLoaders } from '../../src/connectors/request-loaders';
import { CanonicalSchema } from '../../src/federation/canonical-schema';
import type { FederationContext } from '../../src/federation/request-context';
import { buildSourceSubschemas } from '../../src/federation/source-subschemas';
import { CrosswalkLoaders } from '../../src/mapping/join-keys';
import { MemoryMappingStore } from '../../src/mapping/mapping-store';
import { masterDataSource } from '../support/master-data';

const input = structuredClone(baseConfig) as VirtualizationConfigInput;
input.sources.mdm = masterDataSource('http://127.0.0.1:1/mdm');
input.mappings = {
  ...input.mappings,
  masterOrders: { from: { entity: 'MasterRecord', field: 'shop' }, to: { entity: 'Order', field: 'customerRef' }, via: { kind: 'fieldKey' }, forward: { field: 'orders' } },
  masterCrmOrders: { from: { entity: 'MasterRecord', field: 'crmIds' }, to: { entity: 'Order', field: 'customerRef' }, via: { kind: 'crosswalk' }, forward: { field: 'crmOrders' } },
  customerMasters: { from: { entity: 'Customer', field: 'id' }, to: { entity: 'MasterRecord', field: 'crmIds' }, via: { kind: 'fieldKey' }, forward: { field: 'masters' }, inverse: { field: 'customers' } },
};
const { subschemas } = buildSourceSubschemas(compileCatalog(validateConfig(input)), CanonicalSchema.fromDirectory(join(__dirname, '../../schema')));
const schemaOf = (source: string) => subschemas.find((subschema) => subschema.name === source)!.schema;

async function contextWith(records: Record<string, CanonicalRecord[]>, pairs: Array<[string, string]> = []) {
  const asked: Array<{ field: string; keys: readonly string[] }> = [];
  const store = new MemoryMappingStore();
  await store.add('masterCrmOrders', pairs);
  const loaders: Pick<RequestLoaders, 'loadMany' | 'loadOne'> = {
    loadMany: async ({ lookup: { field } }, keys) => {
      asked.push({ field, keys });
      return keys.map((key) => records[key] ?? []);
    },
    loadOne: async ({ lookup: { field } }, key) => {
      asked.push({ field, keys: [key] });
      return records[key]?.[0] ?? null;
    },
  };
  const context: FederationContext = { loaders: loaders as RequestLoaders, crosswalks: new CrosswalkLoaders(store), upstreamCalls: [] } as unknown as FederationContext;
  return { context, asked };
}

const run = (source: string, document: string, context: FederationContext): Promise<ExecutionResult> =>
  Promise.resolve(execute({ schema: schemaOf(source), document: parse(document), contextValue: context }));
const keys = (...values: Array<Record<string, unknown>>) => JSON.stringify(values.map((value) => JSON.stringify(value)));
const order = (id: string): CanonicalRecord => ({ id, number: id });

describe('a forward join from a list-valued field key: MasterRecord.orders from shop', () => {
  it('answers the union of the records of every element, each once, in the order of the elements, asking each key once', async () => {
    // Order o2 is found by both accounts (an order system that files it under each).
    const { context, asked } = await contextWith({ '8812': [order('o1'), order('o2')], '9001': [order('o2'), order('o3')], '7000': [order('o4')] });
    const result = await run('orders', `{ _orders_MasterRecord(keys: ${keys({ shop: [8812, 9001, 8812] }, { shop: [] }, { shop: null }, { shop: ['7000'] })}) { orders { id } } }`, context);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      _orders_MasterRecord: [{ orders: [{ id: 'o1' }, { id: 'o2' }, { id: 'o3' }] }, { orders: [] }, { orders: [] }, { orders: [{ id: 'o4' }] }],
    });
    expect(asked).toEqual([
      { field: 'customerRef', keys: ['8812', '9001'] },
      { field: 'customerRef', keys: ['7000'] },
    ]);
  });
});

describe('a forward join from a list-valued key through a crosswalk: MasterRecord.crmOrders from crmIds', () => {
  it('joins the partners of every element, each partner asked once', async () => {
    const { context, asked } = await contextWith({ R1: [order('o1')], R2: [order('o2')], R3: [order('o3')] }, [
      ['C1', 'R1'],
      ['C1', 'R2'],
      ['C2', 'R2'],
      ['C2', 'R3'],
    ]);
    const result = await run('orders', `{ _orders_MasterRecord(keys: ${keys({ crmIds: ['C2', 'C1'] }, { crmIds: ['C9'] })}) { crmOrders { id } } }`, context);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ _orders_MasterRecord: [{ crmOrders: [{ id: 'o2' }, { id: 'o3' }, { id: 'o1' }] }, { crmOrders: [] }] });
    expect(asked.flatMap((call) => call.keys)).toEqual(['R2', 'R3', 'R1']);
  });
});

describe('an inverse join from a list-valued to-field: MasterRecord.customers from crmIds', () => {
  it('is a list type with the partner of every element, in the order of the elements', async () => {
    const field = schemaOf('crm').getType('MasterRecord')!.toConfig() as { fields: Record<string, { type: unknown }> };
    expect(String(field.fields.customers!.type)).toBe('[Customer!]');
    const { context } = await contextWith({ C1: [{ id: 'C1' }], C2: [{ id: 'C2' }] });
    const result = await run('crm', `{ _crm_MasterRecord(keys: ${keys({ crmIds: ['C2', 'C1', 'C2', 'C9'] }, { crmIds: [] })}) { customers { id } } }`, context);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ _crm_MasterRecord: [{ customers: [{ id: 'C2' }, { id: 'C1' }] }, { customers: [] }] });
  });
});
