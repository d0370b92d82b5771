/**
 * The error model: every code with its HTTP status, retryability and meaning (`codes.ts`), the
 * base class of the errors virtualize raises (`virtualize-error.ts`), and the one mapping to the
 * GraphQL errors clients see (`to-graphql-error.ts`). The lowest room but time: it imports nothing
 * from the project, so every room may raise these errors.
 */
export { CODES, ERROR_CODES, isErrorCode, type ErrorCode, type ErrorCodeEntry, type SourceErrorCode } from './codes';
export { isVirtualizeError, VirtualizeError, type VirtualizeErrorOptions } from './virtualize-error';
export { raisedOnPurpose, refusalBody, toGraphQLError, type ErrorPhase, type GraphQLErrorOptions } from './to-graphql-error';
