/**
 * Trusted documents (`auth.trustedDocuments`): which documents may run. Dashboards and apps send
 * registered operations by id (`extensions.persistedQuery.sha256Hash`, or `documentId`), which
 * graphql-yoga's persisted-operations plugin resolves from the manifest; documents sent inline
 * are run, counted or refused by the mode:
 *
 * - `off`: every inline document runs (ids are still resolved, so clients can move to ids first);
 * - `log`: every inline document runs, and those not in the manifest are counted;
 * - `enforce`: only registered operations run, by id or sent in full; a caller holding
 *   `inlineScope` (analysts in GraphiQL) may still send any document.
 *
 * In every mode an unknown id is refused (there is no document to run), and so is a request whose
 * document and id disagree. All of it happens on the request's parameters, before the document is
 * parsed, so a refused document costs no parsing and no upstream call.
 */
import type { DocumentNode, GraphQLError } from 'graphql';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { GraphQLParams, Plugin, YogaInitialContext } from 'graphql-yoga';
import type { ClientAuthDefinition } from '../config/definition/client-auth';
import { CODES, toGraphQLError, VirtualizeError } from '../errors';
import type { Caller, OperationStore } from './caller';
import { isOperationId, operationIdOf, requestedOperationId } from './operation-id';

/**
 * What was sent: `known_id` / `unknown_id` (an id, found or not), `hash_mismatch` (a document with
 * an id that is not its hash), `inline_registered` (a document in full that is in the manifest),
 * `inline` (a document not in the manifest; in mode `off` every inline document, unlooked-up).
 */
export type TrustedDocumentKind = 'known_id' | 'unknown_id' | 'hash_mismatch' | 'inline_registered' | 'inline';
export type TrustedDocumentOutcome = 'served' | 'refused';

export interface TrustedDocumentsOptions {
  config: ClientAuthDefinition['trustedDocuments'];
  /** The manifest (the registry's store, behind a cache). */
  operations: OperationStore;
  /** Counts each operation by what it sent and whether it ran. */
  count(kind: TrustedDocumentKind, outcome: TrustedDocumentOutcome): void;
}

/** The operation id a request names: in its parameters, or `documentId` in a GET's query string (which yoga does not read). */
function idOf(params: GraphQLParams & { documentId?: unknown }, request: Request): string | undefined {
  const id = requestedOperationId(params);
  if (id !== undefined || request.method !== 'GET') return id;
  const documentId = new URL(request.url, 'http://gateway').searchParams.get('documentId');
  return documentId === null ? undefined : requestedOperationId({ documentId });
}

function callerOf(context: unknown): Caller | undefined {
  return (context as { caller?: Caller } | undefined)?.caller;
}

/**
 * A refusal as the GraphQL error yoga answers with. Raised as a GraphQL error, not as the
 * VirtualizeError itself: yoga logs any other error thrown before execution as a failure of its own.
 */
function refusal(error: VirtualizeError): GraphQLError {
  return toGraphQLError(error, { phase: 'request' });
}

const mismatch = () =>
  refusal(new VirtualizeError(CODES.PERSISTED_QUERY_HASH_MISMATCH, 'The operation id sent is not the SHA-256 of the document sent with it: send the hash of the exact text (lower-case hex), or only one of them.'));

/** yoga's persisted-operations plugin and, ahead of it, the check of inline documents and ids. */
export function useTrustedDocuments({ config, operations, count }: TrustedDocumentsOptions): Plugin {
  const { mode, inlineScope } = config;
  const enforceHint = inlineScope ? `, or hold the scope ${inlineScope}` : '';

  async function checkInline(query: string, id: string | undefined, context: unknown): Promise<void> {
    if (mode === 'off') return count('inline', 'served');
    const registered = await operations.find(id ?? operationIdOf(query));
    if (registered) return count('inline_registered', 'served');
    const allowed = mode === 'log' || (inlineScope !== undefined && callerOf(context)?.scopes.has(inlineScope) === true);
    count('inline', allowed ? 'served' : 'refused');
    if (!allowed) {
      throw refusal(
        new VirtualizeError(
          CODES.PERSISTED_QUERY_NOT_ALLOWED,
          `Only registered operations run here (auth.trustedDocuments.mode is enforce): send the operation's id as extensions.persistedQuery.sha256Hash or documentId${enforceHint}. Register operations with virtualize operations push.`,
        ),
      );
    }
  }

  return {
    onPluginInit({ addPlugin }) {
      addPlugin(
        usePersistedOperations<YogaInitialContext>({
          // Inline documents were decided above; this plugin resolves ids.
          allowArbitraryOperations: true,
          extractPersistedOperationId: (params, request) => idOf(params, request) ?? null,
          getPersistedOperation: async (id): Promise<DocumentNode | string | null> => {
            const operation = isOperationId(id) ? await operations.find(id) : undefined;
            count(operation ? 'known_id' : 'unknown_id', operation ? 'served' : 'refused');
            return operation?.document ?? null;
          },
          customErrors: {
            notFound: () =>
              refusal(new VirtualizeError(CODES.PERSISTED_QUERY_NOT_FOUND, 'No registered operation has this id (the SHA-256 of its document, 64 lower-case hex digits): register it with virtualize operations push, or send the document.')),
            keyNotFound: () =>
              toGraphQLError(new VirtualizeError(CODES.BAD_REQUEST, 'Must provide query string, or the id of a registered operation (extensions.persistedQuery.sha256Hash or documentId).', {}, { headers: { allow: 'GET, POST' } }), { phase: 'document' }),
          },
        }),
      );
    },
    async onParams({ params, request, context }) {
      const id = idOf(params, request);
      const query = typeof params.query === 'string' && params.query !== '' ? params.query : undefined;
      if (query === undefined) return;
      if (id !== undefined && (!isOperationId(id) || operationIdOf(query) !== id)) {
        count('hash_mismatch', 'refused');
        throw mismatch();
      }
      await checkInline(query, id, context);
    },
  };
}
