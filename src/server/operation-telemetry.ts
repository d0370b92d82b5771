import type { IncomingMessage } from 'node:http';
import { context, propagation, ROOT_CONTEXT, trace, type TextMapGetter } from '@opentelemetry/api';
import { getOperationAST, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Caller } from '../auth/caller';
import { withoutRedaction, type Logger } from '../telemetry/logger';
import type { GatewayMetrics } from '../telemetry/metrics';
import { OperationTrace, type OperationScope, type Outcome } from '../telemetry/operation-trace';

export interface OperationTelemetryOptions {
  /** Shared with the request context factory, which takes each operation's hooks from it. */
  scope: OperationScope;
  metrics: GatewayMetrics;
  /** One line per operation: trace id, duration, cost, sources touched. */
  logger: Logger;
  /** One line per operation: who asked, which sources and entities, whose values went to which master-data service. */
  audit: Logger;
  /** The authenticated caller of a request, from its server context. */
  callerOf: (serverContext: unknown) => Caller;
}

/** Reads a caller's `traceparent` from the Fetch API headers yoga hands over. */
const fetchHeaders: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

/**
 * The cost the query guard reported in `extensions.cost`: the actual cost when it tells it, else
 * the requested (estimated) one, else a bare number; none for a dry run, which priced but ran nothing.
 */
export function costOf(result: ExecutionResult): number | undefined {
  const cost = result.extensions?.cost as unknown;
  if (typeof cost === 'number') return cost;
  if (typeof cost !== 'object' || cost === null) return undefined;
  const { actualQueryCost, requestedQueryCost, dryRun } = cost as { actualQueryCost?: unknown; requestedQueryCost?: unknown; dryRun?: unknown };
  if (dryRun === true) return undefined; // priced, not run
  if (typeof actualQueryCost === 'number') return actualQueryCost;
  return typeof requestedQueryCost === 'number' ? requestedQueryCost : undefined;
}

function outcomeOf(result: ExecutionResult): Outcome {
  if (!result.errors?.length) return 'ok';
  return result.data ? 'partial' : 'error';
}

/**
 * Who asked, as the audit names them: the authenticated client (its id, as budgets know it), its
 * subject, the API key's id or the token's issuer, and its scopes (never a key or a token), with
 * the address and user agent the request came from.
 */
function askedBy(caller: Caller, request: Request, serverContext: unknown): Record<string, unknown> {
  const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
  return {
    id: caller.clientId,
    kind: caller.kind,
    subject: caller.subject ?? null,
    ...(caller.tenant !== undefined ? { tenant: caller.tenant } : {}),
    ...(caller.keyId !== undefined ? { keyId: caller.keyId } : {}),
    ...(caller.issuer !== undefined ? { issuer: caller.issuer } : {}),
    scopes: [...caller.scopes].sort(),
    address: req?.socket?.remoteAddress,
    userAgent: request.headers.get('user-agent') ?? undefined,
  };
}

interface Summary {
  outcome: Outcome;
  cost: number | undefined;
  errors: number;
}

/**
 * Telemetry of each GraphQL operation: its trace (the root span, continuing the caller's trace
 * when it sent `traceparent`; delegation spans come from the hooks the request context takes from
 * `scope`), its metrics, its log line and its audit line.
 *
 * Register it after plugins that add `extensions.cost`, so that it reads the result they leave.
 */
export function useOperationTelemetry({ scope, metrics, logger, audit, callerOf }: OperationTelemetryOptions): Plugin {
  const tracer = trace.getTracer('virtualize');
  const summaries = new WeakMap<OperationTrace, Summary>();
  // Both lines are built below from fixed fields only (names, counts, the caller's ids and scopes).
  const operationLog = withoutRedaction(logger);
  const auditLog = withoutRedaction(audit);

  function finish(operation: OperationTrace, request: Request, serverContext: unknown, failure?: unknown): void {
    // No summary: the operation failed before it had a result, or streamed one (never here today).
    const fallback: Summary = failure === undefined ? { outcome: 'ok', cost: undefined, errors: 0 } : { outcome: 'error', cost: undefined, errors: 1 };
    const { outcome, cost, errors } = summaries.get(operation) ?? fallback;
    const durationMs = operation.end(outcome, cost, failure);
    const name = operation.name ?? 'anonymous';
    const type = operation.type ?? 'unknown';
    metrics.recordOperation({ name, type, outcome, seconds: durationMs / 1_000, cost });
    const caller = callerOf(serverContext);
    const common = { traceId: operation.traceId, operation: { type, name }, outcome, sources: [...operation.sources].sort() };
    operationLog.info({ ...common, client: caller.clientId, durationMs: Math.round(durationMs * 10) / 10, cost: cost ?? null, upstreamCalls: operation.upstreamCalls, errors }, 'operation');
    const keysSent = operation.keysSentSummary();
    auditLog.info({ ...common, client: askedBy(caller, request, serverContext), entities: [...operation.entities].sort(), ...(keysSent.length > 0 ? { keysSent } : {}) }, 'operation');
  }

  return {
    instrumentation: {
      operation({ context: serverContext, request }, wrapped) {
        const parent = propagation.extract(ROOT_CONTEXT, request.headers, fetchHeaders);
        const operation = new OperationTrace(tracer, parent, metrics.recordUpstreamCall);
        scope.begin(serverContext, operation);
        return new Promise<void>((resolve) => resolve(context.with(operation.context, wrapped))).then(
          () => finish(operation, request, serverContext),
          (error: unknown) => {
            finish(operation, request, serverContext, error);
            throw error;
          },
        );
      },
    },
    onExecute({ args }) {
      const ast = getOperationAST(args.document, args.operationName);
      scope.of(args.contextValue)?.named(ast?.operation ?? 'query', ast?.name?.value ?? args.operationName ?? undefined);
    },
    onExecutionResult({ result, context: requestContext }) {
      const operation = scope.of(requestContext);
      if (!operation || !result || isAsyncIterable(result)) return;
      summaries.set(operation, { outcome: outcomeOf(result), cost: costOf(result), errors: result.errors?.length ?? 0 });
    },
  };
}
