import { makeExecutableSchema } from '@graphql-tools/schema';
import { GraphQLScalarType, valueFromASTUntyped, type GraphQLSchema } from 'graphql';
import type { AdminScope } from '../config/definition';
import { isVirtualizeError, toGraphQLError } from '../errors';
import type { ManagedKeys } from '../auth/managed-keys';
import type { Registry } from '../registry/registry';
import { missingScope, type AdminCredential } from './admin-auth';
import { apiKeyResolvers, apiKeyTypeDefs } from './admin-keys';
import { operationResolvers, operationTypeDefs } from './admin-operations';

export interface AdminContext {
  registry: Registry;
  credential: AdminCredential;
  /** Managed API keys, when `auth.apiKeys.managed` is on. */
  apiKeys?: ManagedKeys;
}

const typeDefs = /* GraphQL */ `
  "Any JSON value: a definition document, a source or a mapping, in the format of virtualization.config.ts."
  scalar JSON

  type Query {
    "The registry: the live schema version, the store, every source and mapping and where it comes from, imports in progress."
    status: RegistryStatus!
    "The latest changes, newest first (at most 1,000)."
    audit(limit: Int = 20): [AuditEntry!]!
    "A registered source or mapping as it was registered; null when there is none."
    definition(kind: EntryKind!, name: String!): JSON
  }

  type Mutation {
    "Dry run: checks a definition document (shape, rules, references, environment, egress), compiles the schema it would make and, with sample, calls each of its sources and mappings once on real data. Changes nothing; recorded in the audit trail. Needs registry:read, and registry:write with sample (real calls with the gateway's credentials)."
    validateDefinition(definition: JSON!, sample: Boolean = true): ValidationReport!
    "Registers the sources and mappings of a document; every name must be new. Checked like a dry run first: with any problem nothing changes. Needs registry:write."
    registerSource(definition: JSON!, sample: Boolean = true): ChangeResult!
    "Replaces registered sources and registers or replaces the document's mappings. Needs registry:write."
    updateSource(definition: JSON!, sample: Boolean = true): ChangeResult!
    "Removes a registered source; with withMappings, also the registered mappings that join it. Needs registry:write."
    removeSource(name: String!, withMappings: Boolean = false): ChangeResult!
    "Registers one id mapping. Needs registry:write."
    registerMapping(name: String!, mapping: JSON!, sample: Boolean = true): ChangeResult!
    "Removes a registered id mapping and its imported pairs. Needs registry:write."
    removeMapping(name: String!): ChangeResult!
  }

  enum EntryKind {
    SOURCE
    MAPPING
  }

  "One problem: where it is in the definition, what is wrong, and which check found it."
  type Problem {
    "Dot path in the definition, e.g. sources.billing.entities.Invoice.lookups.id.body."
    path: String!
    message: String!
    expected: String
    found: String
    "shape, rules, references, environment, egress, schema or sample."
    stage: String!
  }

  "One call a dry run made to a source, and what came back."
  type SampleCall {
    source: String!
    entity: String!
    "list, lookup by <field>, or mapping <name>."
    endpoint: String!
    ok: Boolean!
    records: Int!
    rejected: Int!
    durationMs: Float!
    note: String
  }

  type ValidationReport {
    "True when nothing stands in the way of registering."
    ok: Boolean!
    problems: [Problem!]!
    "What deserves a look but does not block (a field never filled in the sample, an empty crosswalk)."
    warnings: [Problem!]!
    samples: [SampleCall!]!
    "Type.field the unified schema would gain."
    fieldsAdded: [String!]!
    fieldsRemoved: [String!]!
  }

  type ChangeResult {
    "True when the change is committed and live."
    ok: Boolean!
    "The schema version live now."
    schemaVersion: Int!
    report: ValidationReport!
    audit: AuditEntry
  }

  type DiffEntry {
    "add, remove or replace."
    op: String!
    path: String!
    before: JSON
    after: JSON
  }

  "One change: who, when, what, and the diff."
  type AuditEntry {
    "The registry revision it produced; null for imports, which change no definition."
    revision: Int
    at: String!
    actor: String!
    action: String!
    summary: String!
    diff: [DiffEntry!]!
  }

  type ReloadState {
    at: String!
    ok: Boolean!
    revision: Int!
    message: String
  }

  type SourceStatus {
    name: String!
    "config (virtualization.config.ts) or registry."
    origin: String!
    entities: [String!]!
    "unknown, up or failing."
    state: String!
    lastErrorCode: String
  }

  type MappingStatus {
    name: String!
    origin: String!
    "crosswalk, fieldKey or service."
    kind: String!
    from: String!
    to: String!
    "Pairs held, for crosswalks."
    pairs: Int
  }

  type ImportProgress {
    mapping: String!
    "reading, loading or done."
    phase: String!
    rows: Int!
    rejected: Int!
    loaded: Int!
  }

  type RegistryStatus {
    "The version of the schema this replica serves (the registry revision it has applied)."
    schemaVersion: Int!
    "The latest registry revision this replica has seen."
    registryRevision: Int!
    "Where the registry lives: file <dir> or postgres schema <name>."
    store: String!
    lastReload: ReloadState
    sources: [SourceStatus!]!
    mappings: [MappingStatus!]!
    imports: [ImportProgress!]!
  }
`;

const JSON_SCALAR = new GraphQLScalarType({
  name: 'JSON',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => valueFromASTUntyped(ast, variables),
});

function need(context: AdminContext, scope: AdminScope, what: string): void {
  if (context.credential.scopes.has(scope)) return;
  throw toGraphQLError(missingScope(context.credential, scope, what));
}

/**
 * A resolver that needs a scope, with the registry's refusals (and any other error raised on
 * purpose) turned into coded GraphQL errors that carry their HTTP status.
 */
function guarded<A>(scope: AdminScope, what: string, run: (args: A, context: AdminContext) => Promise<unknown> | unknown) {
  return async (_parent: unknown, args: A, context: AdminContext) => {
    need(context, scope, what);
    try {
      return await run(args, context);
    } catch (error) {
      throw isVirtualizeError(error) ? toGraphQLError(error) : error;
    }
  };
}

/** The admin API's schema: the registry's operations, each behind the scope it needs. */
export function adminSchema(): GraphQLSchema {
  const operations = operationResolvers(guarded);
  const apiKeys = apiKeyResolvers(guarded);
  return makeExecutableSchema({
    typeDefs: [typeDefs, operationTypeDefs, apiKeyTypeDefs],
    resolvers: {
      JSON: JSON_SCALAR,
      Query: {
        ...operations.Query,
        ...apiKeys.Query,
        status: guarded('registry:read', 'status', (_args, { registry }) => registry.status()),
        audit: guarded<{ limit: number }>('registry:read', 'audit', ({ limit }, { registry }) => registry.auditTrail(limit)),
        definition: guarded<{ kind: 'SOURCE' | 'MAPPING'; name: string }>('registry:read', 'definition', ({ kind, name }, { registry }) =>
          registry.definitionOf(kind === 'SOURCE' ? 'source' : 'mapping', name),
        ),
      },
      Mutation: {
        ...operations.Mutation,
        ...apiKeys.Mutation,
        validateDefinition: guarded<{ definition: unknown; sample: boolean }>('registry:read', 'validateDefinition', ({ definition, sample }, { registry, credential }) => {
          // A sample is a real call to a source with the gateway's credentials: a change's privilege, not a reader's.
          if (sample) need({ registry, credential }, 'registry:write', 'validateDefinition with sample (a real call to each source; pass sample: false, or virtualize sources validate --no-sample, to check without calling)');
          return registry.validate(definition, credential.name, sample);
        }),
        registerSource: guarded<{ definition: unknown; sample: boolean }>('registry:write', 'registerSource', ({ definition, sample }, { registry, credential }) =>
          registry.register(definition, credential.name, sample),
        ),
        updateSource: guarded<{ definition: unknown; sample: boolean }>('registry:write', 'updateSource', ({ definition, sample }, { registry, credential }) =>
          registry.update(definition, credential.name, sample),
        ),
        removeSource: guarded<{ name: string; withMappings: boolean }>('registry:write', 'removeSource', ({ name, withMappings }, { registry, credential }) =>
          registry.removeSource(name, credential.name, withMappings),
        ),
        registerMapping: guarded<{ name: string; mapping: unknown; sample: boolean }>('registry:write', 'registerMapping', ({ name, mapping, sample }, { registry, credential }) =>
          registry.registerMapping(name, mapping, credential.name, sample),
        ),
        removeMapping: guarded<{ name: string }>('registry:write', 'removeMapping', ({ name }, { registry, credential }) => registry.removeMapping(name, credential.name)),
      },
    },
  });
}
