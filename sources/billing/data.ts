/**
 * The billing system's customers and invoices, generated from a seed: the fourth sandbox system,
 * which the built-in configuration does not declare (an architect registers it at run time).
 *
 * Billing has customer numbers of its own (integers), unrelated to CRM ids: the only link is the
 * crosswalk produced here alongside the data. About 12% of CRM customers have no billing customer,
 * about 3% have two; a few billing customers belong to nobody in the CRM, and about 1% are locked
 * (the API reports an error for them instead of their invoices).
 */
import { crmDataset } from '../crm/data';
import { DAY_SECONDS, SANDBOX_NOW, YEAR_SECONDS } from '../sandbox/clock';
import { memoizeBySeed } from '../sandbox/memo';
import { createRandom, streamSeed, type Random } from '../sandbox/random';

export type InvoiceStatus = 'open' | 'paid' | 'overdue' | 'void';
export type BillingCurrency = 'EUR' | 'USD' | 'GBP';

/** Every property an invoice has; the API returns only those asked for by name. */
export interface InvoiceProperties {
  readonly customer_number: number;
  /** Integer minor units. */
  readonly amount_due: number;
  readonly currency: BillingCurrency;
  /** `YYYY-MM-DD`. */
  readonly issued_on: string;
  /** `YYYY-MM-DD`. */
  readonly due_on: string;
  readonly status: InvoiceStatus;
}

export interface Invoice {
  /** `INV-<year>-<6 digits>`. */
  readonly id: string;
  readonly properties: InvoiceProperties;
}

export interface BillingCustomer {
  readonly number: number;
  /** The API answers ACCOUNT_LOCKED for a locked customer's invoices. */
  readonly locked: boolean;
}

/** One row of the crosswalk between the CRM and billing. */
export interface BillingCrosswalkPair {
  readonly crmCustomerId: string;
  readonly billingCustomerNumber: number;
}

export interface BillingDataset {
  readonly seed: number;
  /** Sorted by number. */
  readonly customers: readonly BillingCustomer[];
  /** Sorted by id (which is also issue order). */
  readonly invoices: readonly Invoice[];
  /** Sorted by CRM id, then number. */
  readonly crosswalk: readonly BillingCrosswalkPair[];
  readonly customerByNumber: ReadonlyMap<number, BillingCustomer>;
  readonly invoiceById: ReadonlyMap<string, Invoice>;
  /** Every customer has an entry (possibly empty), sorted by invoice id. */
  readonly invoicesByCustomer: ReadonlyMap<number, readonly Invoice[]>;
}

export const INVOICE_ID = /^INV-[0-9]{4}-[0-9]{6}$/;

const NO_CUSTOMER_SHARE = 0.12;
const TWO_CUSTOMERS_SHARE = 0.03;
const LOCKED_SHARE = 0.01;
const UNLINKED_CUSTOMERS = 50;
const FIRST_NUMBER = 10_001;
const CURRENCIES: ReadonlyArray<readonly [BillingCurrency, number]> = [
  ['EUR', 50],
  ['USD', 35],
  ['GBP', 15],
];
const INVOICES_PER_CUSTOMER: ReadonlyArray<readonly [number, number]> = [
  [0, 10],
  [1, 25],
  [2, 25],
  [3, 20],
  [4, 12],
  [6, 8],
];

export const billingDataset = memoizeBySeed(generateBilling);

function generateBilling(seed: number): BillingDataset {
  const rng = createRandom(streamSeed(seed, 'billing'));
  const customers: BillingCustomer[] = [];
  const crosswalk: BillingCrosswalkPair[] = [];
  // Numbers are handed out in a shuffled order, so that nothing about a number hints at its customer.
  const contacts = rng.shuffle([...crmDataset(seed).contacts]);
  const open = (): BillingCustomer => {
    const customer = { number: FIRST_NUMBER + customers.length, locked: rng.chance(LOCKED_SHARE) };
    customers.push(customer);
    return customer;
  };
  for (const contact of contacts) {
    const roll = rng.next();
    if (roll < NO_CUSTOMER_SHARE) continue;
    const howMany = roll < NO_CUSTOMER_SHARE + TWO_CUSTOMERS_SHARE ? 2 : 1;
    for (let n = 0; n < howMany; n++) crosswalk.push({ crmCustomerId: contact.Id, billingCustomerNumber: open().number });
  }
  for (let n = 0; n < UNLINKED_CUSTOMERS; n++) open();
  crosswalk.sort((a, b) =>
    a.crmCustomerId === b.crmCustomerId ? a.billingCustomerNumber - b.billingCustomerNumber : a.crmCustomerId < b.crmCustomerId ? -1 : 1,
  );

  const drafts: Array<{ customer: BillingCustomer; issued: number; currency: BillingCurrency }> = [];
  for (const customer of customers) {
    const currency = rng.weighted(CURRENCIES);
    const count = rng.weighted(INVOICES_PER_CUSTOMER);
    for (let n = 0; n < count; n++) drafts.push({ customer, currency, issued: SANDBOX_NOW - rng.int(1, 2 * YEAR_SECONDS) });
  }
  drafts.sort((a, b) => a.issued - b.issued || a.customer.number - b.customer.number);
  const invoices = drafts.map(({ customer, issued, currency }, index): Invoice => {
    const due = issued + 30 * DAY_SECONDS;
    return {
      id: `INV-${new Date(issued * 1000).getUTCFullYear()}-${String(index + 1).padStart(6, '0')}`,
      properties: {
        customer_number: customer.number,
        amount_due: rng.int(20, 5_000) * 100 + rng.pick([0, 0, 50, 99]),
        currency,
        issued_on: day(issued),
        due_on: day(due),
        status: invoiceStatus(rng, due),
      },
    };
  });

  const invoicesByCustomer = new Map<number, Invoice[]>(customers.map((c) => [c.number, []]));
  for (const invoice of invoices) invoicesByCustomer.get(invoice.properties.customer_number)!.push(invoice);
  return {
    seed,
    customers,
    invoices,
    crosswalk,
    customerByNumber: new Map(customers.map((c) => [c.number, c])),
    invoiceById: new Map(invoices.map((i) => [i.id, i])),
    invoicesByCustomer,
  };
}

function day(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}

/** Invoices not yet due are open; past due ones are mostly paid, some overdue, a few voided. */
function invoiceStatus(rng: Random, dueAt: number): InvoiceStatus {
  if (dueAt > SANDBOX_NOW) return rng.weighted<InvoiceStatus>([['open', 80], ['paid', 20]]);
  return rng.weighted<InvoiceStatus>([['paid', 85], ['overdue', 10], ['void', 5]]);
}
