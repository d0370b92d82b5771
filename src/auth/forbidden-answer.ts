import {
  getDirectiveValues,
  getNamedType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isAbstractType,
  isObjectType,
  Kind,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type FragmentSpreadNode,
  type GraphQLError,
  type GraphQLObjectType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** What the answer of a filtered operation is rebuilt from: the document as the client sent it. */
export interface ForbiddenAnswerInput {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown>;
  /** `Type.field` coordinates removed before execution. */
  denied: ReadonlySet<string>;
  /** The error of one denied field at one path. */
  errorAt(coordinate: string, path: readonly (string | number)[], node: FieldNode): GraphQLError;
}

type Json = Record<string, unknown>;

function included(node: FieldNode | FragmentSpreadNode | InlineFragmentNode, variables: Record<string, unknown>): boolean {
  if (!node.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
}

/**
 * Puts back, in the answer of an operation whose denied fields were removed before it ran, each
 * denied field's response key: null, in selection order, with a FORBIDDEN error at its exact path
 * (one per list element). Fields are collected as execution collects them (@skip/@include, type
 * conditions, each fragment spread once per selection set), so the walk follows the answer and
 * never expands fragments beyond what execution itself did.
 */
export function withForbiddenFields(result: ExecutionResult, input: ForbiddenAnswerInput): ExecutionResult {
  if (!result.data) return result;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of input.document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const errors: GraphQLError[] = [];

  const matches = (condition: string | undefined, type: GraphQLObjectType): boolean => {
    if (!condition || condition === type.name) return true;
    const conditionType = input.schema.getType(condition);
    return conditionType !== undefined && isAbstractType(conditionType) && input.schema.isSubType(conditionType, type);
  };
  const collect = (type: GraphQLObjectType, selectionSet: SelectionSetNode, fields: Map<string, FieldNode[]>, visited: Set<string>): void => {
    for (const selection of selectionSet.selections) {
      if (!included(selection, input.variables)) continue;
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const list = fields.get(key);
        if (list) list.push(selection);
        else fields.set(key, [selection]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (matches(selection.typeCondition?.name.value, type)) collect(type, selection.selectionSet, fields, visited);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (visited.has(name) || !fragment) continue;
        visited.add(name);
        if (matches(fragment.typeCondition.name.value, type)) collect(type, fragment.selectionSet, fields, visited);
      }
    }
  };

  const rebuildValue = (value: unknown, nodes: readonly FieldNode[], typeName: string, path: (string | number)[]): unknown => {
    if (value === null || value === undefined) return value;
    if (Array.isArray(value)) return value.map((item, index) => rebuildValue(item, nodes, typeName, [...path, index]));
    if (typeof value !== 'object') return value;
    const declared = input.schema.getType(typeName);
    const runtimeName = isAbstractType(declared) ? (value as Json).__typename : typeName;
    const runtime = typeof runtimeName === 'string' ? input.schema.getType(runtimeName) : undefined;
    // An abstract type whose answer does not say its member: nothing below it can be placed.
    if (!runtime || !isObjectType(runtime)) return value;
    const fields = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    for (const node of nodes) if (node.selectionSet) collect(runtime, node.selectionSet, fields, visited);
    return rebuildObject(value as Json, runtime, fields, path);
  };

  const rebuildObject = (object: Json, type: GraphQLObjectType, fields: ReadonlyMap<string, FieldNode[]>, path: (string | number)[]): Json => {
    const rebuilt: Json = {};
    for (const [key, nodes] of fields) {
      const name = nodes[0]!.name.value;
      const where = [...path, key];
      if (input.denied.has(`${type.name}.${name}`)) {
        rebuilt[key] = null;
        errors.push(input.errorAt(`${type.name}.${name}`, where, nodes[0]!));
        continue;
      }
      if (!(key in object)) continue;
      const definition = name.startsWith('__') ? undefined : type.getFields()[name];
      rebuilt[key] = definition ? rebuildValue(object[key], nodes, getNamedType(definition.type).name, where) : object[key];
    }
    return rebuilt;
  };

  const root = input.schema.getRootType(input.operation.operation);
  if (!root) return result;
  const fields = new Map<string, FieldNode[]>();
  collect(root, input.operation.selectionSet, fields, new Set());
  const data = rebuildObject(result.data as Json, root, fields, []);
  return errors.length > 0 ? { ...result, data, errors: [...(result.errors ?? []), ...errors] } : { ...result, data };
}
