/**
 * The declarative format of virtualize: sources, the entities they serve, and the id mappings that
 * join entities across sources. Everything here is plain data (no functions), so that the same
 * definition can live in `virtualization.config.ts`, in a JSON file, or arrive through an admin API,
 * and be checked by one validator.
 *
 * The zod schemas are the single source of truth: the TypeScript types are inferred from them, and
 * a JSON Schema can be generated from them with `z.toJSONSchema`.
 */
import { z } from 'zod';

const identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9]*$/, 'use letters and digits only, starting with a letter');
const typeName = z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'use a PascalCase GraphQL type name, e.g. Invoice');
const fieldName = z.string().regex(/^[a-z][A-Za-z0-9]*$/, 'use a camelCase GraphQL field name, e.g. placedAt');

/** A secret or setting read from the environment when the source starts, never written in the definition. */
export const envRef = z.strictObject({
  env: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name, e.g. CRM_API_KEY'),
  default: z.string().optional(),
});
export type EnvRef = z.infer<typeof envRef>;
const stringOrEnv = z.union([z.string().min(1), envRef]);

/**
 * How the gateway authenticates to a source. Secrets are environment references only: they never
 * appear in a definition, a log line, an error or `/readyz`.
 */
export const authDefinition = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  /** An API key (or any fixed secret) sent in a header on every call, e.g. `x-api-key`. */
  z.strictObject({ type: z.literal('header'), header: z.string().min(1), value: envRef }),
  /** A fixed bearer token: `Authorization: Bearer <token>`. */
  z.strictObject({ type: z.literal('bearer'), token: envRef }),
  /**
   * OAuth 2.0 client credentials (RFC 6749, section 4.4): the gateway asks the token endpoint for an
   * access token (client id and secret in HTTP Basic), sends it as a bearer token, keeps it until
   * `renewBeforeExpiryMs` before it expires, and on a 401 fetches a new one and repeats the call once.
   */
  z.strictObject({
    type: z.literal('oauth2ClientCredentials'),
    /** The token endpoint: an absolute URL, or a path such as `/oauth/token` on the source's own origin. */
    tokenUrl: stringOrEnv,
    clientId: stringOrEnv,
    clientSecret: envRef,
    /** Space-separated scopes to ask for; none by default. */
    scope: z.string().min(1).optional(),
    /** A token is renewed this long before its `expires_in` runs out, in milliseconds. */
    renewBeforeExpiryMs: z.number().int().min(0).default(30_000),
  }),
]);
export type AuthDefinition = z.infer<typeof authDefinition>;

/**
 * Value transforms from a raw payload value to the canonical value. Each is pure; a value that does
 * not fit its transform rejects that record alone (see connectors/record-mapper).
 */
export const transformDefinition = z.union([
  z.enum([
    'string',
    'int',
    'float',
    'boolean',
    'id',
    'minorUnits', // integer minor units (cents) -> decimal number
    'epochSeconds', // seconds since 1970 -> ISO-8601 DateTime
    'epochMillis',
    'dateTime', // ISO-8601 and close relatives (`+0000` offsets, `YYYY-MM-DD HH:mm:ss` as UTC) -> ISO-8601 DateTime
    'email', // trimmed and lower-cased
  ]),
  z.strictObject({
    enum: z.record(z.string(), z.string()).describe('raw value -> canonical enum value'),
    caseInsensitive: z.boolean().optional(),
  }),
]);
export type TransformDefinition = z.infer<typeof transformDefinition>;

const graphqlTypeRef = z
  .string()
  .regex(/^\[?[A-Za-z][A-Za-z0-9]*!?\]?!?$/, 'a GraphQL type reference such as String, Int!, [String!]');

export const fieldMappingObject = z.strictObject({
  /** Dot path into the raw record, e.g. `Owner.Name`; `[]` maps each element of an array (`lines[].sku` is not supported: use `items`). */
  from: z.string().min(1),
  transform: transformDefinition.optional(),
  /** GraphQL type of the canonical field when the canonical schema does not already define it. */
  type: graphqlTypeRef.optional(),
  description: z.string().optional(),
  /** For a list of nested objects: the mapping of each element (for example order lines). */
  items: z
    .strictObject({
      type: typeName,
      description: z.string().optional(),
      get fields() {
        return z.record(fieldName, fieldMapping);
      },
    })
    .optional(),
  /** A record missing this value is rejected rather than served with a null. Defaults to true for the entity key. */
  required: z.boolean().optional(),
});
export const fieldMapping: z.ZodType<FieldMapping> = z.union([z.string().min(1), fieldMappingObject]);
export type FieldMapping =
  | string
  | {
      from: string;
      transform?: TransformDefinition;
      type?: string;
      description?: string;
      items?: { type: string; description?: string; fields: Record<string, FieldMapping> };
      required?: boolean;
    };

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/**
 * A templated HTTP call. `{value}` stands for one key value, `{values}` for a batch joined by the
 * batch separator; any other `{name}` is an argument (for example a page cursor).
 */
const endpointBase = {
  /** POST for reads that take their keys in a JSON body (vendor "batch read" and "search" endpoints). */
  method: z.enum(['GET', 'POST']).default('GET'),
  path: z.string().startsWith('/', 'a path starting with /, relative to the source base URL'),
  query: z.record(z.string(), z.string()).optional(),
  /**
   * POST only: the JSON body. A string that is exactly `{values}` becomes the array of key values
   * (typed by the lookup's `valueType`), `{value}` one value, `{properties}` the array of property
   * names the entity reads; other strings are filled like the path.
   */
  body: z.json().optional(),
  /** Dot path of the records in the response body (envelope), e.g. `records`; absent when the body is the record(s). */
  resultPath: z.string().optional(),
};

export const lookupDefinition = z.strictObject({
  ...endpointBase,
  /** Absent: the endpoint takes one value per call (the gateway bounds its concurrency instead). */
  batch: z
    .strictObject({
      maxSize: z.number().int().min(1).max(10_000),
      separator: z.string().min(1).default(','),
    })
    .optional(),
  /** true when a value identifies at most one record (an id or a unique email); false for a foreign key. */
  unique: z.boolean(),
  /**
   * A regular expression that every value this endpoint can find matches, e.g. `^[0-9]+$` for
   * numeric ids. Other values find nothing and are never sent: sources reject them with a 400.
   */
  pattern: z.string().refine(isRegExp, 'a valid regular expression, e.g. ^[0-9]+$').optional(),
  /**
   * How key values are written into a JSON body: `number` for ids that are numbers in this source
   * (values that are not numbers are then never sent). Answers are matched back by value either way.
   */
  valueType: z.enum(['string', 'number']).default('string'),
  /**
   * Errors about single values inside a successful answer (a 207 Multi-Status, or a 200 with an
   * `errors` list): each fails only the values it names, the rest of the batch is served.
   */
  itemErrors: z
    .strictObject({
      /** Dot path of the list of errors in the body, e.g. `errors`. */
      path: z.string().min(1),
      /** In each error, the dot path of the value (or list of values) it concerns, e.g. `id` or `context.ids`. */
      keyPath: z.string().min(1),
      /** In each error, the dot path of its code, e.g. `code`. */
      codePath: z.string().min(1).optional(),
      /** In each error, the dot path of its message. */
      messagePath: z.string().min(1).optional(),
      /** Codes that mean "no such record": the value finds nothing, and that is not an error. */
      notFoundCodes: z.array(z.string()).optional(),
    })
    .optional(),
});
export type LookupDefinition = z.infer<typeof lookupDefinition>;

export const cursorPaging = z.strictObject({
  type: z.literal('cursor'),
  cursorParam: z.string().min(1),
  limitParam: z.string().min(1),
  maxPageSize: z.number().int().min(1),
  defaultPageSize: z.number().int().min(1).optional(),
  nextCursorPath: z.string().min(1),
  totalPath: z.string().optional(),
});

/**
 * Paging by page number. Every upstream page has the same size, so that the cursor handed to
 * clients (an offset) always falls on a known page.
 */
export const pageNumberPaging = z.strictObject({
  type: z.literal('page'),
  /** Query parameter of the page number, e.g. `page`. */
  pageParam: z.string().min(1),
  /** Query parameter of the page size, e.g. `per_page`. */
  sizeParam: z.string().min(1),
  /** Records per upstream page, at most what the source allows. */
  pageSize: z.number().int().min(1).max(10_000),
  /** The number of the first page: 1 for most APIs, 0 for some. */
  firstPage: z.union([z.literal(0), z.literal(1)]).default(1),
  /** Dot path of the total number of records, when the source tells. */
  totalPath: z.string().optional(),
});

export type PageNumberPaging = z.infer<typeof pageNumberPaging>;

export const listDefinition = z.strictObject({
  ...endpointBase,
  paging: z.discriminatedUnion('type', [cursorPaging, pageNumberPaging]),
  /** Canonical argument name -> the query parameter it becomes and the canonical field it filters. */
  filters: z
    .record(fieldName, z.strictObject({ param: z.string().min(1), field: fieldName }))
    .optional(),
});
export type ListDefinition = z.infer<typeof listDefinition>;

/**
 * How long the upstream-call cache keeps what a source answered: fresh for `ttlMs`, then served
 * stale for up to `staleWhileRevalidateMs` more while one refresh runs in the background. When the
 * source fails (down, timing out, breaker open), a value up to `staleIfErrorMs` past its freshness
 * is served instead of the error, and the answer says so (`extensions.stale`).
 * `ttlMs: 0` turns the cache off for the source or entity.
 */
export const cachePolicyDefinition = z.strictObject({
  ttlMs: z.number().int().min(0).optional(),
  staleWhileRevalidateMs: z.number().int().min(0).optional(),
  staleIfErrorMs: z.number().int().min(0).optional(),
});
export type CachePolicy = z.infer<typeof cachePolicyDefinition>;

export const entityDefinition = z.strictObject({
  description: z.string().optional(),
  /** Overrides the source's (and the config's) cache policy for this entity. */
  cache: cachePolicyDefinition.optional(),
  /** The canonical field that identifies a record within the source. */
  key: fieldName,
  fields: z.record(fieldName, fieldMapping),
  /** Endpoints that fetch records by the values of one canonical field; `key` must have one. */
  lookups: z.record(fieldName, lookupDefinition),
  list: listDefinition.optional(),
  /** Root fields to expose. Defaults: one = camelCase(Entity), many = plural+`ByIds`, list = plural. */
  query: z
    .strictObject({
      one: fieldName.or(z.literal(false)).optional(),
      many: fieldName.or(z.literal(false)).optional(),
      list: fieldName.or(z.literal(false)).optional(),
    })
    .optional(),
  plural: fieldName.optional(),
  /**
   * For APIs that return only the properties asked for by name: `{properties}` in a query or body
   * template becomes the names the field mapping reads (under `under`, e.g. `properties` when
   * records look like `{ id, properties: { email } }`).
   */
  properties: z.strictObject({ under: z.string().min(1).optional() }).optional(),
});
export type EntityDefinition = z.infer<typeof entityDefinition>;

/**
 * Retries of idempotent reads (GET) after transient failures only: 429, 502, 503 and 504 answers,
 * connections refused or broken before an answer, and timeouts. Never after 400, 401, 403 or 404.
 */
export const retryPolicyDefinition = z
  .strictObject({
    /** Most attempts per call, the first one included: 1 means no retry. */
    maxAttempts: z.number().int().min(1).max(10).default(3),
    /** Backoff before retry n is a random delay in [0, min(maxDelayMs, baseDelayMs * 2^(n-1))], in milliseconds ("full jitter"). */
    baseDelayMs: z.number().int().min(0).default(100),
    /** Longest backoff between two attempts, in milliseconds. */
    maxDelayMs: z.number().int().min(0).default(2_000),
    /**
     * A `Retry-After` up to this long is waited out before the retry, in milliseconds; a source
     * asking for a longer wait fails the call at once (SOURCE_RATE_LIMITED or SOURCE_UNAVAILABLE).
     */
    maxRetryAfterMs: z.number().int().min(0).default(5_000),
    /**
     * Retries of all calls to the source together stay within `ratio` of its calls over the last
     * `windowMs` plus `minPerSecond`, so that in an outage retries add at most that much load.
     */
    budget: z
      .strictObject({
        /** Retries per call, e.g. 0.2: at most one retry for every five calls. */
        ratio: z.number().min(0).max(10).default(0.2),
        /** Retries per second always allowed, so that a quiet source still gets its retries. */
        minPerSecond: z.number().min(0).default(5),
        /** The sliding window, in milliseconds. */
        windowMs: z.number().int().min(100).default(10_000),
      })
      .prefault({}),
  })
  .refine((retry) => retry.maxDelayMs >= retry.baseDelayMs, { message: 'maxDelayMs must be at least baseDelayMs', path: ['maxDelayMs'] });
export type RetryPolicy = z.infer<typeof retryPolicyDefinition>;

/**
 * A circuit breaker per source (closed, open, half-open). It opens when, within the last
 * `windowMs`, at least `minimumAttempts` attempts were made and more than `failureRatio` of them
 * failed (a 5xx, a connection refused or broken, a timeout; a 4xx or 429 is not a failure of the
 * source): with the defaults, 5 attempts in 10 s of which more than half failed open it for 30 s.
 * While open, calls fail at once with SOURCE_UNAVAILABLE and never reach the source; after `openMs`
 * one probe call goes through, and its outcome closes the breaker or opens it again.
 *
 * A ratio rather than a count, so that a busy source with a few failures among many successes stays
 * in use; a short window, so that the successes before an outage do not hold the breaker closed
 * long into it.
 */
export const breakerPolicyDefinition = z.strictObject({
  /** The sliding window attempts are counted over, in milliseconds. */
  windowMs: z.number().int().min(1_000).default(10_000),
  /** Fewest attempts in the window before the breaker may open. */
  minimumAttempts: z.number().int().min(1).default(5),
  /** Share of failed attempts in the window above which it opens, from 0 to 1. */
  failureRatio: z.number().gt(0).lt(1).default(0.5),
  /** How long it stays open before one probe call, in milliseconds. */
  openMs: z.number().int().min(1).default(30_000),
});
export type BreakerPolicy = z.infer<typeof breakerPolicyDefinition>;

/**
 * A client-side token bucket per source, set below the source's own limit, so that bursts queue
 * briefly in the gateway instead of collecting 429s. Every attempt takes a token, retries included.
 * A 429 with `Retry-After` also holds back every call to the source until then.
 */
export const rateLimitPolicyDefinition = z.strictObject({
  /** Sustained rate, in requests per second. */
  perSecond: z.number().positive().max(100_000),
  /** Requests allowed at once after a quiet spell (the bucket size); defaults to perSecond, at least 1. */
  burst: z.number().int().min(1).optional(),
  /** Longest a call may queue for its turn, in milliseconds; one that would wait longer fails at once with SOURCE_RATE_LIMITED. */
  maxQueueWaitMs: z.number().int().min(0).default(1_000),
});
export type RateLimitPolicy = z.infer<typeof rateLimitPolicyDefinition>;

/**
 * How hard the gateway may press a source, and how it copes when the source struggles. Each
 * option has a default that suits most APIs; `false` turns retries or the breaker off.
 */
export const limitsDefinition = z.strictObject({
  /**
   * Per attempt, from the moment the request goes out on a connection to the last byte of the
   * answer, in milliseconds (time spent waiting for a free connection is not counted).
   */
  timeoutMs: z.number().int().min(1).default(10_000),
  /** Per attempt, to establish a connection, in milliseconds. */
  connectTimeoutMs: z.number().int().min(1).default(5_000),
  /** Most connections (so calls in flight) to the source at once; further calls wait for one. */
  maxConcurrency: z.number().int().min(1).max(1_000).default(16),
  /**
   * At most this many calls to the source for one GraphQL request, as the guard predicts them
   * before execution (after batching); a request predicted above it is refused before any call.
   * Absent: no per-request cap (the cost limit still applies).
   */
  maxCallsPerRequest: z.number().int().min(1).optional(),
  retry: z.union([z.literal(false), retryPolicyDefinition]).prefault({}),
  breaker: z.union([z.literal(false), breakerPolicyDefinition]).prefault({}),
  /** No client-side rate limit unless declared: declare it below the source's published limit. */
  rateLimit: rateLimitPolicyDefinition.optional(),
});
export type Limits = z.infer<typeof limitsDefinition>;
export type LimitsInput = z.input<typeof limitsDefinition>;

export const sourceDefinition = z.strictObject({
  description: z.string().optional(),
  baseUrl: stringOrEnv,
  auth: authDefinition.default({ type: 'none' }),
  limits: limitsDefinition.prefault({}),
  /** Overrides the config's default cache policy for every entity of this source. */
  cache: cachePolicyDefinition.optional(),
  entities: z.record(typeName, entityDefinition),
});
export type SourceDefinition = z.infer<typeof sourceDefinition>;
export type SourceDefinitionInput = z.input<typeof sourceDefinition>;

const entityField = z.strictObject({ entity: typeName, field: fieldName });

const sliceArg = z.strictObject({ type: z.literal('Int'), slice: z.literal(true) });
const filterArg = z.strictObject({ filter: fieldName });

export const aggregateDefinition = z.strictObject({
  op: z.enum(['count', 'sum', 'min', 'max', 'single']),
  /** The field aggregated (not for count); `single` gives the value when all records agree, else null. */
  field: fieldName.optional(),
  /** Only records whose field takes one of these canonical values count. */
  where: z.record(fieldName, z.array(z.string())).optional(),
  description: z.string().optional(),
});
export type AggregateDefinition = z.infer<typeof aggregateDefinition>;

export const summaryDefinition = z.union([
  aggregateDefinition,
  z.strictObject({ type: typeName, description: z.string().optional(), fields: z.record(fieldName, aggregateDefinition) }),
]);
export type SummaryDefinition = z.infer<typeof summaryDefinition>;

/**
 * A join between two entities of (usually) different sources. `from` is the "one" side, `to` the
 * "many" side: `Customer.orders` (forward) and `Order.customer` (inverse).
 */
export const mappingDefinition = z.strictObject({
  description: z.string().optional(),
  from: entityField,
  to: entityField,
  via: z.discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('crosswalk'),
      /**
       * A table of (from value, to value) pairs, CSV with a header row, of which the two named
       * columns are used. Without a file the pairs live in the mapping store, imported through the
       * admin API (`virtualize mappings import`).
       */
      file: z.string().min(1).optional(),
      columns: z.tuple([z.string().min(1), z.string().min(1)]).optional(),
    }).refine((via) => via.file === undefined || via.columns !== undefined, {
      message: 'a crosswalk file needs its two columns, e.g. ["crm_customer_id", "order_customer_ref"]',
      path: ['columns'],
    }),
    z.strictObject({
      kind: z.literal('service'),
      /**
       * A crosswalk served by a master-data service: an entity of some source whose lookup by
       * `from` answers, for each from-side value, its partners in `to` (one value or a list).
       * Fetched in batches like any entity and cached for `cacheTtlMs`.
       */
      entity: typeName,
      from: fieldName,
      to: fieldName,
      /** How long an answer is reused, in milliseconds; 0 reuses it within one request only. */
      cacheTtlMs: z.number().int().min(0).default(60_000),
    }),
    z.strictObject({
      kind: z.literal('fieldKey'),
      /** How both sides are normalized before they are compared. */
      normalize: z.enum(['none', 'email', 'trim', 'lowercase']).default('none'),
    }),
  ]),
  forward: z.strictObject({
    field: fieldName,
    description: z.string().optional(),
    args: z.record(fieldName, z.union([sliceArg, filterArg])).optional(),
    orderBy: z.strictObject({ field: fieldName, direction: z.enum(['asc', 'desc']) }).optional(),
    summaries: z.record(fieldName, summaryDefinition).optional(),
  }),
  inverse: z.strictObject({ field: fieldName, description: z.string().optional() }).optional(),
});
export type MappingDefinition = z.infer<typeof mappingDefinition>;
export type MappingDefinitionInput = z.input<typeof mappingDefinition>;

// --- Run-time registration (admin API, registry store, egress policy) ----------------------------

/** What an admin credential may do: read the registry (validate, status, audit), or change it. */
export const adminScope = z.enum(['registry:read', 'registry:write']);
export type AdminScope = z.infer<typeof adminScope>;

const hostPattern = z
  .string()
  .regex(/^(\*|(\*\.)?[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$/, 'a host, `*.domain`, or `*`, optionally with `:port`, e.g. api.billing.example.com or 127.0.0.1:4104');

export const registryDefinition = z.strictObject({
  /** Where registered definitions, the audit trail and imported crosswalks are kept. */
  store: z
    .discriminatedUnion('kind', [
      /** Embedded: files under `dir` (relative to the working directory), written atomically. One replica. */
      z.strictObject({ kind: z.literal('file'), dir: z.string().min(1).default('.virtualize') }),
      /** Shared by a fleet: every replica reloads within seconds of a change on any of them (LISTEN/NOTIFY). */
      z.strictObject({
        kind: z.literal('postgres'),
        url: stringOrEnv,
        /** The PostgreSQL schema holding the registry's tables, created by the migrations. */
        schema: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a lower-case SQL identifier, e.g. virtualize').default('virtualize'),
        /** A replica also re-reads the registry this often, in case a notification was lost, in milliseconds. */
        pollIntervalMs: z.number().int().min(100).default(30_000),
      }),
    ])
    .default({ kind: 'file', dir: '.virtualize' }),
  /**
   * Credentials of the admin API (`/admin/graphql`), by name (the name is who the audit trail
   * records). Tokens only by env reference; a credential whose variable is unset is inactive.
   */
  credentials: z.record(identifier, z.strictObject({ token: envRef, scopes: z.array(adminScope).min(1) })).default({}),
  /** Where registered sources may send requests. Sources in this file are trusted as written. */
  egress: z
    .strictObject({
      /** Hosts registered sources may call (`*` for any public host). */
      allowedHosts: z.array(hostPattern).default([]),
      /** Hosts that may resolve to private, loopback or link-local addresses (the sandbox); also allowed. */
      allowPrivate: z.array(hostPattern).default([]),
    })
    .prefault({}),
});
export type RegistryDefinition = z.infer<typeof registryDefinition>;

/**
 * A definition document: what an architect registers at run time (`virtualize sources add`), in
 * the same format as `sources` and `mappings` of `virtualization.config.ts`.
 */
export const definitionDocument = z.strictObject({
  /** The JSON Schema of this format, for editors: `schema/virtualize-definition.schema.json`. */
  $schema: z.string().optional(),
  sources: z.record(identifier, sourceDefinition).default({}),
  mappings: z.record(identifier, mappingDefinition).default({}),
});
export type DefinitionDocument = z.infer<typeof definitionDocument>;
export type DefinitionDocumentInput = z.input<typeof definitionDocument>;

/** Limits on the shape of a document, checked before it is validated against the schema. */
export const shapeLimitsDefinition = z.strictObject({
  /** Nesting of fields (fragments do not add a level). */
  depth: z.number().int().min(1).default(10),
  /** Aliased fields in one operation (`__typename` aliases are free). */
  aliases: z.number().int().min(0).default(100),
  /** Directives used in one operation, counting those inside fragments. */
  directives: z.number().int().min(0).default(30),
  /** Lexical tokens in one document. */
  tokens: z.number().int().min(1).default(2_000),
  /** Fragment definitions in one document. */
  fragments: z.number().int().min(0).default(20),
  /** Operations in one batched HTTP request (a JSON array of operations). */
  batchedOperations: z.number().int().min(1).default(5),
  /** Bytes of one request body; a POST must say its length (`Content-Length`), and a longer one is refused unread. */
  requestBytes: z.number().int().min(1).default(1_000_000),
});
export type ShapeLimits = z.infer<typeof shapeLimitsDefinition>;

/** Where per-client budgets live: in this process, or in Redis shared by every replica. */
export const budgetStoreDefinition = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('memory'),
    /** Clients remembered at once; the least recently seen is forgotten first (its bucket is then full). */
    maxClients: z.number().int().min(1).default(10_000),
  }),
  z.strictObject({
    kind: z.literal('redis'),
    url: stringOrEnv,
    keyPrefix: z.string().default('virtualize:budget:'),
    /** A budget check that takes longer lets the request through uncharged rather than stall it. */
    timeoutMs: z.number().int().min(1).default(250),
  }),
]);

/**
 * Query cost limits (see `src/guard/`). Points follow the IBM GraphQL Cost Directive
 * specification: `@cost` and `@listSize` in `schema/`, objects 1, scalars and enums 0.
 */
export const guardDefinition = z
  .strictObject({
    /** The most points one operation may be estimated at before it runs. */
    maxCost: z.number().min(1).default(10_000),
    limits: shapeLimitsDefinition.prefault({}),
    /** Assumed sizes of list fields that `schema/` does not size (types generated from a source declaration). */
    listSizes: z
      .strictObject({
        /** A forward join (`Customer.invoices`) without a slicing argument. */
        join: z.number().int().min(0).default(20),
        /** Any other list field (nested items such as invoice lines). */
        list: z.number().int().min(0).default(10),
      })
      .prefault({}),
    /**
     * A leaky bucket of points per client (the `clientHeader` value when sent, else the address):
     * each operation takes its estimated cost up front and gets back what it did not use.
     */
    budget: z
      .strictObject({
        capacity: z.number().min(1).default(20_000),
        /** Points per second that flow back into every bucket. */
        restoreRate: z.number().min(0.001).default(2_000),
        clientHeader: z.string().regex(/^[a-z0-9-]+$/, 'a lower-case HTTP header name, e.g. x-api-key').default('x-api-key'),
        store: budgetStoreDefinition.prefault({ kind: 'memory' }),
      })
      .prefault({}),
  })
  .refine((guard) => guard.maxCost <= guard.budget.capacity, {
    message: 'maxCost must not exceed budget.capacity: a query at the limit could never run',
    path: ['maxCost'],
  });
export type GuardDefinition = z.infer<typeof guardDefinition>;

/**
 * The cache tiers. `upstream`: records per (source, entity, lookup field, key), across requests,
 * bounded in bytes. `responses`: whole answers of operations that are asked often (admitted once
 * asked `admitAfter` times within `windowMs`), keyed by operation, variables and the caller's scope.
 */
export const cacheDefinition = z.strictObject({
  upstream: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Bound of the tier's memory, in bytes (approximate: the JSON size of the records). */
      maxBytes: z.number().int().positive().default(64 * 1024 * 1024),
      /** Default policy; sources and entities override it. */
      ttlMs: z.number().int().min(0).default(30_000),
      staleWhileRevalidateMs: z.number().int().min(0).default(30_000),
      staleIfErrorMs: z.number().int().min(0).default(300_000),
    })
    .prefault({}),
  responses: z
    .strictObject({
      enabled: z.boolean().default(true),
      maxBytes: z.number().int().positive().default(32 * 1024 * 1024),
      ttlMs: z.number().int().positive().default(10_000),
      /** A combination is cached from the `admitAfter`-th time it is asked within `windowMs`. */
      admitAfter: z.number().int().min(1).default(2),
      windowMs: z.number().int().positive().default(60_000),
      /** The request header whose value is the caller's scope; part of every key. */
      scopeHeader: z.string().default('x-virtualize-scope'),
    })
    .prefault({}),
  /**
   * The tier several replicas share, behind each one's local memory: none (`memory`, the default)
   * or Redis, which also carries invalidations to every replica (pub/sub).
   */
  shared: z
    .discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('memory') }),
      z.strictObject({
        kind: z.literal('redis'),
        url: stringOrEnv,
        keyPrefix: z.string().default('virtualize:cache:'),
        /** A shared-tier read that takes longer counts as a miss. */
        timeoutMs: z.number().int().min(1).default(250),
      }),
    ])
    .default({ kind: 'memory' }),
  /**
   * Change notifications from sources: `POST /webhooks/<source>`, signed with HMAC-SHA256 of the
   * raw body (hex, optionally prefixed `sha256=`) in `signatureHeader`, with the source's secret.
   * A source without a secret here has no webhook.
   */
  webhooks: z
    .strictObject({
      signatureHeader: z.string().default('x-virtualize-signature'),
      /** How far an event's `occurredAt` may lie from now, in milliseconds. */
      toleranceMs: z.number().int().positive().default(300_000),
      /** Per source: the shared secret, by environment reference. */
      secrets: z.record(z.string(), stringOrEnv).default({}),
    })
    .prefault({}),
});
export type CacheDefinition = z.infer<typeof cacheDefinition>;

export const configDefinition = z.strictObject({
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65_535).default(4000),
      host: z.string().default('0.0.0.0'),
    })
    .default({ port: 4000, host: '0.0.0.0' }),
  /** Where the canonical schema's SDL files live (relative to the config file). */
  schemaDir: z.string().default('schema'),
  sources: z.record(identifier, sourceDefinition),
  mappings: z.record(identifier, mappingDefinition).default({}),
  guard: guardDefinition.prefault({}),
  cache: cacheDefinition.prefault({}),
  /** Operations offered in GraphiQL; the first is the default tab. */
  examples: z.array(z.strictObject({ name: z.string(), query: z.string(), variables: z.string().optional() })).default([]),
  registry: registryDefinition.prefault({}),
});
export type VirtualizationConfig = z.infer<typeof configDefinition>;
export type VirtualizationConfigInput = z.input<typeof configDefinition>;
