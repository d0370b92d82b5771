/**
 * The names virtualize's telemetry uses, in one place: span attributes under `virtualize.*` (and
 * the OpenTelemetry semantic-convention names it sets itself), span names, metric names and their
 * labels. Metric labels and span attributes describe the same things with the same words.
 *
 * Hygiene: no attribute holds a value from a record, a variable, a header or a URL query. Upstream
 * calls are named by their route template (`GET /orders/{value}`), never by their URL.
 */

export const ATTR = {
  /** The source system a delegation or an upstream call went to (`crm`). */
  source: 'virtualize.source',
  /** The canonical entity a delegation fetched (`Customer`). */
  entity: 'virtualize.entity',
  /** The field a delegation looked records up by, or `list` for a page of a list. */
  lookup: 'virtualize.lookup',
  /** Keys in a delegation's batch, or in one upstream call's batch; records asked for by a list. */
  batchSize: 'virtualize.batch_size',
  /** An upstream call's route template, relative to the source's base path. */
  route: 'virtualize.route',
  /** 1 for the first try of an upstream call, 2 for its first retry, and so on. */
  attempt: 'virtualize.attempt',
  /**
   * Whether the upstream-call cache answered the call: false on the client span of a request sent
   * to the source, true on the span of a call the cache answered instead (named `cache Entity.field`).
   */
  cacheHit: 'virtualize.cache.hit',
  /** With a cache hit: the age of the oldest value served, in milliseconds. */
  cacheAgeMs: 'virtualize.cache.age_ms',
  /** The operation's cost, as the cost analysis reports it in `extensions.cost`. */
  operationCost: 'virtualize.operation.cost',
  /** Upstream calls one operation made. */
  upstreamCalls: 'virtualize.upstream.calls',
  /** The id mapping a crosswalk lookup read (`customerOrders`). */
  mapping: 'virtualize.mapping',
  /** `forward` (from-side keys to their partners) or `reverse`. */
  direction: 'virtualize.mapping.direction',
} as const;

/** Semantic-convention attributes virtualize sets or overrides itself. */
export const SEMCONV = {
  graphqlOperationName: 'graphql.operation.name',
  graphqlOperationType: 'graphql.operation.type',
  urlFull: 'url.full',
  urlPath: 'url.path',
  urlQuery: 'url.query',
  urlTemplate: 'url.template',
} as const;

/** Span names: the operation's is `query Customer360` (type and name), as the GraphQL conventions say. */
export const SPAN = {
  /** Until the operation's document is known (a request that fails to parse keeps it). */
  operation: 'graphql.operation',
  delegation: (source: string, entity: string) => `delegate ${source} ${entity}`,
  /** One batched lookup in a mapping store (memory, or PostgreSQL for fleets). */
  crosswalk: (mapping: string) => `crosswalk ${mapping}`,
  // An upstream call's client span is named by its route template (`GET /orders`).
} as const;

/** Metric names, all under `virtualize_` (process metrics included), and their labels. */
export const METRIC = {
  prefix: 'virtualize_',
  upstreamRequests: 'virtualize_upstream_requests_total',
  upstreamRequestDuration: 'virtualize_upstream_request_duration_seconds',
  cacheRequests: 'virtualize_cache_requests_total',
  cacheTierErrors: 'virtualize_cache_tier_errors_total',
  queryCost: 'virtualize_query_cost',
  breakerState: 'virtualize_breaker_state',
  operations: 'virtualize_operations_total',
  operationDuration: 'virtualize_operation_duration_seconds',
  webhookResolutions: 'virtualize_webhook_resolutions_total',
  httpRefused: 'virtualize_http_refused_total',
  trustedDocuments: 'virtualize_trusted_documents_total',
} as const;

export const LABEL = {
  source: 'source',
  route: 'route',
  status: 'status',
  tier: 'tier',
  result: 'result',
  operation: 'operation',
  type: 'type',
  outcome: 'outcome',
  reason: 'reason',
  kind: 'kind',
} as const;
