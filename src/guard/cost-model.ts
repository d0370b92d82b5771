import {
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  isObjectType,
  type DocumentNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';
import type { Catalog } from '../catalog/catalog';
import type { FieldMapping, VirtualizationConfig } from '../config/definition';
import { CostDirectiveError, readCostDirectives, type DeclaredCosts, type ListSize } from './cost-directives';
import { buildFetchPlan, type FetchPlan, type FetchRole, type KeyElements } from './fetch-plan';

/** What the guard knows about one field of the served schema. */
export interface FieldCost {
  /** Points per object the field is resolved on; for a list, per item. */
  weight: number;
  /** Points added when the query passes the argument. */
  argumentWeights: ReadonlyArray<readonly [argument: string, weight: number]>;
  /** How many items the field returns, or how many its `sizedFields` return. */
  listSize: Required<ListSize> | undefined;
  isList: boolean;
  /** The field returns an object, whose selection is priced too. */
  composite: boolean;
  /** The upstream calls resolving it makes, when it makes any. */
  role: FetchRole | undefined;
}

/** What the definition says of the sizes and weights of its fields, by `Type.field`. */
export interface DefinitionSizes {
  /** Object fields mapped from the parent record (an order's lines): no call fetches them, so their items weigh 0 unless `schema/` says otherwise. */
  inPayload: ReadonlySet<string>;
  /** `assumedSize` declared on an entity's list field or a mapping's forward side. */
  assumed: ReadonlyMap<string, number>;
  /** Forward joins that find at most one record per key (a field-key join to a unique lookup): sized 1, or the elements of a list-valued key. */
  unique: ReadonlySet<string>;
}

const NO_DEFINITION_SIZES: DefinitionSizes = { inPayload: new Set(), assumed: new Map(), unique: new Set() };

/** Reads the sizes the definition declares or implies, from the catalog's entities and mappings. */
export function definitionSizes(catalog: Catalog): DefinitionSizes {
  const inPayload = new Set<string>();
  const assumed = new Map<string, number>();
  const unique = new Set<string>();
  const walk = (typeName: string, fields: Readonly<Record<string, FieldMapping>>, depth: number) => {
    if (depth > 32) return; // nested items are declared by hand; the bound keeps a cycle of names from looping
    for (const [name, mapping] of Object.entries(fields)) {
      if (typeof mapping === 'string') continue;
      const key = `${typeName}.${name}`;
      if (mapping.assumedSize !== undefined) assumed.set(key, mapping.assumedSize);
      if (mapping.items) {
        inPayload.add(key);
        walk(mapping.items.type, mapping.items.fields, depth + 1);
      }
    }
  };
  for (const entity of catalog.entities.values()) walk(entity.name, entity.definition.fields, 0);
  for (const mapping of catalog.mappings.values()) {
    const key = `${mapping.from.entity}.${mapping.forward.field}`;
    if (mapping.definition.forward.assumedSize !== undefined) assumed.set(key, mapping.definition.forward.assumedSize);
    if (mapping.kind === 'fieldKey' && mapping.forward.loader.lookup.unique) unique.add(key);
  }
  return { inPayload, assumed, unique };
}

/**
 * The price list of the served schema. Weights and list sizes come from the cost directives in
 * `schema/`, read from the SDL as written rather than from the stitched schema (which does not
 * carry applied directives through stitching); fields that `schema/` does not describe (types
 * generated from a source declaration, such as a fourth source's joins) get sizes derived from the
 * configuration: a list root is sized by `first`, a lookup by its ids, a join by its slicing
 * argument, else its declared `assumedSize`, else 1 when it finds one partner at most per key (as
 * many as the elements of a list-valued key), an inverse from a list-valued `to` field by that
 * field's elements, else `guard.listSizes.join`; any other list by its declared `assumedSize` or
 * `guard.listSizes.list`. A list-valued key field's elements are its `assumedSize`, else
 * `guard.listSizes.list`: the calls a join makes are predicted for each of them.
 * Objects that arrive inside their parent's payload (an order's lines) weigh 0: no call is made
 * for them.
 */
export class CostModel {
  private readonly fields = new Map<string, Map<string, FieldCost>>();

  constructor(
    readonly schema: GraphQLSchema,
    declared: DeclaredCosts,
    readonly plan: FetchPlan,
    listSizes: VirtualizationConfig['guard']['listSizes'],
    sizes: DefinitionSizes = NO_DEFINITION_SIZES,
  ) {
    checkDeclaredCosts(schema, declared);
    const typeWeight = (type: GraphQLNamedType, inPayload: boolean) => declared.typeWeights.get(type.name) ?? (isCompositeType(type) && !inPayload ? 1 : 0);
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      const costs = new Map<string, FieldCost>();
      for (const field of Object.values(type.getFields())) {
        const key = `${type.name}.${field.name}`;
        const named = getNamedType(field.type);
        const isList = isListType(getNullableType(field.type));
        const role = plan.roles.get(key);
        const declaredSize = declared.listSizes.get(key);
        const assumed = sizes.assumed.get(key) ?? joinSize(role, sizes.unique.has(key));
        const size = declaredSize ?? derivedListSize(field, role, listSizes, assumed);
        costs.set(field.name, {
          weight: declared.fieldWeights.get(key) ?? typeWeight(named, sizes.inPayload.has(key)),
          argumentWeights: field.args.flatMap((arg) => {
            const weight = declared.argumentWeights.get(`${key}(${arg.name})`);
            return weight === undefined ? [] : [[arg.name, weight] as const];
          }),
          listSize: size && { ...size, assumedSize: size.assumedSize ?? assumed ?? listSizes.list },
          isList,
          composite: isCompositeType(named),
          role,
        });
      }
      this.fields.set(type.name, costs);
    }
  }

  static fromSchema(schema: GraphQLSchema, canonicalDocument: DocumentNode, catalog: Catalog, listSizes: VirtualizationConfig['guard']['listSizes']): CostModel {
    const sizes = definitionSizes(catalog);
    const elements: KeyElements = (entity, field) => {
      const type = schema.getType(entity);
      const served = isObjectType(type) ? type.getFields()[field] : undefined;
      return served && isListType(getNullableType(served.type)) ? (sizes.assumed.get(`${entity}.${field}`) ?? listSizes.list) : undefined;
    };
    const plan = buildFetchPlan(catalog, (field) => schema.getQueryType()?.getFields()[field]?.args[0]?.name, elements);
    return new CostModel(schema, readCostDirectives(canonicalDocument), plan, listSizes, sizes);
  }

  field(typeName: string, fieldName: string): FieldCost | undefined {
    return this.fields.get(typeName)?.get(fieldName);
  }
}

/**
 * A join's size the definition implies: one partner per key for a unique field-key join (1, or the
 * elements of a list-valued key), and an inverse from a list-valued `to` field one record per element.
 */
function joinSize(role: FetchRole | undefined, unique: boolean): number | undefined {
  if (role?.kind !== 'join') return undefined;
  if (unique) return role.keysPerParent;
  return role.direction === 'inverse' && role.listKey ? role.keysPerParent : undefined;
}

function derivedListSize(
  field: GraphQLField<unknown, unknown>,
  role: FetchRole | undefined,
  listSizes: VirtualizationConfig['guard']['listSizes'],
  assumed: number | undefined,
): ListSize | undefined {
  const isList = isListType(getNullableType(field.type));
  if (role?.kind === 'list') return { slicingArguments: ['first'], sizedFields: ['nodes'], requireOneSlicingArgument: true };
  if (!isList) return undefined;
  if (role?.kind === 'lookup') return { slicingArguments: [role.argument], sizedFields: [], requireOneSlicingArgument: true };
  if (role?.kind === 'join') return { assumedSize: assumed ?? listSizes.join, slicingArguments: role.slicingArguments, sizedFields: [], requireOneSlicingArgument: false };
  return { assumedSize: assumed ?? listSizes.list, slicingArguments: [], sizedFields: [], requireOneSlicingArgument: false };
}

/** Every directive must name fields and arguments the served schema has; all problems at once. */
function checkDeclaredCosts(schema: GraphQLSchema, declared: DeclaredCosts): void {
  const problems: string[] = [];
  const fieldOf = (key: string) => {
    const [typeName, fieldName] = key.split('.') as [string, string];
    const type = schema.getType(typeName);
    return isObjectType(type) ? type.getFields()[fieldName.replace(/\(.*$/, '')] : undefined;
  };
  for (const key of [...declared.fieldWeights.keys(), ...declared.listSizes.keys(), ...declared.argumentWeights.keys()]) {
    if (!fieldOf(key)) problems.push(`${key}: the served schema has no such field`);
  }
  for (const [key, size] of declared.listSizes) {
    const field = fieldOf(key);
    if (!field) continue;
    for (const arg of size.slicingArguments) {
      if (!field.args.some((a) => a.name === arg)) problems.push(`${key}: @listSize names slicing argument "${arg}", which the field does not take`);
    }
    const returned = getNamedType(field.type);
    for (const sized of size.sizedFields) {
      const child = isObjectType(returned) ? returned.getFields()[sized] : undefined;
      if (!child || !isListType(getNullableType(child.type))) problems.push(`${key}: @listSize names sized field "${sized}", which is not a list field of ${returned.name}`);
    }
    if (!isListType(getNullableType(field.type)) && size.sizedFields.length === 0) {
      problems.push(`${key}: @listSize on a field that is not a list needs sizedFields (the list fields of its type it sizes)`);
    }
  }
  for (const [key] of declared.argumentWeights) {
    const [fieldKey, arg] = key.split('(') as [string, string];
    const field = fieldOf(fieldKey);
    if (field && !field.args.some((a) => a.name === arg.slice(0, -1))) problems.push(`${key}: the field takes no such argument`);
  }
  for (const typeName of declared.typeWeights.keys()) {
    if (!schema.getType(typeName)) problems.push(`${typeName}: the served schema has no such type`);
  }
  if (problems.length > 0) throw new CostDirectiveError(`The cost directives in schema/ do not fit the served schema:\n  - ${problems.join('\n  - ')}`);
}
