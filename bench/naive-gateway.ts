/**
 * The baseline: the gateway people write by hand without batching. A graphql-yoga server with a
 * hand-written schema for the customer 360, whose resolvers call the sources once per item: one
 * CRM page, then for each customer one order-system call (with that customer's account refs from
 * the crosswalk file) and one support-desk call (with that customer's email).
 *
 * It is not a straw man: each customer's two calls are memoized on the customer, so that
 * `orders` and `orderSummary` share one call and `tickets` and `openTicketCount` another; a
 * customer with no order account is not asked about; connections are kept alive. What it lacks
 * is what the engine adds: batching across customers, and the limits it puts on each source.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createSchema, createYoga } from 'graphql-yoga';
import { Agent, request } from 'undici';
import { SANDBOX_CREDENTIALS, TOKEN_PATH, type CrmContact, type Order, type Ticket } from '../sources/sandbox';
import { PROJECT_ROOT, type RunningGateway, type SandboxUrls } from './project';

const typeDefs = /* GraphQL */ `
  enum CustomerSegment { ENTERPRISE MID_MARKET SMALL_BUSINESS }
  enum OrderStatus { PENDING PAID SHIPPED CANCELLED REFUNDED }
  enum TicketStatus { NEW OPEN PENDING SOLVED CLOSED }
  enum TicketPriority { LOW NORMAL HIGH URGENT }

  type Customer {
    id: ID!
    name: String
    email: String
    segment: CustomerSegment
    orders(first: Int): [Order!]!
    orderSummary: OrderSummary!
    tickets(status: TicketStatus): [Ticket!]!
    openTicketCount: Int!
  }
  type OrderSummary { count: Int! totalSpent: Float currency: String lastOrderAt: String }
  type Order { id: ID! number: String total: Float currency: String status: OrderStatus placedAt: String }
  type Ticket { id: ID! subject: String status: TicketStatus priority: TicketPriority openedAt: String }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type CustomerConnection { nodes: [Customer!]! pageInfo: PageInfo! totalCount: Int }
  type Query { customers(first: Int = 20, after: String): CustomerConnection! }
`;

interface CustomerRow {
  id: string;
  name: string;
  email: string;
  segment: string;
  /** The customer's orders and tickets, each fetched once, on first use. */
  ordersCall?: Promise<OrderRow[]>;
  ticketsCall?: Promise<TicketRow[]>;
}

interface OrderRow {
  id: string;
  number: string;
  total: number;
  currency: string;
  status: string;
  placedAt: string;
}

interface TicketRow {
  id: string;
  subject: string;
  status: string;
  priority: string;
  openedAt: string;
}

const SEGMENTS: Record<string, string> = { ENT: 'ENTERPRISE', MM: 'MID_MARKET', SMB: 'SMALL_BUSINESS' };
const OPEN_TICKET_STATUSES = new Set(['NEW', 'OPEN', 'PENDING']);

/** CRM customer id -> order account refs, read from the same crosswalk file the gateway loads. */
function readCrosswalk(): Map<string, string[]> {
  const rows = parse(readFileSync(join(PROJECT_ROOT, 'sources/orders/crosswalk.csv'), 'utf8'), { columns: true, trim: true }) as Array<{
    crm_customer_id: string;
    order_customer_ref: string;
  }>;
  const refs = new Map<string, string[]>();
  for (const row of rows) refs.set(row.crm_customer_id, [...(refs.get(row.crm_customer_id) ?? []), row.order_customer_ref]);
  return refs;
}

/** `2024-05-01 13:45:10` (UTC, no zone) -> ISO-8601. */
function supportTime(text: string): string {
  return new Date(`${text.replace(' ', 'T')}Z`).toISOString();
}

function newestFirst<T extends { at: string }>(a: T, b: T): number {
  return a.at === b.at ? 0 : a.at > b.at ? -1 : 1;
}

async function supportToken(origin: string, agent: Agent): Promise<string> {
  const { clientId, clientSecret } = SANDBOX_CREDENTIALS.support;
  const response = await request(`${origin}${TOKEN_PATH}`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
  });
  const body = (await response.body.json()) as { access_token?: string };
  if (response.statusCode !== 200 || !body.access_token) throw new Error(`the support desk issued no token (${response.statusCode})`);
  return body.access_token;
}

export async function startNaive(sandboxes: SandboxUrls): Promise<RunningGateway> {
  const crosswalk = readCrosswalk();
  const agent = new Agent({ keepAliveTimeout: 30_000 });

  // The sandboxes' own development credentials, as a hand-written client would hold them: the CRM's
  // API key, and one support-desk token fetched at start (it outlives any benchmark run).
  const credentials: Record<string, Record<string, string>> = {
    [sandboxes.crm]: { [SANDBOX_CREDENTIALS.crm.header]: SANDBOX_CREDENTIALS.crm.apiKey },
    [sandboxes.support]: { authorization: `Bearer ${await supportToken(sandboxes.support, agent)}` },
  };

  async function getJson<T>(url: string): Promise<T> {
    const origin = new URL(url).origin;
    const response = await request(url, { dispatcher: agent, headers: { accept: 'application/json', ...credentials[origin] } });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET ${url} answered ${response.statusCode}: ${text.slice(0, 200)}`);
    return JSON.parse(text) as T;
  }

  function ordersOf(customer: CustomerRow): Promise<OrderRow[]> {
    customer.ordersCall ??= (async () => {
      const refs = crosswalk.get(customer.id) ?? [];
      if (refs.length === 0) return [];
      const body = await getJson<{ data: Order[] }>(`${sandboxes.orders}/api/orders?customer_refs=${refs.join(',')}`);
      return body.data
        .map((o) => ({
          at: new Date(o.created_at * 1000).toISOString(),
          row: {
            id: String(o.id),
            number: o.number,
            total: o.total_minor / 100,
            currency: o.currency,
            status: o.status.toUpperCase(),
            placedAt: new Date(o.created_at * 1000).toISOString(),
          },
        }))
        .sort(newestFirst)
        .map((o) => o.row);
    })();
    return customer.ordersCall;
  }

  function ticketsOf(customer: CustomerRow): Promise<TicketRow[]> {
    customer.ticketsCall ??= (async () => {
      const body = await getJson<{ tickets: Ticket[] }>(
        `${sandboxes.support}/api/v2/tickets?requester_email=${encodeURIComponent(customer.email)}`,
      );
      return body.tickets
        .map((t) => ({
          at: supportTime(t.created_at),
          row: { id: String(t.id), subject: t.subject, status: t.status.toUpperCase(), priority: t.priority.toUpperCase(), openedAt: supportTime(t.created_at) },
        }))
        .sort(newestFirst)
        .map((t) => t.row);
    })();
    return customer.ticketsCall;
  }

  const schema = createSchema({
    typeDefs,
    resolvers: {
      Query: {
        customers: async (_: unknown, args: { first: number; after?: string | null }) => {
          const params = new URLSearchParams({ limit: String(args.first) });
          if (args.after) params.set('cursor', args.after);
          const page = await getJson<{ totalSize: number; nextRecordsCursor: string | null; records: CrmContact[] }>(
            `${sandboxes.crm}/services/data/v58.0/query/Contact?${params.toString()}`,
          );
          return {
            nodes: page.records.map(
              (c): CustomerRow => ({ id: c.Id, name: c.Name, email: c.Email.trim().toLowerCase(), segment: SEGMENTS[c.Segment__c] ?? c.Segment__c }),
            ),
            pageInfo: { hasNextPage: page.nextRecordsCursor !== null, endCursor: page.nextRecordsCursor },
            totalCount: page.totalSize,
          };
        },
      },
      Customer: {
        orders: async (customer: CustomerRow, args: { first?: number | null }) => {
          const orders = await ordersOf(customer);
          return typeof args.first === 'number' ? orders.slice(0, args.first) : orders;
        },
        orderSummary: async (customer: CustomerRow) => {
          const orders = await ordersOf(customer);
          const currencies = new Set(orders.map((o) => o.currency));
          const totalMinor = orders.reduce((sum, o) => sum + Math.round(o.total * 100), 0);
          return {
            count: orders.length,
            totalSpent: orders.length === 0 ? null : totalMinor / 100,
            currency: currencies.size === 1 ? [...currencies][0] : null,
            lastOrderAt: orders[0]?.placedAt ?? null,
          };
        },
        tickets: async (customer: CustomerRow, args: { status?: string | null }) => {
          const tickets = await ticketsOf(customer);
          return args.status ? tickets.filter((t) => t.status === args.status) : tickets;
        },
        openTicketCount: async (customer: CustomerRow) => (await ticketsOf(customer)).filter((t) => OPEN_TICKET_STATUSES.has(t.status)).length,
      },
    },
  });

  const yoga = createYoga({ schema, graphqlEndpoint: '/graphql', landingPage: false, graphiql: false, logging: false });
  const server = createServer(yoga);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    name: 'naive',
    url: `http://127.0.0.1:${port}/graphql`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await agent.close();
    },
  };
}
