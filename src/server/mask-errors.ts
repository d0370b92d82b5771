import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError, type YogaMaskedErrorOpts } from 'graphql-yoga';
import { raisedOnPurpose, toGraphQLError } from '../errors';

/**
 * yoga's error masking, with the one mapper in front of it: an error raised on purpose (a
 * `VirtualizeError`, however deep graphql-js or stitching wrapped it) reaches the client as
 * `toGraphQLError` makes it (its code, data and message; a field error keeps the answer at 200),
 * and everything else is masked as yoga masks it ("Unexpected error.", `INTERNAL_SERVER_ERROR`).
 */
export const maskErrors: Partial<YogaMaskedErrorOpts> = {
  maskError(error, message, isDev) {
    if (!raisedOnPurpose(error)) return withoutEcho(yogaMaskError(error, message, isDev), isDev === true);
    const path = (error as Partial<GraphQLError>).path;
    return toGraphQLError(error, { phase: path ? 'field' : 'request' });
  },
};

/**
 * yoga's request parser puts the parser's own error in `extensions.originalError`, and a JSON
 * parser quotes the body it could not read: whatever the client sent (a token in a variable, say)
 * would come back in the answer and in any log of it. Outside development the refusal keeps its
 * code and message and loses the quote.
 */
function withoutEcho(error: Error, isDev: boolean): Error {
  if (isDev || !(error instanceof GraphQLError) || error.extensions.originalError === undefined) return error;
  const { originalError: _quoted, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { nodes: error.nodes ?? null, source: error.source ?? null, positions: error.positions ?? null, path: error.path ?? null, extensions });
}
