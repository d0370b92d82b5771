/**
 * Answers keep the order of the selection (the GraphQL spec's serialized map ordering), at the
 * root and in every joined record, fragments and aliases included, whether every source answers
 * or one fails. Before, keys came in the order their values resolved: a query reading three
 * systems answered `customersByIds, order, ticket, customers` to `customers, customersByIds,
 * order, ticket`.
 */
import { parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useSelectionOrder } from '../../src/server/selection-order';
import { startHarness, type Harness } from '../support/harness';
import { data } from '../integration/ground-truth';

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

async function ask(): Promise<{ errors?: unknown[]; data: unknown }> {
  const response = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', 'x-api-key': process.env.VIRTUALIZE_DEMO_KEY ?? 'vz_demo_sandbox_all_scopes' }, body: JSON.stringify({ query: QUERY }) });
  // JSON.parse keeps the text's key order.
  return JSON.parse(await response.text()) as { errors?: unknown[]; data: unknown };
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
  const hooks = (useSelectionOrder() as Required<Pick<Plugin, 'onExecute'>>).onExecute({ args: { document, operationName: undefined } } as never) as {
    onExecuteDone(payload: { result: unknown; setResult(result: unknown): void }): void;
  };
  let ordered: { data: { customer: Record<string, unknown> } } | undefined;
  hooks.onExecuteDone({ result: { data: { customer: { id: 'x', name: 'n' } } }, setResult: (result) => (ordered = result as typeof ordered) });
  expect(Object.keys(ordered!.data.customer)).toEqual(['name', 'id']);
});
