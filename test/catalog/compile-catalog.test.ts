/**
 * The catalog compiled from the built-in configuration: owning sources, root field names, loader
 * identities and batch sizes, mapping sides, and errors that name what exists.
 */
import baseConfig from '../../virtualization.config';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { validateConfig } from '../../src/config/validate';
import { Catalog } from '../../src/catalog/catalog';
import { CatalogDefinitionError, UnknownCatalogNameError } from '../../src/catalog/catalog-errors';
import { compileCatalog, LIST_MAX_FIRST } from '../../src/catalog/compile-catalog';

const config = validateConfig(baseConfig);
const catalog = compileCatalog(config);

/** The built-in configuration with one change, validated. */
function configured(change: (input: VirtualizationConfigInput) => void) {
  const input = structuredClone(baseConfig);
  change(input);
  return validateConfig(input);
}

describe('the catalog of the built-in configuration', () => {
  it('knows the source that owns each entity, and the entities of each source', () => {
    expect(Object.fromEntries([...catalog.entities.values()].map((entity) => [entity.name, entity.source]))).toEqual({ Customer: 'crm', Order: 'orders', Ticket: 'support' });
    expect(catalog.ownerOf('Order')).toBe('orders');
    expect(catalog.source('crm').entities).toEqual(['Customer']);
    expect(catalog.source('support').maxCallsPerRequest).toBe(250);
  });

  it('publishes the root fields the definitions ask for, and only those their endpoints can serve', () => {
    expect(catalog.entity('Customer').roots).toEqual({ one: 'customer', many: 'customersByIds', list: 'customers' });
    // `many: false` in the definition, and no list endpoint.
    expect(catalog.entity('Order').roots).toEqual({ one: 'order', many: false, list: false });
  });

  it('names root fields by default from the entity and its plural; many with or without a batch key lookup, list only with a list', () => {
    const renamed = compileCatalog(
      configured((input) => {
        const customer = input.sources.crm!.entities.Customer!;
        delete customer.query;
        customer.plural = 'people';
        const ticket = input.sources.support!.entities.Ticket!;
        delete ticket.query;
      }),
    );
    expect(renamed.entity('Customer').roots).toEqual({ one: 'customer', many: 'peopleByIds', list: 'people' });
    // The desk's key lookup takes one id per call (ticketsByIds calls once per id), and tickets have no list.
    expect(renamed.entity('Ticket').roots).toEqual({ one: 'ticket', many: 'ticketsByIds', list: false });
  });

  it('gives each lookup its route, batch size, value type and pattern', () => {
    expect(catalog.lookup('Order', 'customerRef')).toMatchObject({
      source: 'orders',
      route: 'GET /orders',
      batch: { maxSize: 50, separator: ',' },
      batchSize: 50,
      unique: false,
      valueType: 'string',
      pattern: '^[0-9]+$',
    });
    // No batch endpoint: one value per call.
    expect(catalog.lookup('Ticket', 'requesterEmail')).toMatchObject({ batch: undefined, batchSize: 1, unique: false, pattern: undefined });
  });

  it('gives one stable loader identity per lookup and key normalization, the same object every time it is asked', () => {
    const loader = catalog.loader('Ticket', 'requesterEmail', 'email');
    expect(loader.id).toBe('support/Ticket/requesterEmail/email');
    expect(loader.lookup).toBe(catalog.lookup('Ticket', 'requesterEmail'));
    expect(catalog.loader('Ticket', 'requesterEmail', 'email')).toBe(loader);
    expect(catalog.loader('Customer', 'id').id).toBe('crm/Customer/id/none');
    expect(catalog.entity('Customer').keyLoader).toBe(catalog.loader('Customer', 'id'));
  });

  it('describes lists by paging kind, page size and filters, and capabilities plainly', () => {
    expect(catalog.entity('Customer').list).toMatchObject({ source: 'crm', route: 'GET /query/Contact', paging: 'cursor', pageSize: 200, maxFirst: LIST_MAX_FIRST });
    expect([...catalog.entity('Customer').list!.filters]).toEqual([['segment', { param: 'segment', field: 'segment' }]]);
    expect(catalog.entity('Customer').capabilities).toEqual({ batchLookup: true, paging: 'cursor', filters: ['segment'] });
    expect(catalog.entity('Ticket').capabilities).toEqual({ batchLookup: false, paging: 'none', filters: [] });
  });

  it('gives each mapping its kind, both sides with their owners and lookups, and the loaders of each direction', () => {
    const orders = catalog.mapping('customerOrders');
    expect(orders).toMatchObject({ kind: 'crosswalk', normalize: 'none', from: { entity: 'Customer', field: 'id', source: 'crm' }, to: { entity: 'Order', field: 'customerRef', source: 'orders' } });
    expect(orders.to.lookup).toBe(catalog.lookup('Order', 'customerRef'));
    expect(orders.forward).toMatchObject({ field: 'orders', summaries: ['orderSummary'], slicingArguments: ['first'] });
    expect(orders.forward.loader).toBe(catalog.loader('Order', 'customerRef'));
    expect(orders.inverse?.loader).toBe(catalog.loader('Customer', 'id'));
    expect(orders.service).toBeUndefined();

    const tickets = catalog.mapping('customerTickets');
    expect(tickets).toMatchObject({ kind: 'fieldKey', normalize: 'email' });
    // Field keys compare normalized values: both directions load by normalized keys.
    expect(tickets.forward.loader.id).toBe('support/Ticket/requesterEmail/email');
    expect(tickets.inverse?.loader.id).toBe('crm/Customer/email/email');
  });

  it('holds the master-data entity and lookups of a service crosswalk', () => {
    const withService = compileCatalog(
      configured((input) => {
        input.sources.mdm = {
          baseUrl: 'http://127.0.0.1:1',
          entities: {
            CustomerLink: {
              key: 'crmId',
              fields: { crmId: 'crm_id', orderRefs: 'order_refs' },
              lookups: { crmId: { path: '/links', query: { ids: '{values}' }, unique: true, batch: { maxSize: 25 } } },
            },
          },
        };
        input.mappings!.customerOrders!.via = { kind: 'service', entity: 'CustomerLink', from: 'crmId', to: 'orderRefs', cacheTtlMs: 0 };
        delete input.mappings!.customerOrders!.inverse;
      }),
    );
    expect(withService.mapping('customerOrders').service).toMatchObject({ entity: 'CustomerLink', source: 'mdm', fromField: 'crmId', toField: 'orderRefs', to: undefined, cacheTtlMs: 0 });
    expect(withService.mapping('customerOrders').service?.from.batchSize).toBe(25);
  });

  it('is immutable', () => {
    expect(Object.isFrozen(catalog)).toBe(true);
    expect(Object.isFrozen(catalog.entity('Customer'))).toBe(true);
    expect(Object.isFrozen(catalog.lookup('Order', 'customerRef'))).toBe(true);
    expect(Object.isFrozen(catalog.mapping('customerOrders').forward)).toBe(true);
  });

  it('compiles equal catalogs from equal definitions', () => {
    const again = compileCatalog(validateConfig(baseConfig));
    expect(again).toBeInstanceOf(Catalog);
    expect([...again.entities.values()]).toEqual([...catalog.entities.values()]);
    expect([...again.mappings.values()]).toEqual([...catalog.mappings.values()]);
  });
});

describe('names the catalog does not hold', () => {
  it('are refused with the names that exist', () => {
    expect(() => catalog.entity('Invoice')).toThrow(UnknownCatalogNameError);
    expect(() => catalog.entity('Invoice')).toThrow('The catalog has no entity Invoice (known: Customer, Order, Ticket)');
    expect(() => catalog.source('billing')).toThrow('The catalog has no source billing (known: crm, orders, support)');
    expect(() => catalog.lookup('Order', 'number')).toThrow('The catalog has no lookup number of entity Order (known: id, customerRef)');
    expect(() => catalog.mapping('customerInvoices')).toThrow('The catalog has no mapping customerInvoices (known: customerOrders, customerTickets)');
    expect(() => catalog.ownerOf('Invoice')).toThrow(UnknownCatalogNameError);
    expect(() => catalog.entity('Invoice')).toThrow(expect.objectContaining({ code: 'INVALID_DEFINITION', data: { kind: 'entity', name: 'Invoice', known: ['Customer', 'Order', 'Ticket'] } }));
  });

  it('in definitions that skipped validation are reported all at once', () => {
    const broken = structuredClone(config);
    broken.sources.orders!.entities.Customer = broken.sources.crm!.entities.Customer!;
    broken.mappings.customerTickets!.to = { entity: 'Invoice', field: 'email' };
    let error: unknown;
    try {
      compileCatalog(broken);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(CatalogDefinitionError);
    expect(error).toMatchObject({ code: 'INVALID_DEFINITION' });
    expect((error as CatalogDefinitionError).problems).toEqual([
      'entity Customer is served by both crm and orders',
      'mapping customerTickets: no source serves its to entity Invoice',
    ]);
  });
});
