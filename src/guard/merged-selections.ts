import { LRUCache } from 'lru-cache';
import {
  getNamedType,
  getOperationAST,
  getVariableValues,
  isAbstractType,
  isObjectType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields';
import type { Plugin } from 'graphql-yoga';

/** Merged documents remembered per parsed document: its operations and @skip/@include values asked most recently. */
const MERGED_PER_DOCUMENT = 64;

type Fields = Map<string, readonly FieldNode[]>;
type Variables = Record<string, unknown>;

/**
 * The operation a document asks for, as one document without fragments: every spread and inline
 * fragment replaced by the fields it selects, fields of one response key merged into one, and
 * `@skip`/`@include` applied, exactly as execution collects them (graphql-js's own
 * `collectFields`, so the answer is the same, keys in the same order). What a delegation walks is
 * then what the operation asks for, once: `@graphql-tools/delegate` checks each selection set
 * against each subschema by walking it with every spread expanded again, which a few hundred bytes
 * of nested spreads turn into seconds of event loop.
 *
 * Undefined when there is nothing to gain or the document is not one this can rewrite (no
 * operation of that name, variables that do not fit: execution reports those), or when applying
 * the directives would leave a selection set empty (execution answers `{}` there, a document cannot
 * say it). Runs after the guard, so the expansion it walks is bounded by
 * `guard.limits.expandedSelections`.
 */
export function mergedDocument(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, rawVariables: Variables | null | undefined): DocumentNode | undefined {
  const operation = getOperationAST(document, operationName);
  const root = operation && schema.getRootType(operation.operation);
  if (!operation || !root) return undefined;
  const { fragments, hasFragments, directiveVariables } = shapeOf(document);
  if (!hasFragments && !directiveVariables.size) return undefined;
  // Only @skip and @include read variables while fields are collected: coerce just theirs.
  const definitions = (operation.variableDefinitions ?? []).filter((definition) => directiveVariables.has(definition.variable.name.value));
  const coerced = getVariableValues(schema, definitions, rawVariables ?? {});
  if (coerced.errors) return undefined;
  const merge = new Merge(schema, fragments, coerced.coerced);
  const selections = merge.selections(root, collectFields(schema, fragments, coerced.coerced, root, operation.selectionSet));
  if (!selections) return undefined;
  // Every variable stays declared, read or not: execution coerces (and refuses) them all, as it would have.
  const merged: OperationDefinitionNode = { ...operation, selectionSet: { kind: Kind.SELECTION_SET, selections } };
  return { kind: Kind.DOCUMENT, definitions: [merged] };
}

interface DocumentShape {
  fragments: Record<string, FragmentDefinitionNode>;
  hasFragments: boolean;
  /** Variables that an `@skip` or `@include` reads: the only ones a merged document depends on. */
  directiveVariables: ReadonlySet<string>;
}

const shapes = new WeakMap<DocumentNode, DocumentShape>();

/** One walk of the document as written (spreads not followed). */
function shapeOf(document: DocumentNode): DocumentShape {
  let shape = shapes.get(document);
  if (shape) return shape;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  let hasFragments = false;
  const directiveVariables = new Set<string>();
  visit(document, {
    FragmentDefinition(node) {
      fragments[node.name.value] = node;
    },
    FragmentSpread() {
      hasFragments = true;
    },
    InlineFragment() {
      hasFragments = true;
    },
    Directive(node) {
      if (node.name.value !== 'skip' && node.name.value !== 'include') return;
      for (const argument of node.arguments ?? []) if (argument.value.kind === Kind.VARIABLE) directiveVariables.add(argument.value.name.value);
    },
  });
  shapes.set(document, (shape = { fragments, hasFragments, directiveVariables }));
  return shape;
}

class Merge {
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
    private readonly variables: Variables,
  ) {}

  /** The merged fields of one object type; undefined when one of their selection sets would be empty. */
  selections(type: GraphQLObjectType, fields: Fields): SelectionNode[] | undefined {
    const selections: SelectionNode[] = [];
    for (const nodes of fields.values()) {
      const first = nodes[0]!;
      const definition = this.field(type, first.name.value);
      let selectionSet: SelectionSetNode | undefined;
      if (definition && nodes.some((node) => node.selectionSet)) {
        selectionSet = this.subselection(definition.type, nodes);
        if (!selectionSet) return undefined;
      }
      // The first node keeps its place in the document (error locations) and its arguments;
      // @skip and @include are already applied.
      const directives = first.directives?.filter((directive) => directive.name.value !== 'skip' && directive.name.value !== 'include');
      selections.push({ ...first, directives, selectionSet });
    }
    return selections.length > 0 ? selections : undefined;
  }

  private subselection(fieldType: GraphQLType, nodes: readonly FieldNode[]): SelectionSetNode | undefined {
    const named = getNamedType(fieldType);
    if (isObjectType(named)) {
      const selections = this.selections(named, collectSubfields(this.schema, this.fragments, this.variables, named, nodes));
      return selections && { kind: Kind.SELECTION_SET, selections };
    }
    if (!isAbstractType(named)) return undefined;
    // What each possible type would collect, under its own type condition.
    const selections: SelectionNode[] = [];
    for (const possible of this.schema.getPossibleTypes(named)) {
      const fields = collectSubfields(this.schema, this.fragments, this.variables, possible, nodes);
      if (fields.size === 0) continue;
      const merged = this.selections(possible, fields);
      if (!merged) return undefined;
      selections.push({ kind: Kind.INLINE_FRAGMENT, typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: possible.name } }, selectionSet: { kind: Kind.SELECTION_SET, selections: merged } });
    }
    return selections.length > 0 ? { kind: Kind.SELECTION_SET, selections } : undefined;
  }

  private field(type: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> | undefined {
    if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
    if (type === this.schema.getQueryType()) {
      if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
      if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
    }
    return type.getFields()[name];
  }
}

function directiveValue(value: unknown): boolean | string {
  if (typeof value === 'boolean') return value;
  return value === undefined ? 'absent' : value === null ? 'null' : 'other';
}

/**
 * Runs (and subscribes) every operation on its merged document (see mergedDocument), remembered
 * per parsed document, operation and `@skip`/`@include` values. The other plugins keep seeing the
 * document as sent: only execution reads the merged one.
 */
export function useMergedSelections(): Plugin {
  const merged = new WeakMap<DocumentNode, LRUCache<string, { document: DocumentNode | undefined }>>();
  const mergedOf = (args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Variables | null }): DocumentNode | undefined => {
    let remembered = merged.get(args.document);
    if (!remembered) merged.set(args.document, (remembered = new LRUCache({ max: MERGED_PER_DOCUMENT })));
    const { directiveVariables } = shapeOf(args.document);
    // A short key whatever the variables hold: a directive's value is a boolean, absent or null;
    // anything else does not coerce, and gets no merged document.
    const key = JSON.stringify([args.operationName ?? null, [...directiveVariables].map((name) => directiveValue(args.variableValues?.[name]))]);
    let entry = remembered.get(key);
    if (!entry) remembered.set(key, (entry = { document: mergedDocument(args.schema, args.document, args.operationName, args.variableValues) }));
    return entry.document;
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const document = mergedOf(args);
      if (document) setExecuteFn((executeArgs) => executeFn({ ...executeArgs, document }));
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const document = mergedOf(args);
      if (document) setSubscribeFn((subscribeArgs) => subscribeFn({ ...subscribeArgs, document }));
    },
  };
}
