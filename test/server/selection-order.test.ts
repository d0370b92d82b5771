/**
 * Answers keep the order of the selection (the GraphQL spec's serialized map ordering, the order
 * CollectFields collects), at the root and in every joined record, fragments and aliases included,
 * whether every source answers or one fails, whatever source answers first. Before, keys came in
 * the order their values resolved: a query reading three systems answered `customersByIds, order,
 * ticket, customers` to `customers, customersByIds, order, ticket`; and a key whose first
 * occurrence was skipped (`@skip`) kept that first place, where execution collects it later.
 */
import { buildSchema, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useSelectionOrder } from '../../src/server/selection-order';
import { DEMO_LIMITED_KEY, startHarness, type Harness } from '../support/harness';
import { data, expectedCustomer, expectedOrder } from '../integration/ground-truth';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const ORDER = String(data.orders.orders[0]!.id);
const TICKET = String(data.support.tickets[0]!.id);
const QUERY = `query Ordered {
  customers(first: 2) { nodes { ...Joined id latest: orders(first: 1) { number id } name } pageInfo { hasNextPage } }
  customersByIds(ids: ["${data.crm.contacts[5]!.Id}"]) { tickets { subject id } name id }
  order(id: "${ORDER}") { customer { segment name } number }
  ticket(id: "${TICKET}") { subject customer { name } id }
}
fragment Joined on Customer { openTicketCount email orderSummary { count currency } }`;

/** Every object's keys, as the answer's JSON text orders them, by path. */
function keyOrders(value: unknown, path = 'data', into: Record<string, string[]> = {}): Record<string, string[]> {
  if (Array.isArray(value)) value.forEach((item, i) => keyOrders(item, `${path}.${i}`, into));
  else if (value !== null && typeof value === 'object') {
    into[path] = Object.keys(value);
    for (const [key, child] of Object.entries(value)) keyOrders(child, `${path}.${key}`, into);
  }
  return into;
}

async function ask(query = QUERY, variables?: Record<string, unknown>, url = h.url, key = process.env.VIRTUALIZE_DEMO_KEY ?? 'vz_demo_sandbox_all_scopes'): Promise<{ errors?: Array<{ path?: unknown[] }>; data: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': key }, body: JSON.stringify({ query, variables }) });
  // JSON.parse keeps the text's key order.
  return JSON.parse(await response.text()) as { errors?: Array<{ path?: unknown[] }>; data: unknown };
}

function expectSelectionOrder(orders: Record<string, string[]>): void {
  expect(orders.data).toEqual(['customers', 'customersByIds', 'order', 'ticket']);
  for (const [path, keys] of Object.entries(orders)) {
    if (/^data\.customers\.nodes\.\d+$/.test(path)) expect(keys).toEqual(['openTicketCount', 'email', 'orderSummary', 'id', 'latest', 'name']);
    if (/^data\.customers\.nodes\.\d+\.latest\.\d+$/.test(path)) expect(keys).toEqual(['number', 'id']);
    if (/^data\.customers\.nodes\.\d+\.orderSummary$/.test(path)) expect(keys).toEqual(['count', 'currency']);
    if (/^data\.customersByIds\.\d+$/.test(path)) expect(keys).toEqual(['tickets', 'name', 'id']);
    if (/^data\.customersByIds\.\d+\.tickets\.\d+$/.test(path)) expect(keys).toEqual(['subject', 'id']);
  }
  if (orders['data.customers']) expect(orders['data.customers']).toEqual(['nodes', 'pageInfo']);
  if (orders['data.order']) expect(orders['data.order']).toEqual(['customer', 'number']);
  if (orders['data.order.customer']) expect(orders['data.order.customer']).toEqual(['segment', 'name']);
  if (orders['data.ticket']) expect(orders['data.ticket']).toEqual(['subject', 'customer', 'id']);
}

it('answers every object with its keys in selection order', async () => {
  const answer = await ask();
  expect(answer.errors).toBeUndefined();
  const orders = keyOrders(answer.data);
  expect(Object.keys(orders).filter((path) => /^data\.customers\.nodes\.\d+$/.test(path))).toHaveLength(2);
  expectSelectionOrder(orders);
});

describe('root fields of several sources, the CRM answering last', () => {
  const [first, second] = [data.crm.contacts[3]!.Id, data.crm.contacts[4]!.Id];
  beforeAll(() => h.sandboxes.crm.setKnobs({ latencyMs: 40 }));
  afterAll(() => h.sandboxes.crm.setKnobs({ latencyMs: 0 }));

  it('answers aliased roots of two sources in the order asked: a, b, c (not b, a, c)', async () => {
    const answer = await ask(`{ a: customer(id: "${first}") { name } b: order(id: "${ORDER}") { number } c: customer(id: "${second}") { email } }`);
    expect(answer.errors).toBeUndefined();
    expect(JSON.stringify(answer.data)).toBe(
      JSON.stringify({
        a: { name: expectedCustomer(first).name },
        b: { number: expectedOrder(data.orders.orders[0]!).number },
        c: { email: expectedCustomer(second).email },
      }),
    );
  });

  it('places a key where a fragment (named or inline) first collects it', async () => {
    const answer = await ask(`{ ...Roots b: order(id: "${ORDER}") { number } ... { t: ticket(id: "${TICKET}") { id } c: customer(id: "${first}") { id } } }
      fragment Roots on Query { c: customer(id: "${first}") { name } a: customer(id: "${second}") { id } }`);
    expect(answer.errors).toBeUndefined();
    const orders = keyOrders(answer.data);
    expect(orders.data).toEqual(['c', 'a', 'b', 't']);
    expect(orders['data.c']).toEqual(['name', 'id']);
  });

  it('orders nested joins back to the slow source', async () => {
    const answer = await ask(`{ b: order(id: "${ORDER}") { customer { orders(first: 2) { customer { id email } number } name } number } a: customer(id: "${first}") { tickets { subject } id } }`);
    expect(answer.errors).toBeUndefined();
    const orders = keyOrders(answer.data);
    expect(orders.data).toEqual(['b', 'a']);
    expect(orders['data.b']).toEqual(['customer', 'number']);
    expect(orders['data.b.customer']).toEqual(['orders', 'name']);
    const nested = Object.entries(orders).filter(([path]) => /^data\.b\.customer\.orders\.\d+$/.test(path));
    expect(nested.length).toBeGreaterThan(0);
    for (const [, keys] of nested) expect(keys).toEqual(['customer', 'number']);
    expect(orders['data.b.customer.orders.0.customer']).toEqual(['id', 'email']);
  });

  it('collects as execution does with @skip and @include: a key skipped where it first stands takes its first included place', async () => {
    const answer = await ask(
      `query Q($hide: Boolean!, $show: Boolean = true) {
        a: customer(id: "${first}") @skip(if: $hide) { name }
        ...F @include(if: false)
        b: order(id: "${ORDER}") { number }
        a: customer(id: "${first}") { email id @include(if: $show) }
        ...F
      }
      fragment F on Query { c: ticket(id: "${TICKET}") { id } }`,
      { hide: true },
    );
    expect(answer.errors).toBeUndefined();
    const orders = keyOrders(answer.data);
    expect(orders.data).toEqual(['b', 'a', 'c']);
    expect(orders['data.a']).toEqual(['email', 'id']);
  });
});

describe('filter mode', () => {
  let filtering: Harness;
  beforeAll(async () => {
    filtering = await startHarness({ configure: (config) => ({ ...config, auth: { ...config.auth, authorization: { mode: 'filter' } } }) });
    await filtering.sandboxes.crm.setKnobs({ latencyMs: 40 });
  });
  afterAll(() => filtering?.close());

  it('puts denied keys back, null, where they were asked, at the root and in joined records', async () => {
    // The limited key reads customers and orders, not tickets.
    const customer = data.crm.contacts[3]!.Id;
    const answer = await ask(
      `{ t: ticket(id: "${TICKET}") { id } a: customer(id: "${customer}") { name tickets { id } id } b: order(id: "${ORDER}") { number } }`,
      undefined,
      filtering.url,
      DEMO_LIMITED_KEY,
    );
    expect(answer.errors?.map((error) => error.path)).toEqual([['t'], ['a', 'tickets']]);
    const orders = keyOrders(answer.data);
    expect(orders.data).toEqual(['t', 'a', 'b']);
    expect(orders['data.a']).toEqual(['name', 'tickets', 'id']);
  });
});

// Last of the gateway's tests: the failures open the orders system's breaker.
it('keeps the order when a source fails and its fields are null', async () => {
  await h.sandboxes.orders.setKnobs({ errorRate: 1, errorStatus: 503 });
  try {
    const answer = await ask();
    expect(answer.errors).not.toHaveLength(0);
    expect((answer.data as { order: unknown }).order).toBeNull();
    expectSelectionOrder(keyOrders(answer.data));
  } finally {
    await h.sandboxes.orders.setKnobs({ errorRate: 0 });
  }
});

it('orders by a plan as large as the document with its fragments spread once per position, never exponentially', () => {
  // Seven levels of fragments, each spreading the one below ten times (the fan-out the guard refuses
  // by its expanded size): each fragment is read once per position, as CollectFields reads it.
  const levels = Array.from({ length: 8 }, (_, level) =>
    level === 0 ? 'fragment F0 on Customer { name id }' : `fragment F${level} on Customer { ${Array.from({ length: 10 }, () => `...F${level - 1}`).join(' ')} }`,
  );
  const document = parse(`{ customer(id: "x") { ...F7 } } ${levels.join(' ')}`);
  const schema = buildSchema('type Query { customer(id: ID!): Customer } type Customer { id: ID! name: String }');
  const hooks = (useSelectionOrder() as Required<Pick<Plugin, 'onExecute'>>).onExecute({ args: { schema, document, operationName: undefined } } as never) as {
    onExecuteDone(payload: { result: unknown; setResult(result: unknown): void }): void;
  };
  let ordered: { data: { customer: Record<string, unknown> } } | undefined;
  hooks.onExecuteDone({ result: { data: { customer: { id: 'x', name: 'n' } } }, setResult: (result) => (ordered = result as typeof ordered) });
  expect(Object.keys(ordered!.data.customer)).toEqual(['name', 'id']);
});
