import type { GraphQLError } from 'graphql';
import type { ShapeLimits } from '../config/definition';
import { CODES, toGraphQLError, VirtualizeError } from '../errors';
import type { ThrottleStatus } from './budget-store';
import type { CostEstimate, PathShare, SlicingViolation } from './estimate';

/**
 * Every refusal of the guard, each with a stable `extensions.code` (from src/errors/codes.ts, with
 * its HTTP status) and a message that says how to get the query through. Refusals happen before
 * execution, so no source has been called.
 */
export const SHAPE_CODES = {
  depth: CODES.DEPTH_LIMIT_EXCEEDED,
  aliases: CODES.ALIAS_LIMIT_EXCEEDED,
  directives: CODES.DIRECTIVE_LIMIT_EXCEEDED,
  tokens: CODES.TOKEN_LIMIT_EXCEEDED,
  fragments: CODES.FRAGMENT_LIMIT_EXCEEDED,
  expandedSelections: CODES.EXPANDED_SELECTION_LIMIT_EXCEEDED,
  jsonDepth: CODES.JSON_LIMIT_EXCEEDED,
  jsonStringLength: CODES.JSON_LIMIT_EXCEEDED,
  batchedOperations: CODES.BATCH_LIMIT_EXCEEDED,
  requestBytes: CODES.REQUEST_TOO_LARGE,
} as const satisfies Record<keyof ShapeLimits, string>;

const SHAPE_HINTS: Record<keyof ShapeLimits, string> = {
  depth: 'Nest fewer levels, or fetch the deeper records in a second query.',
  aliases: 'Fetch many records through one list or ids field (customersByIds) rather than one alias each.',
  directives: 'Use fewer @skip/@include directives: select the fields you want instead.',
  tokens: 'Shorten the document: pass long lists of values as variables.',
  fragments: 'Use fewer, larger fragments.',
  expandedSelections: 'Spread each fragment where its fields are needed, once: a fragment spread several times, directly or through other fragments, multiplies its selections.',
  jsonDepth: 'Nest the variables and extensions less deeply.',
  jsonStringLength: 'Send shorter strings, or split the values over several requests.',
  batchedOperations: 'Send the other operations in further requests.',
  requestBytes: 'Send fewer or shorter variables, or split the request.',
};

/**
 * A shape limit's refusal. The batch and body limits are the HTTP request's (413); the others are
 * the document's, refused before execution: 400 for `application/graphql-response+json` clients,
 * 200 with errors for `application/json` (the codes' entries say so).
 */
export function shapeLimitExceeded(limit: keyof ShapeLimits, n: number, detail: string): GraphQLError {
  return toGraphQLError(shapeLimitError(limit, n, detail));
}

/** The same refusal as an error of its own, for refusals answered before GraphQL runs (a body too large). */
export function shapeLimitError(limit: keyof ShapeLimits, n: number, detail: string): VirtualizeError<(typeof SHAPE_CODES)[keyof ShapeLimits], { limit: number }> {
  return new VirtualizeError(SHAPE_CODES[limit], `${detail.replace(/^Syntax Error: /, '')} ${SHAPE_HINTS[limit]}`, { limit: n });
}

export function fragmentCycle(error: GraphQLError): GraphQLError {
  return toGraphQLError(new VirtualizeError(CODES.FRAGMENT_CYCLE, `${error.message} A fragment must not spread itself, directly or through others.`), { nodes: error.nodes });
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
  return toGraphQLError(
    new VirtualizeError(CODES.SLICING_ARGUMENT_REQUIRED, `${violation.path} (${violation.field}) needs exactly one of ${names} to size it, got ${got}: pass, for example, ${violation.slicingArguments[0]}: 20.`, {
      path: violation.path,
      slicingArguments: violation.slicingArguments,
    }),
  );
}

export function costLimitExceeded(estimate: CostEstimate, maximumCost: number): GraphQLError {
  const top = estimate.paths[0];
  const unsliced = estimate.unsliced.find((list) => list.path === top?.path);
  const why = unsliced
    ? ` ${unsliced.path} has no ${unsliced.slicingArguments.map((arg) => `"${arg}"`).join(' or ')}, so it is priced at its assumed ${unsliced.assumedSize} items per parent: pass one.`
    : '';
  const where = top ? ` Most of it is ${top.path} (${percent(top.share)}).${why}` : '';
  return toGraphQLError(
    new VirtualizeError(
      CODES.COST_LIMIT_EXCEEDED,
      `This query is estimated at ${Math.ceil(estimate.cost)} points, above the limit of ${maximumCost} per request.${where} ` +
        'Ask for fewer items (smaller slicing arguments such as first), fewer nested joins, or split the query; ' +
        'the request header x-virtualize-dry-run: 1 prices a query without running it.',
      { requestedQueryCost: Math.ceil(estimate.cost), maximumCost, mostExpensive: mostExpensive(estimate.paths) },
    ),
  );
}

export function callLimitExceeded(estimate: CostEstimate, source: string, maximumCalls: number): GraphQLError {
  const predicted = estimate.upstreamCalls[source] ?? 0;
  const paths = estimate.callPaths[source] ?? [];
  const where = paths[0] ? ` Most of them resolve ${paths[0].path} (${percent(paths[0].share)}).` : '';
  return toGraphQLError(
    new VirtualizeError(
      CODES.COST_LIMIT_EXCEEDED,
      `This query would make about ${predicted} calls to ${source}, above its limit of ${maximumCalls} per request ` +
        `(sources.${source}.limits.maxCallsPerRequest).${where} Ask for fewer records where they join ${source}, or split the query.`,
      { source, predictedCalls: predicted, maximumCalls, requestedQueryCost: Math.ceil(estimate.cost), mostExpensive: mostExpensive(paths) },
    ),
  );
}

export function throttled(requestedQueryCost: number, status: ThrottleStatus, retryAfterMs: number): GraphQLError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return toGraphQLError(
    new VirtualizeError(
      CODES.THROTTLED,
      `Your query budget is spent for now: this query costs ${requestedQueryCost} points and ${Math.floor(status.currentlyAvailable)} are available. ` +
        `${status.restoreRate} points come back every second: retry in ${seconds} s, or ask for less.`,
      { requestedQueryCost, retryAfterSeconds: seconds, throttleStatus: status },
      { headers: { 'retry-after': String(seconds) } },
    ),
  );
}
