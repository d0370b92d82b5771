import { GraphQLError, parse, specifiedRules, validate, type DocumentNode } from 'graphql';
import type { ShapeLimits } from '../config/definition';
import type { CostEstimate } from './estimate';
import { shapeLimitExceeded } from './guard-errors';
import type { QueryCostGuard } from './query-cost-guard';
import { shapeRules } from './shape-rules';

export interface DocumentPrice {
  /** Absent when the document could not be priced (it does not parse, validate or fit its variables). */
  estimate?: CostEstimate;
  /** Every reason the gateway would refuse the operation; empty when it would run. */
  errors: GraphQLError[];
}

/**
 * Prices a document as the gateway would, without a server or a source: parse (token limit),
 * shape limits, schema validation, then the cost guard. For `virtualize cost` and tests.
 */
export function priceDocument(
  guard: QueryCostGuard,
  limits: ShapeLimits,
  text: string,
  options: { variables?: Record<string, unknown>; operationName?: string } = {},
): DocumentPrice {
  let document: DocumentNode;
  try {
    document = parse(text, { maxTokens: limits.tokens });
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    const tooLong = /tokens/.test(error.message);
    return { errors: [tooLong ? shapeLimitExceeded('tokens', limits.tokens, `Token limit of ${limits.tokens} exceeded.`) : error] };
  }
  const shapeErrors = validate(guard.model.schema, document, shapeRules(limits));
  if (shapeErrors.length > 0) return { errors: [...shapeErrors] };
  const schemaErrors = validate(guard.model.schema, document, specifiedRules);
  if (schemaErrors.length > 0) return { errors: [...schemaErrors] };
  const pricing = guard.price(document, options.operationName, options.variables);
  if (!pricing.ok) return { errors: [...pricing.errors] };
  return { estimate: pricing.estimate, errors: pricing.refusal ? [pricing.refusal] : [] };
}
