import { GraphQLError, Lexer, parse, Source, specifiedRules, TokenKind, validate, type DocumentNode } from 'graphql';
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
    const tooLong = error.positions?.[0] !== undefined && error.positions[0] === tokenStart(text, limits.tokens + 1);
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

/**
 * Where the document's `n`th token starts, counted as the parser's `maxTokens` counts them (every
 * token but comments and the end); undefined when it has fewer. A parse that fails exactly there
 * failed on the token limit, whatever its message says.
 */
function tokenStart(text: string, n: number): number | undefined {
  const lexer = new Lexer(new Source(text));
  try {
    for (let count = 1; ; count++) {
      const token = lexer.advance();
      if (token.kind === TokenKind.EOF) return undefined;
      if (count === n) return token.start;
    }
  } catch {
    return undefined;
  }
}
