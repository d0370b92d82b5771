import { getVariableValues, GraphQLError, type DocumentNode, type FieldNode, type OperationDefinitionNode } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { ClientAuthDefinition, PolicyDecider } from '../config/definition/client-auth';
import { CODES, toGraphQLError, VirtualizeError } from '../errors';
import type { AccessModel } from './access-model';
import type { Caller } from './caller';
import { deniedFields, surveyDocument, withoutDenied, type DeniedField, type DocumentAccess } from './document-access';
import { withForbiddenFields, type ForbiddenAnswerInput } from './forbidden-answer';
import { visibleSchema } from './introspection';
import { modelBasis, partitionOf, PolicyDecisions } from './policies';

/** The context key the response tier reads the caller's authorization partition from. */
export const PARTITION_CONTEXT_KEY = 'authorizationPartition';

export interface AuthorizationOptions {
  /** The access model of the generation an operation runs on. */
  model: (context: unknown) => AccessModel;
  mode: ClientAuthDefinition['authorization']['mode'];
  policies: Readonly<Record<string, PolicyDecider>>;
  introspection: { enabled: boolean; scope: string | undefined };
}

interface AuthorizationContext {
  caller?: Caller;
  request?: Request;
  [PARTITION_CONTEXT_KEY]?: string;
}

/** A context without a caller is no one: anonymous, with no scope. */
const NO_ONE: Caller = { kind: 'anonymous', clientId: 'anonymous:none', subject: undefined, tenant: undefined, keyId: undefined, issuer: undefined, scopes: new Set(), claims: {} };

/** Denied fields listed in a refusal's data, at most (the message names the first few). */
const DENIED_LISTED = 50;
const DENIED_IN_MESSAGE = 5;
/** Surveys and filtered documents remembered per parsed document (its operations, its denied sets). */
const PER_DOCUMENT = 32;

function forbiddenOperation(denied: readonly DeniedField[]): GraphQLError {
  const named = denied.slice(0, DENIED_IN_MESSAGE).map((field) => `${field.coordinate} (at ${field.paths.join(', ')}; needs ${field.needs})`);
  const more = denied.length > DENIED_IN_MESSAGE ? ` and ${denied.length - DENIED_IN_MESSAGE} more` : '';
  return toGraphQLError(
    new VirtualizeError(CODES.FORBIDDEN, `The caller may not see ${named.join('; ')}${more}. Ask for a credential with what is needed, or leave these fields out.`, {
      denied: denied.slice(0, DENIED_LISTED).map((field) => ({ coordinate: field.coordinate, paths: [...field.paths], needs: field.needs })),
    }),
  );
}

function introspectionOff(scope: string | undefined): GraphQLError {
  const how = `set auth.introspection.enabled: true${scope ? `, or call with a credential holding the scope ${scope}` : ', or name a scope that may introspect in auth.introspection.scope'}`;
  return toGraphQLError(new VirtualizeError(CODES.FORBIDDEN, `Introspection is off on this gateway (the default when NODE_ENV=production): ${how}.`));
}

function nothingVisible(): GraphQLError {
  return toGraphQLError(new VirtualizeError(CODES.FORBIDDEN, 'The caller may see no field of this schema: ask for a credential with the scopes the fields need.'));
}

function fieldForbidden(coordinate: string, needs: string, path: readonly (string | number)[], node: FieldNode): GraphQLError {
  return toGraphQLError(new VirtualizeError(CODES.FORBIDDEN, `Not shown: ${coordinate} needs ${needs}.`, { coordinate }), { phase: 'field', path, nodes: node });
}

/** graphql-js ends a validation message with the names it would suggest: `... Did you mean "tickets"?`. */
const SUGGESTION = /\s*Did you mean [\s\S]*\?\s*$/;

/**
 * A validation error without its suggestions. They are read from the whole schema, whatever the
 * caller may see and whether introspection is on: misspelt names would map out fields hidden from
 * it (the "clairvoyance" way around introspection that is off).
 */
function withoutSuggestions(error: Error): Error {
  if (!(error instanceof GraphQLError) || !SUGGESTION.test(error.message)) return error;
  return new GraphQLError(error.message.replace(SUGGESTION, ''), { nodes: error.nodes ?? null, source: error.source ?? null, positions: error.positions ?? null, path: error.path ?? null, originalError: error.originalError ?? null, extensions: error.extensions });
}

function memo<V>(cache: WeakMap<DocumentNode, LRUCache<string, { value: V }>>, document: DocumentNode, key: string, build: () => V): V {
  let entries = cache.get(document);
  if (!entries) cache.set(document, (entries = new LRUCache({ max: PER_DOCUMENT })));
  let entry = entries.get(key);
  if (!entry) entries.set(key, (entry = { value: build() }));
  return entry.value;
}

function coercedVariables(schema: Parameters<typeof getVariableValues>[0], operation: OperationDefinitionNode, raw: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], raw ?? {});
  return coerced.coerced ?? raw ?? {};
}

/**
 * Authorization before planning: the caller (`context.caller`) against every type and field the
 * operation selects, read from the document once (see `surveyDocument`). Placed before the guard,
 * so that what the caller may not see is never priced nor fetched.
 *
 * - mode `reject`: an operation selecting anything denied is refused whole (403 FORBIDDEN, the
 *   fields, their paths and what they need), before any upstream call.
 * - mode `filter`: the denied fields are taken out of the document (0 points, 0 calls) and put
 *   back in the answer as null, with a FORBIDDEN error at each path.
 * - introspection answers from the schema the caller may see; when introspection is off, only a
 *   caller holding `introspection.scope` may introspect. Validation errors suggest no names.
 *
 * Sets the caller's authorization partition on the context, which keys the response tier.
 * `plugin` goes before the guard; `answers` (filter mode's nulls and errors) after every plugin
 * that reads the executed document's answer (the guard's actual cost, the selection order).
 */
export function useAuthorization(options: AuthorizationOptions): { plugin: Plugin<AuthorizationContext>; answers: Plugin<AuthorizationContext> } {
  const filtered = new WeakMap<object, ForbiddenAnswerInput>();
  const surveys = new WeakMap<DocumentNode, LRUCache<string, { value: DocumentAccess }>>();
  const filteredDocuments = new WeakMap<DocumentNode, LRUCache<string, { value: DocumentNode }>>();
  const decisions = new WeakMap<object, PolicyDecisions>();

  const plugin: Plugin<AuthorizationContext> = {
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map(withoutSuggestions));
      };
    },
    async onExecute({ args, setResultAndStopExecution, extendContext }) {
      const context = args.contextValue as AuthorizationContext;
      const caller = context.caller ?? NO_ONE;
      const model = options.model(args.contextValue);
      const schema = args.schema;
      const access = memo(surveys, args.document, `${schema === model.schema ? '' : 'other:'}${args.operationName ?? ''}`, () => surveyDocument(model, schema, args.document, args.operationName));
      if (!access.operation) return undefined;

      if (access.introspection && !options.introspection.enabled && !(options.introspection.scope !== undefined && caller.scopes.has(options.introspection.scope))) {
        setResultAndStopExecution({ errors: [introspectionOff(options.introspection.scope)] });
        return undefined;
      }
      // One request (a batch among them) decides each policy once.
      const owner = context.request ?? context;
      let decided = decisions.get(owner);
      if (!decided) decisions.set(owner, (decided = new PolicyDecisions(options.policies, caller)));
      const outcomes = await decided.outcomes(access.introspection ? [...access.policies, ...model.policies] : access.policies);
      // Introspection reads the whole schema: every scope and policy of the model shapes it.
      const partition = partitionOf(access.introspection ? { ...modelBasis(model), perCaller: access.perCaller } : access, caller, outcomes);
      extendContext({ [PARTITION_CONTEXT_KEY]: partition });

      if (access.introspection) {
        const visible = visibleSchema(schema, model, caller, outcomes, partition);
        if (!visible) {
          setResultAndStopExecution({ errors: [nothingVisible()] });
          return undefined;
        }
        args.schema = visible;
      }
      const denied = deniedFields(access, caller, outcomes);
      if (denied.length === 0) return undefined;
      if (options.mode === 'reject') {
        setResultAndStopExecution({ errors: [forbiddenOperation(denied)] });
        return undefined;
      }

      const operation = access.operation;
      const original = args.document;
      const deniedSet = new Set(denied.map((field) => field.coordinate));
      const needs = new Map(denied.map((field) => [field.coordinate, field.needs]));
      // The same document filtered for the same denials is the same object: the guard's prices and the response tier's keys hold.
      args.document = memo(filteredDocuments, original, `${args.operationName ?? ''}\u0000${[...deniedSet].sort().join(',')}`, () => withoutDenied(schema, original, operation, deniedSet));
      filtered.set(args.contextValue as object, {
        schema,
        document: original,
        operation,
        variables: coercedVariables(schema, operation, args.variableValues),
        denied: deniedSet,
        errorAt: (coordinate, path, node) => fieldForbidden(coordinate, needs.get(coordinate) ?? 'what the caller lacks', path, node),
      });
      return undefined;
    },
  };

  // Filter mode's answer is rebuilt from the document as the client sent it once every other
  // plugin has read the executed one (the guard's actual cost, the selection order).
  const answers: Plugin<AuthorizationContext> = {
    onExecute({ args }) {
      const input = filtered.get(args.contextValue as object);
      if (!input) return undefined;
      filtered.delete(args.contextValue as object);
      return {
        onExecuteDone({ result, setResult }) {
          if (!isAsyncIterable(result)) setResult(withForbiddenFields(result, input));
        },
      };
    },
  };
  return { plugin, answers };
}
