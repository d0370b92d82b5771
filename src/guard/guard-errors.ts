import { GraphQLError } from 'graphql';
import type { ShapeLimits } from '../config/definition';
import type { ThrottleStatus } from './budget-store';
import type { CostEstimate, PathShare, SlicingViolation } from './estimate';

/**
 * Every refusal of the guard, each with a stable `extensions.code` and a message that says how to
 * get the query through. Refusals happen before execution, so no source has been called.
 */
export const SHAPE_CODES = {
  depth: 'DEPTH_LIMIT_EXCEEDED',
  aliases: 'ALIAS_LIMIT_EXCEEDED',
  directives: 'DIRECTIVE_LIMIT_EXCEEDED',
  tokens: 'TOKEN_LIMIT_EXCEEDED',
  fragments: 'FRAGMENT_LIMIT_EXCEEDED',
  batchedOperations: 'BATCH_LIMIT_EXCEEDED',
  requestBytes: 'REQUEST_TOO_LARGE',
} as const satisfies Record<keyof ShapeLimits, string>;

export const COST_LIMIT_EXCEEDED = 'COST_LIMIT_EXCEEDED';
export const SLICING_ARGUMENT_REQUIRED = 'SLICING_ARGUMENT_REQUIRED';
export const FRAGMENT_CYCLE = 'FRAGMENT_CYCLE';
export const THROTTLED = 'THROTTLED';

const SHAPE_HINTS: Record<keyof ShapeLimits, string> = {
  depth: 'Nest fewer levels, or fetch the deeper records in a second query.',
  aliases: 'Fetch many records through one list or ids field (customersByIds) rather than one alias each.',
  directives: 'Use fewer @skip/@include directives: select the fields you want instead.',
  tokens: 'Shorten the document: pass long lists of values as variables.',
  fragments: 'Use fewer, larger fragments.',
  batchedOperations: 'Send the other operations in further requests.',
  requestBytes: 'Send fewer or shorter variables, or split the request.',
};

/** Refused before execution: a 400 for `application/graphql-response+json` clients, 200 with errors for `application/json`. */
const BEFORE_EXECUTION = { status: 400, spec: true };

export function shapeLimitExceeded(limit: keyof ShapeLimits, n: number, detail: string): GraphQLError {
  const message = `${detail.replace(/^Syntax Error: /, '')} ${SHAPE_HINTS[limit]}`;
  const http = limit === 'batchedOperations' || limit === 'requestBytes' ? { status: 413 } : BEFORE_EXECUTION;
  return new GraphQLError(message, { extensions: { code: SHAPE_CODES[limit], limit: n, http } });
}

export function fragmentCycle(error: GraphQLError): GraphQLError {
  return new GraphQLError(`${error.message} A fragment must not spread itself, directly or through others.`, {
    nodes: error.nodes,
    extensions: { code: FRAGMENT_CYCLE, http: BEFORE_EXECUTION },
  });
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

export function mostExpensive(paths: readonly PathShare[]): Array<{ path: string; amount: number; share: number }> {
  return paths.slice(0, 3).map(({ path, amount, share }) => ({ path, amount: Math.round(amount * 100) / 100, share: Math.round(share * 1000) / 1000 }));
}

export function slicingArgumentRequired(violation: SlicingViolation): GraphQLError {
  const names = violation.slicingArguments.map((arg) => `"${arg}"`).join(' or ');
  const got = violation.passed === 0 ? 'none (an explicit null counts as none)' : `${violation.passed}`;
  return new GraphQLError(`${violation.path} (${violation.field}) needs exactly one of ${names} to size it, got ${got}: pass, for example, ${violation.slicingArguments[0]}: 20.`, {
    extensions: { code: SLICING_ARGUMENT_REQUIRED, path: violation.path, slicingArguments: violation.slicingArguments, http: BEFORE_EXECUTION },
  });
}

export function costLimitExceeded(estimate: CostEstimate, maximumCost: number): GraphQLError {
  const top = estimate.paths[0];
  const unsliced = estimate.unsliced.find((list) => list.path === top?.path);
  const why = unsliced
    ? ` ${unsliced.path} has no ${unsliced.slicingArguments.map((arg) => `"${arg}"`).join(' or ')}, so it is priced at its assumed ${unsliced.assumedSize} items per parent: pass one.`
    : '';
  const where = top ? ` Most of it is ${top.path} (${percent(top.share)}).${why}` : '';
  return new GraphQLError(
    `This query is estimated at ${Math.ceil(estimate.cost)} points, above the limit of ${maximumCost} per request.${where} ` +
      'Ask for fewer items (smaller slicing arguments such as first), fewer nested joins, or split the query; ' +
      'the request header x-virtualize-dry-run: 1 prices a query without running it.',
    {
      extensions: {
        code: COST_LIMIT_EXCEEDED,
        requestedQueryCost: Math.ceil(estimate.cost),
        maximumCost,
        mostExpensive: mostExpensive(estimate.paths),
        http: BEFORE_EXECUTION,
      },
    },
  );
}

export function callLimitExceeded(estimate: CostEstimate, source: string, maximumCalls: number): GraphQLError {
  const predicted = estimate.upstreamCalls[source] ?? 0;
  const paths = estimate.callPaths[source] ?? [];
  const where = paths[0] ? ` Most of them resolve ${paths[0].path} (${percent(paths[0].share)}).` : '';
  return new GraphQLError(
    `This query would make about ${predicted} calls to ${source}, above its limit of ${maximumCalls} per request ` +
      `(sources.${source}.limits.maxCallsPerRequest).${where} Ask for fewer records where they join ${source}, or split the query.`,
    {
      extensions: {
        code: COST_LIMIT_EXCEEDED,
        source,
        predictedCalls: predicted,
        maximumCalls,
        requestedQueryCost: Math.ceil(estimate.cost),
        mostExpensive: mostExpensive(paths),
        http: BEFORE_EXECUTION,
      },
    },
  );
}

export function throttled(requestedQueryCost: number, status: ThrottleStatus, retryAfterMs: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new GraphQLError(
    `Your query budget is spent for now: this query costs ${requestedQueryCost} points and ${Math.floor(status.currentlyAvailable)} are available. ` +
      `${status.restoreRate} points come back every second: retry in ${seconds} s, or ask for less.`,
    {
      extensions: {
        code: THROTTLED,
        requestedQueryCost,
        retryAfterSeconds: seconds,
        throttleStatus: status,
        http: { status: 429, headers: { 'retry-after': String(seconds) } },
      },
    },
  );
}
