/**
 * Identities: every field value that names the same thing as one changed ref, found through the
 * id mappings of the built-in configuration (the crosswalk both ways, the email key normalized)
 * and through the records met on the way, which are fetched from their sources. Sources here are
 * stand-ins that answer lookups from a table and record what they were asked.
 */
import baseConfig from '../../virtualization.config';
import { compileCatalog } from '../../src/catalog/compile-catalog';
import { entitiesOf, identitiesOf, isEntityRef, valuesOf, type EntityRef } from '../../src/cache/identities';
import { validateConfig } from '../../src/config/validate';
import type { CanonicalRecord } from '../../src/connectors/record-mapper';
import type { SourceConnector } from '../../src/connectors/source-connector';
import { MemoryMappingStore } from '../../src/mapping/mapping-store';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { masterDataSource } from '../support/master-data';

const catalog = compileCatalog(validateConfig(baseConfig));

/** Records by entity, field and value, as each source would answer a lookup. */
const RECORDS: Record<string, Record<string, Record<string, CanonicalRecord[]>>> = {
  crm: {
    'Customer.id': { C1: [{ id: 'C1', email: ' Ann@Example.com' }] },
    'Customer.email': { ' Ann@Example.com': [{ id: 'C1', email: ' Ann@Example.com' }], 'ann@example.com': [{ id: 'C1', email: ' Ann@Example.com' }] },
  },
  orders: { 'Order.customerRef': { '701': [{ id: '9001', customerRef: 701 }], '702': [] } },
  support: { 'Ticket.requesterEmail': { 'ann@example.com': [{ id: '55', requesterEmail: 'ANN@example.com' }] } },
};

async function fixture(): Promise<{ store: MemoryMappingStore; connectors: Map<string, SourceConnector>; asked: string[] }> {
  const store = new MemoryMappingStore();
  await store.add('customerOrders', [
    ['C1', '701'],
    ['C1', '702'],
  ]);
  const asked: string[] = [];
  const connectors = new Map<string, SourceConnector>();
  for (const [source, tables] of Object.entries(RECORDS)) {
    const stand: Pick<SourceConnector, 'lookup'> = {
      lookup: async (entity, field, values) => {
        asked.push(`${source} ${entity}.${field} ${values.join(',')}`);
        return new Map(values.map((value) => [value, tables[`${entity}.${field}`]?.[value] ?? []]));
      },
    };
    // identitiesOf calls nothing else of a connector.
    connectors.set(source, stand as SourceConnector);
  }
  return { store, connectors, asked };
}

const sorted = (refs: EntityRef[]) => refs.map((ref) => `${ref.entity}.${ref.field}=${ref.value}`).sort();

describe('identities of a changed record', () => {
  it('follows a customer id through the crosswalk, its record, and its email to the tickets, raw and normalized', async () => {
    const { store, connectors, asked } = await fixture();
    const found = await identitiesOf({ entity: 'Customer', field: 'id', value: 'C1' }, catalog, store, connectors);
    expect(sorted(found)).toEqual([
      'Customer.email= Ann@Example.com',
      'Customer.email=ann@example.com',
      'Customer.id=C1',
      'Order.customerRef=701',
      'Order.customerRef=702',
      'Ticket.requesterEmail=ANN@example.com',
      'Ticket.requesterEmail=ann@example.com',
    ]);
    // Each record named on the way was fetched once, by the field it was named by, for three rounds
    // (the normalized email, reached in the third from the tickets, is not looked up again).
    expect(asked.sort()).toEqual([
      'crm Customer.email  Ann@Example.com',
      'crm Customer.id C1',
      'orders Order.customerRef 701',
      'orders Order.customerRef 702',
      'support Ticket.requesterEmail ann@example.com',
    ]);
  });

  it('follows an order system ref back through the crosswalk to the customer and on to the other refs', async () => {
    const { store, connectors } = await fixture();
    const found = sorted(await identitiesOf({ entity: 'Order', field: 'customerRef', value: '701' }, catalog, store, connectors));
    expect(found).toEqual(expect.arrayContaining(['Order.customerRef=701', 'Customer.id=C1', 'Order.customerRef=702', 'Customer.email= Ann@Example.com']));
    // Three rounds: the ref, its customer, the customer's other keys and the tickets' key; the
    // ticket records themselves (with their raw requester email) lie a round further.
    expect(found).toContain('Ticket.requesterEmail=ann@example.com');
    expect(found).not.toContain('Ticket.requesterEmail=ANN@example.com');
  });

  it('names only the ref itself when no mapping joins its field and no source looks it up by it', async () => {
    const { store, connectors, asked } = await fixture();
    const ref = { entity: 'Order', field: 'id', value: '9001' };
    expect(await identitiesOf(ref, catalog, store, connectors)).toEqual([ref]);
    expect(asked).toEqual(['orders Order.id 9001']);
  });

  it('goes on without a partner: a customer missing from the crosswalk still reaches its tickets by email', async () => {
    const { store, connectors } = await fixture();
    const found = sorted(await identitiesOf({ entity: 'Customer', field: 'email', value: 'ANN@example.com ' }, catalog, store, connectors));
    expect(found).toEqual(expect.arrayContaining(['Customer.email=ANN@example.com ', 'Ticket.requesterEmail=ann@example.com']));
  });
});

describe('identities through a key that holds a list', () => {
  it('names the thing by each element of a golden record\'s list of accounts, and the orders of every account', async () => {
    const input = structuredClone(baseConfig) as VirtualizationConfigInput;
    input.sources.mdm = masterDataSource('http://127.0.0.1:1/mdm');
    input.mappings = { ...input.mappings, masterOrders: { from: { entity: 'MasterRecord', field: 'shop' }, to: { entity: 'Order', field: 'customerRef' }, via: { kind: 'fieldKey' }, forward: { field: 'orders' } } };
    const withMasters = compileCatalog(validateConfig(input));
    const { store, connectors } = await fixture();
    const master: CanonicalRecord = { id: 'M1', crmIds: ['C1'], shop: ['701', '703'], desk: [] };
    connectors.set('mdm', { lookup: async (_entity: string, _field: string, values: readonly string[]) => new Map(values.map((value) => [value, value === 'M1' ? [master] : []])) } as unknown as SourceConnector);
    const found = sorted(await identitiesOf({ entity: 'MasterRecord', field: 'id', value: 'M1' }, withMasters, store, connectors));
    expect(found).toEqual(expect.arrayContaining(['MasterRecord.shop=701', 'MasterRecord.shop=703', 'Order.customerRef=701', 'Order.customerRef=703']));
    expect(found.filter((ref) => ref.includes(','))).toEqual([]);
  });
});

describe('what identities tag and index', () => {
  const refs: EntityRef[] = [
    { entity: 'Customer', field: 'id', value: 'C1' },
    { entity: 'Customer', field: 'email', value: 'ann@example.com' },
    { entity: 'Order', field: 'customerRef', value: '701' },
    { entity: 'Order', field: 'id', value: '701' },
    { entity: 'Ticket', field: 'id', value: '55' },
  ];

  it('tags the upstream-call cache with each value once, whatever field it is of', () => {
    expect(valuesOf(refs)).toEqual(['C1', 'ann@example.com', '701', '55']);
  });

  it('indexes answers by the entities named by their key field only', () => {
    expect(entitiesOf(refs, catalog)).toEqual([
      { typename: 'Customer', id: 'C1' },
      { typename: 'Order', id: '701' },
      { typename: 'Ticket', id: '55' },
    ]);
    expect(entitiesOf([{ entity: 'Nothing', field: 'id', value: '1' }], catalog)).toEqual([]);
  });

  it('tells an entity ref received from elsewhere from anything else', () => {
    expect(isEntityRef({ entity: 'Customer', field: 'id', value: 'C1' })).toBe(true);
    expect(isEntityRef({ entity: 'Customer', field: 'id', value: 1 })).toBe(false);
    expect(isEntityRef({ entity: 'Customer', field: 'id' })).toBe(false);
    expect(isEntityRef(null)).toBe(false);
    expect(isEntityRef('Customer.id=C1')).toBe(false);
  });
});
