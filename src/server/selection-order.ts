import { isAsyncIterable, type Plugin } from 'graphql-yoga';
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
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { collectFields, collectSubfields } from 'graphql/execution/collectFields';

type Variables = Record<string, unknown>;

/**
 * Answers keep the order the client asked in (the GraphQL spec's "serialized map ordering", the
 * order of CollectFields): `{ a: customer { ... } b: order { ... } c: customer { ... } }` answers
 * `a, b, c`, whichever source answers first. yoga's executor (`@graphql-tools/executor`) writes
 * each object's keys as their values resolve, so a slow source moved its fields last, and a failing
 * one first (graphql-yoga#3256). This puts every object's keys back in the order of its
 * selection, before any later plugin (the response cache among them) reads the answer.
 *
 * The order is graphql-js's own `collectFields`, as execution collects: fragments spread where
 * they stand (each once per position), fields of one response key merged at its first place,
 * `@skip`/`@include` applied (a key whose first occurrence is skipped takes the place of its
 * first included one), type conditions read against the record's type. It is computed once per
 * position in the document (and runtime type), however many records the answer holds there; its
 * size is the document's expanded size, which the guard bounds (`guard.limits.expandedSelections`).
 * An object whose keys are already in order is kept as it is.
 */
export function useSelectionOrder(): Plugin {
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || result.data === null || result.data === undefined) return;
          const plan = rootPlan(args.schema, args.document, operation, args.variableValues);
          if (!plan) return;
          const data = plan.apply(result.data);
          if (data !== result.data) setResult({ ...result, data: data as Record<string, unknown> });
        },
      };
    },
  };
}

/** The plan of the operation's root; undefined when its variables do not coerce (execution then answered no data). */
function rootPlan(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, raw: Variables | null | undefined): OrderPlan | undefined {
  const root = schema.getRootType(operation.operation);
  if (!root) return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], raw ?? {});
  if (coerced.errors) return undefined;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  const context: PlanContext = { schema, fragments, variables: coerced.coerced };
  return new OrderPlan(context, (type) => collectFields(schema, fragments, coerced.coerced, type, operation.selectionSet), root);
}

interface PlanContext {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Variables;
}

type Collect = (type: GraphQLObjectType) => Map<string, readonly FieldNode[]>;

interface Collected {
  keys: readonly string[];
  /** Per key, the plan of its own selection; null for a leaf (or a key the type does not define). */
  children: Map<string, OrderPlan | null>;
}

/** The response keys of one position in the document, in order, per runtime type, and the plan of each key's own selection. */
class OrderPlan {
  private readonly byType = new Map<string, Collected>();

  constructor(
    private readonly context: PlanContext,
    private readonly collectFor: Collect,
    /** The object type of the position; undefined where it is abstract, and each record names its own (`__typename`). */
    private readonly objectType: GraphQLObjectType | undefined,
  ) {}

  /** `value` with every object's keys in selection order; the same value when nothing moves. */
  apply(value: unknown): unknown {
    if (Array.isArray(value)) {
      let items: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const ordered = this.apply(item);
        if (ordered !== item) (items ??= value.slice())[i] = ordered;
      }
      return items ?? value;
    }
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    const collected = this.collected(record);
    // A record of an abstract type that does not say its type: nothing to order it by.
    if (!collected) return value;
    const { keys, children } = collected;
    // One pass over the asked keys: each child in order, and whether the record's own order (read
    // by a second cursor over its keys) already matches.
    let out: Record<string, unknown> | undefined;
    let count = 0;
    const own = Object.keys(record);
    for (const key of keys) {
      const child = record[key];
      // Answers hold null, never undefined; a function is a prototype's, not an answered key.
      if (child === undefined || (typeof child === 'function' && !Object.hasOwn(record, key))) continue;
      const plan = children.get(key);
      const ordered = plan ? plan.apply(child) : child;
      if (!out && (ordered !== child || own[count] !== key)) {
        out = {};
        for (let i = 0; i < count; i++) out[own[i]!] = record[own[i]!];
      }
      if (out) out[key] = ordered;
      count += 1;
    }
    // Untouched: the asked keys already lead in order (any others follow them).
    if (!out) return value;
    // A key the document does not name (none is expected) is kept, after the asked ones.
    for (const key of own) if (!Object.hasOwn(out, key)) out[key] = record[key];
    return out;
  }

  private collected(record: Record<string, unknown>): Collected | undefined {
    const type = this.objectType ?? this.runtimeType(record);
    if (!type) return undefined;
    let collected = this.byType.get(type.name);
    if (collected) return collected;
    const fields = this.collectFor(type);
    const children = new Map<string, OrderPlan | null>();
    for (const [key, nodes] of fields) children.set(key, this.childPlan(type, nodes));
    this.byType.set(type.name, (collected = { keys: [...fields.keys()], children }));
    return collected;
  }

  private runtimeType(record: Record<string, unknown>): GraphQLObjectType | undefined {
    const name = record.__typename;
    if (typeof name !== 'string') return undefined;
    const type = this.context.schema.getType(name);
    return type && isObjectType(type) ? type : undefined;
  }

  private childPlan(parent: GraphQLObjectType, nodes: readonly FieldNode[]): OrderPlan | null {
    if (!nodes.some((node) => node.selectionSet)) return null;
    const definition = fieldOf(this.context.schema, parent, nodes[0]!.name.value);
    if (!definition) return null;
    const named = getNamedType(definition.type);
    const { schema, fragments, variables } = this.context;
    const collect: Collect = (type) => collectSubfields(schema, fragments, variables, type, nodes);
    if (isObjectType(named)) return new OrderPlan(this.context, collect, named);
    return isAbstractType(named) ? new OrderPlan(this.context, collect, undefined) : null;
  }
}

function fieldOf(schema: GraphQLSchema, type: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> | undefined {
  if (name === TypeNameMetaFieldDef.name) return TypeNameMetaFieldDef;
  if (type === schema.getQueryType()) {
    if (name === SchemaMetaFieldDef.name) return SchemaMetaFieldDef;
    if (name === TypeMetaFieldDef.name) return TypeMetaFieldDef;
  }
  return type.getFields()[name];
}
