import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { validate, type DocumentNode, type GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ShapeLimits } from '../config/definition';
import { shapeLimitExceeded } from './guard-errors';
import { jsonBoundBreach } from './json-bounds';
import { shapeRules } from './shape-rules';

/** Every member of a request's parameters but its document (bounded by `tokens`), through jsonBoundBreach. */
function checkJson(params: unknown, index: number, limits: ShapeLimits): void {
  const members = params !== null && typeof params === 'object' && !Array.isArray(params) ? Object.entries(params) : [['request', params] as const];
  for (const [member, value] of members) {
    if (member === 'query' && typeof value === 'string') continue;
    const breach = jsonBoundBreach(value, index > 0 ? `[${index}].${member}` : member, limits);
    if (!breach) continue;
    const detail =
      breach.limit === 'jsonDepth'
        ? `The request's JSON nests deeper than ${limits.jsonDepth} levels at ${breach.path} (guard.limits.jsonDepth).`
        : `The request's JSON holds a string of ${breach.found} characters at ${breach.path}, above the limit of ${limits.jsonStringLength} (guard.limits.jsonStringLength).`;
    throw shapeLimitExceeded(breach.limit, breach.limit === 'jsonDepth' ? limits.jsonDepth : limits.jsonStringLength, detail);
  }
}

/**
 * Refuses documents whose shape alone is abusive, each limit with its own code, before the schema
 * validates them and long before anything runs:
 *
 * - batched operations: a JSON array longer than `batchedOperations` (`BATCH_LIMIT_EXCEEDED`,
 *   HTTP 413); pass the same number to graphql-yoga's `batching.limit` so that it accepts the rest;
 * - the request's JSON (variables, extensions; POST body or GET parameters): nesting deeper than
 *   `jsonDepth` or a string longer than `jsonStringLength` (`JSON_LIMIT_EXCEEDED`, HTTP 400), as
 *   soon as it is parsed, before anything that recurses over it (pricing, logging) reads it;
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
          for (const [i, params] of (Array.isArray(requestParserResult) ? requestParserResult : [requestParserResult]).entries()) checkJson(params, i, limits);
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
