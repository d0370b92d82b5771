/**
 * The order system sandbox: a plain JSON API over `ordersDataset(seed)`.
 *
 * It asks for no credentials (an internal system behind the network boundary).
 *
 * Quirks a client must handle: customers are numeric account refs unrelated to CRM ids (join
 * through the crosswalk), amounts are integers in minor units, times are epoch seconds, and the
 * batch endpoint is by account ref (at most 50), returning every order of those refs flattened
 * and sorted by order id.
 */
import { isObject, listParam, parseNumericId } from '../sandbox/params';
import { route, type JsonReply, type Route } from '../sandbox/router';
import { startSandbox, type SandboxHandle, type SandboxOptions, type ShellErrorCode, type SystemRecords } from '../sandbox/server';
import { notify, type WebhookTarget } from '../sandbox/webhook';
import { ordersDataset, type Order, type OrderLine, type OrdersDataset } from './data';
import openapi from './openapi.json';

export const ORDERS_BASE_PATH = '/api';

/** Most account refs one `GET /api/orders` may ask for. */
export const ORDERS_REFS_LIMIT = 50;

export interface OrdersSandboxOptions extends SandboxOptions {
  /** Dataset seed; default 42. */
  seed?: number;
  /** Where `POST /api/orders` notifies its change (signed); none by default. */
  webhook?: WebhookTarget;
}

const SHELL_ERROR_CODES: Record<ShellErrorCode, string> = {
  NOT_FOUND: 'not_found',
  METHOD_NOT_ALLOWED: 'method_not_allowed',
  BAD_REQUEST: 'bad_request',
  PAYLOAD_TOO_LARGE: 'payload_too_large',
  INTERNAL: 'internal_error',
  UNAUTHORIZED: 'unauthorized',
  RATE_LIMITED: 'rate_limited',
  UNAVAILABLE: 'unavailable',
};

/** Orders sit in `data` (by account refs) or are the whole body (one by id). */
const ORDER_RECORDS: SystemRecords = {
  contract: { key: 'id', date: 'created_at', enum: 'status' },
  map: (body, f) => {
    if (!isObject(body)) return body;
    if (Array.isArray(body.data)) return { ...body, data: body.data.map(f) };
    return 'lines' in body ? f(body) : body;
  },
};

export function startOrders(options: OrdersSandboxOptions = {}): Promise<SandboxHandle> {
  const { seed, webhook, ...serverOptions } = options;
  return startSandbox(
    {
      name: 'orders',
      routes: ordersRoutes(ordersDataset(seed), webhook),
      openapi,
      errorBody: (code, message) => ({ error: SHELL_ERROR_CODES[code], message }),
      records: ORDER_RECORDS,
    },
    serverOptions,
  );
}

function ordersRoutes(data: OrdersDataset, webhook?: WebhookTarget): Route[] {
  // Orders created through POST, kept beside the (shared, immutable) dataset.
  const created = new Map<number, Order[]>();
  const createdById = new Map<number, Order>();
  let nextId = Math.max(0, ...data.orders.map((order) => order.id)) + 1;
  const ordersOf = (ref: number) => [...(data.ordersByRef.get(ref) ?? []), ...(created.get(ref) ?? [])];
  return [
    route(`POST ${ORDERS_BASE_PATH}/orders`, ({ body }) => {
      let input: unknown;
      try {
        input = JSON.parse(body);
      } catch {
        return fail(400, 'invalid_body', 'the body must be JSON');
      }
      const request = input as { customer_ref?: unknown; lines?: unknown };
      const ref = typeof request.customer_ref === 'number' ? request.customer_ref : undefined;
      const account = ref === undefined ? undefined : data.accountByRef.get(ref);
      if (ref === undefined || !account) return fail(400, 'invalid_ref', 'customer_ref must be the ref of an account');
      const lines: OrderLine[] = Array.isArray(request.lines) ? (request.lines as OrderLine[]) : [{ sku: 'SKU-NEW', qty: 1, unit_price_minor: 1000 }];
      const id = nextId++;
      const order: Order = {
        id,
        number: `SO-${id}`,
        customer_ref: ref,
        status: 'pending',
        currency: account.currency,
        total_minor: lines.reduce((sum, line) => sum + line.qty * line.unit_price_minor, 0),
        created_at: Math.floor(Date.now() / 1000),
        lines,
      };
      created.set(ref, [...(created.get(ref) ?? []), order]);
      createdById.set(id, order);
      void notify(webhook, { type: 'order.created', entity: 'Order', field: 'customerRef', key: String(ref) });
      return { status: 201, body: order };
    }),


    route(`GET ${ORDERS_BASE_PATH}/orders/{id}`, ({ params }) => {
      const id = parseNumericId(params.id);
      if (id === undefined) return fail(400, 'invalid_id', `order id must be a positive integer, got '${params.id}'`);
      const order = data.orderById.get(id) ?? createdById.get(id);
      return order ? ok(order) : fail(404, 'order_not_found', `no order with id ${id}`);
    }),

    route(`GET ${ORDERS_BASE_PATH}/orders`, ({ query }) => {
      const raw = listParam(query, 'customer_refs');
      if (raw.length === 0) {
        return fail(400, 'missing_parameter', 'customer_refs is required: a comma-separated list of account refs');
      }
      if (raw.length > ORDERS_REFS_LIMIT) {
        return fail(400, 'too_many_refs', `customer_refs takes at most ${ORDERS_REFS_LIMIT} refs, got ${raw.length}`);
      }
      const refs = new Set<number>();
      for (const item of raw) {
        const ref = parseNumericId(item);
        if (ref === undefined) return fail(400, 'invalid_ref', `customer_refs must be numeric account refs, got '${item}'`);
        refs.add(ref);
      }
      const orders: Order[] = [];
      for (const ref of refs) orders.push(...ordersOf(ref));
      orders.sort((a, b) => a.id - b.id);
      return ok({ data: orders, count: orders.length });
    }),

    route(`GET ${ORDERS_BASE_PATH}/customers/{ref}`, ({ params }) => {
      const ref = parseNumericId(params.ref);
      if (ref === undefined) return fail(400, 'invalid_ref', `customer ref must be a positive integer, got '${params.ref}'`);
      const account = data.accountByRef.get(ref);
      return account ? ok(account) : fail(404, 'customer_not_found', `no customer account with ref ${ref}`);
    }),
  ];
}

function ok(body: unknown): JsonReply {
  return { status: 200, body };
}

function fail(status: number, error: string, message: string): JsonReply {
  return { status, body: { error, message } };
}
