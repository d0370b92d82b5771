import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { UpstreamCall } from '../connectors/upstream-call';
import type { BudgetStore, ThrottleStatus } from './budget-store';
import type { CostEstimate } from './estimate';
import { throttled } from './guard-errors';
import type { EstimateSummary, QueryCostGuard } from './query-cost-guard';

/** With the value `1`, an operation is priced and answered without running. */
export const DRY_RUN_HEADER = 'x-virtualize-dry-run';

/** `extensions.cost` of every response. */
export interface CostExtension {
  requestedQueryCost: number;
  /** 0 when the operation did not run. */
  actualQueryCost: number;
  upstreamCalls: Record<string, { predicted: number; actual: number }>;
  /** Absent when the budget store could not be reached (the operation then ran uncharged). */
  throttleStatus?: ThrottleStatus;
}

/** `extensions.cost` of a dry run. */
export type DryRunCostExtension = { dryRun: true; throttleStatus?: ThrottleStatus } & EstimateSummary;

export interface QueryCostOptions {
  /** The guard, or the guard for an operation's context (the schema a hot-reloaded request runs on). */
  guard: QueryCostGuard | ((context: unknown) => QueryCostGuard);
  budget: BudgetStore;
  /**
   * The client whose bucket an operation draws on, from the server context (the authenticated
   * caller's id, decided before yoga ran): never a header the client picks.
   */
  clientOf: (serverContext: unknown) => string;
  /** Told when the budget store fails; the operation then runs uncharged rather than wait or fail. */
  onBudgetError?: (error: unknown) => void;
}

interface GuardContext {
  request: Request;
  upstreamCalls?: readonly UpstreamCall[];
}

function upstreamCallsOf(estimate: CostEstimate | undefined, calls: readonly UpstreamCall[]): CostExtension['upstreamCalls'] {
  const result: CostExtension['upstreamCalls'] = {};
  for (const [source, predicted] of Object.entries(estimate?.upstreamCalls ?? {})) if (predicted > 0) result[source] = { predicted, actual: 0 };
  for (const call of calls) (result[call.source] ??= { predicted: 0, actual: 0 }).actual += 1;
  return result;
}

/**
 * Prices every operation before it runs and keeps each client within its budget:
 *
 * 1. refuses, before any upstream call, an operation over the cost limit, over a source's call cap
 *    or missing a required slicing argument (`COST_LIMIT_EXCEEDED`, `SLICING_ARGUMENT_REQUIRED`);
 * 2. with `x-virtualize-dry-run: 1`, answers the estimate (and any refusal) without running;
 * 3. takes the estimated points from the client's bucket, or refuses with `THROTTLED`, HTTP 429
 *    and `Retry-After` when the bucket holds too few;
 * 4. after execution, gives back the points the operation did not use (never charging more than
 *    estimated) and answers `extensions.cost` with what ran and what it called.
 *
 * Responses that never reached execution (parse or validation errors, shape limits) carry a zero
 * `extensions.cost` with the client's bucket.
 */
export function useQueryCost({ guard: guardOption, budget, clientOf, onBudgetError = () => undefined }: QueryCostOptions): Plugin {
  const safely = <T>(operation: Promise<T>): Promise<T | undefined> =>
    operation.catch((error: unknown) => {
      onBudgetError(error);
      return undefined;
    });
  const withThrottleStatus = (status: ThrottleStatus | undefined) => (status ? { throttleStatus: status } : {});

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as unknown as GuardContext;
      const guard = typeof guardOption === 'function' ? guardOption(args.contextValue) : guardOption;
      const pricing = guard.price(args.document, args.operationName, args.variableValues);
      if (!pricing.ok) {
        if (!pricing.reportedByExecution) setResultAndStopExecution({ errors: pricing.errors });
        return undefined;
      }
      const { priced, estimate, refusal } = pricing;
      const client = clientOf(args.contextValue);
      const requested = Math.ceil(estimate.cost);

      if (context.request.headers.get(DRY_RUN_HEADER) === '1') {
        const cost: DryRunCostExtension = { dryRun: true, ...guard.summarize(estimate), ...withThrottleStatus(await safely(budget.peek(client))) };
        setResultAndStopExecution({ ...(refusal ? { errors: [refusal] } : {}), extensions: { cost } });
        return undefined;
      }

      const notRun = (status: ThrottleStatus | undefined): CostExtension => ({
        requestedQueryCost: requested,
        actualQueryCost: 0,
        upstreamCalls: upstreamCallsOf(estimate, []),
        ...withThrottleStatus(status),
      });
      if (refusal) {
        setResultAndStopExecution({ errors: [refusal], extensions: { cost: notRun(await safely(budget.peek(client))) } });
        return undefined;
      }
      const taken = await safely(budget.take(client, requested));
      if (taken && !taken.granted) {
        setResultAndStopExecution({ errors: [throttled(requested, taken.status, taken.retryAfterMs)], extensions: { cost: notRun(taken.status) } });
        return undefined;
      }

      return {
        async onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          const actual = Math.ceil(guard.actual(priced, result.data));
          const status = taken ? await safely(budget.give(client, requested - actual)) : undefined;
          const cost: CostExtension = {
            requestedQueryCost: requested,
            actualQueryCost: actual,
            upstreamCalls: upstreamCallsOf(estimate, context.upstreamCalls ?? []),
            ...withThrottleStatus(status),
          };
          setResult({ ...result, extensions: { ...result.extensions, cost } });
        },
      };
    },

    async onResultProcess({ result, setResult, serverContext }) {
      if (isAsyncIterable(result)) return;
      const results = Array.isArray(result) ? result : [result];
      if (results.every((single) => single.extensions?.cost !== undefined)) return;
      const status = await safely(budget.peek(clientOf(serverContext)));
      const completed = results.map((single: ExecutionResult): ExecutionResult =>
        single.extensions?.cost !== undefined
          ? single
          : { ...single, extensions: { ...single.extensions, cost: { requestedQueryCost: 0, actualQueryCost: 0, upstreamCalls: {}, ...withThrottleStatus(status) } satisfies CostExtension } },
      );
      setResult(Array.isArray(result) ? completed : completed[0]!);
    },
  };
}
