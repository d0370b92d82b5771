/**
 * The guard's predicted calls and the connectors' actual calls come from one catalog entry: the
 * orders lookup by customer ref. Its batch size changed in the definition changes the fetch plan's
 * loader, the prediction in `extensions.cost` and the calls the order system counts, together.
 */
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { buildFetchPlan } from '../../src/guard/fetch-plan';
import { startHarness, type GraphQLResponse, type Harness } from '../support/harness';
import { dataOf } from './compare';
import { data, orderRefsOf } from './ground-truth';

const ORDERS_BY_REFS = 'GET /api/orders';

/** Customers with exactly one order account: one ref per parent, so the prediction by parents is exact. */
const CUSTOMERS = [...new Set(data.crosswalk.map((pair) => pair.crmCustomerId))].filter((id) => orderRefsOf(id).length === 1).slice(0, 30);

const QUERY = 'query ($ids: [ID!]!) { customersByIds(ids: $ids) { id orders { id } } }';

type Cost = { upstreamCalls: Record<string, { predicted: number; actual: number }> };

function withOrdersBatch(maxSize: number | undefined) {
  return (config: VirtualizationConfigInput): VirtualizationConfigInput => {
    if (maxSize !== undefined) config.sources.orders!.entities.Order!.lookups.customerRef!.batch = { maxSize };
    return config;
  };
}

describe.each([
  { label: 'as declared', batch: undefined, expected: 50 },
  { label: 'changed to 7', batch: 7, expected: 7 },
])('the orders lookup by customer ref, its batch size $label', ({ batch, expected }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ configure: withOrdersBatch(batch) });
  });
  afterAll(() => h.close());

  it('is one catalog entry: the fetch plan predicts with the loader the join loads through', () => {
    const catalog = h.gateway.catalog;
    const loader = catalog.mapping('customerOrders').forward.loader;
    expect(loader.lookup).toBe(catalog.lookup('Order', 'customerRef'));
    expect(loader.lookup.batchSize).toBe(expected);
    const plan = buildFetchPlan(catalog, (field) => h.gateway.schema.getQueryType()?.getFields()[field]?.args[0]?.name);
    const role = plan.roles.get('Customer.orders');
    expect(role?.kind === 'join' ? role.loader : undefined).toBe(loader);
  });

  it('is predicted and called in batches of its size', async () => {
    expect(CUSTOMERS).toHaveLength(30);
    h.resetUpstream();
    const response: GraphQLResponse<{ customersByIds: Array<{ id: string; orders: unknown[] }> }> = await h.query(QUERY, { ids: CUSTOMERS });
    expect(dataOf(response).customersByIds.map((customer) => customer.id)).toEqual(CUSTOMERS);
    const calls = Math.ceil(CUSTOMERS.length / expected);
    expect((response.extensions?.cost as Cost).upstreamCalls.orders).toEqual({ predicted: calls, actual: calls });
    expect(h.upstream().orders).toEqual({ [ORDERS_BY_REFS]: calls });
  });
});
