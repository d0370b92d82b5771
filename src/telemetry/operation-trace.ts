import { context, isSpanContextValid, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { Delegation, DelegationRunner } from '../connectors/delegation';
import type { CallObserver, UpstreamCall } from '../connectors/upstream-call';
import { ATTR, SEMCONV, SPAN } from './attributes';
import { upstreamCallAttributes } from './tracing';

/**
 * Values of one entity's field that a request asked a master-data service for (a service
 * crosswalk looked up their partners): names and a count, never the values.
 */
export interface KeysSent {
  /** The service's source: `mdm`. */
  source: string;
  /** Its entity and the field it was asked by: `CustomerLink.crmId`. */
  lookup: string;
  /** Whose values they are: `Customer.id`. */
  of: string;
  /** The crosswalk that asked. */
  mapping: string;
  /** Values not asked before in the request (by this crosswalk or another). */
  count: number;
}

/** How an operation ended: `partial` is data with errors (one source failed, the others answered). */
export type Outcome = 'ok' | 'partial' | 'error';

function markFailed(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
}

/**
 * The telemetry of one GraphQL operation: its root span, a span per delegation to a source, and
 * what it touched (sources, entities, upstream calls) for the log and audit lines.
 *
 * Delegation spans are parented explicitly to the operation's context, captured here when the
 * operation starts: DataLoader runs a batch in the async context of whichever resolver asked for
 * its first key, and a batch serves many resolvers. Inside a delegation that span is the active
 * context again, so the client span of each upstream call made for it nests under it.
 */
export class OperationTrace {
  readonly startedAt = performance.now();
  readonly span: Span;
  readonly context: Context;
  type: string | undefined;
  name: string | undefined;
  readonly sources = new Set<string>();
  /** `source.Entity` of every delegation. */
  readonly entities = new Set<string>();
  upstreamCalls = 0;
  /** Per service, lookup and whose values: the crosswalks that asked and the values asked, for the audit line. */
  private readonly keysSent = new Map<string, { source: string; lookup: string; of: string; mappings: Set<string>; keys: number }>();

  constructor(
    private readonly tracer: Tracer,
    parent: Context,
    private readonly onCall?: CallObserver,
  ) {
    this.span = tracer.startSpan(SPAN.operation, { kind: SpanKind.SERVER }, parent);
    this.context = trace.setSpan(parent, this.span);
  }

  /** The trace id, when the operation is traced. */
  get traceId(): string | undefined {
    const spanContext = this.span.spanContext();
    return isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
  }

  /** Names the operation once its document is known: the root span becomes `query Customer360`. */
  named(type: string, name: string | undefined): void {
    this.type = type;
    this.name = name;
    this.span.updateName(name ? `${type} ${name}` : type);
    this.span.setAttribute(SEMCONV.graphqlOperationType, type);
    if (name) this.span.setAttribute(SEMCONV.graphqlOperationName, name);
  }

  /**
   * Told of every upstream call of the operation. One the upstream-call cache answered went to no
   * source: it is not counted among the operation's calls, but shows in the trace as a span of its
   * own, under the delegation it served (the active context when the cache reports it).
   */
  readonly observe: CallObserver = (call: UpstreamCall) => {
    if (call.cacheHit) {
      this.tracer.startSpan(call.route, { kind: SpanKind.INTERNAL, attributes: upstreamCallAttributes({ ...call, attempt: 0 }) }).end();
      return;
    }
    this.upstreamCalls += 1;
    this.sources.add(call.source);
    this.onCall?.(call);
  };

  readonly sentKeys = (sent: KeysSent): void => {
    const id = `${sent.source}/${sent.lookup}/${sent.of}`;
    let entry = this.keysSent.get(id);
    if (!entry) this.keysSent.set(id, (entry = { source: sent.source, lookup: sent.lookup, of: sent.of, mappings: new Set(), keys: 0 }));
    entry.mappings.add(sent.mapping);
    entry.keys += sent.count;
  };

  /** For the audit line: which master-data service was asked for whose values, how many, by which crosswalks. */
  keysSentSummary(): Array<{ source: string; lookup: string; of: string; mappings: string[]; keys: number }> {
    return [...this.keysSent.values()].map((entry) => ({ ...entry, mappings: [...entry.mappings].sort() }));
  }

  readonly delegate: DelegationRunner = <T>(delegation: Delegation, run: () => Promise<T>): Promise<T> => {
    this.entities.add(`${delegation.source}.${delegation.entity}`);
    const span = this.tracer.startSpan(
      SPAN.delegation(delegation.source, delegation.entity),
      {
        attributes: {
          [ATTR.source]: delegation.source,
          [ATTR.entity]: delegation.entity,
          [ATTR.lookup]: delegation.lookup,
          [ATTR.batchSize]: delegation.batchSize,
        },
      },
      this.context,
    );
    return context.with(trace.setSpan(this.context, span), run).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        markFailed(span, error);
        span.end();
        throw error;
      },
    );
  };

  /** Ends the root span; returns the operation's duration in milliseconds. */
  end(outcome: Outcome, cost: number | undefined, failure?: unknown): number {
    this.span.setAttribute(ATTR.upstreamCalls, this.upstreamCalls);
    if (cost !== undefined) this.span.setAttribute(ATTR.operationCost, cost);
    if (failure !== undefined) markFailed(this.span, failure);
    else if (outcome === 'error') this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.span.end();
    return performance.now() - this.startedAt;
  }
}

/**
 * The operation each GraphQL request context belongs to. Keyed by the context object that yoga
 * builds once per operation and hands to every phase (instrumentation, context factory, execution
 * hooks), rather than carried in an AsyncLocalStorage: with tracing off the gateway then runs with
 * no async-context tracking at all.
 */
export class OperationScope {
  private readonly operations = new WeakMap<object, OperationTrace>();

  begin(requestContext: object, operation: OperationTrace): void {
    this.operations.set(requestContext, operation);
  }

  of(requestContext: object): OperationTrace | undefined {
    return this.operations.get(requestContext);
  }
}
