import { GraphQLError, type ASTNode } from 'graphql';
import { CODES, ERROR_CODES } from './codes';
import { VirtualizeError } from './virtualize-error';

/**
 * Where an error stands in the GraphQL request, which decides how its HTTP status applies:
 *
 * - `document`: the operation was refused before it ran (validation, pricing). The status follows
 *   the GraphQL over HTTP specification: it applies to `application/graphql-response+json`
 *   clients, and `application/json` clients get 200 with the error.
 * - `field`: one field failed while the rest of the answer is served; the answer stays 200.
 * - `request` (the default): the status of the code's entry (or of the raise), as it is.
 */
export type ErrorPhase = 'document' | 'field' | 'request';

export interface GraphQLErrorOptions {
  phase?: ErrorPhase;
  nodes?: ASTNode | readonly ASTNode[] | null;
  path?: readonly (string | number)[];
}

/** The `extensions.http` yoga reads for the answer's status and headers; absent for a 200. */
function httpOf(error: VirtualizeError, phase: ErrorPhase): Record<string, unknown> | undefined {
  if (phase === 'field') return undefined;
  const status = error.httpStatus;
  const spec = phase === 'document' || ('spec' in ERROR_CODES[error.code] && error.httpStatus === ERROR_CODES[error.code].status);
  const http: Record<string, unknown> = {};
  if (status !== null && status !== 200) http.status = status;
  if (spec && http.status !== undefined) http.spec = true;
  if (error.headers) http.headers = { ...error.headers };
  return Object.keys(http).length > 0 ? http : undefined;
}

/** A virtualize error as its GraphQL error: `extensions.code`, the data fields, the HTTP status. */
function fromVirtualizeError(error: VirtualizeError, options: GraphQLErrorOptions, place: { nodes?: GraphQLErrorOptions['nodes']; path?: GraphQLErrorOptions['path'] } = options): GraphQLError {
  const http = httpOf(error, options.phase ?? 'request');
  return new GraphQLError(error.message, {
    ...(place.nodes ? { nodes: place.nodes } : {}),
    ...(place.path ? { path: place.path } : {}),
    extensions: { code: error.code, ...error.data, ...(http ? { http } : {}) },
  });
}

/**
 * The error raised on purpose inside a thrown value: itself, or the one that graphql-js (locating
 * a resolver's error) or stitching (relocating a subschema's) wrapped, through up to eight
 * wrappings (the bound only guards against a cycle of originalErrors).
 */
export function raisedOnPurpose(error: unknown): VirtualizeError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (current instanceof VirtualizeError) return current;
    current = current instanceof GraphQLError ? current.originalError : undefined;
  }
  return undefined;
}

/**
 * The one mapping from a thrown value to the GraphQL error a client sees.
 *
 * - A `VirtualizeError` keeps its code, data and message (its messages are written for clients).
 *   The result carries no `originalError`: yoga masks errors that have one that is not a GraphQL
 *   error, and these are meant to be read.
 * - A GraphQL error that wraps one (graphql-js locates resolver errors) is that one, in its place.
 * - Any other GraphQL error is already what the client should see and is returned as it is.
 * - Anything else was not foreseen: its message may carry a URL or a credential, so it is masked
 *   as `INTERNAL_SERVER_ERROR` and the original kept as `originalError`, for the log only.
 */
export function toGraphQLError(error: unknown, options: GraphQLErrorOptions = {}): GraphQLError {
  if (error instanceof VirtualizeError) return fromVirtualizeError(error, options);
  if (error instanceof GraphQLError) {
    const raised = raisedOnPurpose(error);
    if (raised) return fromVirtualizeError(raised, options, { nodes: options.nodes ?? error.nodes, path: options.path ?? error.path });
    return error;
  }
  return new GraphQLError('Unexpected error.', {
    ...(options.nodes ? { nodes: options.nodes } : {}),
    ...(options.path ? { path: options.path } : {}),
    originalError: error instanceof Error ? error : new Error(String(error)),
    extensions: { code: CODES.INTERNAL_SERVER_ERROR, unexpected: true },
  });
}

/**
 * A refusal answered before GraphQL runs (or outside it: the admin API's uploads), in the shape
 * GraphQL clients read: `{ errors: [{ message, extensions: { code, ...data } }] }`, with its status.
 */
export function refusalBody(error: VirtualizeError): { status: number; headers: Readonly<Record<string, string>>; body: string } {
  return {
    status: error.httpStatus ?? 500,
    headers: error.headers ?? {},
    body: JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code, ...error.data } }] }),
  };
}
