/**
 * The order system's accounts and orders: 50,000 orders over accounts keyed by numeric refs of
 * their own, generated from a seed.
 *
 * The order system knows nothing of CRM ids: the only link is the crosswalk (CRM customer id <->
 * account ref), produced here alongside the data. About 5% of CRM customers have no account, about
 * 2% have two (one-to-many, same currency), the rest exactly one; a few legacy accounts belong to
 * no CRM customer at all. Orders are skewed: many accounts have a handful, some none, a few dozens.
 */
import { crmDataset } from '../crm/data';
import { DAY_SECONDS, SANDBOX_NOW, utcSeconds, YEAR_SECONDS } from '../sandbox/clock';
import { memoizeBySeed } from '../sandbox/memo';
import { allocate, createRandom, streamSeed, type Random } from '../sandbox/random';

export type Currency = 'USD' | 'EUR' | 'GBP';
export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'cancelled' | 'refunded';

export interface OrderLine {
  readonly sku: string;
  readonly qty: number;
  readonly unit_price_minor: number;
}

/** An order exactly as the order system's API returns it. */
export interface Order {
  readonly id: number;
  /** `SO-<id>`. */
  readonly number: string;
  readonly customer_ref: number;
  readonly status: OrderStatus;
  /** The account's currency. */
  readonly currency: Currency;
  /** Sum of `qty * unit_price_minor` over the lines, in minor units (cents, pence). */
  readonly total_minor: number;
  /** Epoch seconds. */
  readonly created_at: number;
  readonly lines: readonly OrderLine[];
}

/** An order account (the order system's "customer") exactly as its API returns it. */
export interface OrderAccount {
  /** Six digits, unrelated to any CRM id. */
  readonly ref: number;
  readonly currency: Currency;
  /** Epoch seconds. */
  readonly opened_at: number;
}

/** One row of the crosswalk between the CRM and the order system. */
export interface CrosswalkPair {
  readonly crmCustomerId: string;
  readonly orderCustomerRef: number;
}

export interface OrdersDataset {
  readonly seed: number;
  /** Sorted by `ref`. */
  readonly accounts: readonly OrderAccount[];
  /** Sorted by `id`, which also orders them by `created_at`. */
  readonly orders: readonly Order[];
  /** Sorted by CRM id, then ref. Accounts with no CRM customer have no row. */
  readonly crosswalk: readonly CrosswalkPair[];
  readonly accountByRef: ReadonlyMap<number, OrderAccount>;
  readonly orderById: ReadonlyMap<number, Order>;
  /** Every account has an entry (possibly empty), each sorted by order id. */
  readonly ordersByRef: ReadonlyMap<number, readonly Order[]>;
}

export const ORDER_COUNT = 50_000;
/** Legacy accounts (guest checkouts, migrations) that no CRM customer maps to. */
export const UNMAPPED_ACCOUNT_COUNT = 100;
export const FIRST_ORDER_ID = 500_001;

const NO_ACCOUNT_SHARE = 0.05;
const TWO_ACCOUNTS_SHARE = 0.02;
const ZERO_ORDER_ACCOUNT_SHARE = 0.08;
const SKU_COUNT = 1_500;
const CURRENCY_WEIGHTS: ReadonlyArray<readonly [Currency, number]> = [
  ['USD', 70],
  ['EUR', 20],
  ['GBP', 10],
];
/** Catalog prices are set in USD; other currencies get a rounded conversion. */
const PRICE_FACTOR: Record<Currency, number> = { USD: 1, EUR: 0.92, GBP: 0.79 };
const LINE_COUNT_WEIGHTS: ReadonlyArray<readonly [number, number]> = [
  [1, 35],
  [2, 25],
  [3, 20],
  [4, 12],
  [5, 8],
];
const QTY_WEIGHTS: ReadonlyArray<readonly [number, number]> = [
  [1, 60],
  [2, 22],
  [3, 10],
  [4, 5],
  [5, 3],
];
const OPENED_FROM = utcSeconds(2019, 1, 1);
const OPENED_TO = utcSeconds(2025, 9, 1);
const ORDERS_FROM = SANDBOX_NOW - 3 * YEAR_SECONDS;

export const ordersDataset = memoizeBySeed(generateOrders);

function generateOrders(seed: number): OrdersDataset {
  const rng = createRandom(streamSeed(seed, 'orders'));
  const { accounts, crosswalk } = generateAccounts(rng, seed);
  const orders = generateOrderRows(rng, accounts);

  const ordersByRef = new Map<number, Order[]>(accounts.map((a) => [a.ref, []]));
  for (const order of orders) ordersByRef.get(order.customer_ref)?.push(order);
  return {
    seed,
    accounts,
    orders,
    crosswalk,
    accountByRef: new Map(accounts.map((a) => [a.ref, a])),
    orderById: new Map(orders.map((o) => [o.id, o])),
    ordersByRef,
  };
}

function generateAccounts(rng: Random, seed: number): { accounts: OrderAccount[]; crosswalk: CrosswalkPair[] } {
  const refs = uniqueRefs(rng);
  const accounts: OrderAccount[] = [];
  const crosswalk: CrosswalkPair[] = [];
  const open = (currency: Currency): OrderAccount => {
    const ref = refs.next().value as number;
    const account = { ref, currency, opened_at: rng.int(OPENED_FROM, OPENED_TO) };
    accounts.push(account);
    return account;
  };

  for (const contact of crmDataset(seed).contacts) {
    const roll = rng.next();
    if (roll < NO_ACCOUNT_SHARE) continue;
    const howMany = roll < NO_ACCOUNT_SHARE + TWO_ACCOUNTS_SHARE ? 2 : 1;
    // A customer's accounts share one currency: a second account is a second shipping
    // entity or a migration leftover, not a move to another market.
    const currency = rng.weighted(CURRENCY_WEIGHTS);
    for (let n = 0; n < howMany; n++) {
      crosswalk.push({ crmCustomerId: contact.Id, orderCustomerRef: open(currency).ref });
    }
  }
  for (let n = 0; n < UNMAPPED_ACCOUNT_COUNT; n++) open(rng.weighted(CURRENCY_WEIGHTS));

  accounts.sort((a, b) => a.ref - b.ref);
  // Contacts come sorted by id, so only the refs within one customer need ordering.
  crosswalk.sort((a, b) =>
    a.crmCustomerId === b.crmCustomerId ? a.orderCustomerRef - b.orderCustomerRef : a.crmCustomerId < b.crmCustomerId ? -1 : 1,
  );
  return { accounts, crosswalk };
}

/** Distinct six-digit refs in random order, so nothing about a ref hints at its customer. */
function* uniqueRefs(rng: Random): Generator<number, never> {
  const used = new Set<number>();
  for (;;) {
    const ref = rng.int(100_000, 999_999);
    if (used.has(ref)) continue;
    used.add(ref);
    yield ref;
  }
}

function generateOrderRows(rng: Random, accounts: readonly OrderAccount[]): Order[] {
  // Log-normal appetite, capped so the busiest customer has dozens of orders, not hundreds.
  const weights = accounts.map(() => (rng.chance(ZERO_ORDER_ACCOUNT_SHARE) ? 0 : Math.min(Math.exp(rng.normal()), 8)));
  const perAccount = allocate(rng, weights, ORDER_COUNT);
  const prices = Array.from({ length: SKU_COUNT }, () => rng.int(2, 500) * 100 - 1);

  const drafts: Array<{ account: OrderAccount; createdAt: number }> = [];
  accounts.forEach((account, i) => {
    const from = Math.max(account.opened_at, ORDERS_FROM);
    for (let n = 0; n < (perAccount[i] as number); n++) {
      drafts.push({ account, createdAt: rng.int(from, SANDBOX_NOW - 1) });
    }
  });
  // Ids are assigned in creation order, as a sequence in the order database would.
  drafts.sort((a, b) => a.createdAt - b.createdAt || a.account.ref - b.account.ref);

  return drafts.map(({ account, createdAt }, index) => {
    const id = FIRST_ORDER_ID + index;
    const lines = orderLines(rng, prices, account.currency);
    return {
      id,
      number: `SO-${id}`,
      customer_ref: account.ref,
      status: orderStatus(rng, SANDBOX_NOW - createdAt),
      currency: account.currency,
      total_minor: lines.reduce((sum, line) => sum + line.qty * line.unit_price_minor, 0),
      created_at: createdAt,
      lines,
    };
  });
}

function orderLines(rng: Random, prices: readonly number[], currency: Currency): OrderLine[] {
  const count = rng.weighted(LINE_COUNT_WEIGHTS);
  const skus = new Set<number>();
  while (skus.size < count) skus.add(rng.int(1, prices.length));
  return [...skus].map((sku) => ({
    sku: `SKU-${String(sku).padStart(5, '0')}`,
    qty: rng.weighted(QTY_WEIGHTS),
    unit_price_minor: Math.round((prices[sku - 1] as number) * PRICE_FACTOR[currency]),
  }));
}

/** Recent orders are still in flight; old ones have shipped, or were cancelled or refunded. */
function orderStatus(rng: Random, ageSeconds: number): OrderStatus {
  if (ageSeconds < 3 * DAY_SECONDS) {
    return rng.weighted<OrderStatus>([['pending', 50], ['paid', 40], ['cancelled', 10]]);
  }
  if (ageSeconds < 14 * DAY_SECONDS) {
    return rng.weighted<OrderStatus>([['pending', 5], ['paid', 35], ['shipped', 50], ['cancelled', 10]]);
  }
  return rng.weighted<OrderStatus>([['shipped', 78], ['cancelled', 12], ['refunded', 10]]);
}
