/**
 * The joins on list-valued keys that no answer could make right are refused, by validation (what
 * the definitions declare) and by the generation build (what the canonical schema declares), each
 * problem at its path with what to do; the joins that can be answered pass.
 */
import baseConfig from '../../virtualization.config';
import type { MappingDefinitionInput, VirtualizationConfigInput } from '../../src/config/definition';
import { InvalidDefinitionError, validateConfig } from '../../src/config/validate';
import { CODES } from '../../src/errors';
import { createGeneration } from '../../src/runtime/generations';
import { PROJECT_ROOT } from '../support/harness';
import { masterDataSource } from '../support/master-data';

const masterOrders: MappingDefinitionInput = {
  from: { entity: 'MasterRecord', field: 'shop' },
  to: { entity: 'Order', field: 'customerRef' },
  via: { kind: 'fieldKey' },
  forward: { field: 'orders' },
  inverse: { field: 'master' },
};

function withMasterData(mappings: Record<string, MappingDefinitionInput>, change?: (config: VirtualizationConfigInput) => void): VirtualizationConfigInput {
  const config = structuredClone(baseConfig) as VirtualizationConfigInput;
  config.sources.mdm = masterDataSource('http://127.0.0.1:1/mdm');
  config.mappings = { ...config.mappings, ...mappings };
  change?.(config);
  return config;
}

/** The problems validation reports, as `path: message`. */
function refusals(config: VirtualizationConfigInput): string[] {
  try {
    validateConfig(config);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDefinitionError);
    expect((error as InvalidDefinitionError).code).toBe(CODES.INVALID_DEFINITION);
    return (error as InvalidDefinitionError).problems.map((problem) => `${problem.path}: ${problem.message}`);
  }
  return [];
}

describe('validation of joins on list-valued keys', () => {
  it('passes a list-valued key joined forward and back, by each kind of mapping', () => {
    expect(refusals(withMasterData({ masterOrders }))).toEqual([]);
    const byCrm = { from: { entity: 'MasterRecord', field: 'crmIds' }, to: { entity: 'Order', field: 'customerRef' }, forward: { field: 'crmOrders' }, inverse: { field: 'crmMaster' } };
    expect(refusals(withMasterData({ crosswalked: { ...byCrm, via: { kind: 'crosswalk' } }, served: { ...byCrm, forward: { field: 'linkedOrders' }, inverse: { field: 'linkedMaster' }, via: { kind: 'service', entity: 'AccountLink', from: 'crmId', to: 'accounts' } } }))).toEqual([]);
  });

  it('refuses an inverse that names one record through a list-valued key whose lookup is not unique, saying why and what to do', () => {
    const config = withMasterData({ masterOrders }, (c) => {
      (c.sources.mdm!.entities.MasterRecord!.lookups.shop as { unique: boolean }).unique = false;
    });
    expect(refusals(config)).toEqual([
      'mappings.masterOrders.inverse: MasterRecord.shop holds a list and the lookup of MasterRecord by shop is not unique, so several MasterRecord records may hold the same value ' +
        'while Order.master names one: declare lookups.shop.unique: true when each value is in at most one MasterRecord, or drop the inverse',
    ]);
    // Without the inverse nothing is picked: the forward join alone is answered right.
    const { inverse: _dropped, ...forwardOnly } = masterOrders;
    expect(refusals(withMasterData({ masterOrders: forwardOnly }, (c) => void ((c.sources.mdm!.entities.MasterRecord!.lookups.shop as { unique: boolean }).unique = false)))).toEqual([]);
  });

  it('refuses a key that holds objects', () => {
    const linesJoin: MappingDefinitionInput = { from: { entity: 'Order', field: 'lines' }, to: { entity: 'MasterRecord', field: 'shop' }, via: { kind: 'fieldKey' }, forward: { field: 'masters' } };
    expect(refusals(withMasterData({ linesJoin }, (c) => void (c.sources.orders!.entities.Order!.lookups.lines = { path: '/orders', query: { lines: '{value}' }, unique: false })))).toContainEqual(
      'mappings.linesJoin.from.field: Order.lines holds objects (items), and a join compares key values: join on a field that holds a value or a list of values (type: "[ID!]")',
    );
  });
});

describe('the generation build', () => {
  it('refuses an inverse that schema/ declares as one record while its key holds a list (Order.customer over a list of refs)', async () => {
    const config = structuredClone(baseConfig) as VirtualizationConfigInput;
    const order = config.sources.orders!.entities.Order!;
    order.fields.customerRefs = { from: 'customer_refs', type: '[ID!]' };
    order.lookups.customerRefs = { path: '/orders', query: { customer_refs: '{values}' }, resultPath: 'data', unique: false, batch: { maxSize: 50 } };
    config.mappings!.customerOrders!.to = { entity: 'Order', field: 'customerRefs' };
    const built = createGeneration(validateConfig(config), { baseDir: PROJECT_ROOT, env: { ...process.env } });
    await expect(built).rejects.toThrow(InvalidDefinitionError);
    await expect(built).rejects.toMatchObject({
      code: CODES.INVALID_DEFINITION,
      problems: [
        {
          path: 'mappings.customerOrders.inverse.field',
          message:
            'Order.customerRefs holds a list, so one Order joins to a Customer for each of its values, but schema/ declares Order.customer as one Customer: ' +
            'declare it [Customer!] in schema/, or drop the inverse',
        },
      ],
    });
  });
});
