import type { GraphQLError } from 'graphql';
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
    if (!raisedOnPurpose(error)) return yogaMaskError(error, message, isDev);
    const path = (error as Partial<GraphQLError>).path;
    return toGraphQLError(error, { phase: path ? 'field' : 'request' });
  },
};
