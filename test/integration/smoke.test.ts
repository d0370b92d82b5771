import { startHarness, type Harness } from '../support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

it('answers a customer 360 joined from three systems', async () => {
  const res = await h.query(`{ customers(first: 3) { totalCount pageInfo { hasNextPage endCursor } nodes { id name email segment orderSummary { count totalSpent currency lastOrderAt } orders(first: 2) { id number total placedAt lines { sku quantity unitPrice } customer { id name } } openTicketCount tickets { id status openedAt customer { id } } } } }`);
  console.log(JSON.stringify(res, null, 1).slice(0, 3000));
  console.log(h.upstream());
  expect(res.errors).toBeUndefined();
});
