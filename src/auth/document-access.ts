import {
  getOperationAST,
  Kind,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ASTVisitor,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { allows, describeRules, type AccessModel, type AccessRule, type PolicyOutcomes } from './access-model';
import type { Caller } from './caller';

/** Where a guarded field is selected, at most this many places per field in a refusal. */
const PATHS_PER_COORDINATE = 5;

/** One field a document selects that some rule guards. */
export interface GuardedField {
  readonly coordinate: string;
  readonly rules: readonly AccessRule[];
  /** Where it is selected, by response keys from the operation (`order.customer.email`) or from a fragment (`...Contact.email`). */
  readonly paths: string[];
}

/** What one operation of a document selects that authorization must decide. */
export interface DocumentAccess {
  readonly operation: OperationDefinitionNode | undefined;
  readonly guarded: ReadonlyMap<string, GuardedField>;
  /** Every policy the guarded fields' rules name. */
  readonly policies: ReadonlySet<string>;
  /** The operation reads the schema (`__schema`, `__type`). */
  readonly introspection: boolean;
  /** Every scope that can change this operation's answer: those its guarded fields' rules name, and the unmasking scopes of the masked fields it selects. */
  readonly scopes: ReadonlySet<string>;
  /** A guarded field asks for an authenticated caller. */
  readonly authenticated: boolean;
  /** It reads a source that answers per caller (`forwardCaller`): its answer is the caller's own. */
  readonly perCaller: boolean;
}

/** One selection refused, as a refusal lists it. */
export interface DeniedField {
  readonly coordinate: string;
  readonly paths: readonly string[];
  /** What the caller lacks for it, in words: `scope tickets:read`. */
  readonly needs: string;
}

const META_FIELDS = new Set(['__typename', '__schema', '__type']);

/** The fragments the operation can reach, each named once: a linear pass over the spreads of each definition. */
function reachableFragments(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  const spreads = new Map<string, string[]>();
  const collect = (selectionSet: SelectionSetNode): string[] => {
    const names: string[] = [];
    visit(selectionSet, { FragmentSpread: (node) => void names.push(node.name.value) });
    return names;
  };
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) spreads.set(definition.name.value, collect(definition.selectionSet));
  const reached = new Set<string>();
  const pending = collect(operation.selectionSet);
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (reached.has(name) || !spreads.has(name)) continue;
    reached.add(name);
    pending.push(...spreads.get(name)!);
  }
  return reached;
}

/**
 * Visits the fields of the operation and of each fragment it reaches once, each with its parent
 * type: fragment spreads are never expanded, so a document of nested fragments costs its length,
 * and a field reached through an alias, a fragment, an inline fragment or a join is the same
 * `Type.field` as on the direct path.
 */
function visitOperation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, onField: (parent: string, node: FieldNode, path: readonly string[]) => FieldNode | null | undefined, onLeaveSelectionSet?: (node: SelectionSetNode) => SelectionSetNode | undefined): DocumentNode {
  const fragments = reachableFragments(document, operation);
  const typeInfo = new TypeInfo(schema);
  const path: string[] = [];
  const visitor: ASTVisitor = {
    OperationDefinition: { enter: (node) => (node === operation ? undefined : null) },
    FragmentDefinition: {
      enter(node) {
        if (!fragments.has(node.name.value)) return null;
        path.length = 0;
        path.push(`...${node.name.value}`);
        return undefined;
      },
    },
    Field: {
      enter(node) {
        const parent = typeInfo.getParentType();
        path.push(node.alias?.value ?? node.name.value);
        if (!parent || META_FIELDS.has(node.name.value)) return undefined;
        const replaced = onField(parent.name, node, path);
        if (replaced === null) path.pop();
        return replaced;
      },
      leave: () => void path.pop(),
    },
    ...(onLeaveSelectionSet ? { SelectionSet: { leave: onLeaveSelectionSet } } : {}),
  };
  return visit(document, visitWithTypeInfo(typeInfo, visitor));
}

/** What `operationName` of `document` selects that the access model guards. Linear in the document's length. */
export function surveyDocument(model: AccessModel, schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): DocumentAccess {
  const operation = getOperationAST(document, operationName) ?? undefined;
  const guarded = new Map<string, GuardedField>();
  const policies = new Set<string>();
  const scopes = new Set<string>();
  let introspection = false;
  let authenticated = false;
  let perCaller = false;
  if (!operation) return { operation, guarded, policies, introspection, scopes, authenticated, perCaller };
  const query = schema.getQueryType()?.name;
  visitOperation(schema, document, operation, (parent, node, path) => {
    const coordinate = `${parent}.${node.name.value}`;
    const mask = model.masks.get(coordinate);
    if (mask) scopes.add(mask.unmaskScope);
    if (!perCaller && model.perCaller(parent, node.name.value)) perCaller = true;
    const rules = model.rulesOf(parent, node.name.value);
    if (rules.length === 0) return undefined;
    let entry = guarded.get(coordinate);
    if (!entry) {
      guarded.set(coordinate, (entry = { coordinate, rules, paths: [] }));
      for (const rule of rules) {
        if (rule.authenticated) authenticated = true;
        for (const group of rule.scopes ?? []) for (const scope of group) scopes.add(scope);
        for (const group of rule.policies ?? []) for (const policy of group) policies.add(policy);
      }
    }
    if (entry.paths.length < PATHS_PER_COORDINATE) entry.paths.push(path.join('.'));
    return undefined;
  });
  // Introspection is read at the root only (`__schema`, `__type`), directly or in a fragment on the root type.
  visit(document, {
    Field: (node) => {
      if (node.name.value === '__schema' || node.name.value === '__type') introspection = true;
    },
    FragmentDefinition: (node) => (node.typeCondition.name.value === query ? undefined : false),
    OperationDefinition: (node) => (node === operation ? undefined : false),
  });
  return { operation, guarded, policies, introspection, scopes, authenticated, perCaller };
}

/** The guarded fields `caller` may not select, in the order the document first selects them. */
export function deniedFields(access: DocumentAccess, caller: Caller, outcomes: PolicyOutcomes): DeniedField[] {
  const denied: DeniedField[] = [];
  for (const field of access.guarded.values()) {
    if (allows(field.rules, caller, outcomes)) continue;
    // What the caller lacks, not every rule the field carries.
    const unmet = field.rules.filter((rule) => !allows([rule], caller, outcomes));
    denied.push({ coordinate: field.coordinate, paths: field.paths, needs: describeRules(unmet) });
  }
  return denied;
}

const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

/**
 * The document without the denied fields, wherever they are selected (a fragment is edited once,
 * for every place it is spread): they cost nothing and call nothing. A selection set left empty
 * keeps `__typename`, so the document stays valid.
 */
export function withoutDenied(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, denied: ReadonlySet<string>): DocumentNode {
  return visitOperation(
    schema,
    document,
    operation,
    (parent, node) => (denied.has(`${parent}.${node.name.value}`) ? null : undefined),
    (node) => (node.selections.length === 0 ? { ...node, selections: [TYPENAME] } : undefined),
  );
}
