import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { UpstreamCall } from '../connectors/upstream-call';
import { LABEL, METRIC } from './attributes';
import type { Outcome } from './operation-trace';

/**
 * The gateway's Prometheus metrics, served at `GET /metrics`. Every name starts with
 * `virtualize_`, the process's own metrics included.
 *
 * prom-client rather than the OpenTelemetry Prometheus exporter: metrics must be there whether
 * tracing is on or off (it is off by default, and the tracing SDK costs ~600 ms to load), and a
 * registered metric must show from the first scrape. The OpenTelemetry exporter leaves out every
 * instrument that has no data yet, so the cache and cost metrics would be missing until their
 * features feed them. Metrics and traces stay coherent by construction instead: labels and span
 * attributes name the same things (`source`, `route`, `status` / `virtualize.source`, ...) from
 * one file, and each operation's log line carries its trace id.
 */

/** A source's circuit breaker as its connector reports it; a source without one is always called (closed). */
export type BreakerState = 'closed' | 'halfOpen' | 'open';
const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, halfOpen: 1, open: 2 };

/** Seconds; upstream calls take milliseconds to seconds, operations up to their sources' timeouts. */
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const OPERATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Cost points, as the cost analysis counts them. */
const COST_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/**
 * Operation names come from clients: past this many distinct ones, further names are counted as
 * `other`, so that no client can grow the series without bound.
 */
const MAX_OPERATION_NAMES = 500;

let processRegistry: Registry | undefined;

/** CPU, memory, event loop and GC of this process: one set per process, however many gateways it runs. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC.prefix });
  }
  return processRegistry;
}

export interface CompletedOperation {
  name: string;
  type: string;
  outcome: Outcome;
  seconds: number;
  cost: number | undefined;
}

/**
 * The cache tiers' counters. Built before the tiers, which are given them when they are opened
 * (`CacheMetrics` of `src/cache/`), and served with the gateway's metrics.
 */
export class CacheCounters {
  readonly registry = new Registry();
  /** `result` is `hit`, `miss`, `stale` or `stale_if_error`. */
  private readonly requests = new Counter({
    name: METRIC.cacheRequests,
    help: 'Cache lookups by tier and result.',
    labelNames: [LABEL.tier, LABEL.result],
    registers: [this.registry],
  });
  private readonly tierErrors = new Counter({
    name: METRIC.cacheTierErrors,
    help: 'Operations of a cache tier that failed (a read answered as a miss, a write or an invalidation dropped, the pub/sub subscription lost), by tier.',
    labelNames: [LABEL.tier],
    registers: [this.registry],
  });

  readonly count = (tier: string, result: string, n = 1): void => {
    this.requests.inc({ [LABEL.tier]: tier, [LABEL.result]: result }, n);
  };

  /** The error itself is the tier's to log (once per outage); here it is counted. */
  readonly tierFailed = (tier: string, _error: unknown): void => {
    this.tierErrors.inc({ [LABEL.tier]: tier });
  };
}

export class GatewayMetrics {
  private readonly registry = new Registry();
  private readonly upstreamRequests = new Counter({
    name: METRIC.upstreamRequests,
    help: 'Upstream HTTP calls by source, route template and status (a number, or "error" when no response came).',
    labelNames: [LABEL.source, LABEL.route, LABEL.status],
    registers: [this.registry],
  });
  private readonly upstreamDuration = new Histogram({
    name: METRIC.upstreamRequestDuration,
    help: 'Duration of upstream HTTP calls, from asking for a connection to the end of the body, in seconds.',
    labelNames: [LABEL.source, LABEL.route],
    buckets: UPSTREAM_BUCKETS,
    registers: [this.registry],
  });
  private readonly queryCost = new Histogram({
    name: METRIC.queryCost,
    help: 'Cost of each operation, as reported in extensions.cost.',
    buckets: COST_BUCKETS,
    registers: [this.registry],
  });
  private readonly operations = new Counter({
    name: METRIC.operations,
    help: 'GraphQL operations by name, type and outcome (ok, partial: data with errors, error).',
    labelNames: [LABEL.operation, LABEL.type, LABEL.outcome],
    registers: [this.registry],
  });
  /** `outcome` is `resolved` (upstream calls made), `coalesced` (shared another event's) or `rate_limited`. */
  private readonly webhookResolutions = new Counter({
    name: METRIC.webhookResolutions,
    help: "Identity resolutions of webhook events by source and outcome: resolved (followed through the sources), coalesced (shared a resolution of the same record), rate_limited (beyond cache.webhooks.resolveRate: applied to what is known, answered 429).",
    labelNames: [LABEL.source, LABEL.outcome],
    registers: [this.registry],
  });
  private readonly operationDuration = new Histogram({
    name: METRIC.operationDuration,
    help: 'Duration of GraphQL operations by name and type, in seconds.',
    labelNames: [LABEL.operation, LABEL.type],
    buckets: OPERATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly httpRefused = new Counter({
    name: METRIC.httpRefused,
    help: 'HTTP work refused by the server bounds: connections beyond server.maxConnections, requests beyond server.maxRequestsInFlight (answered 503).',
    labelNames: [LABEL.reason],
    registers: [this.registry],
  });

  private readonly trustedDocuments = new Counter({
    name: METRIC.trustedDocuments,
    help: 'GraphQL operations by what they sent (known_id, unknown_id, hash_mismatch, inline_registered, inline: a document not in the manifest) and whether they ran (served, refused); auth.trustedDocuments.',
    labelNames: [LABEL.kind, LABEL.outcome],
    registers: [this.registry],
  });

  /**
   * `breakerStates` is read at each scrape. `cache` holds the counters the cache tiers were given
   * when they were opened (they are built before this).
   */
  constructor(
    breakerStates: () => Iterable<readonly [source: string, state: BreakerState]>,
    readonly cache: CacheCounters,
  ) {
    new Gauge({
      name: METRIC.breakerState,
      help: 'Circuit breaker state per source: 0 closed, 1 half-open, 2 open.',
      labelNames: [LABEL.source],
      registers: [this.registry],
      collect() {
        for (const [source, state] of breakerStates()) this.set({ [LABEL.source]: source }, BREAKER_VALUE[state]);
      },
    });
  }

  readonly recordUpstreamCall = (call: UpstreamCall): void => {
    this.upstreamRequests.inc({ [LABEL.source]: call.source, [LABEL.route]: call.route, [LABEL.status]: String(call.status) });
    this.upstreamDuration.observe({ [LABEL.source]: call.source, [LABEL.route]: call.route }, call.durationMs / 1_000);
  };

  private readonly operationNames = new Set<string>();

  recordOperation(operation: CompletedOperation): void {
    if (this.operationNames.size < MAX_OPERATION_NAMES) this.operationNames.add(operation.name);
    const name = this.operationNames.has(operation.name) ? operation.name : 'other';
    this.operations.inc({ [LABEL.operation]: name, [LABEL.type]: operation.type, [LABEL.outcome]: operation.outcome });
    this.operationDuration.observe({ [LABEL.operation]: name, [LABEL.type]: operation.type }, operation.seconds);
    if (operation.cost !== undefined) this.queryCost.observe(operation.cost);
  }

  readonly recordWebhookResolution = (source: string, outcome: 'resolved' | 'coalesced' | 'rate_limited'): void => {
    this.webhookResolutions.inc({ [LABEL.source]: source, [LABEL.outcome]: outcome });
  };

  /** A connection closed as it was accepted (`connections`), or a request answered 503 unread (`in_flight`). */
  recordRefusal(reason: 'connections' | 'in_flight'): void {
    this.httpRefused.inc({ [LABEL.reason]: reason });
  }

  /** One operation checked against the trusted-documents manifest (src/auth/trusted-documents.ts). */
  readonly recordTrustedDocument = (kind: string, outcome: string): void => {
    this.trustedDocuments.inc({ [LABEL.kind]: kind, [LABEL.outcome]: outcome });
  };

  /** The Prometheus text exposition of the gateway's and the process's metrics. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    const merged = Registry.merge([this.registry, this.cache.registry, processMetrics()]);
    return { contentType: merged.contentType, text: await merged.metrics() };
  }
}
