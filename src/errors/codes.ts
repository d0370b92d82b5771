/**
 * Every error code virtualize emits, in one table: the `extensions.code` of GraphQL errors (the
 * gateway's own and graphql-yoga's), the codes of admin API refusals and results, the codes of
 * HTTP refusals made before GraphQL runs, and the codes that stay inside the gateway (a connector
 * policy's refusal before it becomes a source error, a refusal to start).
 *
 * Users match on these codes, never on messages, so a code keeps its meaning for good: a code
 * that is retired stays in this table, and a new meaning gets a new code.
 *
 * `status` is the HTTP status of the answer that carries the code, `null` for codes that never
 * reach HTTP. `spec` marks refusals made before execution, whose status follows the GraphQL over
 * HTTP specification: the status for `application/graphql-response+json` clients, 200 with the
 * error for `application/json` clients. A code whose status is 200 is an execution error: the
 * field it names is null and the rest of the answer is served.
 */
export interface ErrorCodeEntry {
  readonly status: number | null;
  /** True when the same request may succeed later (after `Retry-After` when the answer has one). */
  readonly retryable: boolean;
  /** One line: what happened, in the terms a client or operator acts on. */
  readonly meaning: string;
  readonly spec?: true;
}

const entry = <E extends ErrorCodeEntry>(value: E): E => value;

export const ERROR_CODES = {
  // Refused before GraphQL runs: the HTTP request itself.
  LENGTH_REQUIRED: entry({ status: 411, retryable: false, meaning: 'a GraphQL POST came without Content-Length: send the body with its length' }),
  REQUEST_TOO_LARGE: entry({ status: 413, retryable: false, meaning: 'the request body is longer than guard.limits.requestBytes (a webhook delivery, than 64 KiB): send fewer or shorter variables, or split the request' }),
  OVERLOADED: entry({ status: 503, retryable: true, meaning: 'the gateway is serving server.maxRequestsInFlight GraphQL requests already; this one was not read: retry after Retry-After seconds' }),
  BATCH_LIMIT_EXCEEDED: entry({ status: 413, retryable: false, meaning: 'a batch holds more operations than guard.limits.batchedOperations: send the rest in further requests' }),
  JSON_LIMIT_EXCEEDED: entry({ status: 400, retryable: false, meaning: "the request's JSON (its variables or extensions) nests deeper than guard.limits.jsonDepth, or holds a string longer than guard.limits.jsonStringLength; refused before anything reads it" }),
  BAD_REQUEST: entry({ status: 400, retryable: false, meaning: 'the HTTP request is not a GraphQL request (a body that is not JSON, no query, a mutation sent with GET, answered 405; a JSON body with no query answers 200 to application/json clients); raised by graphql-yoga' }),
  UNSUPPORTED_MEDIA_TYPE: entry({ status: 415, retryable: false, meaning: 'a GraphQL POST came form-encoded, multipart or as plain text, bodies a browser sends from any web page without asking first: send application/json' }),
  CSRF_HEADER_REQUIRED: entry({ status: 403, retryable: false, meaning: 'a GraphQL GET (or a POST with no Content-Type) came without a header that a web page cannot add without a CORS preflight: send x-graphql-yoga-csrf: 1 (or x-api-key, or apollo-require-preflight)' }),
  GRAPHIQL_DISABLED: entry({ status: 404, retryable: false, meaning: 'GraphiQL is not served here: auth.graphiql.enabled is false (the default in production: NODE_ENV=production outside sandbox mode) and the caller lacks auth.graphiql.scope; send queries with a GraphQL client instead' }),

  // Refused before execution: the document.
  GRAPHQL_PARSE_FAILED: entry({ status: 400, spec: true, retryable: false, meaning: 'the document is not GraphQL: the message gives the syntax error and its position' }),
  GRAPHQL_VALIDATION_FAILED: entry({ status: 400, spec: true, retryable: false, meaning: 'the document does not fit the schema (an unknown field, a fragment on the wrong type, a mutation or subscription: the gateway serves queries only); the message says where' }),
  OPERATION_RESOLUTION_FAILURE: entry({ status: 400, retryable: false, meaning: 'the document holds no operation of the given operationName, or several and none was named; raised by graphql-yoga' }),
  BAD_USER_INPUT: entry({ status: 400, retryable: false, meaning: 'an argument or variable does not fit its type or range, or a cursor was never issued; the message says which and why (a variable that does not fit: 400; a literal argument: as the * rule; found while the query runs, such as a first out of range or a foreign cursor: that field is null, in a 200)' }),
  TOKEN_LIMIT_EXCEEDED: entry({ status: 400, spec: true, retryable: false, meaning: 'the document has more tokens than guard.limits.tokens: pass long lists as variables' }),
  DEPTH_LIMIT_EXCEEDED: entry({ status: 400, spec: true, retryable: false, meaning: 'the selection nests deeper than guard.limits.depth' }),
  ALIAS_LIMIT_EXCEEDED: entry({ status: 400, spec: true, retryable: false, meaning: 'the document has more aliases than guard.limits.aliases: fetch many records through one list field' }),
  DIRECTIVE_LIMIT_EXCEEDED: entry({ status: 400, spec: true, retryable: false, meaning: 'the document has more directives than guard.limits.directives' }),
  FRAGMENT_LIMIT_EXCEEDED: entry({ status: 400, spec: true, retryable: false, meaning: 'the document has more fragments than guard.limits.fragments' }),
  EXPANDED_SELECTION_LIMIT_EXCEEDED: entry({ status: 400, spec: true, retryable: false, meaning: 'the operation has more selections than guard.limits.expandedSelections once its fragments are spread (a fragment spread many times, directly or through others): spread each fragment once' }),
  FRAGMENT_CYCLE: entry({ status: 400, spec: true, retryable: false, meaning: 'a fragment spreads itself, directly or through others' }),
  SLICING_ARGUMENT_REQUIRED: entry({ status: 400, spec: true, retryable: false, meaning: 'a list field that must be sized (customers) got none, or more than one, of its slicing arguments' }),
  COST_LIMIT_EXCEEDED: entry({ status: 400, spec: true, retryable: false, meaning: 'the query is priced above guard.maxCost, or would call a source more than its limits.maxCallsPerRequest; nothing ran' }),
  PERSISTED_QUERY_NOT_FOUND: entry({ status: 400, spec: true, retryable: false, meaning: 'the operation id sent (extensions.persistedQuery.sha256Hash or documentId) is not in the trusted-documents manifest: register it with virtualize operations push, or send the document' }),
  PERSISTED_QUERY_HASH_MISMATCH: entry({ status: 400, spec: true, retryable: false, meaning: 'the request sent a document and an operation id, and the id is not the SHA-256 of that document: send the hash of the exact text, or only one of them' }),
  PERSISTED_QUERY_NOT_ALLOWED: entry({ status: 403, retryable: false, meaning: 'auth.trustedDocuments.mode is enforce and the document is not a registered operation: send a registered operation by its id, or hold the scope that may send documents inline (auth.trustedDocuments.inlineScope)' }),
  THROTTLED: entry({ status: 429, retryable: true, meaning: "the client's query budget is spent for now: retry after Retry-After seconds, or ask for less" }),

  // Execution errors: the field is null with the error, the rest of the answer is served.
  SOURCE_UNAVAILABLE: entry({ status: 200, retryable: true, meaning: 'a source refused the connection, answered 5xx, or its token endpoint could not be reached; or its circuit breaker is open, and the message says when it will probe' }),
  SOURCE_TIMEOUT: entry({ status: 200, retryable: true, meaning: 'a source did not answer, or did not finish its answer, within limits.timeoutMs (per attempt, after its retries)' }),
  SOURCE_RATE_LIMITED: entry({ status: 200, retryable: true, meaning: "a source answered 429 (after waiting out a Retry-After the policy allows), or the gateway's own rate limit for it would have queued the call longer than maxQueueWaitMs" }),
  SOURCE_BAD_RESPONSE: entry({ status: 200, retryable: false, meaning: 'a source sent something that is not JSON, or no records where its definition says' }),
  SOURCE_REJECTED_REQUEST: entry({ status: 200, retryable: false, meaning: "a source answered 4xx to a call built from its definition (check the definition), or refused the gateway's credentials (the message names the variable to check)" }),
  SOURCE_EGRESS_REFUSED: entry({ status: 200, retryable: false, meaning: "a registered source's connection was refused when it was made, before anything was sent: its host is not in registry.egress.allowedHosts, or it resolved to a private, loopback, link-local or reserved address (DNS rebinding included); the message names the host and the rule" }),
  SOURCE_PARTIAL_FAILURE: entry({ status: 200, retryable: false, meaning: 'a source answered a batch but reported an error for this one key (a 207 with per-id errors); the other keys were served' }),
  SOURCE_PAGE_LIMIT: entry({ status: 200, retryable: false, meaning: "a lookup by a non-unique key found more records than it read: the source said more pages follow (a Link rel=next) and the lookup declares no paging, or its declared paging reached maxPages; no short list is served: declare the lookup's paging, or raise maxPages" }),
  SOURCE_CALLER_TOKEN_REQUIRED: entry({ status: 200, retryable: false, meaning: "the source acts on behalf of each caller (forwardCaller) and this caller has no bearer token to send it (an API key or anonymous access): call with Authorization: Bearer <JWT>; the source was not called" }),
  INTERNAL_SERVER_ERROR: entry({ status: 500, retryable: false, meaning: 'the gateway failed in a way it did not foresee; the message is masked and the gateway log has the cause' }),

  // Callers and the admin API.
  UNAUTHENTICATED: entry({ status: 401, retryable: false, meaning: 'no credential, a malformed one, or one the gateway does not know (an unknown, revoked or expired API key, a token that fails verification); the WWW-Authenticate header names what to send: x-api-key or Authorization: ApiKey <key>, Authorization: Bearer <token> when issuers are configured, and for the admin API Authorization: Bearer <admin token>' }),
  AUTHENTICATION_UNAVAILABLE: entry({ status: 503, retryable: true, meaning: "the gateway could not fetch a JWT issuer's keys (its JWKS URL did not answer in time, or answered something else), so the token could not be checked: retry after Retry-After seconds" }),
  FORBIDDEN: entry({ status: 403, retryable: false, meaning: 'the caller may not see what the operation selects (a scope or policy it lacks) or introspection is off; the message names the fields and what each needs. In filter mode each such field is null with this code and the rest is served (200)' }),
  ADMIN_DISABLED: entry({ status: 403, retryable: false, meaning: "the admin API is off: no admin credential is set in the gateway's environment" }),
  NOT_FOUND: entry({ status: 404, retryable: false, meaning: 'no such admin endpoint, no such registered source or mapping, or no webhook for the source a delivery names (cache.webhooks.secrets)' }),
  METHOD_NOT_ALLOWED: entry({ status: 405, retryable: false, meaning: 'the admin endpoint takes another HTTP method (crosswalk uploads take POST)' }),
  CONFLICT: entry({ status: 409, retryable: false, meaning: 'the registration contradicts what is registered (a name already taken, mappings that still join a source)' }),
  REGISTRY_CONFLICT: entry({ status: 409, retryable: true, meaning: 'the registry changed between reading and writing it (another change committed first, here or on another replica); checked again on the new revision up to three times, then refused: send it again' }),
  CROSSWALK_TOO_LARGE: entry({ status: 413, retryable: false, meaning: 'a crosswalk upload runs past registry.imports.maxLineBytes, maxRows or maxUploadBytes; refused whole at the line named: split it' }),

  // Webhook deliveries refused (POST /webhooks/<source>): nothing was applied.
  WEBHOOK_SIGNATURE_INVALID: entry({ status: 401, retryable: false, meaning: "a webhook delivery's signature header is missing or is not the HMAC-SHA256 of its body with the source's secret (cache.webhooks.secrets)" }),
  WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE: entry({ status: 401, retryable: false, meaning: "a webhook event's occurredAt is further than cache.webhooks.toleranceMs from the gateway's clock (a late or replayed delivery, or a clock that drifted)" }),
  WEBHOOK_EVENT_INVALID: entry({ status: 400, retryable: false, meaning: 'a signed webhook body is not JSON, or not a change event { id, type, occurredAt, entity, field, key }' }),
  WEBHOOK_RATE_LIMITED: entry({ status: 429, retryable: true, meaning: "the source's webhook events need more identity resolutions than cache.webhooks.resolveRate allows: the event was applied to what the gateway knows without calling a source; deliver it again after Retry-After seconds for the rest" }),

  // Never sent over HTTP: the gateway refuses to start, or a tool refuses its input.
  NO_CLIENT_AUTHENTICATION: entry({ status: null, retryable: false, meaning: 'virtualize start (outside sandbox mode) found no way for clients to authenticate to /graphql (no active static key, no JWT issuer, no admin credential to create managed keys) and no auth.anonymous: the message says what to set' }),
  INVALID_DEFINITION: entry({ status: null, retryable: false, meaning: 'the configuration or a definition does not fit the definition schema or its references; every problem is listed with its path' }),
  INVALID_CROSSWALK: entry({ status: null, retryable: false, meaning: 'a crosswalk file or upload cannot be read (its header, its columns); an upload answers it as BAD_USER_INPUT' }),
  INVALID_AUTH_DIRECTIVE: entry({ status: null, retryable: false, meaning: 'an @authenticated, @requiresScopes, @policy or @mask in schema/ (or an access or mask in a source definition) is malformed, or names a type or field the served schema lacks' }),
  INVALID_COST_DIRECTIVE: entry({ status: null, retryable: false, meaning: 'an @cost or @listSize in schema/ is malformed, or does not fit the served schema' }),
  SCHEMA_COVERAGE: entry({ status: null, retryable: false, meaning: 'the canonical schema declares a type or field that no source serves' }),
  UNREACHABLE: entry({ status: null, retryable: true, meaning: 'the CLI could not reach the admin API at the given URL: is the gateway running?' }),
  WEBHOOK_SECRET_UNSAFE: entry({ status: null, retryable: false, meaning: "outside sandbox mode, a webhook's secret (cache.webhooks.secrets) is unset or is the default the configuration publishes: set its variable to a secret of your own, or remove the webhook" }),

  // Inside the gateway: a connector policy's refusal, which the client sees as a SOURCE_ code.
  VIRTUALIZE_BREAKER_OPEN: entry({ status: null, retryable: true, meaning: "the source's circuit breaker is open or probing: the call never left the gateway (SOURCE_UNAVAILABLE)" }),
  VIRTUALIZE_RATE_LIMIT_WAIT: entry({ status: null, retryable: true, meaning: 'the call would wait longer than maxQueueWaitMs for the rate limit or a Retry-After (SOURCE_RATE_LIMITED)' }),
  VIRTUALIZE_ATTEMPT_TIMEOUT: entry({ status: null, retryable: true, meaning: 'one attempt took longer than limits.timeoutMs; retried when the policy allows (SOURCE_TIMEOUT)' }),
  VIRTUALIZE_ANSWER_INTERRUPTED: entry({ status: null, retryable: false, meaning: 'an answer stopped after it had begun; not retried (SOURCE_TIMEOUT or SOURCE_UNAVAILABLE)' }),
  VIRTUALIZE_FOREIGN_CURSOR: entry({ status: null, retryable: false, meaning: "a list was asked to start at a cursor it never issued; the client wrote it, so it hears BAD_USER_INPUT" }),
  VIRTUALIZE_EGRESS_REFUSED: entry({ status: null, retryable: false, meaning: "the egress policy refused a registered source's connection (SOURCE_EGRESS_REFUSED)" }),
  VIRTUALIZE_TOKEN_REQUEST: entry({ status: null, retryable: true, meaning: "a source's OAuth token endpoint gave no token (SOURCE_UNAVAILABLE, SOURCE_REJECTED_REQUEST or SOURCE_BAD_RESPONSE)" }),
} as const satisfies Record<string, ErrorCodeEntry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Each code as a constant, `CODES.BAD_USER_INPUT === 'BAD_USER_INPUT'`: code elsewhere names codes through this. */
export const CODES = Object.freeze(Object.fromEntries(Object.keys(ERROR_CODES).map((code) => [code, code]))) as { readonly [C in ErrorCode]: C };

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** The codes of one kind, e.g. the ones a source failure carries. */
export type SourceErrorCode = Extract<ErrorCode, `SOURCE_${string}`>;
