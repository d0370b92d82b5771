/**
 * The billing system sandbox, over `billingDataset(seed)`: the quirks of a modern vendor API that
 * the declarative format must cover.
 *
 * - Auth by a custom header: every call needs `x-billing-key` (401 otherwise).
 * - Batch reads by POST with a JSON body: `POST /invoices/batch-read { ids }` and
 *   `POST /invoices/search { customerNumbers }`, where customer numbers must be JSON numbers.
 * - Results in an envelope (`results`), in no particular order.
 * - Partial answers: 207 Multi-Status with `errors`, one per id that was not found or failed
 *   (unknown ids, unknown or locked customers); the rest of the batch is served.
 * - Properties only when asked for by name: a record is `{ id, properties }` and `properties`
 *   holds only the names listed in the request's `properties`.
 * - Paging by page number: `GET /invoices?page=1&per_page=100`, with the total in `paging.total`.
 */
import { route, type JsonReply, type Route } from '../sandbox/router';
import { startSandbox, type SandboxHandle, type SandboxOptions, type ShellErrorCode } from '../sandbox/server';
import { billingDataset, INVOICE_ID, type BillingDataset, type Invoice, type InvoiceProperties } from './data';
import openapi from './openapi.json';

export const BILLING_BASE_PATH = '/billing/v2';
export const BILLING_KEY_HEADER = 'x-billing-key';
/** The key the sandbox accepts unless told otherwise. */
export const BILLING_SANDBOX_KEY = 'billing-sandbox-key';
export const BILLING_BATCH_READ_LIMIT = 100;
export const BILLING_SEARCH_LIMIT = 50;
export const BILLING_MAX_PAGE_SIZE = 100;

export interface BillingSandboxOptions extends SandboxOptions {
  /** Dataset seed; default 42. */
  seed?: number;
  /** The value `x-billing-key` must carry; default `BILLING_SANDBOX_KEY`. */
  apiKey?: string;
}

export type BillingSandboxHandle = SandboxHandle;

const PROPERTY_NAMES: ReadonlyArray<keyof InvoiceProperties> = ['customer_number', 'amount_due', 'currency', 'issued_on', 'due_on', 'status'];

/** The record as the API returns it: only the properties asked for. */
function present(invoice: Invoice, asked: ReadonlySet<string>): unknown {
  const properties: Record<string, unknown> = {};
  for (const name of PROPERTY_NAMES) if (asked.has(name)) properties[name] = invoice.properties[name];
  return { id: invoice.id, properties };
}

function fail(status: number, code: string, message: string): JsonReply {
  return { status, body: { error: { code, message } } };
}

function askedProperties(raw: unknown): Set<string> | string {
  if (raw === undefined) return new Set();
  const names = typeof raw === 'string' ? raw.split(',').filter(Boolean) : raw;
  if (!Array.isArray(names) || names.some((name) => typeof name !== 'string')) return 'properties must be a list of property names';
  const unknown = names.filter((name) => !PROPERTY_NAMES.includes(name as keyof InvoiceProperties));
  if (unknown.length > 0) return `unknown properties ${unknown.join(', ')}; known: ${PROPERTY_NAMES.join(', ')}`;
  return new Set(names as string[]);
}

function parseJson(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** 207 when some ids failed, 200 otherwise; results in reverse order, as an index scan might return them. */
function multiStatus(results: unknown[], errors: unknown[]): JsonReply {
  return { status: errors.length > 0 ? 207 : 200, body: { results: results.reverse(), ...(errors.length > 0 ? { errors } : {}) } };
}

function billingRoutes(data: BillingDataset): Route[] {
  return [
    route(`POST ${BILLING_BASE_PATH}/invoices/batch-read`, ({ body }) => {
      const request = parseJson(body);
      if (!request) return fail(400, 'invalid_body', 'the body must be a JSON object { "ids": [...], "properties": [...] }');
      const properties = askedProperties(request.properties);
      if (typeof properties === 'string') return fail(400, 'invalid_properties', properties);
      const ids = request.ids;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > BILLING_BATCH_READ_LIMIT || ids.some((id) => typeof id !== 'string')) {
        return fail(400, 'invalid_ids', `ids must be a list of 1 to ${BILLING_BATCH_READ_LIMIT} invoice ids (strings)`);
      }
      const results: unknown[] = [];
      const errors: unknown[] = [];
      for (const id of new Set(ids as string[])) {
        const invoice = INVOICE_ID.test(id) ? data.invoiceById.get(id) : undefined;
        if (invoice) results.push(present(invoice, properties));
        else errors.push({ id, code: 'NOT_FOUND', message: `no invoice ${id}` });
      }
      return multiStatus(results, errors);
    }),

    route(`POST ${BILLING_BASE_PATH}/invoices/search`, ({ body }) => {
      const request = parseJson(body);
      if (!request) return fail(400, 'invalid_body', 'the body must be a JSON object { "customerNumbers": [...], "properties": [...] }');
      const properties = askedProperties(request.properties);
      if (typeof properties === 'string') return fail(400, 'invalid_properties', properties);
      const numbers = request.customerNumbers;
      if (!Array.isArray(numbers) || numbers.length === 0 || numbers.length > BILLING_SEARCH_LIMIT || numbers.some((n) => !Number.isInteger(n))) {
        return fail(400, 'invalid_customer_numbers', `customerNumbers must be a list of 1 to ${BILLING_SEARCH_LIMIT} customer numbers (integers, not strings)`);
      }
      const results: unknown[] = [];
      const errors: unknown[] = [];
      for (const number of new Set(numbers as number[])) {
        const customer = data.customerByNumber.get(number);
        if (!customer) errors.push({ customerNumber: number, code: 'UNKNOWN_CUSTOMER', message: `no customer ${number}` });
        else if (customer.locked) errors.push({ customerNumber: number, code: 'ACCOUNT_LOCKED', message: `customer ${number} is locked for an audit` });
        else for (const invoice of data.invoicesByCustomer.get(number) ?? []) results.push(present(invoice, properties));
      }
      return multiStatus(results, errors);
    }),

    route(`GET ${BILLING_BASE_PATH}/invoices`, ({ query }) => {
      const page = Number(query.get('page') ?? '1');
      const perPage = Number(query.get('per_page') ?? '20');
      if (!Number.isInteger(page) || page < 1) return fail(400, 'invalid_page', 'page must be an integer >= 1');
      if (!Number.isInteger(perPage) || perPage < 1 || perPage > BILLING_MAX_PAGE_SIZE) return fail(400, 'invalid_per_page', `per_page must be 1 to ${BILLING_MAX_PAGE_SIZE}`);
      const properties = askedProperties(query.get('properties') ?? undefined);
      if (typeof properties === 'string') return fail(400, 'invalid_properties', properties);
      const status = query.get('status');
      const matching = status ? data.invoices.filter((invoice) => invoice.properties.status === status) : data.invoices;
      const results = matching.slice((page - 1) * perPage, page * perPage).map((invoice) => present(invoice, properties));
      return { status: 200, body: { results, paging: { page, per_page: perPage, total: matching.length } } };
    }),
  ];
}

/** Starts the billing sandbox (on loopback, port 0 picks a free one). */
export function startBilling(options: BillingSandboxOptions = {}): Promise<BillingSandboxHandle> {
  const { seed, apiKey = BILLING_SANDBOX_KEY, ...serverOptions } = options;
  return startSandbox(
    {
      name: 'billing',
      routes: billingRoutes(billingDataset(seed)),
      openapi,
      errorBody: (code: ShellErrorCode, message) => ({ error: { code: code.toLowerCase(), message } }),
      defaultAuth: { kind: 'apiKey', header: BILLING_KEY_HEADER, key: apiKey },
    },
    serverOptions,
  );
}
