/**
 * Comparisons of gateway answers with ground truth that stay exact where the truth is exact and
 * tolerant only where the contract is: items placed at the same instant may come in either order.
 */
import type { GraphQLResponse } from '../support/harness';
import type { ExpectedCustomer } from './ground-truth';

/** The data of an answer that must have no errors at all (a join with no partner is not an error). */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  expect(response.errors).toBeUndefined();
  expect(response.status).toBe(200);
  if (response.data === undefined || response.data === null) throw new Error('the answer has no data');
  return response.data;
}

export interface Dated {
  id: string;
}

/** Sorts by `at` descending, then id, so that two lists with the same items compare equal. */
export function canonicalOrder<T extends Dated>(items: readonly T[], at: keyof T): T[] {
  return [...items].sort((a, b) => {
    const x = String(a[at]);
    const y = String(b[at]);
    return x < y ? 1 : x > y ? -1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

/** `actual` holds exactly `expected`'s items, newest first (ties in any order). */
export function expectNewestFirst<T extends Dated>(actual: readonly T[], expected: readonly T[], at: keyof T): void {
  expect(actual.map((item) => item[at])).toEqual(expected.map((item) => item[at]));
  expect(canonicalOrder(actual, at)).toEqual(canonicalOrder(expected, at));
}

/** `actual` is the newest `n` of `expected` (at a tie on the cut, any of the tied items). */
export function expectNewest<T extends Dated>(actual: readonly T[], expected: readonly T[], at: keyof T, n: number): void {
  expect(actual.map((item) => item[at])).toEqual(expected.slice(0, n).map((item) => item[at]));
  const ids = new Set(expected.map((item) => item.id));
  for (const item of actual) expect(ids.has(item.id)).toBe(true);
}

/** A customer as `CUSTOMER_360` selects it: the same shape as the ground truth. */
export type CustomerView = ExpectedCustomer;

/** True when each item is no older than the next one. */
function newestFirst<T>(items: readonly T[], at: keyof T): boolean {
  return items.every((item, i) => i === 0 || String(items[i - 1]![at]) >= String(item[at]));
}

/**
 * A customer reduced to what must equal the ground truth: lists in canonical order with a flag
 * for "was newest first", the amount rounded to cents. Comparing whole arrays of these at once
 * keeps a check of thousands of customers fast and its failure diff readable.
 */
export function customerFacts(view: CustomerView) {
  const { totalSpent, ...summary } = view.orderSummary;
  return {
    ...view,
    orders: canonicalOrder(view.orders, 'placedAt'),
    ordersNewestFirst: newestFirst(view.orders, 'placedAt'),
    tickets: canonicalOrder(view.tickets, 'openedAt'),
    ticketsNewestFirst: newestFirst(view.tickets, 'openedAt'),
    orderSummary: { ...summary, totalSpent: totalSpent === null ? null : Math.round(totalSpent * 100) / 100 },
  };
}

/** Every joined part of each customer, compared with ground truth in one assertion. */
export function expectCustomers(actual: readonly CustomerView[], expected: readonly ExpectedCustomer[]): void {
  expect(actual.map(customerFacts)).toEqual(expected.map(customerFacts));
}

/** The selection that `CustomerView` describes. */
export const CUSTOMER_360 = `
  id name email segment
  orders { id number total currency status placedAt }
  orderSummary { count totalSpent currency lastOrderAt }
  tickets { id subject status priority openedAt }
  openTicketCount
`;
