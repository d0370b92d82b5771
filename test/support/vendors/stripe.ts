/**
 * Stripe's API as Stripe documents it (docs.stripe.com/api/customers/list, /api/charges/list,
 * /api/pagination, /api/expanding_objects, /api/errors, /rate-limits):
 *
 * - `GET /v1/customers?limit=&starting_after=`: `{ object: "list", url, has_more, data }`, newest
 *   first; `limit` 1 to 100 (default 10); the next page starts after the last record's `id`.
 * - `GET /v1/charges?customer=cus_...`: the customer's charges, same list envelope; `expand[]=data.customer`
 *   puts the customer object where its id was (`expand[]=customer` on `GET /v1/charges/{id}`).
 * - errors `{ error: { type, code, message, param } }`: 400 `invalid_request_error` (`resource_missing`
 *   for an unknown customer), 401 without a valid secret key, 429 with code `rate_limit` (no Retry-After).
 * - the secret key as `Authorization: Bearer sk_...`; amounts in minor units, `created` in epoch seconds.
 */
import { bearer, intParam, seeded, startVendorFixture, type VendorFixture, type VendorReply } from './fixture';

export const STRIPE_KEY = 'sk_test_fixture00000000000000000000';
export const STRIPE_LIMIT_MAX = 100;

export interface StripeCustomer {
  id: string;
  object: 'customer';
  email: string;
  name: string;
  created: number;
  currency: string;
  metadata: Record<string, string>;
}

export interface StripeCharge {
  id: string;
  object: 'charge';
  amount: number;
  currency: string;
  customer: string;
  status: 'succeeded' | 'failed' | 'pending';
  paid: boolean;
  created: number;
}

export interface StripeFixture extends VendorFixture {
  /** Newest first, as Stripe lists them. */
  readonly customers: readonly StripeCustomer[];
  readonly charges: readonly StripeCharge[];
  chargesOf(customerId: string): StripeCharge[];
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function stripeId(prefix: string, n: number): string {
  let tail = '';
  for (let i = 0, rest = n * 7_919 + 104_729; i < 14; i++, rest = Math.floor(rest / 7) + i * 13) tail += ALPHABET[rest % ALPHABET.length];
  return `${prefix}_${tail}${n.toString(36).padStart(4, '0')}`;
}

export function stripeData(customerCount: number, seed = 43): { customers: StripeCustomer[]; charges: StripeCharge[] } {
  const random = seeded(seed);
  const customers: StripeCustomer[] = [];
  const charges: StripeCharge[] = [];
  for (let i = 0; i < customerCount; i++) {
    const created = 1_700_000_000 + i * 3_600;
    const customer: StripeCustomer = { id: stripeId('cus', i), object: 'customer', email: `payer${i}@example.com`, name: `Payer ${i}`, created, currency: 'usd', metadata: {} };
    customers.push(customer);
    const count = Math.floor(random() * 4);
    for (let n = 0; n < count; n++) {
      const status = random() < 0.8 ? 'succeeded' : 'failed';
      charges.push({ id: stripeId('ch', charges.length), object: 'charge', amount: 500 + Math.floor(random() * 20_000), currency: 'usd', customer: customer.id, status, paid: status === 'succeeded', created: created + 60 * (n + 1) });
    }
  }
  customers.reverse();
  charges.sort((a, b) => b.created - a.created);
  return { customers, charges };
}

const error = (status: number, type: string, code: string | undefined, message: string, param?: string): VendorReply => ({
  status,
  body: { error: { type, ...(code ? { code } : {}), message, ...(param ? { param } : {}), request_log_url: 'https://dashboard.stripe.com/test/logs/req_fixture' } },
});

function list<T extends { id: string }>(request: { query: URLSearchParams }, url: string, items: readonly T[], expand: (item: T) => unknown = (item) => item): VendorReply {
  const limit = intParam(request.query.get('limit'), 10, 1, STRIPE_LIMIT_MAX);
  if (limit === undefined) return error(400, 'invalid_request_error', 'parameter_invalid_integer', `Invalid integer: limit must be between 1 and ${STRIPE_LIMIT_MAX}`, 'limit');
  const after = request.query.get('starting_after');
  let start = 0;
  if (after !== null) {
    const index = items.findIndex((item) => item.id === after);
    if (index < 0) return error(400, 'invalid_request_error', 'resource_missing', `No such object: '${after}'`, 'starting_after');
    start = index + 1;
  }
  const page = items.slice(start, start + limit);
  return { status: 200, body: { object: 'list', url, has_more: start + limit < items.length, data: page.map(expand) } };
}

export async function startStripe(data = stripeData(250)): Promise<StripeFixture> {
  const customersById = new Map(data.customers.map((customer) => [customer.id, customer]));
  const byCustomer = new Map<string, StripeCharge[]>();
  for (const charge of data.charges) byCustomer.set(charge.customer, [...(byCustomer.get(charge.customer) ?? []), charge]);
  const fixture = await startVendorFixture({
    authorize: bearer(STRIPE_KEY, () => error(401, 'invalid_request_error', undefined, 'Invalid API Key provided: sk_test_****')),
    throttled: () => error(429, 'invalid_request_error', 'rate_limit', 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.'),
    notFound: () => error(404, 'invalid_request_error', undefined, 'Unrecognized request URL.'),
    routes: [
      { template: 'GET /v1/customers', handle: (request) => list(request, '/v1/customers', data.customers) },
      {
        template: 'GET /v1/customers/{id}',
        handle: (_request, params) => (customersById.has(params.id!) ? { status: 200, body: customersById.get(params.id!) } : error(404, 'invalid_request_error', 'resource_missing', `No such customer: '${params.id}'`, 'id')),
      },
      {
        template: 'GET /v1/charges/{id}',
        handle: (request, params) => {
          const charge = data.charges.find((c) => c.id === params.id);
          if (!charge) return error(404, 'invalid_request_error', 'resource_missing', `No such charge: '${params.id}'`, 'id');
          const expanded = request.query.getAll('expand[]').includes('customer');
          return { status: 200, body: expanded ? { ...charge, customer: customersById.get(charge.customer) } : charge };
        },
      },
      {
        template: 'GET /v1/charges',
        handle(request) {
          const customer = request.query.get('customer');
          if (customer !== null && !customersById.has(customer)) return error(400, 'invalid_request_error', 'resource_missing', `No such customer: '${customer}'`, 'customer');
          const expanded = request.query.getAll('expand[]').includes('data.customer');
          const items = customer === null ? data.charges : (byCustomer.get(customer) ?? []);
          return list(request, '/v1/charges', items, (charge) => (expanded ? { ...charge, customer: customersById.get(charge.customer) } : charge));
        },
      },
    ],
  });
  return Object.assign(fixture, { customers: data.customers, charges: data.charges, chargesOf: (id: string) => byCustomer.get(id) ?? [] });
}
