import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { validate, type DocumentNode, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ShapeLimits } from '../config/definition';
import { shapeLimitExceeded } from './guard-errors';
import { shapeRules } from './shape-rules';

/**
 * Refuses documents whose shape alone is abusive, each limit with its own code, before the schema
 * validates them and long before anything runs:
 *
 * - batched operations: a JSON array longer than `batchedOperations` (`BATCH_LIMIT_EXCEEDED`,
 *   HTTP 413); pass the same number to graphql-yoga's `batching.limit` so that it accepts the rest;
 * - tokens: parsing stops at `tokens` (`TOKEN_LIMIT_EXCEEDED`, GraphQL Armor's parser);
 * - depth, aliases, directives, fragments and fragment cycles (see shape-rules).
 */
export function useShapeLimits(limits: ShapeLimits): Plugin {
  const rules = shapeRules(limits);
  // yoga's parser cache hands back the same document for the same text: check each once.
  const checked = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(
        maxTokensPlugin({
          n: limits.tokens,
          propagateOnRejection: false,
          onReject: [
            (_context, error) => {
              throw shapeLimitExceeded('tokens', limits.tokens, error.message);
            },
          ],
        }),
      );
    },
    onRequestParse() {
      return {
        onRequestParseDone({ requestParserResult }) {
          if (Array.isArray(requestParserResult) && requestParserResult.length > limits.batchedOperations) {
            const n = limits.batchedOperations;
            throw shapeLimitExceeded('batchedOperations', n, `Batching is limited to ${n} operations per request, got ${requestParserResult.length}.`);
          }
        },
      };
    },
    onValidate({ params, setResult }) {
      let errors = checked.get(params.documentAST);
      if (!errors) checked.set(params.documentAST, (errors = validate(params.schema, params.documentAST, rules)));
      if (errors.length > 0) setResult([...errors]);
    },
  };
}
