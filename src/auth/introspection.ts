import { filterSchema } from '@graphql-tools/utils';
import { getNamedType, isIntrospectionType, isObjectType, type GraphQLSchema } from 'graphql';
import { LRUCache } from 'lru-cache';
import { allows, type AccessModel, type PolicyOutcomes } from './access-model';
import type { Caller } from './caller';

/** Filtered schemas kept per generation: one per authorization partition seen recently (a bound). */
const SCHEMAS_PER_GENERATION = 64;

const filtered = new WeakMap<GraphQLSchema, LRUCache<string, { schema: GraphQLSchema | null }>>();

/**
 * What a caller may see of `schema`, for introspection: every type and field it could select,
 * nothing else. A type left with no field the caller may see is hidden too, and with it every
 * field that returns it. Null when the caller may see no root field at all. Built once per
 * generation and partition (callers who may see the same things share one), and bounded.
 */
export function visibleSchema(schema: GraphQLSchema, model: AccessModel, caller: Caller, outcomes: PolicyOutcomes, partition: string): GraphQLSchema | null {
  let schemas = filtered.get(schema);
  if (!schemas) filtered.set(schema, (schemas = new LRUCache({ max: SCHEMAS_PER_GENERATION })));
  let entry = schemas.get(partition);
  if (!entry) schemas.set(partition, (entry = { schema: buildVisible(schema, model, caller, outcomes) }));
  return entry.schema;
}

function rootTypeName(schema: GraphQLSchema, operation: 'Query' | 'Mutation' | 'Subscription'): string {
  const type = operation === 'Query' ? schema.getQueryType() : operation === 'Mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  return type?.name ?? operation;
}

function buildVisible(schema: GraphQLSchema, model: AccessModel, caller: Caller, outcomes: PolicyOutcomes): GraphQLSchema | null {
  const hiddenTypes = new Set<string>();
  const hiddenFields = new Set<string>();
  const objects = Object.values(schema.getTypeMap()).filter((type) => isObjectType(type) && !isIntrospectionType(type));
  for (const type of objects) if (!allows(model.rulesOfType(type.name), caller, outcomes)) hiddenTypes.add(type.name);
  // Hiding a type hides the fields that return it, which may leave another type empty: repeat
  // until nothing changes (at most once per type).
  for (let changed = true, rounds = 0; changed && rounds <= objects.length; rounds++) {
    changed = false;
    for (const type of objects) {
      if (!isObjectType(type) || hiddenTypes.has(type.name)) continue;
      const fields = Object.values(type.getFields());
      for (const field of fields) {
        const coordinate = `${type.name}.${field.name}`;
        if (hiddenFields.has(coordinate)) continue;
        const returned = getNamedType(field.type).name;
        if (hiddenTypes.has(returned) || !allows(model.rulesOf(type.name, field.name), caller, outcomes)) {
          hiddenFields.add(coordinate);
          changed = true;
        }
      }
      if (fields.every((field) => hiddenFields.has(`${type.name}.${field.name}`))) {
        hiddenTypes.add(type.name);
        changed = true;
      }
    }
  }
  const query = schema.getQueryType();
  if (!query || hiddenTypes.has(query.name)) return null;
  return filterSchema({
    schema,
    typeFilter: (name) => !hiddenTypes.has(name),
    rootFieldFilter: (operation, field) => !hiddenFields.has(`${rootTypeName(schema, operation)}.${field}`),
    objectFieldFilter: (type, field) => !hiddenFields.has(`${type}.${field}`),
  });
}
