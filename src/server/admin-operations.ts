/**
 * The trusted-documents manifest in the admin API: `pushOperations` (registry:write, audited) and
 * `operations` (registry:read), what `virtualize operations push|list` call.
 */
import type { TrustedOperation } from '../auth/caller';
import type { OperationInput } from '../registry/operation-manifest';
import type { AdminScope } from '../config/definition';
import type { AdminContext } from './admin-schema';

export const operationTypeDefs = /* GraphQL */ `
  extend type Query {
    "The latest registered trusted operations, newest first (at most 1,000). Needs registry:read."
    operations(limit: Int = 100): [TrustedOperation!]!
  }

  extend type Mutation {
    "Registers trusted operations: each document is checked against the live schema and named by the SHA-256 of its exact text; with any problem none is registered. Operations already registered are kept as they are. Audited. Needs registry:write."
    pushOperations(operations: [OperationInput!]!): OperationsPushResult!
  }

  input OperationInput {
    "The document, exactly as clients will send it (its hash is the hash of this text)."
    document: String!
    "The SHA-256 the pusher computed, lower-case hex; checked against the gateway's own when given."
    hash: String
  }

  "One operation of the trusted-documents manifest."
  type TrustedOperation {
    "SHA-256 of the document, lower-case hex: what clients send as extensions.persistedQuery.sha256Hash or documentId."
    hash: String!
    name: String
    document: String!
    registeredAt: String!
  }

  type OperationProblem {
    "The document's position in the push, from 0."
    index: Int!
    message: String!
  }

  type PushedOperation {
    hash: String!
    name: String
    "False when the manifest already held it."
    added: Boolean!
  }

  type OperationsPushResult {
    "True when every document was accepted and the manifest holds them all."
    ok: Boolean!
    problems: [OperationProblem!]!
    operations: [PushedOperation!]!
    audit: AuditEntry
  }
`;

type Guarded = <A>(scope: AdminScope, what: string, run: (args: A, context: AdminContext) => Promise<unknown> | unknown) => (parent: unknown, args: A, context: AdminContext) => Promise<unknown>;

/** The resolvers, each behind its scope (`guarded` of the admin schema). */
export function operationResolvers(guarded: Guarded) {
  return {
    Query: {
      operations: guarded<{ limit: number }>('registry:read', 'operations', ({ limit }, { registry }): Promise<TrustedOperation[]> => registry.listOperations(limit)),
    },
    Mutation: {
      pushOperations: guarded<{ operations: OperationInput[] }>('registry:write', 'pushOperations', ({ operations }, { registry, credential }) => registry.pushOperations(operations, credential.name)),
    },
  };
}
