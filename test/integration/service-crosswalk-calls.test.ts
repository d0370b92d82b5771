/**
 * Two crosswalks served by one master-data entity (a CRM id answers both its order accounts and its
 * support emails): one call to the service per batch of keys per request, whatever the number of
 * crosswalks that read it, and that call is an upstream call like any other: counted at the
 * service, predicted and counted in extensions.cost, drawn in explain with its provenance, counted
 * in /metrics, named in the operation and audit logs. `cacheTtlMs` 0 reuses its answer within one
 * request only; above 0 the upstream-call cache keeps it that long, on the runtime's clock.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crmDataset } from '../../sources/crm/data';
import { ordersDataset } from '../../sources/orders/data';
import { normalizeEmail } from '../../sources/sandbox/email';
import { supportDataset } from '../../sources/support/data';
import type { VirtualizationConfigInput } from '../../src/config/definition';
import { EXPLAIN_HEADER, type FanoutEntry } from '../../src/server/explain';
import { METRIC } from '../../src/telemetry/attributes';
import { startHarness, type Harness } from '../support/harness';
import { ManualClock } from '../support/manual-clock';

const crm = crmDataset();
const orders = ordersDataset();
const support = supportDataset();
const refsByCrm = new Map<string, number[]>();
for (const pair of orders.crosswalk) refsByCrm.set(pair.crmCustomerId, [...(refsByCrm.get(pair.crmCustomerId) ?? []), pair.orderCustomerRef]);
const crmByRef = new Map(orders.crosswalk.map((pair) => [pair.orderCustomerRef, pair.crmCustomerId]));

/** What the master-data service knows of a CRM id: its order accounts, and its email as the desk knows it. */
function link(crmId: string) {
  const email = normalizeEmail(crm.byId.get(crmId)!.Email);
  return { crm_id: crmId, order_refs: (refsByCrm.get(crmId) ?? []).map(String), emails: support.requesterByEmail.has(email) ? [email] : [] };
}

/** The fixture service, counting what it is asked at its own door. */
const calls: Array<{ path: string; size: number }> = [];
let mdm: Server;
let mdmUrl: string;
beforeAll(async () => {
  mdm = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const input = JSON.parse(body || '{}') as { crmIds?: string[]; orderRefs?: string[]; emails?: string[] };
      const path = request.url ?? '';
      let links: unknown[] = [];
      if (path === '/mdm/links/by-crm') links = (input.crmIds ?? []).filter((id) => crm.byId.has(id)).map(link);
      else if (path === '/mdm/links/by-order-ref') links = [...new Set((input.orderRefs ?? []).flatMap((ref) => crmByRef.get(Number(ref)) ?? []))].map(link);
      else if (path === '/mdm/links/by-email') links = (input.emails ?? []).flatMap((email) => crm.byEmail.get(email)?.Id ?? []).map(link);
      calls.push({ path, size: (input.crmIds ?? input.orderRefs ?? input.emails ?? []).length });
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ links }));
    });
  });
  await new Promise<void>((resolve) => mdm.listen(0, '127.0.0.1', resolve));
  mdmUrl = `http://127.0.0.1:${(mdm.address() as AddressInfo).port}/mdm`;
});
afterAll(() => new Promise((resolve) => mdm?.close(resolve)));
beforeEach(() => {
  calls.length = 0;
});

/** The built-in configuration with both joins of the customer served by the master-data service. */
function throughService(cacheTtlMs: number) {
  return (config: VirtualizationConfigInput): VirtualizationConfigInput => {
    config.sources.mdm = {
      description: 'Master data: which records in other systems are the same customer.',
      baseUrl: mdmUrl,
      entities: {
        CustomerLink: {
          key: 'crmId',
          fields: { crmId: { from: 'crm_id', transform: 'id' }, orderRefs: { from: 'order_refs', type: '[ID!]' }, emails: { from: 'emails', type: '[String!]' } },
          lookups: {
            crmId: { method: 'POST', path: '/links/by-crm', body: { crmIds: '{values}' }, resultPath: 'links', unique: true, batch: { maxSize: 100 } },
            orderRefs: { method: 'POST', path: '/links/by-order-ref', body: { orderRefs: '{values}' }, resultPath: 'links', unique: false, batch: { maxSize: 100 } },
            emails: { method: 'POST', path: '/links/by-email', body: { emails: '{values}' }, resultPath: 'links', unique: false, batch: { maxSize: 100 } },
          },
          query: { one: false, many: false, list: false },
        },
      },
    };
    config.mappings!.customerOrders!.via = { kind: 'service', entity: 'CustomerLink', from: 'crmId', to: 'orderRefs', cacheTtlMs };
    config.mappings!.customerTickets = { ...config.mappings!.customerTickets!, from: { entity: 'Customer', field: 'id' }, via: { kind: 'service', entity: 'CustomerLink', from: 'crmId', to: 'emails', cacheTtlMs } };
    // Whole answers are not kept: each request below joins again.
    config.cache = { ...config.cache, responses: { ...config.cache?.responses, enabled: false } };
    return config;
  };
}

const PAGE = '{ customers(first: 10) { nodes { id orders { id } tickets { id } } } }';
type Page = { customers: { nodes: Array<{ id: string; orders: Array<{ id: string }>; tickets: Array<{ id: string }> }> } };

const expectedOrders = (crmId: string) => (refsByCrm.get(crmId) ?? []).flatMap((ref) => orders.ordersByRef.get(ref)!.map((order) => String(order.id))).sort();
const expectedTickets = (crmId: string) => {
  const requester = support.requesterByEmail.get(normalizeEmail(crm.byId.get(crmId)!.Email));
  return requester ? support.ticketsByRequester.get(requester.id)!.map((ticket) => String(ticket.id)).sort() : [];
};

describe('two crosswalks over one master-data entity', () => {
  let h: Harness;
  const clock = new ManualClock();
  beforeAll(async () => {
    h = await startHarness({ configure: throughService(60_000), cache: true, clock });
  });
  afterAll(() => h?.close());

  it('join a page with one call to the service, seen in extensions.cost, explain, /metrics and the logs', async () => {
    const answer = await h.query<Page>(PAGE, undefined, { [EXPLAIN_HEADER]: '1' });
    expect(answer.errors).toBeUndefined();
    const nodes = answer.data!.customers.nodes;
    expect(nodes).toHaveLength(10);
    for (const node of nodes) {
      expect(node.orders.map((order) => order.id).sort()).toEqual(expectedOrders(node.id));
      expect(node.tickets.map((ticket) => ticket.id).sort()).toEqual(expectedTickets(node.id));
    }
    expect(nodes.some((node) => node.orders.length > 0) && nodes.some((node) => node.tickets.length > 0)).toBe(true);
    // Both crosswalks read the same ten CRM ids: one call, at the service's door.
    expect(calls).toEqual([{ path: '/mdm/links/by-crm', size: 10 }]);

    const cost = answer.extensions!.cost as { upstreamCalls: Record<string, { predicted: number; actual: number }> };
    expect(cost.upstreamCalls.mdm).toEqual({ predicted: 1, actual: 1 });
    expect(cost.upstreamCalls.crm).toEqual({ predicted: 1, actual: 1 });

    const fanout = answer.extensions!.fanout as FanoutEntry[];
    expect(fanout.filter((call) => call.source === 'mdm')).toEqual([expect.objectContaining({ route: 'POST /links/by-crm', batchSize: 10, cacheHit: false, status: 200 })]);
    const provenance = answer.extensions!.provenance as Array<{ path: string; source: string; keysFrom?: unknown }>;
    expect(provenance).toContainEqual(expect.objectContaining({ path: 'customers.nodes.orders', source: 'orders', keysFrom: { mapping: 'customerOrders', source: 'mdm', entity: 'CustomerLink' } }));
    expect(provenance).toContainEqual(expect.objectContaining({ path: 'customers.nodes.tickets', source: 'support', keysFrom: { mapping: 'customerTickets', source: 'mdm', entity: 'CustomerLink' } }));

    const metrics = await (await fetch(`${h.server.url}/metrics`)).text();
    const sample = metrics.split('\n').find((line) => line.startsWith(`${METRIC.upstreamRequests}{`) && line.includes('source="mdm"') && line.includes('route="POST /links/by-crm"'));
    expect(sample).toMatch(/status="200"\} 1$/);

    await h.logs.audit.when((entries) => entries.some((entry) => Array.isArray(entry.keysSent)));
    const operation = h.logs.app.entries().find((entry) => entry.msg === 'operation')!;
    expect(operation.sources).toEqual(expect.arrayContaining(['crm', 'mdm', 'orders', 'support']));
    const audit = h.logs.audit.entries().find((entry) => Array.isArray(entry.keysSent))!;
    expect(audit.entities).toEqual(expect.arrayContaining(['mdm.CustomerLink']));
    expect(audit.keysSent).toEqual([{ source: 'mdm', lookup: 'CustomerLink.crmId', of: 'Customer.id', mappings: ['customerOrders', 'customerTickets'], keys: 10 }]);
    // Names and counts only: no CRM id is written to the audit.
    expect(JSON.stringify(audit)).not.toContain(nodes[0]!.id);
  });

  it('predicts the way back through the service as it is made', async () => {
    const order = orders.orders.find((candidate) => crmByRef.has(candidate.customer_ref))!;
    const answer = await h.query<{ order: { customer: { id: string } } }>(`{ order(id: "${order.id}") { customer { id } } }`);
    expect(answer.data!.order.customer.id).toBe(crmByRef.get(order.customer_ref));
    expect(calls).toEqual([{ path: '/mdm/links/by-order-ref', size: 1 }]);
    expect((answer.extensions!.cost as { upstreamCalls: Record<string, unknown> }).upstreamCalls.mdm).toEqual({ predicted: 1, actual: 1 });
  });

  it('reuses the answer across requests for cacheTtlMs, then asks again', async () => {
    // The page's CRM ids were answered by the first request, on this clock, cacheTtlMs (60 s) ago at most.
    await h.query(PAGE);
    expect(calls).toEqual([]);
    clock.advance(60_000);
    await h.query(PAGE);
    expect(calls).toEqual([]);
    clock.advance(1);
    expect((await h.query<Page>(PAGE)).data!.customers.nodes).toHaveLength(10);
    expect(calls).toEqual([{ path: '/mdm/links/by-crm', size: 10 }]);
  });
});

describe('cacheTtlMs 0', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ configure: throughService(0), cache: true, clock: new ManualClock() });
  });
  afterAll(() => h?.close());

  it('reuses the answer within one request (both crosswalks), never across requests', async () => {
    for (let request = 0; request < 2; request += 1) {
      calls.length = 0;
      const answer = await h.query<Page>(PAGE);
      expect(answer.errors).toBeUndefined();
      for (const node of answer.data!.customers.nodes) expect(node.orders.map((o) => o.id).sort()).toEqual(expectedOrders(node.id));
      expect(calls).toEqual([{ path: '/mdm/links/by-crm', size: 10 }]);
    }
  });
});
