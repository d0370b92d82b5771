/**
 * The one declarative configuration of virtualize: the sources it federates, how each source's
 * payloads map onto the canonical model in `schema/`, and the id mappings that join them.
 *
 * Base URLs and credentials default to the sandbox systems that `npm start` runs beside the
 * gateway (and to the sandbox's own development secrets); point them at the real systems with the
 * environment variables named here. Limits not declared take the defaults of the format
 * (src/config/definition.ts): 3 attempts, a breaker that opens for 30 s, no client-side rate limit.
 */
import { SANDBOX_CREDENTIALS } from './sources/sandbox/auth';
import { defineConfig, env } from './src/config/define-config';

export const SANDBOX_PORTS = { crm: 4101, orders: 4102, support: 4103, billing: 4104 } as const;

/**
 * The sandbox's two demo API keys (README, "Security"): sandbox mode and the tests set their
 * variables to these documented values when unset. Outside sandbox mode a key is active only when
 * its variable is set, so a production gateway never accepts the documented values by accident.
 */
export const DEMO_KEYS = {
  /** Every scope: customers, orders, tickets, billing, and unmasked personal data. */
  full: { variable: 'VIRTUALIZE_DEMO_KEY', key: 'vz_demo_sandbox_all_scopes', scopes: ['customers:read', 'orders:read', 'tickets:read', 'pii:read', 'billing:read'] },
  /** Customers and orders only: no tickets, and personal data masked. */
  limited: { variable: 'VIRTUALIZE_DEMO_LIMITED_KEY', key: 'vz_demo_sandbox_limited', scopes: ['customers:read', 'orders:read'] },
} as const;

/** The demo keys' variables with their documented values: what sandbox mode sets when they are unset. */
export const DEMO_KEY_ENV: Readonly<Record<string, string>> = { [DEMO_KEYS.full.variable]: DEMO_KEYS.full.key, [DEMO_KEYS.limited.variable]: DEMO_KEYS.limited.key };

export default defineConfig({
  server: { port: Number(process.env.PORT ?? 4000), host: process.env.HOST ?? '127.0.0.1' },
  schemaDir: 'schema',

  sources: {
    crm: {
      description: 'The CRM: customers (Salesforce-style contacts).',
      baseUrl: env('CRM_URL', `http://127.0.0.1:${SANDBOX_PORTS.crm}/services/data/v58.0`),
      auth: { type: 'header', header: 'x-api-key', value: env('CRM_API_KEY', SANDBOX_CREDENTIALS.crm.apiKey) },
      // maxCallsPerRequest: a page of 4,000 customers, or lookups of 2,000 ids, in one request.
      limits: { timeoutMs: 5_000, connectTimeoutMs: 2_000, maxConcurrency: 16, maxCallsPerRequest: 20, rateLimit: { perSecond: 200, burst: 50 } },
      // Customer records change rarely: fresh for a minute, then served stale for a minute more while refreshed.
      cache: { ttlMs: 60_000, staleWhileRevalidateMs: 60_000 },
      entities: {
        Customer: {
          key: 'id',
          fields: {
            id: 'Id',
            name: 'Name',
            email: { from: 'Email', transform: 'email' },
            segment: { from: 'Segment__c', transform: { enum: { ENT: 'ENTERPRISE', MM: 'MID_MARKET', SMB: 'SMALL_BUSINESS' } } },
            owner: 'Owner.Name',
            createdAt: { from: 'CreatedDate', transform: 'dateTime' },
          },
          lookups: {
            id: { path: '/composite/sobjects/Contact', query: { ids: '{values}' }, resultPath: 'records', unique: true, batch: { maxSize: 100 } },
            email: { path: '/search/Contact', query: { emails: '{values}' }, resultPath: 'records', unique: true, batch: { maxSize: 100 } },
          },
          list: {
            path: '/query/Contact',
            resultPath: 'records',
            paging: { type: 'cursor', cursorParam: 'cursor', limitParam: 'limit', maxPageSize: 200, nextCursorPath: 'nextRecordsCursor', totalPath: 'totalSize' },
            filters: { segment: { param: 'segment', field: 'segment' } },
          },
          query: { one: 'customer', many: 'customersByIds', list: 'customers' },
        },
      },
    },

    orders: {
      description: 'The order system: orders with lines, per order account.',
      baseUrl: env('ORDERS_URL', `http://127.0.0.1:${SANDBOX_PORTS.orders}/api`),
      // Orders by id come one per call; orders of customers come 50 accounts per call.
      limits: { timeoutMs: 5_000, connectTimeoutMs: 2_000, maxConcurrency: 16, maxCallsPerRequest: 100 },
      entities: {
        Order: {
          // New orders arrive by webhook (cache.webhooks); the TTL bounds how late one shows without it.
          cache: { ttlMs: 15_000, staleWhileRevalidateMs: 15_000 },
          key: 'id',
          fields: {
            id: { from: 'id', transform: 'id' },
            number: 'number',
            customerRef: { from: 'customer_ref', transform: 'id', description: "The order system's own customer reference." },
            total: { from: 'total_minor', transform: 'minorUnits' },
            currency: 'currency',
            status: { from: 'status', transform: { enum: { pending: 'PENDING', paid: 'PAID', shipped: 'SHIPPED', cancelled: 'CANCELLED', refunded: 'REFUNDED' } } },
            placedAt: { from: 'created_at', transform: 'epochSeconds' },
            lines: {
              from: 'lines',
              items: {
                type: 'OrderLine',
                fields: {
                  sku: 'sku',
                  quantity: { from: 'qty', transform: 'int' },
                  unitPrice: { from: 'unit_price_minor', transform: 'minorUnits' },
                },
              },
            },
          },
          lookups: {
            id: { path: '/orders/{value}', unique: true, pattern: '^[0-9]+$' },
            customerRef: { path: '/orders', query: { customer_refs: '{values}' }, resultPath: 'data', unique: false, batch: { maxSize: 50 }, pattern: '^[0-9]+$' },
          },
          query: { one: 'order', many: false, list: false },
        },
      },
    },

    support: {
      description: 'The support desk: tickets per requester. It has no batch endpoint.',
      baseUrl: env('SUPPORT_URL', `http://127.0.0.1:${SANDBOX_PORTS.support}/api/v2`),
      auth: {
        type: 'oauth2ClientCredentials',
        tokenUrl: env('SUPPORT_TOKEN_URL', '/oauth/token'),
        clientId: env('SUPPORT_CLIENT_ID', SANDBOX_CREDENTIALS.support.clientId),
        clientSecret: env('SUPPORT_CLIENT_SECRET', SANDBOX_CREDENTIALS.support.clientSecret),
      },
      // One call per customer: a page of 50 goes out in two waves, and the desk never sees more
      // than 32 calls at once from this replica, however many clients ask. Tickets of more than
      // 250 customers in one request are refused before any call.
      limits: { timeoutMs: 5_000, connectTimeoutMs: 2_000, maxConcurrency: 32, maxCallsPerRequest: 250 },
      entities: {
        Ticket: {
          cache: { ttlMs: 10_000, staleWhileRevalidateMs: 10_000 },
          key: 'id',
          fields: {
            id: { from: 'id', transform: 'id' },
            subject: 'subject',
            status: { from: 'status', transform: { enum: { new: 'NEW', open: 'OPEN', pending: 'PENDING', solved: 'SOLVED', closed: 'CLOSED' } } },
            priority: { from: 'priority', transform: { enum: { low: 'LOW', normal: 'NORMAL', high: 'HIGH', urgent: 'URGENT' } } },
            openedAt: { from: 'created_at', transform: 'dateTime' },
            requesterEmail: { from: 'requester.email', transform: 'email', description: "The requester's email, trimmed and lower-cased." },
          },
          lookups: {
            id: { path: '/tickets/{value}', resultPath: 'ticket', unique: true, pattern: '^[0-9]+$' },
            requesterEmail: { path: '/tickets', query: { requester_email: '{value}' }, resultPath: 'tickets', unique: false },
          },
          query: { one: 'ticket', many: false, list: false },
        },
      },
    },
  },

  mappings: {
    customerOrders: {
      description: 'CRM customer id <-> order-system customer ref, through the crosswalk table.',
      from: { entity: 'Customer', field: 'id' },
      to: { entity: 'Order', field: 'customerRef' },
      via: { kind: 'crosswalk', file: 'sources/orders/crosswalk.csv', columns: ['crm_customer_id', 'order_customer_ref'] },
      forward: {
        field: 'orders',
        args: { first: { type: 'Int', slice: true } },
        orderBy: { field: 'placedAt', direction: 'desc' },
        summaries: {
          orderSummary: {
            type: 'OrderSummary',
            fields: {
              count: { op: 'count' },
              totalSpent: { op: 'sum', field: 'total', requireSame: 'currency' },
              currency: { op: 'single', field: 'currency' },
              lastOrderAt: { op: 'max', field: 'placedAt' },
            },
          },
        },
      },
      inverse: { field: 'customer' },
    },
    customerTickets: {
      description: 'CRM email <-> support requester email, compared trimmed and lower-cased.',
      from: { entity: 'Customer', field: 'email' },
      to: { entity: 'Ticket', field: 'requesterEmail' },
      via: { kind: 'fieldKey', normalize: 'email' },
      forward: {
        field: 'tickets',
        args: { status: { filter: 'status' } },
        orderBy: { field: 'openedAt', direction: 'desc' },
        summaries: { openTicketCount: { op: 'count', where: { status: ['NEW', 'OPEN', 'PENDING'] } } },
      },
      inverse: { field: 'customer' },
    },
  },

  // Query cost limits, checked before anything reaches a source (README, "Query cost").
  guard: {
    // Points per operation, priced from @cost and @listSize in schema/.
    maxCost: 10_000,
    limits: { depth: 10, aliases: 100, directives: 30, tokens: 2_000, fragments: 20, batchedOperations: 5 },
    // Assumed sizes of list fields that schema/ does not size (types generated for added sources).
    listSizes: { join: 20, list: 10 },
    // Per authenticated client (its API key, its token's subject; anonymous callers per address):
    // a bucket of 20,000 points refilling at 2,000 points per second. Set store to { kind: 'redis',
    // url: env('REDIS_URL') } to share it between replicas.
    budget: { capacity: 20_000, restoreRate: 2_000, store: { kind: 'memory' } },
  },

  // Cache tiers (README, "Caching"). Upstream calls are cached per source, entity and key with the
  // TTLs declared on each source and entity above; whole answers once asked 3 times in a minute,
  // keyed by the caller's authorization partition (what the caller may see). Set shared to { kind: 'redis', url:
  // env('REDIS_URL') } to share fills and invalidations between replicas.
  cache: {
    upstream: { maxBytes: 64 * 1024 * 1024, ttlMs: 30_000, staleWhileRevalidateMs: 30_000 },
    responses: { maxBytes: 32 * 1024 * 1024, ttlMs: 10_000, admitAfter: 3, windowMs: 60_000 },
    shared: { kind: 'memory' },
    // Per source, the secret its webhooks are signed with (POST /webhooks/<source>).
    webhooks: {
      toleranceMs: 300_000,
      secrets: {
        crm: env('CRM_WEBHOOK_SECRET', 'sandbox-crm-webhook-secret'),
        orders: env('ORDERS_WEBHOOK_SECRET', 'sandbox-orders-webhook-secret'),
        support: env('SUPPORT_WEBHOOK_SECRET', 'sandbox-support-webhook-secret'),
      },
    },
  },

  examples: [
    {
      name: 'Customer 360',
      query: `# A customer 360: one CRM customer with their orders (order system) and tickets (support desk).
query Customer360($first: Int = 5) {
  customers(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      name
      email
      segment
      orderSummary { count totalSpent currency lastOrderAt }
      orders(first: 3) { number total currency status placedAt }
      openTicketCount
      tickets { subject status priority openedAt }
    }
  }
}
`,
    },
  ],

  // Who may call /graphql (README, "Security"). Every caller authenticates: the two demo keys
  // below (active only when their variables are set: sandbox mode sets them), and keys created at
  // run time with `virtualize keys create` (kept as digests in the registry store); and what runs.
  auth: {
    apiKeys: {
      static: {
        demo: { key: env(DEMO_KEYS.full.variable), scopes: [...DEMO_KEYS.full.scopes] },
        demoLimited: { key: env(DEMO_KEYS.limited.variable), scopes: [...DEMO_KEYS.limited.scopes] },
      },
      managed: true,
    },
    // off (default), log or enforce; anything else is refused at start with the allowed values.
    trustedDocuments: { mode: (process.env.VIRTUALIZE_TRUSTED_DOCUMENTS ?? 'off') as 'off' | 'log' | 'enforce' },
  },

  // Sources and mappings registered at run time through the admin API (`virtualize sources add`).
  registry: {
    // Embedded by default; PostgreSQL when DATABASE_URL is set, shared by every replica.
    store: process.env.DATABASE_URL
      ? { kind: 'postgres', url: env('DATABASE_URL'), schema: process.env.VIRTUALIZE_PG_SCHEMA ?? 'virtualize' }
      : { kind: 'file', dir: process.env.VIRTUALIZE_REGISTRY_DIR ?? '.virtualize' },
    credentials: { admin: { token: env('VIRTUALIZE_ADMIN_TOKEN'), scopes: ['registry:read', 'registry:write'] } },
    // Registered sources may call public hosts only, and the billing sandbox on this machine.
    egress: { allowedHosts: ['*'], allowPrivate: [`127.0.0.1:${SANDBOX_PORTS.billing}`, `localhost:${SANDBOX_PORTS.billing}`] },
    // The environment variables registered definitions may name: billing's URL and key (BILLING_URL,
    // BILLING_API_KEY), and those of the vendor catalog in examples/ (README, "Point it at your real systems").
    env: { allowed: ['BILLING_*', 'HUBSPOT_*', 'SALESFORCE_*', 'SHOPIFY_*', 'ZENDESK_*', 'STRIPE_*'] },
  },
});
