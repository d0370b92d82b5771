import { getOperationAST, getVariableValues, GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type GraphQLSchema } from 'graphql';
import type { VirtualizationConfig } from '../config/definition';
import type { CanonicalSchema } from '../federation/canonical-schema';
import { actualCost } from './actual-cost';
import { CostModel } from './cost-model';
import { estimateCost, type CostEstimate, type PricedOperation } from './estimate';
import { callLimitExceeded, costLimitExceeded, slicingArgumentRequired } from './guard-errors';

/** An operation priced before it runs, or the reason it cannot be. */
export type Pricing =
  | { ok: true; priced: PricedOperation; estimate: CostEstimate; refusal: GraphQLError | undefined }
  /** Execution would refuse the operation itself (no such operation, variables that do not fit). */
  | { ok: false; error: GraphQLError | undefined };

/**
 * Prices operations against the served schema and decides whether they may run: the cost limit
 * (`guard.maxCost`), the slicing arguments the schema requires, and each source's
 * `limits.maxCallsPerRequest`. Pure: no I/O, no state between operations.
 */
export class QueryCostGuard {
  constructor(
    readonly model: CostModel,
    readonly maxCost: number,
  ) {}

  static forGateway(gateway: { schema: GraphQLSchema; canonical: CanonicalSchema; config: VirtualizationConfig }): QueryCostGuard {
    return new QueryCostGuard(CostModel.fromSchema(gateway.schema, gateway.canonical.document, gateway.config), gateway.config.guard.maxCost);
  }

  /** Prices the operation of a validated document with its raw variables, as execution would read them. */
  price(document: DocumentNode, operationName: string | null | undefined, rawVariables: Record<string, unknown> | null | undefined): Pricing {
    const operation = getOperationAST(document, operationName);
    if (!operation) return { ok: false, error: undefined };
    const coerced = getVariableValues(this.model.schema, operation.variableDefinitions ?? [], rawVariables ?? {});
    if (coerced.errors) return { ok: false, error: undefined };
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    const priced: PricedOperation = { operation, fragments, variables: coerced.coerced };
    let estimate: CostEstimate;
    try {
      estimate = estimateCost(this.model, priced);
    } catch (error) {
      // An argument value that does not fit its type: the caller's mistake, refused as such.
      if (!(error instanceof GraphQLError)) throw error;
      return { ok: false, error: new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400, spec: true } } }) };
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

  /** Points of what ran, from the response data. */
  actual(priced: PricedOperation, data: Record<string, unknown> | null | undefined): number {
    return actualCost(this.model, priced, data);
  }
}
