import { LRUCache } from 'lru-cache';
import { getOperationAST, getVariableValues, GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema } from 'graphql';
import type { Catalog } from '../catalog/catalog';
import type { VirtualizationConfig } from '../config/definition';
import { CODES, toGraphQLError, VirtualizeError } from '../errors';
import type { CanonicalSchema } from '../federation/canonical-schema';
import { actualCost } from './actual-cost';
import { CostModel } from './cost-model';
import { estimateCost, type CostEstimate, type PricedOperation } from './estimate';
import { callLimitExceeded, costLimitExceeded, mostExpensive, slicingArgumentRequired } from './guard-errors';

/** An operation priced before it runs, or the reason it cannot be. */
export type Pricing =
  | { ok: true; priced: PricedOperation; estimate: CostEstimate; refusal: GraphQLError | undefined }
  /**
   * The operation cannot be priced: no such operation or variables that do not fit (which
   * execution reports itself, before any resolver runs), or an argument value that does not fit.
   */
  | { ok: false; errors: readonly GraphQLError[]; reportedByExecution: boolean };

/** An estimate as a dry run answers it and `virtualize cost --json` prints it. */
export interface EstimateSummary {
  requestedQueryCost: number;
  maximumCost: number;
  /** Per source, the calls predicted and the source's cap when it declares one. */
  upstreamCalls: Record<string, { predicted: number; maximum?: number }>;
  mostExpensive: ReturnType<typeof mostExpensive>;
}

/**
 * Prices operations against the served schema and decides whether they may run: the cost limit
 * (`guard.maxCost`), the slicing arguments the schema requires, and each source's
 * `limits.maxCallsPerRequest`. Pure: no I/O, no state between operations.
 */
/** Prices remembered per document: its operations and variables asked most recently. */
const PRICES_PER_DOCUMENT = 256;

export class QueryCostGuard {
  /**
   * A price depends only on the document, the operation and the variables: dashboards asking the
   * same query again and again are priced once per combination.
   */
  private readonly prices = new WeakMap<DocumentNode, LRUCache<string, Pricing>>();
  private readonly actuals = new WeakMap<object, number>();

  constructor(
    readonly model: CostModel,
    readonly maxCost: number,
  ) {}

  static forGateway(gateway: { schema: GraphQLSchema; canonical: CanonicalSchema; config: VirtualizationConfig; catalog: Catalog }): QueryCostGuard {
    return new QueryCostGuard(CostModel.fromSchema(gateway.schema, gateway.canonical.document, gateway.catalog, gateway.config.guard.listSizes), gateway.config.guard.maxCost);
  }

  /** Prices the operation of a validated document with its raw variables, as execution would read them. */
  price(document: DocumentNode, operationName: string | null | undefined, rawVariables: Record<string, unknown> | null | undefined): Pricing {
    let prices = this.prices.get(document);
    if (!prices) this.prices.set(document, (prices = new LRUCache<string, Pricing>({ max: PRICES_PER_DOCUMENT })));
    const key = JSON.stringify([operationName ?? null, rawVariables ?? null]);
    let pricing = prices.get(key);
    if (!pricing) prices.set(key, (pricing = this.priceNow(document, operationName, rawVariables)));
    return pricing;
  }

  private priceNow(document: DocumentNode, operationName: string | null | undefined, rawVariables: Record<string, unknown> | null | undefined): Pricing {
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      const which = operationName ? `no operation named "${operationName}"` : 'several operations: name the one to run';
      return { ok: false, errors: [new GraphQLError(`The document has ${which}.`)], reportedByExecution: true };
    }
    const coerced = getVariableValues(this.model.schema, operation.variableDefinitions ?? [], rawVariables ?? {});
    if (coerced.errors) return { ok: false, errors: coerced.errors, reportedByExecution: true };
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    const priced: PricedOperation = { operation, fragments, variables: coerced.coerced };
    let estimate: CostEstimate;
    try {
      estimate = estimateCost(this.model, priced);
    } catch (error) {
      // An argument value that does not fit its type: the caller's mistake, refused as such.
      if (!(error instanceof GraphQLError)) throw error;
      const badInput = toGraphQLError(new VirtualizeError(CODES.BAD_USER_INPUT, error.message), { phase: 'document', nodes: error.nodes });
      return { ok: false, errors: [badInput], reportedByExecution: false };
    }
    return { ok: true, priced, estimate, refusal: this.refusal(estimate) };
  }

  private refusal(estimate: CostEstimate): GraphQLError | undefined {
    const violation = estimate.slicingViolations[0];
    if (violation) return slicingArgumentRequired(violation);
    if (estimate.cost > this.maxCost) return costLimitExceeded(estimate, this.maxCost);
    for (const [source, cap] of this.model.plan.callCaps) {
      if ((estimate.upstreamCalls[source] ?? 0) > cap) return callLimitExceeded(estimate, source, cap);
    }
    return undefined;
  }

  summarize(estimate: CostEstimate): EstimateSummary {
    const upstreamCalls: EstimateSummary['upstreamCalls'] = {};
    for (const [source, predicted] of Object.entries(estimate.upstreamCalls)) {
      const maximum = this.model.plan.callCaps.get(source);
      upstreamCalls[source] = maximum === undefined ? { predicted } : { predicted, maximum };
    }
    return { requestedQueryCost: Math.ceil(estimate.cost), maximumCost: this.maxCost, upstreamCalls, mostExpensive: mostExpensive(estimate.paths) };
  }

  /**
   * Points of what ran, from the response data. An answer served again from the response tier is
   * the same data object, priced once (the tier keys it by operation and variables, so by `priced`).
   */
  actual(priced: PricedOperation, data: Record<string, unknown> | null | undefined): number {
    if (!data) return actualCost(this.model, priced, data);
    let cost = this.actuals.get(data);
    if (cost === undefined) this.actuals.set(data, (cost = actualCost(this.model, priced, data)));
    return cost;
  }
}
