import { createHash } from 'node:crypto';
import { context, propagation, ROOT_CONTEXT, trace, type TextMapGetter } from '@opentelemetry/api';
import { getOperationAST, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Logger } from '../telemetry/logger';
import type { GatewayMetrics } from '../telemetry/metrics';
import { OperationTrace, type OperationScope, type Outcome } from '../telemetry/operation-trace';

export interface OperationTelemetryOptions {
  /** Shared with the request context factory, which takes each operation's hooks from it. */
  scope: OperationScope;
  metrics: GatewayMetrics;
  /** One line per operation: trace id, duration, cost, sources touched. */
  logger: Logger;
  /** One line per operation: who asked, which sources and entities. */
  audit: Logger;
}

const headers: TextMapGetter<Headers> = {
  keys: (carrier) => [...carrier.keys()],
  get: (carrier, key) => carrier.get(key) ?? undefined,
};

/**
 * The cost the cost analysis reported in `extensions.cost`: the actual cost when it tells it,
 * else the requested (estimated) one, else a bare number.
 */
export function costOf(result: ExecutionResult): number | undefined {
  const cost = result.extensions?.cost as unknown;
  if (typeof cost === 'number') return cost;
  if (typeof cost !== 'object' || cost === null) return undefined;
  const { actualQueryCost, requestedQueryCost } = cost as { actualQueryCost?: unknown; requestedQueryCost?: unknown };
  if (typeof actualQueryCost === 'number') return actualQueryCost;
  return typeof requestedQueryCost === 'number' ? requestedQueryCost : undefined;
}

function outcomeOf(result: ExecutionResult): Outcome {
  if (!result.errors?.length) return 'ok';
  return result.data ? 'partial' : 'error';
}

/** A credential as the audit names it: its kind and a fingerprint, never the credential itself. */
function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}

function clientOf(request: Request, serverContext: unknown): Record<string, string | undefined> {
  const apiKey = request.headers.get('x-api-key');
  const authorization = request.headers.get('authorization');
  const [scheme, token] = authorization?.split(/\s+/, 2) ?? [];
  const socket = (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req?.socket;
  return {
    address: socket?.remoteAddress,
    userAgent: request.headers.get('user-agent') ?? undefined,
    credential: apiKey ? `api-key ${fingerprint(apiKey)}` : token ? `${scheme!.toLowerCase()} ${fingerprint(token)}` : undefined,
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
export function useOperationTelemetry({ scope, metrics, logger, audit }: OperationTelemetryOptions): Plugin {
  const tracer = trace.getTracer('virtualize');
  const summaries = new WeakMap<OperationTrace, Summary>();

  function finish(operation: OperationTrace, request: Request, serverContext: unknown, failure?: unknown): void {
    // No summary: the operation failed before it had a result, or streamed one (never here today).
    const fallback: Summary = failure === undefined ? { outcome: 'ok', cost: undefined, errors: 0 } : { outcome: 'error', cost: undefined, errors: 1 };
    const { outcome, cost, errors } = summaries.get(operation) ?? fallback;
    const durationMs = operation.end(outcome, cost, failure);
    const name = operation.name ?? 'anonymous';
    const type = operation.type ?? 'unknown';
    metrics.recordOperation({ name, type, outcome, seconds: durationMs / 1_000, cost });
    const common = { traceId: operation.traceId, operation: { type, name }, outcome, sources: [...operation.sources].sort() };
    logger.info({ ...common, durationMs: Math.round(durationMs * 10) / 10, cost: cost ?? null, upstreamCalls: operation.upstreamCalls, errors }, 'operation');
    audit.info({ ...common, client: clientOf(request, serverContext), entities: [...operation.entities].sort() }, 'operation');
  }

  return {
    instrumentation: {
      operation({ context: serverContext, request }, wrapped) {
        const parent = propagation.extract(ROOT_CONTEXT, request.headers, headers);
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
