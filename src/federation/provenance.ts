import type { StitchingInfo } from '@graphql-tools/delegate';
import type { Catalog } from '../catalog/catalog';
import {
  getNamedType,
  getOperationAST,
  isCompositeType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

/** Which source served a field of an answer. */
export interface FieldProvenance {
  /** The field's place in the answer, by response key, without list positions: `customers.nodes.orders`. */
  path: string;
  /** The named type the field returns. */
  type: string;
  source: string;
  /** Age in milliseconds of the cached value that was served; null when the source answered (explain fills it from the request's cache hits). */
  cachedAgeMs: number | null;
  /** A join through a master-data service: the service that gave the keys `source` was asked by. */
  keysFrom?: KeysFrom;
}

/** The master-data service a join asks for its keys: its crosswalk, source and entity. */
export interface KeysFrom {
  mapping: string;
  source: string;
  entity: string;
}

/** `Type.field` of every join through a master-data service (forward, its summaries, inverse), with its service. */
export function serviceJoinsOf(catalog: Catalog): Map<string, KeysFrom> {
  const joins = new Map<string, KeysFrom>();
  for (const { name, service, from, to, forward, inverse } of catalog.mappings.values()) {
    if (!service) continue;
    const keysFrom = { mapping: name, source: service.source, entity: service.entity };
    for (const field of [forward.field, ...forward.summaries]) joins.set(`${from.entity}.${field}`, keysFrom);
    if (inverse) joins.set(`${to.entity}.${inverse.field}`, keysFrom);
  }
  return joins;
}

/**
 * Which source serves each root field, and each field one source adds to another source's type
 * (`Customer.orders` from the order system), read from the stitched schema's own records.
 */
export class SourceMap {
  private constructor(
    private readonly schema: GraphQLSchema,
    private readonly rootFields: ReadonlyMap<string, string>,
    /** `Type` -> `field` -> source, for fields only one source serves. */
    private readonly typeFields: ReadonlyMap<string, ReadonlyMap<string, string>>,
    private readonly serviceJoins: ReadonlyMap<string, KeysFrom>,
  ) {}

  /** `serviceJoins`: the joins through master-data services (`serviceJoinsOf`), each shown with its service. */
  static of(schema: GraphQLSchema, serviceJoins: ReadonlyMap<string, KeysFrom> = new Map()): SourceMap {
    const info = schema.extensions?.stitchingInfo as StitchingInfo | undefined;
    if (!info) throw new Error('SourceMap needs the stitched gateway schema (one built by buildGatewaySchema)');
    const rootFields = new Map<string, string>();
    for (const subschema of info.subschemaMap.values()) {
      if (!subschema.name) continue;
      for (const field of Object.keys(subschema.transformedSchema.getQueryType()?.getFields() ?? {})) rootFields.set(field, subschema.name);
    }
    const typeFields = new Map<string, Map<string, string>>();
    for (const [typeName, merged] of Object.entries(info.mergedTypes)) {
      const fields = new Map<string, string>();
      for (const [field, subschema] of Object.entries(merged.uniqueFields)) if (subschema.name) fields.set(field, subschema.name);
      typeFields.set(typeName, fields);
    }
    return new SourceMap(schema, rootFields, typeFields, serviceJoins);
  }

  /**
   * The provenance of an operation's answer: each root field with the source that served it, and
   * below it each field served by another source than its parent's (the joins) or joined through a
   * master-data service (with `keysFrom`), in selection order.
   */
  provenance(document: DocumentNode, operationName?: string | null): FieldProvenance[] {
    const operation = getOperationAST(document, operationName);
    const root = operation ? this.schema.getRootType(operation.operation) : undefined;
    if (!operation || !root) return [];
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const found = new Map<string, FieldProvenance>();
    this.walk(root, operation.selectionSet, fragments, [], undefined, found);
    return [...found.values()];
  }

  private walk(
    type: GraphQLCompositeType,
    selectionSet: SelectionSetNode,
    fragments: ReadonlyMap<string, FragmentDefinitionNode>,
    path: readonly string[],
    parentSource: string | undefined,
    found: Map<string, FieldProvenance>,
  ): void {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        const on = fragment && this.schema.getType(fragment.typeCondition.name.value);
        if (fragment && isCompositeType(on)) this.walk(on, fragment.selectionSet, fragments, path, parentSource, found);
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? this.schema.getType(selection.typeCondition.name.value) : type;
        if (isCompositeType(on)) this.walk(on, selection.selectionSet, fragments, path, parentSource, found);
        continue;
      }
      const field = isObjectType(type) ? type.getFields()[selection.name.value] : undefined;
      if (!field) continue; // __typename, or a field of an abstract type
      const fieldPath = [...path, selection.alias?.value ?? field.name];
      const named = getNamedType(field.type);
      const source = parentSource === undefined ? this.rootFields.get(field.name) : (this.typeFields.get(type.name)?.get(field.name) ?? parentSource);
      const keysFrom = this.serviceJoins.get(`${type.name}.${field.name}`);
      if (source !== undefined && (source !== parentSource || keysFrom)) {
        found.set(fieldPath.join('.'), { path: fieldPath.join('.'), type: named.name, source, cachedAgeMs: null, ...(keysFrom ? { keysFrom } : {}) });
      }
      if (selection.selectionSet && isCompositeType(named)) this.walk(named, selection.selectionSet, fragments, fieldPath, source, found);
    }
  }
}
